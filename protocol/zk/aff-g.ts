/**
 * Πaff-g — affine operation with a group commitment, in range (CGGMP21 §6.2 / Fig. 15;
 * CGGMP.md §4.6 with corrections C3, C6, C8, C10, C11, C15, C17 and the Decisions' exact ranges).
 *
 * Statement (N₀, N₁, C, D, Y, X), proved by P_i for verifier P_j against P_j's ring-Pedersen
 * parameters R_j = (N̂, s, t):
 * - N₀ is the **verifier's** Paillier key; C and D are ciphertexts under N₀;
 * - N₁ is the **prover's** Paillier key; Y is a ciphertext under N₁;
 * - D = (x ⊙ C) ⊕ enc_{N₀}(y; ρ), Y = enc_{N₁}(y; ρ_y), X = x·G, with x ∈ ±2^ℓ and y ∈ ±2^{ℓ'}.
 *
 * Protocol (CGGMP.md §4.6):
 * - Commit: α ← ±2^{ℓ+ε}, β' ← ±2^{ℓ'+ε}, r ← Z*_{N₀}, r_y ← Z*_{N₁}, γ, δ ← ±2^{ℓ+ε}·N̂,
 *   m, μ ← ±2^ℓ·N̂; A = (α ⊙ C) ⊕ enc_{N₀}(β'; r), B_x = α·G, B_y = enc_{N₁}(β'; r_y),
 *   E = s^α·t^γ, S = s^x·t^m, F = s^{β'}·t^δ, T = s^y·t^μ (mod N̂).
 * - Challenge: e ∈ ±Q (Q = 2^128, C10) from XOF(ctx ‖ R_j ‖ E(N₀, N₁, C, D, Y, X) ‖
 *   E(A, B_x, B_y, E, S, F, T)).
 * - Response (integers, C6): z1 = α + e·x, z2 = β' + e·y, z3 = γ + e·m, z4 = δ + e·μ;
 *   w = r·ρ^e mod N₀, w_y = r_y·ρ_y^e mod N₁.
 * - Verify, in this order: statement sanity; group membership; |z1| ≤ 2^{ℓ+ε}, |z2| ≤ 2^{ℓ'+ε}
 *   (exact, Decisions); |z3|, |z4| ≤ 2^{ℓ+ε}·N̂ + Q·2^ℓ·N̂ (C17); then
 *   eq1 A ⊕ (e ⊙ D) = (z1 ⊙ C) ⊕ enc_{N₀}(z2; w), eq2 z1·G = B_x + e·X,
 *   eq3 B_y ⊕ (e ⊙ Y) = enc_{N₁}(z2; w_y), eq4 s^{z1}·t^{z3} = E·S^e, eq5 s^{z2}·t^{z4} = F·T^e.
 *
 * Sign convention (C3): presign builds D_{j,i} = (γ_i ⊙ K_j) ⊕ enc_j(−β_{i,j}; s) and
 * F_{j,i} = enc_i(−β_{i,j}; r), and proves this unmodified Πaff-g with witness y = −β_{i,j}.
 * Names (C15): the proof's own mask β' is `betaMask` (not the MtA β), its m is `mx` (not the
 * message). The two presign uses get distinct tags (C11): `ctx.variant` must be `delta`
 * (ψ, x = γ_i, X = Γ_i) or `chi` (ψ̂, x = w_i, X = W_i). The proof travels point-to-point (C8).
 * SECURITY.md §1.4 (Alpha-Rays): the exact z1/z2 ranges are what stop an out-of-range γ or β.
 * @module
 */
import { decodeAll, encode, type Decoder, type Encoder } from '../hash/encoding.js';
import { G, isIdentity, mulBase, mulPublic, type Point } from '../math/curve.js';
import { modPow } from '../math/modular.js';
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

const NAME = 'aff-g';
const PROOF_TAG = 'mpcd/cggmp21/v1/zk/aff-g/proof';

/** The two uses of Πaff-g in presign (C11): ψ on the δ path, ψ̂ on the χ path. */
export type AffGVariant = 'delta' | 'chi';
/** The accepted values of `ctx.variant` for Πaff-g. */
export const AFF_G_VARIANTS: readonly AffGVariant[] = Object.freeze(['delta', 'chi'] as const);

/** Statement (N₀, N₁, C, D, Y, X); N₀ is the verifier's key, N₁ the prover's. */
export interface AffGStatement {
  /** N₀: the verifier's Paillier key (C and D are under it). */
  readonly key0: PaillierPublicKey;
  /** N₁: the prover's Paillier key (Y is under it). May be the prover's secret key (CRT). */
  readonly key1: PaillierPublicKey;
  /** C ∈ Z*_{N₀²} (presign: K_j). */
  readonly C: bigint;
  /** D = (x ⊙ C) ⊕ enc_{N₀}(y; ρ) (presign: D_{j,i} or D̂_{j,i}). */
  readonly D: bigint;
  /** Y = enc_{N₁}(y; ρ_y) (presign: F_{j,i} or F̂_{j,i}). */
  readonly Y: bigint;
  /** X = x·G (presign: Γ_i or W_i). */
  readonly X: Point;
}

/** Witness (x, y, ρ, ρ_y). */
export interface AffGWitness {
  /** x ∈ ±2^ℓ (presign: γ_i or w_i). */
  readonly x: bigint;
  /** y ∈ ±2^{ℓ'} (presign: −β_{i,j}, C3). */
  readonly y: bigint;
  /** ρ ∈ Z*_{N₀}: the nonce of enc_{N₀}(y; ρ) inside D. */
  readonly rho: bigint;
  /** ρ_y ∈ Z*_{N₁}: the nonce of Y. */
  readonly rhoY: bigint;
}

/** The proof: first message (A, B_x, B_y, E, S, F, T) and integer responses. */
export interface AffGProof {
  /** A = (α ⊙ C) ⊕ enc_{N₀}(β'; r) ∈ Z*_{N₀²} */
  readonly A: bigint;
  /** B_x = α·G */
  readonly Bx: Point;
  /** B_y = enc_{N₁}(β'; r_y) ∈ Z*_{N₁²} */
  readonly By: bigint;
  /** E = s^α·t^γ mod N̂ */
  readonly E: bigint;
  /** S = s^x·t^m mod N̂ */
  readonly S: bigint;
  /** F = s^{β'}·t^δ mod N̂ (not the presign F_{j,i}, which is the statement's Y) */
  readonly F: bigint;
  /** T = s^y·t^μ mod N̂ */
  readonly T: bigint;
  /** z1 = α + e·x */
  readonly z1: bigint;
  /** z2 = β' + e·y */
  readonly z2: bigint;
  /** z3 = γ + e·m */
  readonly z3: bigint;
  /** z4 = δ + e·μ */
  readonly z4: bigint;
  /** w = r·ρ^e mod N₀ */
  readonly w: bigint;
  /** w_y = r_y·ρ_y^e mod N₁ */
  readonly wy: bigint;
}

/** The verifier's exact ranges and C17 bounds for a given N̂. */
function bounds(level: SecurityLevel, Nhat: bigint): { z1: bigint; z2: bigint; z34: bigint } {
  return {
    z1: pow2(level.ell + level.epsilon), // 2^{ℓ+ε}: what soundness guarantees for x (Decisions)
    z2: pow2(level.ellPrime + level.epsilon), // 2^{ℓ'+ε}: likewise for y
    // z3 = γ + e·m with |γ| ≤ 2^{ℓ+ε}·N̂, |m| ≤ 2^ℓ·N̂ (same for z4 = δ + e·μ): C17.
    z34: rpResponseBound(level, Nhat),
  };
}

type FirstMessage = Pick<AffGProof, 'A' | 'Bx' | 'By' | 'E' | 'S' | 'F' | 'T'>;

function challenge(
  level: SecurityLevel,
  ctx: ProofContext,
  aux: RingPedersenParams,
  st: AffGStatement,
  a: FirstMessage
): bigint {
  const tr = proofTranscript(NAME, ctx, aux);
  tr.enc.nat(st.key0.N).nat(st.key1.N).nat(st.C).nat(st.D).nat(st.Y).point(st.X);
  tr.enc.nat(a.A).point(a.Bx).nat(a.By).nat(a.E).nat(a.S).nat(a.F).nat(a.T);
  return tr.xof().challengePm(level.challengeBits);
}

/**
 * Prove Πaff-g for verifier P_j (CGGMP.md §4.6). The prover does not re-check its witness:
 * callers sample x ∈ ±2^ℓ, y ∈ ±2^{ℓ'} and build D, Y, X from it; a witness out of range or not
 * matching the statement yields a proof the verifier rejects.
 * @param level security level (ℓ, ε, ℓ', Q)
 * @param ctx proof context; `variant` must be `delta` or `chi`, `verifier` must be set
 * @param aux the verifier's ring-Pedersen parameters R_j = (N̂, s, t)
 * @param stmt the statement (N₀ = verifier's key, N₁ = prover's key)
 * @param witness (x, y, ρ, ρ_y)
 * @param rng randomness for the commitment (defaults to the system CSPRNG)
 * @returns the proof
 * @throws InvalidArgs on a bad context, or if ρ / ρ_y is not invertible
 * @example
 * const ctx = { sessionId: ssid, prover: i, verifier: j, variant: 'delta' };
 * const proof = proveAffG(level, ctx, Rj, { key0: Nj, key1: Ni, C: Kj, D, Y: F, X: Gamma_i },
 *   { x: gamma_i, y: -beta, rho: s, rhoY: r });
 */
export function proveAffG(
  level: SecurityLevel,
  ctx: ProofContext,
  aux: RingPedersenParams,
  stmt: AffGStatement,
  witness: AffGWitness,
  rng: Rng = systemRng
): AffGProof {
  requirePerRecipient('Πaff-g', ctx, AFF_G_VARIANTS);
  const { key0, key1 } = stmt;
  const Nh = aux.N;
  const small = pow2(level.ell + level.epsilon); // 2^{ℓ+ε}
  const alpha = samplePm(rng, small); // α ← ±2^{ℓ+ε}
  const betaMask = samplePm(rng, pow2(level.ellPrime + level.epsilon)); // β' ← ±2^{ℓ'+ε}
  const r = sampleUnit(rng, key0.N); // r ← Z*_{N₀}
  const rY = sampleUnit(rng, key1.N); // r_y ← Z*_{N₁}
  const gamma = samplePm(rng, small * Nh); // γ ← ±2^{ℓ+ε}·N̂
  const delta = samplePm(rng, small * Nh); // δ ← ±2^{ℓ+ε}·N̂
  const mx = samplePm(rng, pow2(level.ell) * Nh); // m ← ±2^ℓ·N̂ (C15: not the message)
  const mu = samplePm(rng, pow2(level.ell) * Nh); // μ ← ±2^ℓ·N̂
  const first: FirstMessage = {
    A: key0.add(key0.mul(alpha, stmt.C), key0.encrypt(betaMask, r)), // (α ⊙ C) ⊕ enc₀(β'; r)
    Bx: mulBase(alpha), // α·G (α ≠ 0 mod q except with probability ~2^-256)
    By: key1.encrypt(betaMask, rY), // enc₁(β'; r_y)
    E: rpCommit(aux, alpha, gamma), // s^α·t^γ
    S: rpCommit(aux, witness.x, mx), // s^x·t^m
    F: rpCommit(aux, betaMask, delta), // s^{β'}·t^δ
    T: rpCommit(aux, witness.y, mu), // s^y·t^μ
  };
  const e = challenge(level, ctx, aux, stmt, first);
  return {
    ...first,
    z1: alpha + e * witness.x, // integers, never reduced (C6)
    z2: betaMask + e * witness.y,
    z3: gamma + e * mx,
    z4: delta + e * mu,
    w: (r * modPow(witness.rho, e, key0.N)) % key0.N, // r·ρ^e mod N₀
    wy: (rY * modPow(witness.rhoY, e, key1.N)) % key1.N, // r_y·ρ_y^e mod N₁
  };
}

/**
 * Verify Πaff-g as verifier P_j with its own ring-Pedersen parameters (CGGMP.md §4.6).
 * Order: statement (`N0`, `N1`, `C`, `D`, `Y`, `X`), membership (`A`, `Bx`, `By`, `E`, `S`,
 * `F`, `T`, `w`, `wy`), range (`z1`, `z2`), bound (`z3`, `z4`), equations `eq1`…`eq5`.
 * @returns OK, or the first failed check
 * @throws InvalidArgs on a bad context (missing variant/verifier), never on peer data
 * @example verifyAffG(level, ctx, Rj, stmt, proof).ok === true
 */
export function verifyAffG(
  level: SecurityLevel,
  ctx: ProofContext,
  aux: RingPedersenParams,
  stmt: AffGStatement,
  proof: AffGProof
): VerifyResult {
  requirePerRecipient('Πaff-g', ctx, AFF_G_VARIANTS);
  const { key0, key1 } = stmt;
  const Nh = aux.N;
  // (1) Statement. The moduli must be in the level's window: the no-wrap argument (C9) and the
  // decoder's limits assume it. They are validated at aux-info time; this is a cheap re-check.
  if (!inModulusWindow(level, key0.N)) return fail(NAME, 'statement', 'N0');
  if (!inModulusWindow(level, key1.N)) return fail(NAME, 'statement', 'N1');
  if (!key0.isValidCiphertext(stmt.C)) return fail(NAME, 'statement', 'C');
  if (!key0.isValidCiphertext(stmt.D)) return fail(NAME, 'statement', 'D');
  if (!key1.isValidCiphertext(stmt.Y)) return fail(NAME, 'statement', 'Y');
  if (isIdentity(stmt.X)) return fail(NAME, 'statement', 'X');
  // (2) Membership: every group element in its group before any exponentiation.
  if (!key0.isValidCiphertext(proof.A)) return fail(NAME, 'membership', 'A');
  if (isIdentity(proof.Bx)) return fail(NAME, 'membership', 'Bx');
  if (!key1.isValidCiphertext(proof.By)) return fail(NAME, 'membership', 'By');
  for (const f of ['E', 'S', 'F', 'T'] as const) {
    if (!isUnitMod(proof[f], Nh)) return fail(NAME, 'membership', f);
  }
  if (!key0.isUnit(proof.w)) return fail(NAME, 'membership', 'w');
  if (!key1.isUnit(proof.wy)) return fail(NAME, 'membership', 'wy');
  // (3) The exact ranges (accept the bound, reject bound + 1), then the C17 bounds.
  const B = bounds(level, Nh);
  if (!inPm(proof.z1, B.z1)) return fail(NAME, 'range', 'z1');
  if (!inPm(proof.z2, B.z2)) return fail(NAME, 'range', 'z2');
  if (!inPm(proof.z3, B.z34)) return fail(NAME, 'bound', 'z3');
  if (!inPm(proof.z4, B.z34)) return fail(NAME, 'bound', 'z4');
  // (4) The equations, in the order of §4.6.
  const e = challenge(level, ctx, aux, stmt, proof);
  // eq1: A ⊕ (e ⊙ D) = (z1 ⊙ C) ⊕ enc_{N₀}(z2; w)
  const lhs1 = key0.add(proof.A, key0.mul(e, stmt.D));
  const rhs1 = key0.add(key0.mul(proof.z1, stmt.C), key0.encrypt(proof.z2, proof.w));
  if (lhs1 !== rhs1) return fail(NAME, 'equation', 'eq1');
  // eq2: z1·G = B_x + e·X (public scalars: variable-time mulPublic; it reduces mod q)
  if (!mulPublic(G, proof.z1).equals(proof.Bx.add(mulPublic(stmt.X, e)))) {
    return fail(NAME, 'equation', 'eq2');
  }
  // eq3: B_y ⊕ (e ⊙ Y) = enc_{N₁}(z2; w_y)
  if (key1.add(proof.By, key1.mul(e, stmt.Y)) !== key1.encrypt(proof.z2, proof.wy)) {
    return fail(NAME, 'equation', 'eq3');
  }
  // eq4: s^{z1}·t^{z3} = E·S^e; eq5: s^{z2}·t^{z4} = F·T^e (mod N̂)
  if (!rpEquationHolds(aux, proof.z1, proof.z3, proof.E, proof.S, e)) {
    return fail(NAME, 'equation', 'eq4');
  }
  if (!rpEquationHolds(aux, proof.z2, proof.z4, proof.F, proof.T, e)) {
    return fail(NAME, 'equation', 'eq5');
  }
  return OK;
}

/** Write a proof into an encoder (tag, A, B_x, B_y, E, S, F, T, z1, z2, z3, z4, w, w_y). */
export function writeAffGProof(enc: Encoder, proof: AffGProof): void {
  enc.tag(PROOF_TAG).nat(proof.A).point(proof.Bx).nat(proof.By);
  enc.nat(proof.E).nat(proof.S).nat(proof.F).nat(proof.T);
  enc.int(proof.z1).int(proof.z2).int(proof.z3).int(proof.z4).nat(proof.w).nat(proof.wy);
}

/**
 * Read a proof (strict). Limits follow the level: ciphertexts < N² (2·8κ bits), ring-Pedersen
 * elements and nonces < N (8κ bits), z1/z2 their exact range's bits, z3/z4 the bits of the C17
 * bound at the largest N̂ (< 2^{8κ}). The verifier still checks each value against the actual N.
 * @throws DecodeError on any non-canonical or oversized input
 */
export function readAffGProof(dec: Decoder, level: SecurityLevel): AffGProof {
  dec.expectTag(PROOF_TAG);
  const n = level.modulusBits;
  const B = bounds(level, pow2(n));
  const ct = (f: string): bigint => dec.nat(`aff-g.${f}`, 2 * n);
  const el = (f: string): bigint => dec.nat(`aff-g.${f}`, n);
  const A = ct('A');
  const Bx = dec.point('aff-g.Bx');
  const By = ct('By');
  const [E, S, F, T] = [el('E'), el('S'), el('F'), el('T')];
  const z1 = dec.int('aff-g.z1', boundBits(B.z1));
  const z2 = dec.int('aff-g.z2', boundBits(B.z2));
  const z3 = dec.int('aff-g.z3', boundBits(B.z34));
  const z4 = dec.int('aff-g.z4', boundBits(B.z34));
  return { A, Bx, By, E, S, F, T, z1, z2, z3, z4, w: el('w'), wy: el('wy') };
}

/** Canonical bytes of a proof. */
export function encodeAffGProof(proof: AffGProof): Uint8Array {
  return encode((e) => writeAffGProof(e, proof));
}

/** Parse canonical bytes. @throws DecodeError on any non-canonical input. */
export function decodeAffGProof(bytes: Uint8Array, level: SecurityLevel): AffGProof {
  return decodeAll(bytes, (d) => readAffGProof(d, level));
}
