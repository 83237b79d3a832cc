/**
 * Πmul — a Paillier ciphertext C encrypts the product of the plaintexts of X and Y, all under the
 * prover's own key N (CGGMP21 §C.6 "Paillier multiplication", Fig. 29; CGGMP.md §4.8 with
 * corrections C5, C6, C10, C17; used by the bad-δ identifiable abort of §5.5).
 *
 * Statement (N, X, Y, C): X = enc_N(x; ρ_x) and C = (x ⊙ Y)·ρ^N mod N², i.e. C encrypts x·dec(Y).
 * Witness (x, ρ_x, ρ). In the abort P_i proves it for (K_i, G_i, H_i) with x = k_i, ρ_x = ρ_i.
 * H_i must encrypt the INTEGER k_i·γ_i (C6): either H_i = (k_i ⊙ G_i)·ρ^{N_i} (witness nonce ρ),
 * or H_i = enc_i(k_i·γ_i; ρ′), whose witness nonce is ρ′·ν_i^{−k_i} mod N_i (G_i = enc_i(γ_i; ν_i)).
 *
 * - Commit: α ← ±2^{ℓ+ε} (C5: not Z*_N as the paper prints), r, s ← Z*_N;
 *   A = (α ⊙ Y)·r^N mod N², B = enc_N(α; s).
 * - Challenge: e ∈ ±Q (Q = 2^128, C10) from XOF(ctx ‖ E(N, X, Y, C) ‖ E(A, B)).
 * - Response: z = α + e·x over the integers (C6), u = r·ρ^e mod N, v = s·ρ_x^e mod N.
 * - Verify, in the order of `common.ts`: N in the level's window and X, Y, C ∈ Z*_{N²}
 *   (statement); A, B ∈ Z*_{N²}, u, v ∈ Z*_N (membership); |z| ≤ 2^{ℓ+ε} + Q·2^ℓ (bound, C17:
 *   the paper has no range check here, the witness is a scalar k_i < q < 2^ℓ); then
 *   eq1: (z ⊙ Y)·u^N = A ⊕ (e ⊙ C) mod N², eq2: enc_N(z; v) = B ⊕ (e ⊙ X) mod N².
 *
 * A broadcast proof: no ring-Pedersen parameters (no verifier aux) and `ctx.verifier` must be
 * absent — every party checks the same proof. The prover does not re-check its witness: a witness
 * that does not open the statement fails an equation, one far out of range fails at `bound`/`z`.
 * @module
 */
import { InvalidArgs } from '../errors.js';
import { decodeAll, encode, type Decoder, type Encoder } from '../hash/encoding.js';
import { allUnits, mod, modPow } from '../math/modular.js';
import { samplePm, sampleUnit, systemRng, type Rng } from '../math/sample.js';
import type { PaillierPublicKey } from '../paillier/paillier.js';
import type { SecurityLevel } from '../params.js';
import {
  boundBits,
  fail,
  inModulusWindow,
  inPm,
  OK,
  pow2,
  proofTranscript,
  responseBound,
  type ProofContext,
  type VerifyResult,
} from './common.js';

const NAME = 'mul';
const PROOF_TAG = 'mpcd/cggmp21/v1/zk/mul/proof';

/** Statement (N, X, Y, C), all ciphertexts under the prover's key N. */
export interface MulStatement {
  /** The prover's key; a prover may pass its `PaillierSecretKey` (CRT encryption). */
  readonly key: PaillierPublicKey;
  /** X = enc_N(x; ρ_x) (bad-δ abort: K_i) */
  readonly X: bigint;
  /** Y ∈ Z*_{N²} (bad-δ abort: G_i) */
  readonly Y: bigint;
  /** C = (x ⊙ Y)·ρ^N mod N² (bad-δ abort: H_i) */
  readonly C: bigint;
}

/** Witness (x, ρ_x, ρ). */
export interface MulWitness {
  /** x (bad-δ abort: the scalar k_i, so |x| < 2^ℓ) */
  readonly x: bigint;
  /** ρ_x ∈ Z*_N: the nonce of X */
  readonly rhoX: bigint;
  /** ρ ∈ Z*_N: the randomiser of C = (x ⊙ Y)·ρ^N */
  readonly rho: bigint;
}

/** The proof: first message (A, B) and responses (z, u, v). */
export interface MulProof {
  /** A = (α ⊙ Y)·r^N mod N² */
  readonly A: bigint;
  /** B = enc_N(α; s) */
  readonly B: bigint;
  /** z = α + e·x (integer, C6) */
  readonly z: bigint;
  /** u = r·ρ^e mod N */
  readonly u: bigint;
  /** v = s·ρ_x^e mod N */
  readonly v: bigint;
}

/**
 * C17's bound on z = α + e·x with α ← ±2^{ℓ+ε} and |x| ≤ 2^ℓ: 2^{ℓ+ε} + Q·2^ℓ. The paper checks
 * no range in Πmul; this bound only keeps oversized exponents out (it costs honest provers nothing).
 * @example mulResponseBound(LEVEL128) === (1n << 486n) + (1n << 384n)
 */
export function mulResponseBound(level: SecurityLevel): bigint {
  return responseBound(level, pow2(level.ell + level.epsilon), pow2(level.ell));
}

/** Πmul is broadcast: a verifier index would bind it to one recipient (a caller bug). */
function requireBroadcast(ctx: ProofContext): void {
  if (ctx.verifier !== undefined) {
    throw new InvalidArgs('ctx.verifier', 'Πmul is a broadcast proof: no verifier index');
  }
}

/** e ∈ ±Q over (ctx, N, X, Y, C, A, B); shared by prover and verifier. */
function challenge(
  level: SecurityLevel,
  ctx: ProofContext,
  stmt: MulStatement,
  A: bigint,
  B: bigint
): bigint {
  const tr = proofTranscript(NAME, ctx);
  tr.enc.nat(stmt.key.N).nat(stmt.X).nat(stmt.Y).nat(stmt.C).nat(A).nat(B);
  return tr.xof().challengePm(level.challengeBits);
}

/**
 * Prove that C encrypts x·dec(Y) where X encrypts x (CGGMP.md §4.8, C5, C6).
 * @param level the key's security level (ℓ, ε, Q)
 * @param ctx session and prover index; `verifier` must be absent (broadcast proof)
 * @param stmt the prover's own key (secret key for CRT speed) and (X, Y, C)
 * @param witness (x, ρ_x, ρ); not re-checked (see the module doc)
 * @param rng randomness for α, r, s
 * @returns the proof (A, B, z, u, v)
 * @throws InvalidArgs if ctx names a verifier, or a nonce is not invertible mod N
 * @example
 * // bad-δ abort: H_i = (k_i ⊙ G_i)·ρ^{N_i}
 * const proof = proveMul(level, { sessionId: ssid, prover: i }, { key: sk, X: K_i, Y: G_i, C: H_i },
 *   { x: k_i, rhoX: rho_i, rho });
 */
export function proveMul(
  level: SecurityLevel,
  ctx: ProofContext,
  stmt: MulStatement,
  witness: MulWitness,
  rng: Rng = systemRng
): MulProof {
  requireBroadcast(ctx);
  const { key, Y } = stmt;
  const N = key.N;
  // α masks x statistically: |e·x| ≤ 2^{ℓ+128} is 2^{ε−128} times smaller than α's range (C5).
  const alpha = samplePm(rng, pow2(level.ell + level.epsilon)); // α ← ±2^{ℓ+ε}
  const r = sampleUnit(rng, N); // r ← Z*_N
  const s = sampleUnit(rng, N); // s ← Z*_N
  const A = key.add(key.mul(alpha, Y), key.nonceToN(r)); // A = (α ⊙ Y)·r^N mod N²
  const B = key.encrypt(alpha, s); // B = enc_N(α; s)
  const e = challenge(level, ctx, stmt, A, B);
  return {
    A,
    B,
    z: alpha + e * witness.x, // over the integers (C6)
    u: mod(r * modPow(witness.rho, e, N), N), // r·ρ^e mod N (e < 0 uses ρ^{-1})
    v: mod(s * modPow(witness.rhoX, e, N), N), // s·ρ_x^e mod N
  };
}

/**
 * The statement and membership checks, one by one in the documented order; the first failure, or
 * undefined. {@link verifyMul} runs it only when its one-gcd fast path says something is wrong.
 */
function firstBadElement(
  key: PaillierPublicKey,
  stmt: MulStatement,
  proof: MulProof
): VerifyResult | undefined {
  for (const f of ['X', 'Y', 'C'] as const) {
    if (!key.isValidCiphertext(stmt[f])) return fail(NAME, 'statement', f);
  }
  for (const f of ['A', 'B'] as const) {
    if (!key.isValidCiphertext(proof[f])) return fail(NAME, 'membership', f);
  }
  for (const f of ['u', 'v'] as const) {
    if (!key.isUnit(proof[f])) return fail(NAME, 'membership', f);
  }
  return undefined;
}

/**
 * Verify Πmul (checks in the order of the module doc; the first failure is reported).
 * Statement checks are named `N`, `X`, `Y`, `C`; membership `A`, `B`, `u`, `v`; bound `z`;
 * equations `eq1`, `eq2`.
 * @param stmt the prover's PUBLIC key and (X, Y, C) as the verifier recomputed or received them
 * @returns OK, or a failure naming `{kind, check}` (e.g. `bound`/`z`, `equation`/`eq1`)
 * @throws InvalidArgs if ctx names a verifier (a caller error, not a bad proof)
 * @example if (!verifyMul(level, { sessionId: ssid, prover: j }, { key: N_j, X: K_j, Y: G_j, C: H_j }, proof).ok) blame(j);
 */
export function verifyMul(
  level: SecurityLevel,
  ctx: ProofContext,
  stmt: MulStatement,
  proof: MulProof
): VerifyResult {
  requireBroadcast(ctx);
  const { key, X, Y, C } = stmt;
  const { N, N2 } = key;
  // (1) Statement: N of the level's size (cheap backstop of aux-info validation; the decoder's
  // limits and the bound below assume it), then X, Y, C and (2) A, B ∈ Z*_{N²}, u, v ∈ Z*_N.
  if (!inModulusWindow(level, N)) return fail(NAME, 'statement', 'N');
  // Fast path: all seven elements with ONE gcd (a prime of N divides one of them iff it divides
  // their product mod N, see allUnits); only on failure are they checked one by one, to name it.
  const cts = [X, Y, C, proof.A, proof.B];
  const inRange = cts.every((c) => c > 0n && c < N2);
  if (!inRange || !allUnits([...cts.map((c) => c % N), proof.u, proof.v], N)) {
    const bad = firstBadElement(key, stmt, proof);
    if (bad) return bad;
  }
  // (3) C17 bound on z before it is used as an exponent.
  if (!inPm(proof.z, mulResponseBound(level))) return fail(NAME, 'bound', 'z');
  // (4) Equations.
  const e = challenge(level, ctx, stmt, proof.A, proof.B);
  // eq1: (z ⊙ Y)·u^N = A ⊕ (e ⊙ C) mod N²
  if (key.add(key.mul(proof.z, Y), key.nonceToN(proof.u)) !== key.add(proof.A, key.mul(e, C))) {
    return fail(NAME, 'equation', 'eq1');
  }
  // eq2: enc_N(z; v) = B ⊕ (e ⊙ X) mod N²
  if (key.encrypt(proof.z, proof.v) !== key.add(proof.B, key.mul(e, X))) {
    return fail(NAME, 'equation', 'eq2');
  }
  return OK;
}

/**
 * Write a proof: tag, A, B, z, u, v.
 * @example writeMulProof(enc, proof)
 */
export function writeMulProof(enc: Encoder, proof: MulProof): void {
  enc.tag(PROOF_TAG).nat(proof.A).nat(proof.B).int(proof.z).nat(proof.u).nat(proof.v);
}

/**
 * Read a proof strictly: A, B < 2^{16κ} (ciphertexts), u, v < 2^{8κ} (nonces), z within the bits
 * of its C17 bound. The verifier still checks each value against the actual N.
 * @throws DecodeError on any non-canonical or oversized field
 * @example const proof = readMulProof(dec, LEVEL128)
 */
export function readMulProof(dec: Decoder, level: SecurityLevel): MulProof {
  dec.expectTag(PROOF_TAG);
  const n = level.modulusBits;
  return {
    A: dec.nat('mul.A', 2 * n),
    B: dec.nat('mul.B', 2 * n),
    z: dec.int('mul.z', boundBits(mulResponseBound(level))),
    u: dec.nat('mul.u', n),
    v: dec.nat('mul.v', n),
  };
}

/**
 * Canonical bytes of a proof.
 * @example const bytes = encodeMulProof(proof)
 */
export function encodeMulProof(proof: MulProof): Uint8Array {
  return encode((e) => writeMulProof(e, proof));
}

/**
 * Parse canonical bytes (no trailing bytes).
 * @throws DecodeError on any non-canonical input
 * @example const proof = decodeMulProof(bytes, LEVEL128)
 */
export function decodeMulProof(bytes: Uint8Array, level: SecurityLevel): MulProof {
  return decodeAll(bytes, (dec) => readMulProof(dec, level));
}
