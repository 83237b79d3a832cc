/**
 * Πmod — N is a Paillier–Blum modulus: N = p·q with p ≡ q ≡ 3 (mod 4) and gcd(N, φ(N)) = 1
 * (CGGMP21 §C.1 / Fig. 16; CGGMP.md §4.3 with the CGGMP24 verifier checks of the Decisions).
 *
 * - Commit: w ← Z_N with Jacobi(w, N) = −1.
 * - Challenge: y_1..y_m ∈ Z*_N drawn by rejection from ONE continuing XOF stream over
 *   (ctx, N, w) — m = level.m (128 / 112), a protocol constant, never configurable (SECURITY.md
 *   §1.2; the taurus bug fixed in d51b737 re-read one state and got m equal challenges).
 * - Response, for each i: a_i, b_i ∈ {0,1} with y'_i = (−1)^{a_i}·w^{b_i}·y_i a QR mod N;
 *   x_i = the 4th root of y'_i (the Blum square root twice, each time the root that is a QR);
 *   z_i = y_i^{N^{−1} mod φ(N)} mod N.
 * - Verify: the statement (N odd, 8κ−1 ≤ bitlen(N) ≤ 8κ, not prime, not a perfect power); exactly
 *   m entries; **w ∈ Z*_N and Jacobi(w, N) = −1** (CGGMP24; without them N = P·∏ small primes
 *   passes — tss-lib #323, SECURITY.md §1.5–1.6); x_i, z_i ∈ Z*_N; a_i, b_i ∈ {0,1};
 *   z_i^N ≡ y_i (eq1) and x_i^4 ≡ (−1)^{a_i}·w^{b_i}·y_i (eq2) mod N.
 *
 * Soundness 2^−m. The proof says nothing about the size of p and q: Πfac does (C14, C17 reminder).
 * The prover does not re-check its witness (callers pass their own checked key): a (p, q) that is
 * not a Blum factorisation of N yields a proof the verifier rejects.
 * @module
 */
import { checkPrimeSync } from 'node:crypto';
import { DecodeError, InvalidArgs } from '../errors.js';
import { decodeAll, encode, type Decoder, type Encoder } from '../hash/encoding.js';
import { bitLength } from '../math/bytes.js';
import {
  allUnits,
  blumSqrt,
  crtCombine,
  crtContext,
  isPerfectPower,
  jacobi,
  mod,
  modInverse,
  modPow,
  type Crt,
} from '../math/modular.js';
import { sampleUnit, systemRng, type Rng } from '../math/sample.js';
import { PaillierSecretKey } from '../paillier/paillier.js';
import type { SecurityLevel } from '../params.js';
import {
  fail,
  isUnitMod,
  OK,
  proofTranscript,
  type ProofContext,
  type VerifyResult,
} from './common.js';

const NAME = 'mod';
const PROOF_TAG = 'mpcd/cggmp21/v1/zk/mod/proof';

/** Statement: the (prover's) Paillier modulus N. */
export interface ModStatement {
  readonly N: bigint;
}

/** Witness: the factors p, q of N (a {@link PaillierSecretKey} qualifies and reuses its CRT data). */
export interface ModWitness {
  readonly p: bigint;
  readonly q: bigint;
}

/** One repetition: x_i^4 ≡ (−1)^{a_i}·w^{b_i}·y_i and z_i^N ≡ y_i (mod N). */
export interface ModEntry {
  readonly x: bigint;
  readonly a: 0 | 1;
  readonly b: 0 | 1;
  readonly z: bigint;
}

/** The proof: w and exactly m entries. */
export interface ModProof {
  readonly w: bigint;
  readonly entries: readonly ModEntry[];
}

/** y_1..y_m ∈ Z*_N from one XOF stream over E(ctx, N, w) (CGGMP.md §2.4). */
function challenge(level: SecurityLevel, ctx: ProofContext, N: bigint, w: bigint): bigint[] {
  const tr = proofTranscript(NAME, ctx);
  tr.enc.nat(N).nat(w);
  return tr.xof().challengeUnits(N, level.m);
}

/** What the prover needs from (p, q): CRT context and the exponents of the N-th root. */
interface Trapdoor {
  readonly p: bigint;
  readonly q: bigint;
  readonly crt: Crt;
  /** N^{−1} mod φ(N), reduced mod p−1 and q−1 */
  readonly ep: bigint;
  readonly eq: bigint;
}

function trapdoor(N: bigint, witness: ModWitness): Trapdoor {
  const { p, q } = witness;
  let crt: Crt;
  let nInv: bigint;
  if (witness instanceof PaillierSecretKey && witness.N === N) {
    crt = witness.crtN;
    nInv = witness.nInvPhi;
  } else {
    crt = crtContext(p, q);
    try {
      nInv = modInverse(N, (p - 1n) * (q - 1n));
    } catch {
      // z_i = y_i^{N^{-1} mod φ(N)} does not exist; no proof (even a failing one) can be formed.
      throw new InvalidArgs('witness', 'gcd(N, φ(N)) ≠ 1');
    }
  }
  return { p, q, crt, ep: nInv % (p - 1n), eq: nInv % (q - 1n) };
}

/** x with x^4 ≡ y' that is itself a QR, or 0 when (p, q) cannot produce one (bad witness). */
function fourthRoot(yPrime: bigint, t: Trapdoor): bigint {
  const r = blumSqrt(yPrime, t.crt); // r² ≡ y', r a QR
  const x = r === undefined ? undefined : blumSqrt(r, t.crt); // x² ≡ r
  // Only reachable when (p, q) is not a Blum factorisation of N: the entry then fails the
  // verifier's x[i] membership check, as the module doc promises.
  return x ?? 0n;
}

/**
 * Prove that N is a Paillier–Blum modulus.
 * @param level fixes m (never configurable)
 * @param witness p, q with N = p·q, p ≡ q ≡ 3 (mod 4); not re-checked (see the module doc)
 * @throws InvalidArgs if p, q are not coprime or gcd(N, (p−1)(q−1)) ≠ 1 (no z_i exists).
 * @example const proof = proveMod(LEVEL128, ctx, { N: key.N }, key); verifyMod(LEVEL128, ctx, { N: key.N }, proof).ok
 */
export function proveMod(
  level: SecurityLevel,
  ctx: ProofContext,
  stmt: ModStatement,
  witness: ModWitness,
  rng: Rng = systemRng
): ModProof {
  const { N } = stmt;
  const t = trapdoor(N, witness);
  // w ← Z*_N with Jacobi(w, N) = −1 (half of Z*_N); with (w/p) = −(w/q), the four classes
  // ±1, ±w cover Z*_N / (Z*_N)², so every y_i has exactly one QR twist.
  let w: bigint;
  do w = sampleUnit(rng, N);
  while (jacobi(w, N) !== -1);
  const wp = jacobi(w, t.p); // Legendre symbol (w/p)
  const ys = challenge(level, ctx, N, w);
  const entries = ys.map((y): ModEntry => {
    const yp = jacobi(y, t.p);
    const yq = jacobi(y, t.q);
    // b = 1 iff (y/p) ≠ (y/q): multiplying by w flips exactly one of the two symbols.
    const b: 0 | 1 = yp !== yq ? 1 : 0;
    // a = 1 iff w^b·y is a non-residue mod both: −1 is a non-residue mod a Blum prime.
    const a: 0 | 1 = (b === 1 ? yp * wp : yp) === 1 ? 0 : 1;
    const yPrime = mod((a === 1 ? -1n : 1n) * (b === 1 ? w : 1n) * y, N); // y' = (−1)^a·w^b·y
    const x = fourthRoot(yPrime, t); // x^4 ≡ y'
    // z = y^{N^{−1} mod φ(N)} mod N, the N-th root of y, by CRT
    // (p, q are secret: their own contexts, never the shared cache of modPow)
    const z = crtCombine(t.crt, t.crt.ctx1.pow(y, t.ep), t.crt.ctx2.pow(y, t.eq));
    return { x, a, b, z };
  });
  return { w, entries };
}

/**
 * The statement checks of Πmod alone: 8κ−1 ≤ bitlen(N) ≤ 8κ (checked first, so no costly test
 * ever runs on an oversized N), N odd, N not prime (probabilistic), N not a perfect power.
 * A composite N with many small factors passes these — only the checks on w stop it.
 */
export function verifyModStatement(level: SecurityLevel, stmt: ModStatement): VerifyResult {
  const { N } = stmt;
  const bits = bitLength(N);
  if (bits < level.modulusBits - 1 || bits > level.modulusBits)
    return fail(NAME, 'statement', 'N-size');
  if ((N & 1n) === 0n) return fail(NAME, 'statement', 'N-even');
  if (checkPrimeSync(N, { checks: 20 })) return fail(NAME, 'statement', 'N-prime');
  if (isPerfectPower(N)) return fail(NAME, 'statement', 'N-power');
  return OK;
}

/**
 * Verify Πmod. Failures: `statement` (`N-size`, `N-even`, `N-prime`, `N-power`), `length`
 * (`entries`), `membership` (`w`, `jacobi-w`, `x[i]`, `z[i]`), `range` (`a[i]`, `b[i]`),
 * `equation` (`eq1[i]`: z_i^N ≡ y_i; `eq2[i]`: x_i^4 ≡ (−1)^{a_i}·w^{b_i}·y_i).
 */
export function verifyMod(
  level: SecurityLevel,
  ctx: ProofContext,
  stmt: ModStatement,
  proof: ModProof
): VerifyResult {
  const st = verifyModStatement(level, stmt);
  if (!st.ok) return st;
  const { N } = stmt;
  const { w, entries } = proof;
  if (entries.length !== level.m) return fail(NAME, 'length', 'entries');
  // CGGMP24: w ∈ Z*_N and Jacobi(w, N) = −1. A w ≡ 0 mod the small factors makes eq2 hold
  // modulo each of them for free (BitForge via tss-lib #323): never drop these two checks.
  if (!isUnitMod(w, N)) return fail(NAME, 'membership', 'w');
  if (jacobi(w, N) !== -1) return fail(NAME, 'membership', 'jacobi-w');
  // One gcd for all 2m values; one by one only to name the culprit index.
  if (
    !allUnits(
      entries.flatMap(({ x, z }) => [x, z]),
      N
    )
  ) {
    for (let i = 0; i < entries.length; i++) {
      const { x, z } = entries[i]!;
      if (!isUnitMod(x, N)) return fail(NAME, 'membership', `x[${i}]`);
      if (!isUnitMod(z, N)) return fail(NAME, 'membership', `z[${i}]`);
    }
  }
  for (let i = 0; i < entries.length; i++) {
    const { a, b } = entries[i]!;
    if (a !== 0 && a !== 1) return fail(NAME, 'range', `a[${i}]`);
    if (b !== 0 && b !== 1) return fail(NAME, 'range', `b[${i}]`);
  }
  const ys = challenge(level, ctx, N, w);
  for (let i = 0; i < entries.length; i++) {
    const { x, a, b, z } = entries[i]!;
    const y = ys[i]!;
    if (modPow(z, N, N) !== y) return fail(NAME, 'equation', `eq1[${i}]`); // z^N ≡ y
    const x2 = (x * x) % N;
    const rhs = mod((a === 1 ? -1n : 1n) * (b === 1 ? w : 1n) * y, N); // (−1)^a·w^b·y
    if ((x2 * x2) % N !== rhs) return fail(NAME, 'equation', `eq2[${i}]`); // x^4 ≡ rhs
  }
  return OK;
}

/** Write a proof: tag, w, then the m entries (x, a, b, z). */
export function writeModProof(enc: Encoder, proof: ModProof): void {
  enc
    .tag(PROOF_TAG)
    .nat(proof.w)
    .list(proof.entries, (e, { x, a, b, z }) => e.nat(x).u8(a).u8(b).nat(z));
}

/**
 * Read a proof (strict): exactly m entries, every integer at most 8κ bits, a and b single bytes
 * equal to 0 or 1.
 * @throws DecodeError on any non-canonical or out-of-shape input.
 */
export function readModProof(dec: Decoder, level: SecurityLevel): ModProof {
  dec.expectTag(PROOF_TAG);
  const bits = level.modulusBits;
  const bit = (d: Decoder, field: string): 0 | 1 => {
    const v = d.u8(field);
    if (v !== 0 && v !== 1) throw new DecodeError(field, 'must be 0 or 1');
    return v;
  };
  const w = dec.nat('mod.w', bits);
  const entries = dec.list(
    'mod.entries',
    (d, i): ModEntry => ({
      x: d.nat(`mod.x[${i}]`, bits),
      a: bit(d, `mod.a[${i}]`),
      b: bit(d, `mod.b[${i}]`),
      z: d.nat(`mod.z[${i}]`, bits),
    }),
    level.m
  );
  return { w, entries };
}

/** Canonical bytes of a proof. */
export function encodeModProof(proof: ModProof): Uint8Array {
  return encode((e) => writeModProof(e, proof));
}

/** Parse canonical bytes. @throws DecodeError on any non-canonical input. */
export function decodeModProof(bytes: Uint8Array, level: SecurityLevel): ModProof {
  return decodeAll(bytes, (d) => readModProof(d, level));
}
