/**
 * Πdec — a Paillier ciphertext C under the prover's N₀ decrypts to a y ≡ x (mod q) with
 * |y| ≤ 2^{B_y} (CGGMP21 Fig. 30 "Paillier decryption modulo q"; CGGMP.md §4.8 with
 * corrections C1, C6, C7, C10, C11, C17). Used only in identifiable abort (CGGMP.md §5.5, §5.6).
 *
 * Made by P_i for one verifier P_j against P_j's ring-Pedersen parameters R_j = (N̂, s, t), so the
 * proof is per-recipient. Its two uses get distinct tags (C11) through `ctx.variant`:
 * - `delta` (bad-δ abort): C = U_i = H_i ⊕ ⨁_j(D_{i,j} ⊖ F_{j,i}), x = δ_i,
 *   B_y = ℓ'+ε+1+⌈log₂t⌉ (`decBoundBits(level, 'delta', t)`);
 * - `sigma` (bad-σ abort): C = (m ⊙ K_i) ⊕ (r ⊙ (Ĥ_i ⊕ ⨁_j(D̂_{i,j} ⊖ F̂_{j,i}))), x = σ_i,
 *   B_y = ℓ+ℓ'+ε+3+⌈log₂t⌉ (`decBoundBits(level, 'sigma', t)`).
 *
 * Protocol (C1's ranges replace §4.8's ℓ by B_y wherever y is masked):
 * - Commit: α ← ±2^{B_y+ε}, μ ← ±2^ℓ·N̂, ν ← ±2^{B_y+ε}·N̂, r ← Z*_{N₀};
 *   S = s^y·t^μ, T = s^α·t^ν (mod N̂), A = enc_{N₀}(α; r), γ = α mod q.
 * - Challenge: e ∈ ±Q (Q = 2^128, C10) from XOF(ctx ‖ R_j ‖ E(N₀, C, x, B_y) ‖ E(S, T, A, γ)).
 * - Response (integers, C6): z1 = α + e·y, z2 = ν + e·μ; w = r·ρ^e mod N₀.
 * - Verify, in the order of `common.ts`: statement (N₀ in the level's window, C ∈ Z*_{N₀²},
 *   x ∈ [0, q), 0 ≤ B_y ≤ the largest B_y of any t ≤ 16, and 2^{B_y+ε+1} < N₀/2); membership
 *   (A ∈ Z*_{N₀²}; S, T ∈ Z*_N̂; w ∈ Z*_{N₀}; γ ∈ [0, q)); |z1| ≤ 2^{B_y+ε} exactly (range, C1);
 *   |z2| ≤ 2^{B_y+ε}·N̂ + Q·2^ℓ·N̂ (bound, C17); then eq1: enc_{N₀}(z1; w) = A ⊕ (e ⊙ C) mod N₀²,
 *   eq2: z1 ≡ γ + e·x (mod q), eq3: s^{z1}·t^{z2} = T·S^e (mod N̂).
 *
 * Why C1's ranges: in both aborts y is far larger than 2^ℓ; with §4.8's α ← ±2^{ℓ+ε}, z1 = α + e·y
 * would not hide y (a cheater forcing the σ abort learns ~95 top bits of an honest share), and with
 * z1 capped at 2^{ℓ+ε} an honest prover could not even answer. 2^{B_y+ε+1} < N₀/2 keeps
 * z1 = α + e·y from wrapping mod N₀ (C9), so the plaintext relation holds over the integers.
 *
 * Witness (C7): y is the centred decryption of C (not x), and ρ is recovered with the secret key
 * (`PaillierSecretKey.recoverNonce(C, y)`). The prover checks |y| ≤ 2^{B_y} (C7) and throws
 * otherwise; it does not check C = enc(y; ρ) nor y ≡ x (mod q) — a witness that does not match
 * yields a proof the verifier rejects (eq1, eq2).
 * @module
 */
import { decodeAll, encode, type Decoder, type Encoder } from '../hash/encoding.js';
import { InvalidArgs } from '../errors.js';
import { bitLength } from '../math/bytes.js';
import { CURVE_ORDER, modQ } from '../math/curve.js';
import { modPow } from '../math/modular.js';
import { samplePm, sampleUnit, systemRng, type Rng } from '../math/sample.js';
import type { PaillierPublicKey } from '../paillier/paillier.js';
import { rpCommit, type RingPedersenParams } from '../paillier/ring-pedersen.js';
import { decBoundBits, MAX_PARTIES, type SecurityLevel } from '../params.js';
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
  rpEquationHolds,
  type ProofContext,
  type VerifyResult,
} from './common.js';

const NAME = 'dec';
const PROOF_TAG = 'mpcd/cggmp21/v1/zk/dec/proof';

/** The two abort uses of Πdec (C11): the bad-δ and the bad-σ procedures. */
export type DecVariant = 'delta' | 'sigma';
/** The accepted values of `ctx.variant` for Πdec. */
export const DEC_VARIANTS: readonly DecVariant[] = Object.freeze(['delta', 'sigma'] as const);

/** Statement: C = enc_{N₀}(y; ρ) under the prover's key, y ≡ x (mod q), |y| ≤ 2^{B_y}. */
export interface DecStatement {
  /** N₀: the prover's key; a prover may pass its `PaillierSecretKey` (CRT encryption). */
  readonly key: PaillierPublicKey;
  /** C ∈ Z*_{N₀²} (U_i in the δ abort, the σ ciphertext in the σ abort). */
  readonly C: bigint;
  /** x ∈ [0, q): the claimed value mod q (δ_i or σ_i). */
  readonly x: bigint;
  /** B_y: the bit bound of y, `decBoundBits(level, variant, t)` (C1). */
  readonly yBits: number;
}

/** Witness (C7): y = the centred dec(C), ρ = its nonce (`recoverNonce(C, y)`). */
export interface DecWitness {
  readonly y: bigint;
  readonly rho: bigint;
}

/** The proof: first message (S, T, A, γ) and responses (z1, z2, w). */
export interface DecProof {
  /** S = s^y·t^μ mod N̂ */
  readonly S: bigint;
  /** T = s^α·t^ν mod N̂ */
  readonly T: bigint;
  /** A = enc_{N₀}(α; r) */
  readonly A: bigint;
  /** γ = α mod q */
  readonly gamma: bigint;
  /** z1 = α + e·y (integer) */
  readonly z1: bigint;
  /** z2 = ν + e·μ (integer) */
  readonly z2: bigint;
  /** w = r·ρ^e mod N₀ */
  readonly w: bigint;
}

/** The verifier's limits on the integer responses. */
export interface DecResponseBounds {
  /** Exact range of z1: 2^{B_y+ε} (C1). */
  readonly z1: bigint;
  /** C17 bound of z2 = ν + e·μ: 2^{B_y+ε}·N̂ + Q·2^ℓ·N̂. */
  readonly z2: bigint;
}

/**
 * The largest B_y a statement may claim: C1's bound for the σ abort at t = MAX_PARTIES (the
 * δ bound is smaller). Also what the decoder's limits on z1, z2 are derived from.
 * @example maxDecYBits(LEVEL128) === 1341
 */
export function maxDecYBits(level: SecurityLevel): number {
  return Math.max(
    decBoundBits(level, 'delta', MAX_PARTIES),
    decBoundBits(level, 'sigma', MAX_PARTIES)
  );
}

/**
 * The response limits {@link verifyDec} enforces for B_y and a verifier modulus N̂.
 * @example decResponseBounds(LEVEL128, 1081, aux.N).z1 === 1n << 1311n
 */
export function decResponseBounds(
  level: SecurityLevel,
  yBits: number,
  Nhat: bigint
): DecResponseBounds {
  const z1 = pow2(yBits + level.epsilon); // α's range: hides e·y with 2^ε slack (C1)
  // z2 = ν + e·μ with |ν| ≤ 2^{B_y+ε}·N̂ and |μ| ≤ 2^ℓ·N̂ (C17).
  return { z1, z2: responseBound(level, z1 * Nhat, pow2(level.ell) * Nhat) };
}

/**
 * The first statement check that fails, or undefined. Shared by the prover (a caller error) and
 * the verifier (a bad statement). B_y is compared as a number before any 2^{B_y} is built, so an
 * absurd B_y cannot cost memory.
 */
function statementProblem(level: SecurityLevel, stmt: DecStatement): string | undefined {
  const N0 = stmt.key.N;
  // N₀ in the level's window: the no-wrap argument (C9) and the decoder limits assume it.
  if (!inModulusWindow(level, N0)) return 'N0';
  if (!stmt.key.isValidCiphertext(stmt.C)) return 'C';
  if (stmt.x < 0n || stmt.x >= CURVE_ORDER) return 'x';
  const B = stmt.yBits;
  if (!Number.isSafeInteger(B) || B < 0) return 'yBits';
  // C1/C9: 2^{B_y+ε+1} < N₀/2 ⟺ 2^{B_y+ε+2} < N₀ ⟺ B_y+ε+2 < bitlen(N₀) (N₀ odd, > 1).
  if (B + level.epsilon + 2 >= bitLength(N0)) return 'no-wrap';
  // Never more than any t ≤ 16 needs (params.ts asserts this B_y passes the no-wrap check).
  if (B > maxDecYBits(level)) return 'yBits';
  return undefined;
}

type FirstMessage = Pick<DecProof, 'S' | 'T' | 'A' | 'gamma'>;

/** e ∈ ±Q over (ctx, R_j, N₀, C, x, B_y, S, T, A, γ); shared by prover and verifier. */
function challenge(
  level: SecurityLevel,
  ctx: ProofContext,
  aux: RingPedersenParams,
  st: DecStatement,
  a: FirstMessage
): bigint {
  const tr = proofTranscript(NAME, ctx, aux);
  tr.enc.nat(st.key.N).nat(st.C).scalar(st.x).u32(st.yBits);
  tr.enc.nat(a.S).nat(a.T).nat(a.A).scalar(a.gamma);
  return tr.xof().challengePm(level.challengeBits);
}

/**
 * Prove Πdec for verifier P_j (CGGMP.md §4.8 with C1, C6, C7).
 * @param level security level (ℓ, ε, Q)
 * @param ctx proof context; `variant` must be `delta` or `sigma`, `verifier` must be set
 * @param aux the VERIFIER's ring-Pedersen parameters R_j = (N̂, s, t)
 * @param stmt (N₀ = the prover's key, C, x, B_y)
 * @param witness (y, ρ) with y = dec(C) centred and ρ = recoverNonce(C, y) (C7)
 * @param rng randomness for α, μ, ν, r
 * @returns the proof (S, T, A, γ, z1, z2, w)
 * @throws InvalidArgs on a bad context or statement, if |y| > 2^{B_y} (C7), or if ρ ∉ Z*_{N₀}
 * @example
 * const y = sk.decrypt(U); // centred (C7)
 * const proof = proveDec(level, { sessionId: ssid, prover: i, verifier: j, variant: 'delta' },
 *   Rj, { key: sk, C: U, x: delta_i, yBits: decBoundBits(level, 'delta', t) },
 *   { y, rho: sk.recoverNonce(U, y) });
 */
export function proveDec(
  level: SecurityLevel,
  ctx: ProofContext,
  aux: RingPedersenParams,
  stmt: DecStatement,
  witness: DecWitness,
  rng: Rng = systemRng
): DecProof {
  requirePerRecipient('Πdec', ctx, DEC_VARIANTS);
  const problem = statementProblem(level, stmt);
  if (problem !== undefined) throw new InvalidArgs(`stmt.${problem}`, 'Πdec statement check');
  const { key } = stmt;
  const { y, rho } = witness;
  // C7: the proof could not hide a larger y, and the verifier would reject it anyway.
  if (!inPm(y, pow2(stmt.yBits))) throw new InvalidArgs('witness.y', '|y| must be ≤ 2^{B_y}');
  if (!key.isUnit(rho)) throw new InvalidArgs('witness.rho', 'must be in Z*_{N₀}');
  const Nhat = aux.N;
  const big = pow2(stmt.yBits + level.epsilon); // 2^{B_y+ε} (C1)
  const alpha = samplePm(rng, big); // α ← ±2^{B_y+ε}: hides e·y, |e·y| ≤ 2^{B_y+128}
  const mu = samplePm(rng, pow2(level.ell) * Nhat); // μ ← ±2^ℓ·N̂ (unchanged by C1)
  const nu = samplePm(rng, big * Nhat); // ν ← ±2^{B_y+ε}·N̂ (C1)
  const r = sampleUnit(rng, key.N); // r ← Z*_{N₀}
  const first: FirstMessage = {
    S: rpCommit(aux, y, mu), // S = s^y·t^μ mod N̂
    T: rpCommit(aux, alpha, nu), // T = s^α·t^ν mod N̂
    A: key.encrypt(alpha, r), // A = enc_{N₀}(α; r)
    gamma: modQ(alpha), // γ = α mod q
  };
  const e = challenge(level, ctx, aux, stmt, first);
  return {
    ...first,
    z1: alpha + e * y, // over the integers (C6)
    z2: nu + e * mu, // over the integers (C6)
    w: (r * modPow(rho, e, key.N)) % key.N, // r·ρ^e mod N₀ (e < 0 uses ρ^{−1})
  };
}

/**
 * Verify Πdec as verifier P_j with its own ring-Pedersen parameters (CGGMP.md §4.8, C1).
 * Order: statement (`N0`, `C`, `x`, `yBits`, `no-wrap`), membership (`A`, `S`, `T`, `w`,
 * `gamma`), range (`z1`), bound (`z2`), equations `eq1`…`eq3`.
 * @param aux the verifier's OWN ring-Pedersen parameters (the ones the proof was made for)
 * @param stmt the prover's public key N₀, C (recomputed by the verifier), x, B_y
 * @returns OK, or the first failed check
 * @throws InvalidArgs on a bad context (missing variant/verifier), never on peer data
 * @example if (!verifyDec(level, ctx, myAux, { key: Ni, C: U, x: delta_i, yBits }, p).ok) blame(i);
 */
export function verifyDec(
  level: SecurityLevel,
  ctx: ProofContext,
  aux: RingPedersenParams,
  stmt: DecStatement,
  proof: DecProof
): VerifyResult {
  requirePerRecipient('Πdec', ctx, DEC_VARIANTS);
  const { key, C, x } = stmt;
  const Nhat = aux.N;
  // (1) Statement.
  const problem = statementProblem(level, stmt);
  if (problem !== undefined) return fail(NAME, 'statement', problem);
  // (2) Membership of every element, before any exponentiation.
  if (!key.isValidCiphertext(proof.A)) return fail(NAME, 'membership', 'A');
  if (!isUnitMod(proof.S, Nhat)) return fail(NAME, 'membership', 'S');
  if (!isUnitMod(proof.T, Nhat)) return fail(NAME, 'membership', 'T');
  if (!key.isUnit(proof.w)) return fail(NAME, 'membership', 'w');
  if (proof.gamma < 0n || proof.gamma >= CURVE_ORDER) return fail(NAME, 'membership', 'gamma');
  // (3) C1's exact range on z1, then C17's bound on z2.
  const bounds = decResponseBounds(level, stmt.yBits, Nhat);
  if (!inPm(proof.z1, bounds.z1)) return fail(NAME, 'range', 'z1');
  if (!inPm(proof.z2, bounds.z2)) return fail(NAME, 'bound', 'z2');
  // (4) Equations, in §4.8's order.
  const e = challenge(level, ctx, aux, stmt, proof);
  // eq1: enc_{N₀}(z1; w) = A ⊕ (e ⊙ C) mod N₀²
  if (key.encrypt(proof.z1, proof.w) !== key.add(proof.A, key.mul(e, C))) {
    return fail(NAME, 'equation', 'eq1');
  }
  // eq2: z1 ≡ γ + e·x (mod q) — with eq1 and no wrap (C1), dec(C) ≡ x (mod q).
  if (modQ(proof.z1) !== modQ(proof.gamma + e * x)) return fail(NAME, 'equation', 'eq2');
  // eq3: s^{z1}·t^{z2} = T·S^e mod N̂
  if (!rpEquationHolds(aux, proof.z1, proof.z2, proof.T, proof.S, e)) {
    return fail(NAME, 'equation', 'eq3');
  }
  return OK;
}

/**
 * Write a proof: tag, S, T, A, γ, z1, z2, w.
 * @example writeDecProof(enc, proof)
 */
export function writeDecProof(enc: Encoder, proof: DecProof): void {
  enc.tag(PROOF_TAG).nat(proof.S).nat(proof.T).nat(proof.A).scalar(proof.gamma);
  enc.int(proof.z1).int(proof.z2).nat(proof.w);
}

/**
 * Read a proof strictly. Limits follow the level: S, T, w < 2^{8κ}; A < 2^{16κ}; γ a scalar < q;
 * z1, z2 within the bits of their bounds at the largest B_y ({@link maxDecYBits}) and N̂ < 2^{8κ}.
 * The verifier then checks z1, z2 against the statement's B_y and its actual N̂.
 * @throws DecodeError on any non-canonical or oversized field
 * @example const proof = readDecProof(dec, LEVEL128)
 */
export function readDecProof(dec: Decoder, level: SecurityLevel): DecProof {
  dec.expectTag(PROOF_TAG);
  const n = level.modulusBits;
  const B = decResponseBounds(level, maxDecYBits(level), pow2(n));
  return {
    S: dec.nat('dec.S', n),
    T: dec.nat('dec.T', n),
    A: dec.nat('dec.A', 2 * n),
    gamma: dec.scalar('dec.gamma'),
    z1: dec.int('dec.z1', boundBits(B.z1)),
    z2: dec.int('dec.z2', boundBits(B.z2)),
    w: dec.nat('dec.w', n),
  };
}

/**
 * Canonical bytes of a proof.
 * @example const bytes = encodeDecProof(proof)
 */
export function encodeDecProof(proof: DecProof): Uint8Array {
  return encode((e) => writeDecProof(e, proof));
}

/**
 * Parse canonical bytes (no trailing bytes).
 * @throws DecodeError on any non-canonical input
 * @example const proof = decodeDecProof(bytes, LEVEL128)
 */
export function decodeDecProof(bytes: Uint8Array, level: SecurityLevel): DecProof {
  return decodeAll(bytes, (d) => readDecProof(d, level));
}
