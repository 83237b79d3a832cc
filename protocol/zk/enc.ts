/**
 * Πenc — K is a Paillier encryption, under the prover's N₀, of a small k ∈ ±2^ℓ
 * (CGGMP21 §C.1 "Paillier encryption in range", Fig. 14; CGGMP.md §4.5).
 *
 * Made by P_i for one verifier P_j against P_j's ring-Pedersen parameters R_j = (N̂, s, t), so the
 * proof is per-recipient (presign round 1: ψ⁰_{j,i} on K_i, SECURITY.md §1.4 and tests 13–14).
 *
 * - Commit: α ← ±2^{ℓ+ε}, μ ← ±2^ℓ·N̂, r ← Z*_{N₀}, γ ← ±2^{ℓ+ε}·N̂;
 *   S = s^k·t^μ, A = enc_{N₀}(α; r), C = s^α·t^γ (S, C mod N̂).
 * - Challenge: e ∈ ±Q from XOF(ctx ‖ R_j ‖ E(N₀, K) ‖ E(S, A, C)) (C10: Q = 2^128).
 * - Response: z1 = α + e·k, z2 = r·ρ^e mod N₀, z3 = γ + e·μ — z1, z3 over the integers (C6).
 * - Verify, in the order of `common.ts`: K ∈ Z*_{N₀²} and N₀ of the level's size (statement);
 *   A ∈ Z*_{N₀²}, S, C ∈ Z*_N̂, z2 ∈ Z*_{N₀} (membership); |z1| ≤ 2^{ℓ+ε} exactly (range, CGGMP.md
 *   Decisions); |z3| ≤ 2^{ℓ+ε}·N̂ + Q·2^ℓ·N̂ (bound, C17); then
 *   eq1: enc_{N₀}(z1; z2) = A ⊕ (e ⊙ K) mod N₀², eq2: s^{z1}·t^{z3} = C·S^e mod N̂.
 *
 * Soundness only gives |k| ≤ 2^{ℓ+ε} (the slack ε), which the MtA no-wrap conditions (C9) assume.
 * The prover does not re-check its witness: callers sample k ∈ ±2^ℓ themselves, and a witness out
 * of range yields a proof the verifier rejects at `range`/`z1`.
 * @module
 */
import { decodeAll, encode, type Decoder, type Encoder } from '../hash/encoding.js';
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

const NAME = 'enc';
const PROOF_TAG = 'mpcd/cggmp21/v1/zk/enc/proof';

/** Statement: the prover's Paillier key N₀ and the ciphertext K = enc_{N₀}(k; ρ). */
export interface EncStatement {
  /** The prover's key; a prover may pass its `PaillierSecretKey` (CRT encryption). */
  readonly key: PaillierPublicKey;
  /** K ∈ Z*_{N₀²} */
  readonly K: bigint;
}
/** Witness: k ∈ ±2^ℓ and the nonce ρ ∈ Z*_{N₀} with K = enc_{N₀}(k; ρ). */
export interface EncWitness {
  readonly k: bigint;
  readonly rho: bigint;
}
/** The proof: first message (S, A, C) and integer responses (z1, z2, z3). */
export interface EncProof {
  /** S = s^k·t^μ mod N̂ */
  readonly S: bigint;
  /** A = enc_{N₀}(α; r) */
  readonly A: bigint;
  /** C = s^α·t^γ mod N̂ */
  readonly C: bigint;
  /** z1 = α + e·k (integer) */
  readonly z1: bigint;
  /** z2 = r·ρ^e mod N₀ */
  readonly z2: bigint;
  /** z3 = γ + e·μ (integer) */
  readonly z3: bigint;
}

/** The verifier's limits on the integer responses for ring-Pedersen modulus N̂. */
export interface EncResponseBounds {
  /** Exact range of z1: 2^{ℓ+ε} (CGGMP.md Decisions). */
  readonly z1: bigint;
  /** C17 bound of z3: 2^{ℓ+ε}·N̂ + Q·2^ℓ·N̂ (γ's range plus Q times μ's range). */
  readonly z3: bigint;
}

/**
 * The response limits {@link verifyEnc} enforces for a verifier modulus N̂.
 * @example encResponseBounds(LEVEL128, aux.N).z1 === 1n << 486n
 */
export function encResponseBounds(level: SecurityLevel, Nhat: bigint): EncResponseBounds {
  const z1 = pow2(level.ell + level.epsilon);
  return { z1, z3: rpResponseBound(level, Nhat) };
}

/** e ∈ ±Q over (ctx, R_j, N₀, K, S, A, C); shared by prover and verifier. */
function challenge(
  level: SecurityLevel,
  ctx: ProofContext,
  aux: RingPedersenParams,
  stmt: EncStatement,
  S: bigint,
  A: bigint,
  C: bigint
): bigint {
  const tr = proofTranscript(NAME, ctx, aux);
  tr.enc.nat(stmt.key.N).nat(stmt.K).nat(S).nat(A).nat(C);
  return tr.xof().challengePm(level.challengeBits);
}

/**
 * Prove that K encrypts a value in ±2^ℓ (well, ±2^{ℓ+ε} is what the verifier learns).
 * @param level the key's security level (ℓ, ε, Q)
 * @param ctx session, prover and verifier indices (the verifier index is required)
 * @param aux the VERIFIER's ring-Pedersen parameters (N̂, s, t)
 * @param stmt the prover's key and K
 * @param witness (k, ρ); not re-checked (see the module doc)
 * @param rng randomness for α, μ, r, γ
 * @returns the proof (S, A, C, z1, z2, z3)
 * @throws InvalidArgs if ctx lacks the verifier index, or ρ is not a unit mod N₀
 * @example const proof = proveEnc(LEVEL128, ctx, auxOfJ, { key: mySecretKey, K }, { k, rho });
 */
export function proveEnc(
  level: SecurityLevel,
  ctx: ProofContext,
  aux: RingPedersenParams,
  stmt: EncStatement,
  witness: EncWitness,
  rng: Rng = systemRng
): EncProof {
  requirePerRecipient('Πenc', ctx);
  const { key } = stmt;
  const { k, rho } = witness;
  const Nhat = aux.N;
  // Masks: α hides k statistically with 2^ε slack; μ, γ hide the ring-Pedersen openings.
  const alpha = samplePm(rng, pow2(level.ell + level.epsilon)); // α ← ±2^{ℓ+ε}
  const mu = samplePm(rng, pow2(level.ell) * Nhat); // μ ← ±2^ℓ·N̂
  const r = sampleUnit(rng, key.N); // r ← Z*_{N₀}
  const gamma = samplePm(rng, pow2(level.ell + level.epsilon) * Nhat); // γ ← ±2^{ℓ+ε}·N̂
  const S = rpCommit(aux, k, mu); // S = s^k·t^μ mod N̂
  const A = key.encrypt(alpha, r); // A = enc_{N₀}(α; r)
  const C = rpCommit(aux, alpha, gamma); // C = s^α·t^γ mod N̂
  const e = challenge(level, ctx, aux, stmt, S, A, C);
  return {
    S,
    A,
    C,
    z1: alpha + e * k, // over the integers (C6)
    z2: mod(r * modPow(rho, e, key.N), key.N), // r·ρ^e mod N₀ (e < 0 uses ρ^{-1})
    z3: gamma + e * mu, // over the integers (C6)
  };
}

/**
 * Verify Πenc (checks in the order of the module doc; the first failure is reported).
 * @param aux the verifier's OWN ring-Pedersen parameters (the ones the proof was made for)
 * @returns OK, or a failure naming `{kind, check}` (e.g. `range`/`z1`, `equation`/`eq2`)
 * @throws InvalidArgs if ctx lacks the verifier index (a caller error, not a bad proof)
 * @example if (!verifyEnc(level, ctx, myAux, { key: peerKey, K }, proof).ok) blame(peer);
 */
export function verifyEnc(
  level: SecurityLevel,
  ctx: ProofContext,
  aux: RingPedersenParams,
  stmt: EncStatement,
  proof: EncProof
): VerifyResult {
  requirePerRecipient('Πenc', ctx);
  const { key, K } = stmt;
  const N0 = key.N;
  const Nhat = aux.N;
  // (1) Statement. N₀ must have the level's size: the range check only means something if
  // 2^{ℓ+ε} is far below N₀/2 (C9); keys are validated at aux-info time, this is a cheap backstop.
  if (!inModulusWindow(level, N0)) return fail(NAME, 'statement', 'N0');
  if (!key.isValidCiphertext(K)) return fail(NAME, 'statement', 'K');
  // (2) Group membership of every element of the proof.
  if (!key.isValidCiphertext(proof.A)) return fail(NAME, 'membership', 'A');
  if (!isUnitMod(proof.S, Nhat)) return fail(NAME, 'membership', 'S');
  if (!isUnitMod(proof.C, Nhat)) return fail(NAME, 'membership', 'C');
  if (!isUnitMod(proof.z2, N0)) return fail(NAME, 'membership', 'z2');
  // (3) The paper's exact range on z1, then C17's bound on z3 (before any exponentiation by it).
  const bounds = encResponseBounds(level, Nhat);
  if (!inPm(proof.z1, bounds.z1)) return fail(NAME, 'range', 'z1');
  if (!inPm(proof.z3, bounds.z3)) return fail(NAME, 'bound', 'z3');
  // (4) Equations.
  const e = challenge(level, ctx, aux, stmt, proof.S, proof.A, proof.C);
  // eq1: enc_{N₀}(z1; z2) = A ⊕ (e ⊙ K) mod N₀²
  if (key.encrypt(proof.z1, proof.z2) !== key.add(proof.A, key.mul(e, K))) {
    return fail(NAME, 'equation', 'eq1');
  }
  // eq2: s^{z1}·t^{z3} = C·S^e mod N̂
  if (!rpEquationHolds(aux, proof.z1, proof.z3, proof.C, proof.S, e)) {
    return fail(NAME, 'equation', 'eq2');
  }
  return OK;
}

/** Largest |z3| any N̂ of the level can allow: bounds its encoding (N̂ < 2^{8κ}). */
function z3MaxBits(level: SecurityLevel): number {
  return boundBits(encResponseBounds(level, pow2(level.modulusBits)).z3);
}

/**
 * Write a proof: tag, S, A, C, z1, z2, z3.
 * @example writeEncProof(enc, proof)
 */
export function writeEncProof(enc: Encoder, proof: EncProof): void {
  enc
    .tag(PROOF_TAG)
    .nat(proof.S)
    .nat(proof.A)
    .nat(proof.C)
    .int(proof.z1)
    .nat(proof.z2)
    .int(proof.z3);
}

/**
 * Read a proof strictly: every integer bounded by the level (S, C, z2 < 2^{8κ}; A < 2^{16κ};
 * z1 within the bits of 2^{ℓ+ε}; z3 within the bits of its C17 bound).
 * @throws DecodeError on any non-canonical or oversized field
 * @example const proof = readEncProof(dec, LEVEL128)
 */
export function readEncProof(dec: Decoder, level: SecurityLevel): EncProof {
  dec.expectTag(PROOF_TAG);
  const n = level.modulusBits;
  return {
    S: dec.nat('enc.S', n),
    A: dec.nat('enc.A', 2 * n),
    C: dec.nat('enc.C', n),
    z1: dec.int('enc.z1', boundBits(pow2(level.ell + level.epsilon))),
    z2: dec.nat('enc.z2', n),
    z3: dec.int('enc.z3', z3MaxBits(level)),
  };
}

/**
 * Canonical bytes of a proof.
 * @example const bytes = encodeEncProof(proof)
 */
export function encodeEncProof(proof: EncProof): Uint8Array {
  return encode((e) => writeEncProof(e, proof));
}

/**
 * Parse canonical bytes (no trailing bytes).
 * @throws DecodeError on any non-canonical input
 * @example const proof = decodeEncProof(bytes, LEVEL128)
 */
export function decodeEncProof(bytes: Uint8Array, level: SecurityLevel): EncProof {
  return decodeAll(bytes, (dec) => readEncProof(dec, level));
}
