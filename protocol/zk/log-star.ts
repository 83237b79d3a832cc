/**
 * Πlog* — a Paillier ciphertext and a group element hide the same small value
 * (CGGMP21 §C.2 "knowledge of exponent vs Paillier encryption", Fig. 25; CGGMP.md §4.7).
 *
 * Statement (N₀, C, X, B): C = enc_{N₀}(x; ρ) under the prover's key and X = x·B for a base point
 * B (G or Γ), with x ∈ ±2^ℓ. Made for one verifier P_j against R_j = (N̂, s, t): per-recipient.
 * Presign uses it twice, under distinct tags (C11): ψ′ (`gamma`: Γ_i = γ_i·G vs G_i) and ψ″
 * (`delta`: Δ_i = k_i·Γ vs K_i); the variant comes from `ctx.variant` and is required.
 *
 * - Commit: α ← ±2^{ℓ+ε}, μ ← ±2^ℓ·N̂, r ← Z*_{N₀}, γ ← ±2^{ℓ+ε}·N̂;
 *   S = s^x·t^μ, A = enc_{N₀}(α; r), Y = α·B, D = s^α·t^γ (S, D mod N̂).
 * - Challenge: e ∈ ±Q from XOF(ctx ‖ R_j ‖ E(N₀, C, X, B) ‖ E(S, A, Y, D)) (C10: Q = 2^128).
 * - Response: z1 = α + e·x, z2 = r·ρ^e mod N₀, z3 = γ + e·μ — z1, z3 over the integers (C6).
 * - Verify: N₀ of the level's size, C ∈ Z*_{N₀²}, X ≠ O, B ≠ O (statement); A ∈ Z*_{N₀²},
 *   S, D ∈ Z*_N̂, Y ≠ O, z2 ∈ Z*_{N₀} (membership); |z1| ≤ 2^{ℓ+ε} exactly (range);
 *   |z3| ≤ 2^{ℓ+ε}·N̂ + Q·2^ℓ·N̂ (bound, C17); then eq1: enc_{N₀}(z1; z2) = A ⊕ (e ⊙ C),
 *   eq2: z1·B = Y + e·X, eq3: s^{z1}·t^{z3} = D·S^e mod N̂.
 *
 * The prover does not re-check its witness (callers hold x and ρ from their own sampling); an x
 * out of range, or one that does not match X, yields a proof the verifier rejects.
 * @module
 */
import { decodeAll, encode, type Decoder, type Encoder } from '../hash/encoding.js';
import { isIdentity, modQ, mulPoint, mulPublic, type Point } from '../math/curve.js';
import { mod, modPow } from '../math/modular.js';
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

const NAME = 'log-star';
const PROOF_TAG = 'mpcd/cggmp21/v1/zk/log-star/proof';

/** The two uses of Πlog* in presign (C11: ψ′ vs ψ″), selected through `ctx.variant`. */
export type LogStarVariant = 'gamma' | 'delta';
/** The variants, for validation and iteration. */
export const LOG_STAR_VARIANTS: readonly LogStarVariant[] = Object.freeze(['gamma', 'delta']);

/** Statement: the prover's key N₀, C = enc_{N₀}(x; ρ), X = x·B and the base point B. */
export interface LogStarStatement {
  /** The prover's key; a prover may pass its `PaillierSecretKey` (CRT encryption). */
  readonly key: PaillierPublicKey;
  /** C ∈ Z*_{N₀²} */
  readonly C: bigint;
  /** X = x·B, not the identity */
  readonly X: Point;
  /** The base point B (G or Γ), not the identity */
  readonly B: Point;
}
/** Witness: x ∈ ±2^ℓ and the nonce ρ ∈ Z*_{N₀} with C = enc_{N₀}(x; ρ). */
export interface LogStarWitness {
  readonly x: bigint;
  readonly rho: bigint;
}
/** The proof: first message (S, A, Y, D) and responses (z1, z2, z3). */
export interface LogStarProof {
  /** S = s^x·t^μ mod N̂ */
  readonly S: bigint;
  /** A = enc_{N₀}(α; r) */
  readonly A: bigint;
  /** Y = α·B */
  readonly Y: Point;
  /** D = s^α·t^γ mod N̂ */
  readonly D: bigint;
  /** z1 = α + e·x (integer) */
  readonly z1: bigint;
  /** z2 = r·ρ^e mod N₀ */
  readonly z2: bigint;
  /** z3 = γ + e·μ (integer) */
  readonly z3: bigint;
}

/** The verifier's limits on the integer responses for ring-Pedersen modulus N̂. */
export interface LogStarResponseBounds {
  /** Exact range of z1: 2^{ℓ+ε} (CGGMP.md Decisions). */
  readonly z1: bigint;
  /** C17 bound of z3: 2^{ℓ+ε}·N̂ + Q·2^ℓ·N̂. */
  readonly z3: bigint;
}

/**
 * The response limits {@link verifyLogStar} enforces for a verifier modulus N̂.
 * @example logStarResponseBounds(LEVEL128, aux.N).z1 === 1n << 486n
 */
export function logStarResponseBounds(level: SecurityLevel, Nhat: bigint): LogStarResponseBounds {
  const z1 = pow2(level.ell + level.epsilon);
  return { z1, z3: rpResponseBound(level, Nhat) };
}

/** e ∈ ±Q over (ctx, R_j, N₀, C, X, B, S, A, Y, D); shared by prover and verifier. */
function challenge(
  level: SecurityLevel,
  ctx: ProofContext,
  aux: RingPedersenParams,
  stmt: LogStarStatement,
  S: bigint,
  A: bigint,
  Y: Point,
  D: bigint
): bigint {
  const tr = proofTranscript(NAME, ctx, aux);
  tr.enc.nat(stmt.key.N).nat(stmt.C).point(stmt.X).point(stmt.B);
  tr.enc.nat(S).nat(A).point(Y).nat(D);
  return tr.xof().challengePm(level.challengeBits);
}

/**
 * Prove that C and X = x·B hide the same x ∈ ±2^ℓ.
 * @param level the key's security level (ℓ, ε, Q)
 * @param ctx session, prover, verifier index (required) and variant (`gamma` | `delta`)
 * @param aux the VERIFIER's ring-Pedersen parameters (N̂, s, t)
 * @param stmt the prover's key, C, X and the base B
 * @param witness (x, ρ); not re-checked (see the module doc)
 * @param rng randomness for α, μ, r, γ
 * @returns the proof (S, A, Y, D, z1, z2, z3)
 * @throws InvalidArgs on a bad ctx, ρ not a unit mod N₀, or X / B the identity (not encodable)
 * @example const psi = proveLogStar(level, { ...ctx, variant: 'delta' }, auxOfJ, { key, C: K, X: Delta, B: Gamma }, { x: k, rho })
 */
export function proveLogStar(
  level: SecurityLevel,
  ctx: ProofContext,
  aux: RingPedersenParams,
  stmt: LogStarStatement,
  witness: LogStarWitness,
  rng: Rng = systemRng
): LogStarProof {
  requirePerRecipient('Πlog*', ctx, LOG_STAR_VARIANTS);
  const { key, B } = stmt;
  const { x, rho } = witness;
  const Nhat = aux.N;
  // α ← ±2^{ℓ+ε}, redrawn in the (probability ~2^{-256}) case α ≡ 0 mod q, where Y = O would be
  // rejected by every verifier (and could not be encoded).
  let alpha: bigint;
  do alpha = samplePm(rng, pow2(level.ell + level.epsilon));
  while (modQ(alpha) === 0n);
  const mu = samplePm(rng, pow2(level.ell) * Nhat); // μ ← ±2^ℓ·N̂
  const r = sampleUnit(rng, key.N); // r ← Z*_{N₀}
  const gamma = samplePm(rng, pow2(level.ell + level.epsilon) * Nhat); // γ ← ±2^{ℓ+ε}·N̂
  const S = rpCommit(aux, x, mu); // S = s^x·t^μ mod N̂
  const A = key.encrypt(alpha, r); // A = enc_{N₀}(α; r)
  const Y = mulPoint(B, alpha); // Y = α·B
  const D = rpCommit(aux, alpha, gamma); // D = s^α·t^γ mod N̂
  const e = challenge(level, ctx, aux, stmt, S, A, Y, D);
  return {
    S,
    A,
    Y,
    D,
    z1: alpha + e * x, // over the integers (C6)
    z2: mod(r * modPow(rho, e, key.N), key.N), // r·ρ^e mod N₀
    z3: gamma + e * mu, // over the integers (C6)
  };
}

/**
 * Verify Πlog* (checks in the order of the module doc; the first failure is reported).
 * @param aux the verifier's OWN ring-Pedersen parameters (the ones the proof was made for)
 * @returns OK, or a failure naming `{kind, check}` (e.g. `range`/`z1`, `equation`/`eq2`)
 * @throws InvalidArgs on a bad ctx (a caller error, not a bad proof)
 * @example verifyLogStar(level, { ...ctx, variant: 'gamma' }, myAux, { key, C: G_j, X: Gamma_j, B: G }, psi)
 */
export function verifyLogStar(
  level: SecurityLevel,
  ctx: ProofContext,
  aux: RingPedersenParams,
  stmt: LogStarStatement,
  proof: LogStarProof
): VerifyResult {
  requirePerRecipient('Πlog*', ctx, LOG_STAR_VARIANTS);
  const { key, C, X, B } = stmt;
  const N0 = key.N;
  const Nhat = aux.N;
  // (1) Statement. N₀ of the level's size keeps 2^{ℓ+ε} far below N₀/2 (C9); a backstop only.
  if (!inModulusWindow(level, N0)) return fail(NAME, 'statement', 'N0');
  if (!key.isValidCiphertext(C)) return fail(NAME, 'statement', 'C');
  if (isIdentity(X)) return fail(NAME, 'statement', 'X');
  if (isIdentity(B)) return fail(NAME, 'statement', 'B');
  // (2) Group membership.
  if (!key.isValidCiphertext(proof.A)) return fail(NAME, 'membership', 'A');
  if (!isUnitMod(proof.S, Nhat)) return fail(NAME, 'membership', 'S');
  if (!isUnitMod(proof.D, Nhat)) return fail(NAME, 'membership', 'D');
  if (isIdentity(proof.Y)) return fail(NAME, 'membership', 'Y');
  if (!isUnitMod(proof.z2, N0)) return fail(NAME, 'membership', 'z2');
  // (3) Exact range on z1 (this is what bounds x), then C17's bound on z3.
  const bounds = logStarResponseBounds(level, Nhat);
  if (!inPm(proof.z1, bounds.z1)) return fail(NAME, 'range', 'z1');
  if (!inPm(proof.z3, bounds.z3)) return fail(NAME, 'bound', 'z3');
  // (4) Equations.
  const e = challenge(level, ctx, aux, stmt, proof.S, proof.A, proof.Y, proof.D);
  // eq1: enc_{N₀}(z1; z2) = A ⊕ (e ⊙ C) mod N₀²
  if (key.encrypt(proof.z1, proof.z2) !== key.add(proof.A, key.mul(e, C))) {
    return fail(NAME, 'equation', 'eq1');
  }
  // eq2: z1·B = Y + e·X (public scalars: mulPublic reduces mod q and maps 0 to O)
  if (!mulPublic(B, proof.z1).equals(proof.Y.add(mulPublic(X, e)))) {
    return fail(NAME, 'equation', 'eq2');
  }
  // eq3: s^{z1}·t^{z3} = D·S^e mod N̂
  if (!rpEquationHolds(aux, proof.z1, proof.z3, proof.D, proof.S, e)) {
    return fail(NAME, 'equation', 'eq3');
  }
  return OK;
}

/** Largest |z3| any N̂ of the level can allow: bounds its encoding (N̂ < 2^{8κ}). */
function z3MaxBits(level: SecurityLevel): number {
  return boundBits(logStarResponseBounds(level, pow2(level.modulusBits)).z3);
}

/**
 * Write a proof: tag, S, A, Y, D, z1, z2, z3.
 * @example writeLogStarProof(enc, proof)
 */
export function writeLogStarProof(enc: Encoder, proof: LogStarProof): void {
  enc
    .tag(PROOF_TAG)
    .nat(proof.S)
    .nat(proof.A)
    .point(proof.Y)
    .nat(proof.D)
    .int(proof.z1)
    .nat(proof.z2)
    .int(proof.z3);
}

/**
 * Read a proof strictly: S, D, z2 < 2^{8κ}; A < 2^{16κ}; Y a canonical non-identity point; z1
 * within the bits of 2^{ℓ+ε}; z3 within the bits of its C17 bound.
 * @throws DecodeError on any non-canonical or oversized field
 * @example const proof = readLogStarProof(dec, LEVEL128)
 */
export function readLogStarProof(dec: Decoder, level: SecurityLevel): LogStarProof {
  dec.expectTag(PROOF_TAG);
  const n = level.modulusBits;
  return {
    S: dec.nat('log-star.S', n),
    A: dec.nat('log-star.A', 2 * n),
    Y: dec.point('log-star.Y'),
    D: dec.nat('log-star.D', n),
    z1: dec.int('log-star.z1', boundBits(pow2(level.ell + level.epsilon))),
    z2: dec.nat('log-star.z2', n),
    z3: dec.int('log-star.z3', z3MaxBits(level)),
  };
}

/**
 * Canonical bytes of a proof.
 * @example const bytes = encodeLogStarProof(proof)
 */
export function encodeLogStarProof(proof: LogStarProof): Uint8Array {
  return encode((e) => writeLogStarProof(e, proof));
}

/**
 * Parse canonical bytes (no trailing bytes).
 * @throws DecodeError on any non-canonical input
 * @example const proof = decodeLogStarProof(bytes, LEVEL128)
 */
export function decodeLogStarProof(bytes: Uint8Array, level: SecurityLevel): LogStarProof {
  return decodeAll(bytes, (dec) => readLogStarProof(dec, level));
}
