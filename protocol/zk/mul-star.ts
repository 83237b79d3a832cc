/**
 * Πmul* — a Paillier ciphertext is a known-exponent multiple of another, consistent with a group
 * element (CGGMP21 §C.6 "multiplication Paillier vs group", Fig. 31; CGGMP.md §4.8 with
 * corrections C5, C6, C10, C15, C17 and the Decisions' exact ranges). Identifiable abort only.
 *
 * Statement (N₀, C, D, X), proved by P_i for one verifier P_j against P_j's ring-Pedersen
 * parameters R_j = (N̂, s, t), so the proof is per-recipient:
 * - N₀ is the **prover's** Paillier key; C and D are ciphertexts under it;
 * - D = (x ⊙ C)·ρ^{N₀} mod N₀² and X = x·G, with x ∈ ±2^ℓ. Witness (x, ρ).
 *
 * Use (CGGMP.md §5.6, bad-σ abort): with K_i = enc_i(k_i; ρ_i) from presign round 1, P_i builds
 * Ĥ_i = (w_i ⊙ K_i)·ρ̂^{N_i}, an encryption of the integer k_i·w_i (C6), and proves Πmul* with
 * C = K_i, D = Ĥ_i, X = W_i = w_i·G and witness (w_i, ρ̂) (C5: the nonce is ρ̂, not ρ_i). Πdec
 * then ties Ĥ_i to σ_i.
 *
 * Protocol:
 * - Commit (C5): α ← ±2^{ℓ+ε}, r ← Z*_{N₀}, γ ← ±2^{ℓ+ε}·N̂, m ← ±2^ℓ·N̂;
 *   A = (α ⊙ C)·r^{N₀} mod N₀², B_x = α·G, E = s^α·t^γ, S = s^x·t^m (mod N̂).
 * - Challenge: e ∈ ±Q (Q = 2^128, C10) from XOF(ctx ‖ R_j ‖ E(N₀, C, D, X) ‖ E(A, B_x, E, S)).
 * - Response: z1 = α + e·x, z2 = γ + e·m over the integers (C6); w = r·ρ^e mod N₀.
 * - Verify, in this order: N₀ in the level's window, C, D ∈ Z*_{N₀²}, X ≠ O (statement);
 *   A ∈ Z*_{N₀²}, E, S ∈ Z*_N̂, B_x ≠ O, w ∈ Z*_{N₀} (membership); |z1| ≤ 2^{ℓ+ε} exactly
 *   (range); |z2| ≤ 2^{ℓ+ε}·N̂ + Q·2^ℓ·N̂ (bound, C17); then
 *   eq1 (z1 ⊙ C)·w^{N₀} = A ⊕ (e ⊙ D) mod N₀², eq2 z1·G = B_x + e·X,
 *   eq3 s^{z1}·t^{z2} = E·S^e mod N̂.
 *
 * What it proves: D hides x·dec(C) for one x ∈ ±2^{ℓ+ε} with X = x·G. The group side fixes x
 * only mod q, so x' = w_i + q would also pass; that is harmless here, since σ_i is checked mod q.
 * Names (C15): the ring-Pedersen randomness m is `mx` (not the message). No variant: Πmul* has one
 * use, so `ctx.variant` is normally absent (any variant changes the tag).
 * The prover does not re-check its witness: callers hold x and ρ̂ from their own sampling, and a
 * witness out of range or not matching the statement yields a proof the verifier rejects.
 * @module
 */
import { InvalidArgs } from '../errors.js';
import { decodeAll, encode, type Decoder, type Encoder } from '../hash/encoding.js';
import { G, isIdentity, modQ, mulBase, mulPublic, type Point } from '../math/curve.js';
import { allUnits, modPow } from '../math/modular.js';
import { samplePm, sampleUnit, systemRng, type Rng } from '../math/sample.js';
import type { PaillierPublicKey } from '../paillier/paillier.js';
import { rpCommit, type RingPedersenParams } from '../paillier/ring-pedersen.js';
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
  rpEquationHolds,
  rpResponseBound,
  type ProofContext,
  type VerifyResult,
} from './common.js';

const NAME = 'mul-star';
const PROOF_TAG = 'mpcd/cggmp21/v1/zk/mul-star/proof';

/** Statement (N₀, C, D, X): D = (x ⊙ C)·ρ^{N₀} mod N₀², X = x·G; N₀ is the prover's key. */
export interface MulStarStatement {
  /** N₀: the prover's key; a prover may pass its `PaillierSecretKey` (CRT for r^{N₀}). */
  readonly key: PaillierPublicKey;
  /** C ∈ Z*_{N₀²} (bad-σ abort: K_i). */
  readonly C: bigint;
  /** D = (x ⊙ C)·ρ^{N₀} ∈ Z*_{N₀²} (bad-σ abort: Ĥ_i). */
  readonly D: bigint;
  /** X = x·G, not the identity (bad-σ abort: W_i). */
  readonly X: Point;
}

/** Witness (x, ρ). */
export interface MulStarWitness {
  /** x ∈ ±2^ℓ (bad-σ abort: the additive share w_i). */
  readonly x: bigint;
  /** ρ ∈ Z*_{N₀}: the randomiser of D (bad-σ abort: ρ̂, C5). */
  readonly rho: bigint;
}

/** The proof: first message (A, B_x, E, S) and responses (z1, z2, w). */
export interface MulStarProof {
  /** A = (α ⊙ C)·r^{N₀} mod N₀² */
  readonly A: bigint;
  /** B_x = α·G */
  readonly Bx: Point;
  /** E = s^α·t^γ mod N̂ */
  readonly E: bigint;
  /** S = s^x·t^m mod N̂ */
  readonly S: bigint;
  /** z1 = α + e·x (integer) */
  readonly z1: bigint;
  /** z2 = γ + e·m (integer) */
  readonly z2: bigint;
  /** w = r·ρ^e mod N₀ */
  readonly w: bigint;
}

/** The verifier's limits on the integer responses for ring-Pedersen modulus N̂. */
export interface MulStarResponseBounds {
  /** Exact range of z1: 2^{ℓ+ε} (CGGMP.md Decisions). */
  readonly z1: bigint;
  /** C17 bound of z2: 2^{ℓ+ε}·N̂ + Q·2^ℓ·N̂ (γ's range plus Q times m's range). */
  readonly z2: bigint;
}

/**
 * The response limits {@link verifyMulStar} enforces for a verifier modulus N̂.
 * @param level the security level (ℓ, ε, Q)
 * @param Nhat the verifier's ring-Pedersen modulus N̂
 * @returns the exact range of z1 and the C17 bound of z2
 * @example mulStarResponseBounds(LEVEL128, aux.N).z1 === 1n << 486n
 */
export function mulStarResponseBounds(level: SecurityLevel, Nhat: bigint): MulStarResponseBounds {
  return { z1: pow2(level.ell + level.epsilon), z2: rpResponseBound(level, Nhat) };
}

type FirstMessage = Pick<MulStarProof, 'A' | 'Bx' | 'E' | 'S'>;

/** e ∈ ±Q over (ctx, R_j, N₀, C, D, X, A, B_x, E, S); shared by prover and verifier. */
function challenge(
  level: SecurityLevel,
  ctx: ProofContext,
  aux: RingPedersenParams,
  stmt: MulStarStatement,
  a: FirstMessage
): bigint {
  const tr = proofTranscript(NAME, ctx, aux);
  tr.enc.nat(stmt.key.N).nat(stmt.C).nat(stmt.D).point(stmt.X);
  tr.enc.nat(a.A).point(a.Bx).nat(a.E).nat(a.S);
  return tr.xof().challengePm(level.challengeBits);
}

/**
 * Prove Πmul* for verifier P_j (CGGMP.md §4.8 with C5). The witness is not re-checked (see the
 * module doc); only ρ ∈ Z*_{N₀} is required, because w = r·ρ^e needs ρ^{−1} when e < 0.
 * @param level security level (ℓ, ε, Q)
 * @param ctx proof context; `verifier` must be set (per-recipient)
 * @param aux the VERIFIER's ring-Pedersen parameters R_j = (N̂, s, t)
 * @param stmt (N₀ = the prover's key, C, D, X)
 * @param witness (x, ρ)
 * @param rng randomness for α, r, γ, m (defaults to the system CSPRNG)
 * @returns the proof (A, B_x, E, S, z1, z2, w)
 * @throws InvalidArgs on a context without a verifier, ρ ∉ Z*_{N₀}, or X = O (not encodable)
 * @example
 * // Bad-σ abort: Ĥ_i = (w_i ⊙ K_i)·ρ̂^{N_i}, proved to P_j against R_j.
 * const proof = proveMulStar(level, { sessionId: ssid, prover: i, verifier: j }, Rj,
 *   { key: myPaillierSecret, C: K_i, D: Hhat_i, X: W_i }, { x: w_i, rho: rhoHat });
 */
export function proveMulStar(
  level: SecurityLevel,
  ctx: ProofContext,
  aux: RingPedersenParams,
  stmt: MulStarStatement,
  witness: MulStarWitness,
  rng: Rng = systemRng
): MulStarProof {
  requirePerRecipient('Πmul*', ctx);
  const { key, C } = stmt;
  const { x, rho } = witness;
  if (!key.isUnit(rho)) throw new InvalidArgs('rho', 'nonce must be in Z*_N₀');
  const Nhat = aux.N;
  const small = pow2(level.ell + level.epsilon); // 2^{ℓ+ε}
  // α ← ±2^{ℓ+ε}, redrawn in the (probability ~2^{-256}) case α ≡ 0 mod q, where B_x = O would
  // be rejected by every verifier (and could not be encoded).
  let alpha: bigint;
  do alpha = samplePm(rng, small);
  while (modQ(alpha) === 0n);
  const r = sampleUnit(rng, key.N); // r ← Z*_{N₀}
  const gamma = samplePm(rng, small * Nhat); // γ ← ±2^{ℓ+ε}·N̂
  const mx = samplePm(rng, pow2(level.ell) * Nhat); // m ← ±2^ℓ·N̂ (C15: not the message)
  const first: FirstMessage = {
    A: (key.mul(alpha, C) * key.nonceToN(r)) % key.N2, // (α ⊙ C)·r^{N₀} mod N₀²
    Bx: mulBase(alpha), // α·G
    E: rpCommit(aux, alpha, gamma), // s^α·t^γ mod N̂
    S: rpCommit(aux, x, mx), // s^x·t^m mod N̂
  };
  const e = challenge(level, ctx, aux, stmt, first);
  return {
    ...first,
    z1: alpha + e * x, // over the integers (C6)
    z2: gamma + e * mx, // over the integers (C6)
    w: (r * modPow(rho, e, key.N)) % key.N, // r·ρ^e mod N₀ (modPow inverts for e < 0)
  };
}

/**
 * Verify Πmul* as verifier P_j with its own ring-Pedersen parameters (CGGMP.md §4.8).
 * Order: statement (`N0`, `C`, `D`, `X`), membership (`A`, `E`, `S`, `Bx`, `w`), range (`z1`),
 * bound (`z2`), equations `eq1`…`eq3`. No exponentiation runs before the size checks pass.
 * @param level security level
 * @param ctx the context the proof was made in (prover's index, my index as verifier)
 * @param aux my OWN ring-Pedersen parameters (the ones the proof was made for)
 * @param stmt (N₀ = the prover's public key, C, D, X)
 * @param proof the decoded proof
 * @returns OK, or the first failed `{kind, check}` (e.g. `range`/`z1`, `equation`/`eq2`)
 * @throws InvalidArgs on a context without a verifier (a caller error), never on peer data
 * @example verifyMulStar(level, ctx, myAux, { key: Ni, C: K_i, D: Hhat_i, X: W_i }, proof).ok
 */
export function verifyMulStar(
  level: SecurityLevel,
  ctx: ProofContext,
  aux: RingPedersenParams,
  stmt: MulStarStatement,
  proof: MulStarProof
): VerifyResult {
  requirePerRecipient('Πmul*', ctx);
  const { key, C, D, X } = stmt;
  const Nhat = aux.N;
  // (1) Statement. N₀ in the level's window keeps 2^{ℓ+ε} far below N₀/2 (C9) and matches the
  // decoder's limits; peer keys were validated at aux-info time, so this is a cheap backstop.
  if (!inModulusWindow(level, key.N)) return fail(NAME, 'statement', 'N0');
  if (!key.isValidCiphertext(C)) return fail(NAME, 'statement', 'C');
  if (!key.isValidCiphertext(D)) return fail(NAME, 'statement', 'D');
  if (isIdentity(X)) return fail(NAME, 'statement', 'X');
  // (2) Membership, before any exponentiation. E and S share one gcd (allUnits); only when that
  // fails are they re-checked one by one, to name the bad one.
  if (!key.isValidCiphertext(proof.A)) return fail(NAME, 'membership', 'A');
  if (!allUnits([proof.E, proof.S], Nhat)) {
    return fail(NAME, 'membership', isUnitMod(proof.E, Nhat) ? 'S' : 'E');
  }
  if (isIdentity(proof.Bx)) return fail(NAME, 'membership', 'Bx');
  if (!key.isUnit(proof.w)) return fail(NAME, 'membership', 'w');
  // (3) The exact range of z1 (what bounds x to ±2^{ℓ+ε}), then C17's bound on z2, so eq3 never
  // exponentiates by an oversized integer.
  const bounds = mulStarResponseBounds(level, Nhat);
  if (!inPm(proof.z1, bounds.z1)) return fail(NAME, 'range', 'z1');
  if (!inPm(proof.z2, bounds.z2)) return fail(NAME, 'bound', 'z2');
  // (4) The equations, in the order of §4.8.
  const e = challenge(level, ctx, aux, stmt, proof);
  // eq1: (z1 ⊙ C)·w^{N₀} = A ⊕ (e ⊙ D) mod N₀²
  const lhs1 = (key.mul(proof.z1, C) * key.nonceToN(proof.w)) % key.N2;
  if (lhs1 !== key.add(proof.A, key.mul(e, D))) return fail(NAME, 'equation', 'eq1');
  // eq2: z1·G = B_x + e·X (public scalars: variable-time mulPublic; it reduces mod q)
  if (!mulPublic(G, proof.z1).equals(proof.Bx.add(mulPublic(X, e)))) {
    return fail(NAME, 'equation', 'eq2');
  }
  // eq3: s^{z1}·t^{z2} = E·S^e mod N̂
  if (!rpEquationHolds(aux, proof.z1, proof.z2, proof.E, proof.S, e)) {
    return fail(NAME, 'equation', 'eq3');
  }
  return OK;
}

/**
 * Write a proof: tag, A, B_x, E, S, z1, z2, w.
 * @example writeMulStarProof(enc, proof)
 */
export function writeMulStarProof(enc: Encoder, proof: MulStarProof): void {
  enc.tag(PROOF_TAG).nat(proof.A).point(proof.Bx).nat(proof.E).nat(proof.S);
  enc.int(proof.z1).int(proof.z2).nat(proof.w);
}

/**
 * Read a proof strictly. Limits follow the level: A < N₀² (2·8κ bits); E, S, w < 2^{8κ}; B_x a
 * canonical non-identity point; z1 within the bits of 2^{ℓ+ε}; z2 within the bits of its C17
 * bound at the largest N̂ (< 2^{8κ}). The verifier still checks each value against the actual
 * moduli and bounds.
 * @throws DecodeError on any non-canonical or oversized field
 * @example const proof = readMulStarProof(dec, LEVEL128)
 */
export function readMulStarProof(dec: Decoder, level: SecurityLevel): MulStarProof {
  dec.expectTag(PROOF_TAG);
  const n = level.modulusBits;
  const limits = mulStarResponseBounds(level, pow2(n));
  return {
    A: dec.nat('mul-star.A', 2 * n),
    Bx: dec.point('mul-star.Bx'),
    E: dec.nat('mul-star.E', n),
    S: dec.nat('mul-star.S', n),
    z1: dec.int('mul-star.z1', boundBits(limits.z1)),
    z2: dec.int('mul-star.z2', boundBits(limits.z2)),
    w: dec.nat('mul-star.w', n),
  };
}

/**
 * Canonical bytes of a proof.
 * @example const bytes = encodeMulStarProof(proof)
 */
export function encodeMulStarProof(proof: MulStarProof): Uint8Array {
  return encode((e) => writeMulStarProof(e, proof));
}

/**
 * Parse canonical bytes (no trailing bytes).
 * @throws DecodeError on any non-canonical input
 * @example const proof = decodeMulStarProof(bytes, LEVEL128)
 */
export function decodeMulStarProof(bytes: Uint8Array, level: SecurityLevel): MulStarProof {
  return decodeAll(bytes, (dec) => readMulStarProof(dec, level));
}
