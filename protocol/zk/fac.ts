/**
 * Πfac — "no small factor": N₀ = p·q with p, q > 2^ℓ (CGGMP21 §C.5 / Fig. 28; CGGMP.md §4.4;
 * corrections C6, C10, C14, C15, C17; SECURITY.md §1.5).
 *
 * The prover proves, against the VERIFIER's ring-Pedersen parameters R = (N̂, s, t), that it knows
 * a factorisation N₀ = p·q whose factors are both about √N₀: the exact range check
 * |z1|, |z2| ≤ 2^{ℓ+ε}·⌊√N₀⌋ on z = α + e·p fails for a factor far above √N₀, which is what a
 * factor below 2^ℓ forces on its cofactor. The proof is per-recipient (it depends on R).
 * Πfac does not prove p, q prime: only together with Πmod (Jacobi(w, N₀) = −1, gcd(w, N₀) = 1)
 * does it exclude N₀ = P·∏(small primes) (BitForge, SECURITY.md §1.5–1.6). Never skip either.
 *
 * - Prover samples α, β ← ±2^{ℓ+ε}·⌊√N₀⌋; μ, ν ← ±2^ℓ·N̂; σ ← ±2^ℓ·N₀·N̂;
 *   r ← ±2^{ℓ+ε}·N₀·N̂; x, y ← ±2^{ℓ+ε}·N̂.
 * - First message (mod N̂): P = s^p·t^μ, Qc = s^q·t^ν, A = s^α·t^x, B = s^β·t^y, T = Qc^α·t^r,
 *   and the integer σ. (C15: the commitment to q is `Qc`; Q is the challenge bound.)
 * - Challenge e ∈ ±Q, Q = 2^128 (C10), from XOF(ctx(R) ‖ E(N₀) ‖ E(P, Qc, A, B, T, σ)).
 * - Responses, integers (C6): z1 = α + e·p, z2 = β + e·q, w1 = x + e·μ, w2 = y + e·ν,
 *   v = r + e·(σ − ν·p).
 * - Verify: eq1 s^{z1}·t^{w1} = A·P^e; eq2 s^{z2}·t^{w2} = B·Qc^e;
 *   eq3 Qc^{z1}·t^v = T·(s^{N₀}·t^σ)^e.
 *
 * C14: this is the 2021 form with σ; its third equation holds because
 * Qc^{e·p}·t^{−e·ν·p} = s^{e·p·q} = s^{e·N₀}.
 * "q" in {@link FacWitness} is N₀'s second prime factor, never the curve order (C15); the field
 * names match `PaillierSecretKey` so a key is its own witness.
 * @module
 */
import { InvalidArgs } from '../errors.js';
import { decodeAll, encode, type Decoder, type Encoder } from '../hash/encoding.js';
import { isqrt, modPow } from '../math/modular.js';
import { samplePm, systemRng, type Rng } from '../math/sample.js';
import type { RingPedersenParams } from '../paillier/ring-pedersen.js';
import type { SecurityLevel } from '../params.js';
import {
  boundBits,
  fail,
  inModulusWindow,
  inPm,
  isUnitMod,
  OK,
  pow2,
  proofTranscript,
  requirePerRecipient,
  responseBound,
  type ProofContext,
  type VerifyResult,
} from './common.js';

const NAME = 'fac';
const PROOF_TAG = 'mpcd/cggmp21/v1/zk/fac/proof';

/** Statement: the prover's Paillier modulus N₀. */
export interface FacStatement {
  readonly N0: bigint;
}
/** Witness: N₀ = p·q (a `PaillierSecretKey` fits; q is a prime factor, not the curve order). */
export interface FacWitness {
  readonly p: bigint;
  readonly q: bigint;
}
/** The proof: first message (P, Qc, A, B, T ∈ Z*_N̂; σ ∈ Z) and integer responses. */
export interface FacProof {
  /** P = s^p·t^μ mod N̂ */
  readonly P: bigint;
  /** Q_c = s^q·t^ν mod N̂ */
  readonly Qc: bigint;
  /** A = s^α·t^x mod N̂ */
  readonly A: bigint;
  /** B = s^β·t^y mod N̂ */
  readonly B: bigint;
  /** T = Q_c^α·t^r mod N̂ */
  readonly T: bigint;
  /** σ ∈ ±2^ℓ·N₀·N̂ */
  readonly sigma: bigint;
  /** z1 = α + e·p */
  readonly z1: bigint;
  /** z2 = β + e·q */
  readonly z2: bigint;
  /** w1 = x + e·μ */
  readonly w1: bigint;
  /** w2 = y + e·ν */
  readonly w2: bigint;
  /** v = r + e·(σ − ν·p) */
  readonly v: bigint;
}

/** The verifier's limits on a proof for (N₀, N̂) (CGGMP.md Decisions, C17). */
export interface FacBounds {
  /** 2^{ℓ+ε}·⌊√N₀⌋: the exact range of z1, z2 (also the sampling range of α, β). */
  readonly z: bigint;
  /** 2^ℓ·N₀·N̂: σ's honest sampling range. */
  readonly sigma: bigint;
  /** 2^{ℓ+ε}·N̂ + Q·2^ℓ·N̂: w1, w2 (x, y ← ±2^{ℓ+ε}·N̂; μ, ν ← ±2^ℓ·N̂). */
  readonly w: bigint;
  /** 2^{ℓ+ε}·N₀·N̂ + Q·2^{ℓ+1}·N₀·N̂: v (see {@link facBounds}). */
  readonly v: bigint;
}

/**
 * The bounds a verifier enforces on a Πfac proof for modulus N₀ under ring-Pedersen modulus N̂.
 *
 * - z1, z2: exact range 2^{ℓ+ε}·isqrt(N₀) (floor), as the Decisions fix it. An honest z exceeds
 *   it only if α lands within |e·p| ≤ 2^128·√(2N₀) of the edge: probability < 2^{−357}.
 * - σ: its own sampling range 2^ℓ·N₀·N̂ (it is sent, not computed from e).
 * - w1, w2: C17's A + Q·W with A = 2^{ℓ+ε}·N̂, W = 2^ℓ·N̂.
 * - v = r + e·(σ − ν·p): A = 2^{ℓ+ε}·N₀·N̂ (r's range) and W bounds |σ − ν·p| ≤ |σ| + |ν|·p
 *   ≤ 2^ℓ·N₀·N̂ + 2^ℓ·N̂·p. The verifier does not know p; every factor of N₀ satisfies p ≤ N₀, so
 *   W = 2^{ℓ+1}·N₀·N̂. This needs no balance assumption (an unbalanced N₀ must fail the z range
 *   check, not this bound) and costs one bit over the balanced case, irrelevant against the
 *   oversized-exponent denial of service C17 guards against.
 * @param N0 the prover's modulus; @param Nhat the verifier's ring-Pedersen modulus N̂
 * @returns the four bounds
 * @example facBounds(LEVEL128, key.N, R.N).z === (1n << 486n) * isqrt(key.N)
 */
export function facBounds(level: SecurityLevel, N0: bigint, Nhat: bigint): FacBounds {
  const { ell, epsilon } = level;
  const sigma = pow2(ell) * N0 * Nhat;
  return {
    z: pow2(ell + epsilon) * isqrt(N0),
    sigma,
    w: responseBound(level, pow2(ell + epsilon) * Nhat, pow2(ell) * Nhat),
    v: responseBound(level, pow2(ell + epsilon) * N0 * Nhat, 2n * sigma),
  };
}

/**
 * Decoder limits: the bits of each bound at the largest N₀, N̂ the level admits (2^{8κ} − 1),
 * so no honest proof is refused by the decoder and no integer can exceed its verify bound by
 * more than that margin.
 */
function wireBits(level: SecurityLevel): Record<'elem' | 'z' | 'sigma' | 'w' | 'v', number> {
  const max = pow2(level.modulusBits) - 1n;
  const b = facBounds(level, max, max);
  return {
    elem: level.modulusBits,
    z: boundBits(b.z),
    sigma: boundBits(b.sigma),
    w: boundBits(b.w),
    v: boundBits(b.v),
  };
}

/**
 * Caller errors, never the prover's fault: the proof is per-recipient, so the verifier's index
 * must be named (it is bound with its R); R is the verifier's own (verify) or a peer's already
 * validated (prove) parameters, and the modulus window keeps the decoder limits honest.
 */
function checkSetup(level: SecurityLevel, ctx: ProofContext, aux: RingPedersenParams): void {
  requirePerRecipient('Πfac', ctx);
  if (!inModulusWindow(level, aux.N)) {
    throw new InvalidArgs(
      'aux.N',
      `must be odd with ${level.modulusBits - 1} or ${level.modulusBits} bits`
    );
  }
}

function challenge(
  level: SecurityLevel,
  ctx: ProofContext,
  aux: RingPedersenParams,
  stmt: FacStatement,
  f: Pick<FacProof, 'P' | 'Qc' | 'A' | 'B' | 'T' | 'sigma'>
): bigint {
  const tr = proofTranscript(NAME, ctx, aux);
  tr.enc.nat(stmt.N0).nat(f.P).nat(f.Qc).nat(f.A).nat(f.B).nat(f.T).int(f.sigma);
  return tr.xof().challengePm(level.challengeBits);
}

/**
 * Whether ∏ bᵢ^{xᵢ} ≡ 1 (mod N) for units bᵢ and integer exponents of any sign. Terms with a
 * negative exponent go to the other side instead of being inverted (no modular inverse at all),
 * exponent ±1 is a multiplication, exponent 0 is skipped. modPow's cost grows with the exponent's
 * length, so the equations are arranged to keep the exponents few and short.
 */
function productIsOne(N: bigint, terms: ReadonlyArray<readonly [bigint, bigint]>): boolean {
  let lhs = 1n;
  let rhs = 1n;
  for (const [b, x] of terms) {
    if (x === 0n) continue;
    const mag = x < 0n ? -x : x;
    const y = mag === 1n ? b % N : modPow(b, mag, N);
    if (x > 0n) lhs = (lhs * y) % N;
    else rhs = (rhs * y) % N;
  }
  return lhs === rhs;
}

/**
 * Prove that N₀ = p·q has no factor below 2^ℓ, for the verifier whose ring-Pedersen parameters
 * are `aux`. The witness is not re-checked (callers pass their own key): a wrong or unbalanced
 * factorisation yields a proof the verifier rejects.
 * @param aux the VERIFIER's (N̂, s, t), already validated (Πprm)
 * @param rng randomness for the masks (defaults to the system CSPRNG)
 * @returns the proof, per-recipient
 * @throws InvalidArgs if ctx lacks the verifier index or is malformed, or N̂ is outside the
 *   level's modulus window
 * @example const proof = proveFac(LEVEL128, ctx, R_j, { N0: key.N }, key);
 */
export function proveFac(
  level: SecurityLevel,
  ctx: ProofContext,
  aux: RingPedersenParams,
  stmt: FacStatement,
  witness: FacWitness,
  rng: Rng = systemRng
): FacProof {
  checkSetup(level, ctx, aux);
  const { N: Nh, t } = aux;
  const { N0 } = stmt;
  const { p, q } = witness;
  const { ell, epsilon } = level;
  const zRange = pow2(ell + epsilon) * isqrt(N0);
  const alpha = samplePm(rng, zRange); // α ← ±2^{ℓ+ε}·√N₀
  const beta = samplePm(rng, zRange); // β ← ±2^{ℓ+ε}·√N₀
  const mu = samplePm(rng, pow2(ell) * Nh); // μ ← ±2^ℓ·N̂
  const nu = samplePm(rng, pow2(ell) * Nh); // ν ← ±2^ℓ·N̂
  const sigma = samplePm(rng, pow2(ell) * N0 * Nh); // σ ← ±2^ℓ·N₀·N̂
  const r = samplePm(rng, pow2(ell + epsilon) * N0 * Nh); // r ← ±2^{ℓ+ε}·N₀·N̂
  const x = samplePm(rng, pow2(ell + epsilon) * Nh); // x ← ±2^{ℓ+ε}·N̂
  const y = samplePm(rng, pow2(ell + epsilon) * Nh); // y ← ±2^{ℓ+ε}·N̂

  // The prover does not know N̂'s factors (they are the verifier's), so these are full-size
  // exponentiations; negative exponents invert s or t inside modPow.
  const P = (modPow(aux.s, p, Nh) * modPow(t, mu, Nh)) % Nh; // P = s^p·t^μ
  const Qc = (modPow(aux.s, q, Nh) * modPow(t, nu, Nh)) % Nh; // Q_c = s^q·t^ν
  const A = (modPow(aux.s, alpha, Nh) * modPow(t, x, Nh)) % Nh; // A = s^α·t^x
  const B = (modPow(aux.s, beta, Nh) * modPow(t, y, Nh)) % Nh; // B = s^β·t^y
  const T = (modPow(Qc, alpha, Nh) * modPow(t, r, Nh)) % Nh; // T = Q_c^α·t^r

  const e = challenge(level, ctx, aux, stmt, { P, Qc, A, B, T, sigma });
  return {
    P,
    Qc,
    A,
    B,
    T,
    sigma,
    z1: alpha + e * p,
    z2: beta + e * q,
    w1: x + e * mu,
    w2: y + e * nu,
    v: r + e * (sigma - nu * p),
  };
}

/**
 * Verify Πfac for N₀ against our own ring-Pedersen parameters `aux`. Order: statement (N₀ odd,
 * bitlen ∈ [8κ−1, 8κ]); membership of P, Qc, A, B, T in Z*_N̂; exact ranges of z1, z2; C17
 * bounds on σ, w1, w2, v; then eq1, eq2, eq3.
 * @param aux OUR (the verifier's) (N̂, s, t)
 * @returns OK, or the failed check (`statement` N0-even/N0-size, `membership` P…T, `range`
 *   z1/z2, `bound` sigma/w1/w2/v, `equation` eq1/eq2/eq3)
 * @throws InvalidArgs if ctx lacks the verifier index, or N̂ is outside the level's modulus
 *   window (our own misconfiguration)
 * @example verifyFac(LEVEL128, ctx, myR, { N0: peerN }, proof).ok
 */
export function verifyFac(
  level: SecurityLevel,
  ctx: ProofContext,
  aux: RingPedersenParams,
  stmt: FacStatement,
  proof: FacProof
): VerifyResult {
  checkSetup(level, ctx, aux);
  const { N: Nh, s, t } = aux;
  const { N0 } = stmt;
  // (1) statement: the size window also caps the z bound, hence the verifier's work.
  if ((N0 & 1n) === 0n) return fail(NAME, 'statement', 'N0-even');
  if (!inModulusWindow(level, N0)) return fail(NAME, 'statement', 'N0-size');
  // (2) membership in Z*_N̂
  for (const f of ['P', 'Qc', 'A', 'B', 'T'] as const) {
    if (!isUnitMod(proof[f], Nh)) return fail(NAME, 'membership', f);
  }
  // (3) exact ranges, then C17 bounds — all before any exponentiation.
  const b = facBounds(level, N0, Nh);
  if (!inPm(proof.z1, b.z)) return fail(NAME, 'range', 'z1');
  if (!inPm(proof.z2, b.z)) return fail(NAME, 'range', 'z2');
  if (!inPm(proof.sigma, b.sigma)) return fail(NAME, 'bound', 'sigma');
  if (!inPm(proof.w1, b.w)) return fail(NAME, 'bound', 'w1');
  if (!inPm(proof.w2, b.w)) return fail(NAME, 'bound', 'w2');
  if (!inPm(proof.v, b.v)) return fail(NAME, 'bound', 'v');
  // (4) equations
  const e = challenge(level, ctx, aux, stmt, proof);
  const { P, Qc, A, B, T, sigma, z1, z2, w1, w2, v } = proof;
  // eq1: s^{z1}·t^{w1} = A·P^e; eq2: s^{z2}·t^{w2} = B·Qc^e; eq3: Qc^{z1}·t^v = T·(s^{N₀}·t^σ)^e,
  // each as ∏ bᵢ^{xᵢ} = 1 (productIsOne). eq3 is checked as Qc^{z1}·t^{v−e·σ} = T·s^{e·N₀}: the
  // two powers of t merge and s^{N₀} is never raised on its own (3 exponentiations, not 5).
  const ok = (...terms: Array<readonly [bigint, bigint]>): boolean => productIsOne(Nh, terms);
  if (!ok([s, z1], [t, w1], [A, -1n], [P, -e])) return fail(NAME, 'equation', 'eq1');
  if (!ok([s, z2], [t, w2], [B, -1n], [Qc, -e])) return fail(NAME, 'equation', 'eq2');
  if (!ok([Qc, z1], [t, v - e * sigma], [T, -1n], [s, -e * N0])) {
    return fail(NAME, 'equation', 'eq3');
  }
  return OK;
}

/** Write a proof into an encoder: tag, P, Qc, A, B, T (naturals), σ, z1, z2, w1, w2, v (signed). */
export function writeFacProof(enc: Encoder, proof: FacProof): void {
  enc.tag(PROOF_TAG).nat(proof.P).nat(proof.Qc).nat(proof.A).nat(proof.B).nat(proof.T);
  enc.int(proof.sigma).int(proof.z1).int(proof.z2).int(proof.w1).int(proof.w2).int(proof.v);
}

/**
 * Read a proof (strict): every integer is capped at the bits of its verify bound for the largest
 * moduli the level admits. Membership, ranges and bounds are verify's job.
 * @throws DecodeError on a wrong tag, non-canonical or oversized integer, or truncation
 */
export function readFacProof(dec: Decoder, level: SecurityLevel): FacProof {
  dec.expectTag(PROOF_TAG);
  const bits = wireBits(level);
  return {
    P: dec.nat('fac.P', bits.elem),
    Qc: dec.nat('fac.Qc', bits.elem),
    A: dec.nat('fac.A', bits.elem),
    B: dec.nat('fac.B', bits.elem),
    T: dec.nat('fac.T', bits.elem),
    sigma: dec.int('fac.sigma', bits.sigma),
    z1: dec.int('fac.z1', bits.z),
    z2: dec.int('fac.z2', bits.z),
    w1: dec.int('fac.w1', bits.w),
    w2: dec.int('fac.w2', bits.w),
    v: dec.int('fac.v', bits.v),
  };
}

/** Canonical bytes of a proof. @example decodeFacProof(encodeFacProof(proof), level) */
export function encodeFacProof(proof: FacProof): Uint8Array {
  return encode((e) => writeFacProof(e, proof));
}

/** Parse canonical bytes. @throws DecodeError on any non-canonical input or trailing bytes. */
export function decodeFacProof(bytes: Uint8Array, level: SecurityLevel): FacProof {
  return decodeAll(bytes, (d) => readFacProof(d, level));
}
