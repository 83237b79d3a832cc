/**
 * Πprm — the ring-Pedersen parameters are well formed: s ∈ ⟨t⟩, i.e. the prover knows λ with
 * s = t^λ mod N̂ (CGGMP21 §C.1 / Fig. 17; CGGMP.md §3 and §4.2; corrections C6, C17).
 *
 * - Commit: for i = 1..m, a_i ← Z_φ(N̂) and A_i = t^{a_i} mod N̂.
 * - Challenge: m bits e_i from the XOF over (ctx, N̂, s, t, A_1..A_m). Binary challenges only: an
 *   integer challenge in a group of prover-chosen order proves nothing (TSSHOCK "c-split",
 *   SECURITY.md §1.3); m = level.m (128 / 112) is a protocol constant (TSSHOCK "c-guess", §1.2).
 * - Response: z_i = a_i + e_i·λ mod φ(N̂) (Πprm stays mod φ(N̂), C6).
 * - Verify: the statement (8κ−1 ≤ bitlen(N̂) ≤ 8κ; s, t ∈ Z*_N̂, s, t ∉ {1, N̂−1}, s ≠ t); exactly m
 *   entries; A_i ∈ Z*_N̂; z_i ∈ [0, N̂) (C17: bounds the exponent, so an oversized z cannot make
 *   verification slow; the honest z_i < φ(N̂) < N̂); t^{z_i} ≡ A_i·s^{e_i} (mod N̂) (eq1).
 *
 * Soundness: a prover that does not know λ (e.g. s ∉ ⟨t⟩) must guess every e_i before the hash
 * reveals it, so it succeeds with probability 2^−m. The statement is the prover's OWN parameters,
 * so the proof has no verifier aux. The prover does not re-check λ and φ (callers pass their own
 * secret); a wrong one yields a proof the verifier rejects.
 * @module
 */
import { decodeAll, encode, type Decoder, type Encoder } from '../hash/encoding.js';
import { bitLength } from '../math/bytes.js';
import { allUnits, modPow, modPowCrt } from '../math/modular.js';
import { sampleBelow, systemRng, type Rng } from '../math/sample.js';
import type { PaillierSecretKey } from '../paillier/paillier.js';
import {
  RingPedersenError,
  validateRingPedersen,
  type RingPedersenParams,
} from '../paillier/ring-pedersen.js';
import type { SecurityLevel } from '../params.js';
import {
  fail,
  isUnitMod,
  OK,
  proofTranscript,
  type ProofContext,
  type VerifyResult,
} from './common.js';

const NAME = 'prm';
const PROOF_TAG = 'mpcd/cggmp21/v1/zk/prm/proof';

/** Statement: the prover's own ring-Pedersen parameters R = (N̂, s, t). */
export type PrmStatement = RingPedersenParams;

/**
 * Witness: λ with s = t^λ mod N̂ and φ(N̂). A `RingPedersenSecret` qualifies; adding the Paillier
 * secret key of N̂ lets the prover compute the A_i by CRT (~3× faster).
 */
export interface PrmWitness {
  /** λ ∈ Z_φ(N̂) with s = t^λ mod N̂ */
  readonly lambda: bigint;
  /** φ(N̂) */
  readonly phi: bigint;
  /** optional: the secret key of N̂ (used only when key.N = N̂) */
  readonly key?: PaillierSecretKey;
}

/** One repetition: t^z ≡ A·s^e (mod N̂). */
export interface PrmEntry {
  readonly A: bigint;
  readonly z: bigint;
}

/** The proof: exactly m entries (A_i, z_i). */
export interface PrmProof {
  readonly entries: readonly PrmEntry[];
}

/** e_1..e_m ∈ {0,1} from the XOF over E(ctx, N̂, s, t, [A_1..A_m]) (CGGMP.md §2.4). */
function challenge(
  level: SecurityLevel,
  ctx: ProofContext,
  R: PrmStatement,
  As: readonly bigint[]
): number[] {
  const tr = proofTranscript(NAME, ctx);
  tr.enc
    .nat(R.N)
    .nat(R.s)
    .nat(R.t)
    .list(As, (e, A) => e.nat(A));
  return tr.xof().challengeBits(level.m);
}

/**
 * Prove that s ∈ ⟨t⟩ for the prover's own parameters.
 * @param level fixes m (never configurable)
 * @param witness λ and φ(N̂), optionally the Paillier key of N̂ for CRT; not re-checked
 * @example const proof = provePrm(LEVEL128, ctx, R, { ...rpSecret, key }); verifyPrm(LEVEL128, ctx, R, proof).ok
 */
export function provePrm(
  level: SecurityLevel,
  ctx: ProofContext,
  stmt: PrmStatement,
  witness: PrmWitness,
  rng: Rng = systemRng
): PrmProof {
  const { N, t } = stmt;
  const { lambda, phi, key } = witness;
  const crt = key !== undefined && key.N === N ? key : undefined;
  // t is a unit, so its exponents reduce mod p−1 and q−1 under CRT.
  const tPow = (a: bigint): bigint =>
    crt ? modPowCrt(crt.crtN, t, a, [crt.p - 1n, crt.q - 1n]) : modPow(t, a, N);
  const as: bigint[] = [];
  for (let i = 0; i < level.m; i++) as.push(sampleBelow(rng, phi)); // a_i ← Z_φ(N̂)
  const As = as.map(tPow); // A_i = t^{a_i} mod N̂
  const e = challenge(level, ctx, stmt, As);
  // z_i = a_i + e_i·λ mod φ(N̂)
  const entries = As.map((A, i): PrmEntry => ({ A, z: (as[i]! + BigInt(e[i]!) * lambda) % phi }));
  return { entries };
}

/**
 * The statement checks of Πprm alone: 8κ−1 ≤ bitlen(N̂) ≤ 8κ (`N-size`), then the sanity rules of
 * `validateRingPedersen`, each reported under its code (`s-not-unit`, `t-not-unit`, `s-trivial`,
 * `t-trivial`, `s-equals-t`).
 */
export function verifyPrmStatement(level: SecurityLevel, stmt: PrmStatement): VerifyResult {
  const bits = bitLength(stmt.N);
  if (bits < level.modulusBits - 1 || bits > level.modulusBits)
    return fail(NAME, 'statement', 'N-size');
  try {
    validateRingPedersen(stmt);
  } catch (err) {
    if (err instanceof RingPedersenError) return fail(NAME, 'statement', err.code);
    throw err;
  }
  return OK;
}

/**
 * Verify Πprm. Failures: `statement` (see {@link verifyPrmStatement}), `length` (`entries`),
 * `membership` (`A[i]`), `bound` (`z[i]`: z_i ∈ [0, N̂), C17), `equation` (`eq1[i]`:
 * t^{z_i} ≡ A_i·s^{e_i}).
 */
export function verifyPrm(
  level: SecurityLevel,
  ctx: ProofContext,
  stmt: PrmStatement,
  proof: PrmProof
): VerifyResult {
  const st = verifyPrmStatement(level, stmt);
  if (!st.ok) return st;
  const { N, s, t } = stmt;
  const { entries } = proof;
  if (entries.length !== level.m) return fail(NAME, 'length', 'entries');
  // One gcd for all m values; one by one only to name the culprit index.
  if (
    !allUnits(
      entries.map(({ A }) => A),
      N
    )
  ) {
    for (let i = 0; i < entries.length; i++) {
      if (!isUnitMod(entries[i]!.A, N)) return fail(NAME, 'membership', `A[${i}]`);
    }
  }
  for (let i = 0; i < entries.length; i++) {
    const { z } = entries[i]!;
    if (z < 0n || z >= N) return fail(NAME, 'bound', `z[${i}]`);
  }
  const e = challenge(
    level,
    ctx,
    stmt,
    entries.map((en) => en.A)
  );
  for (let i = 0; i < entries.length; i++) {
    const { A, z } = entries[i]!;
    const rhs = e[i] === 1 ? (A * s) % N : A; // A_i·s^{e_i}
    if (modPow(t, z, N) !== rhs) return fail(NAME, 'equation', `eq1[${i}]`); // t^{z_i} ≡ rhs
  }
  return OK;
}

/** Write a proof: tag, then the m entries (A, z). */
export function writePrmProof(enc: Encoder, proof: PrmProof): void {
  enc.tag(PROOF_TAG).list(proof.entries, (e, { A, z }) => e.nat(A).nat(z));
}

/**
 * Read a proof (strict): exactly m entries, A_i and z_i at most 8κ bits.
 * @throws DecodeError on any non-canonical or out-of-shape input.
 */
export function readPrmProof(dec: Decoder, level: SecurityLevel): PrmProof {
  dec.expectTag(PROOF_TAG);
  const bits = level.modulusBits;
  const entries = dec.list(
    'prm.entries',
    (d, i): PrmEntry => ({ A: d.nat(`prm.A[${i}]`, bits), z: d.nat(`prm.z[${i}]`, bits) }),
    level.m
  );
  return { entries };
}

/** Canonical bytes of a proof. */
export function encodePrmProof(proof: PrmProof): Uint8Array {
  return encode((e) => writePrmProof(e, proof));
}

/** Parse canonical bytes. @throws DecodeError on any non-canonical input. */
export function decodePrmProof(bytes: Uint8Array, level: SecurityLevel): PrmProof {
  return decodeAll(bytes, (d) => readPrmProof(d, level));
}
