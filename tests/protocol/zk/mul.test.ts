/**
 * Πmul (CGGMP.md §4.8 with C5, C6, C10, C17; the bad-δ abort of §5.5), at both levels: the abort's
 * use (K_i, G_i, H_i) with both ways of building H_i and dec(H_i) = k_i·γ_i as integers, encode →
 * decode, every tampered field with its expected {kind, check}, statement and context binding,
 * a cheater whose H_i encrypts k_i·γ_i + 1, out-of-range witnesses, the exact C17 bound on z and
 * strict decoding.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DecodeError, InvalidArgs } from '../../../protocol/errors.js';
import { encode } from '../../../protocol/hash/encoding.js';
import { CURVE_ORDER } from '../../../protocol/math/curve.js';
import { mod, modInverse, modPow } from '../../../protocol/math/modular.js';
import { sampleScalar, sampleUnit } from '../../../protocol/math/sample.js';
import type { PaillierPublicKey, PaillierSecretKey } from '../../../protocol/paillier/paillier.js';
import { LEVEL112, type SecurityLevel } from '../../../protocol/params.js';
import { proofTranscript, type ProofContext } from '../../../protocol/zk/common.js';
import {
  decodeMulProof,
  encodeMulProof,
  mulResponseBound,
  proveMul,
  verifyMul,
  type MulProof,
  type MulStatement,
  type MulWitness,
} from '../../../protocol/zk/mul.js';
import { BOTH_LEVELS, fixtureKey } from '../../helpers/fixtures.js';
import { seededRng } from '../../helpers/rng.js';

const PROOF_TAG = 'mpcd/cggmp21/v1/zk/mul/proof';
const ctx: ProofContext = { sessionId: new Uint8Array(32).fill(9), prover: 0 }; // broadcast

const failure = (kind: string, check: string): object => ({
  ok: false,
  failure: { proof: 'mul', kind, check },
});

/** The challenge, re-derived here from the documented transcript layout (not the module's code). */
function challengeOf(c: ProofContext, s: MulStatement, p: MulProof): bigint {
  const tr = proofTranscript('mul', c);
  tr.enc.nat(s.key.N).nat(s.X).nat(s.Y).nat(s.C).nat(p.A).nat(p.B);
  return tr.xof().challengePm(128);
}

/** eq1 and eq2 evaluated directly (CGGMP.md §4.8), to show which one a cheater breaks. */
function equations(s: MulStatement, p: MulProof, e: bigint): [boolean, boolean] {
  const { key: K } = s;
  const eq1 = K.add(K.mul(p.z, s.Y), K.nonceToN(p.u)) === K.add(p.A, K.mul(e, s.C));
  const eq2 = K.encrypt(p.z, p.v) === K.add(p.B, K.mul(e, s.X));
  return [eq1, eq2];
}

describe.each(BOTH_LEVELS)('Πmul at %s', (name, level: SecurityLevel) => {
  const rng = seededRng(`mul/${name}`);
  let sk: PaillierSecretKey; // P_i's own key (CRT)
  let pk: PaillierPublicKey; // what the other parties hold
  let N: bigint, N2: bigint;
  // Presign round 1: K_i = enc_i(k_i; ρ_i), G_i = enc_i(γ_i; ν_i); abort: H_i = (k_i ⊙ G_i)·ρ^{N_i}.
  let k: bigint, gamma: bigint, rhoK: bigint, nu: bigint, rho: bigint;
  let stmt: MulStatement; // as the verifiers see it (public key)
  let witness: MulWitness;
  let proof: MulProof;
  let bound: bigint;
  let proveMs = 0;

  const verify = (p: Partial<MulProof>, s: Partial<MulStatement> = {}, c = ctx) =>
    verifyMul(level, c, { ...stmt, ...s }, { ...proof, ...p });
  /** An honest proof by P_i's key for a statement under it. */
  const prove = (s: Omit<MulStatement, 'key'>, w: MulWitness, c = ctx) =>
    proveMul(level, c, { ...s, key: sk }, w, rng);

  beforeAll(() => {
    sk = fixtureKey(level, 0);
    pk = sk.publicKey();
    [N, N2] = [sk.N, sk.N2];
    [k, gamma] = [sampleScalar(rng), sampleScalar(rng)];
    [rhoK, nu, rho] = [sampleUnit(rng, N), sampleUnit(rng, N), sampleUnit(rng, N)];
    const X = sk.encrypt(k, rhoK); // K_i
    const Y = sk.encrypt(gamma, nu); // G_i
    const C = sk.add(sk.mul(k, Y), sk.nonceToN(rho)); // H_i = (k_i ⊙ G_i)·ρ^{N_i}
    stmt = { key: pk, X, Y, C };
    witness = { x: k, rhoX: rhoK, rho };
    const started = performance.now();
    proof = prove(stmt, witness);
    proveMs = performance.now() - started;
    bound = mulResponseBound(level);
  });

  it('an honest proof verifies, survives encode → decode, and H_i decrypts to k_i·γ_i', () => {
    const started = performance.now();
    expect(verifyMul(level, ctx, stmt, proof)).toEqual({ ok: true });
    const verifyMs = performance.now() - started;
    console.log(`Πmul ${name}: prove ${proveMs.toFixed(0)} ms, verify ${verifyMs.toFixed(0)} ms`);
    expect(sk.decrypt(stmt.C)).toBe(k * gamma); // the integer product (C6), not mod q
    expect(verifyMul(level, ctx, { ...stmt, key: sk }, proof)).toEqual({ ok: true });
    const bytes = encodeMulProof(proof);
    const again = decodeMulProof(bytes, level);
    expect(again).toEqual(proof);
    expect(encodeMulProof(again)).toEqual(bytes);
    expect(verifyMul(level, ctx, stmt, again)).toEqual({ ok: true });
  });

  it('H_i = enc_i(k_i·γ_i; ρ′) verifies with the witness nonce ρ′·ν_i^{−k_i} mod N_i (C6)', () => {
    const rhoPrime = sampleUnit(rng, N);
    const H = sk.encrypt(k * gamma, rhoPrime);
    expect(sk.decrypt(H)).toBe(k * gamma);
    const s = { X: stmt.X, Y: stmt.Y, C: H };
    const w = { x: k, rhoX: rhoK, rho: mod(rhoPrime * modPow(nu, -k, N), N) };
    expect(verifyMul(level, ctx, { key: pk, ...s }, prove(s, w))).toEqual({ ok: true });
    // Using ρ′ itself as the nonce (the tempting mistake) fails eq1.
    expect(
      verifyMul(level, ctx, { key: pk, ...s }, prove(s, { ...w, rho: rhoPrime }))
    ).toMatchObject(failure('equation', 'eq1'));
  });

  it('verifies at the scalar extremes: k = γ = q − 1 (product ≈ 2^512) and k = 0', () => {
    for (const [kk, gg] of [
      [CURVE_ORDER - 1n, CURVE_ORDER - 1n],
      [0n, gamma],
    ] as const) {
      const [r1, r2, r3] = [sampleUnit(rng, N), sampleUnit(rng, N), sampleUnit(rng, N)];
      const Y = sk.encrypt(gg, r2);
      const s = { X: sk.encrypt(kk, r1), Y, C: sk.add(sk.mul(kk, Y), sk.nonceToN(r3)) };
      expect(sk.decrypt(s.C)).toBe(kk * gg);
      const p = prove(s, { x: kk, rhoX: r1, rho: r3 });
      expect(verifyMul(level, ctx, { key: pk, ...s }, p)).toEqual({ ok: true });
    }
  });

  it.each<[string, (p: MulProof) => Partial<MulProof>, string]>([
    ['A', (p) => ({ A: (p.A * (1n + N)) % N2 }), 'eq1'], // A and B are in e: eq1 breaks first
    ['B', (p) => ({ B: (p.B * (1n + N)) % N2 }), 'eq1'],
    ['z', (p) => ({ z: p.z + 1n }), 'eq1'],
    ['u', (p) => ({ u: (p.u * 2n) % N }), 'eq1'],
    ['v', (p) => ({ v: (p.v * 2n) % N }), 'eq2'],
  ])('a tampered %s fails the equation %s', (_f, tamper, eq) => {
    expect(verify(tamper(proof))).toMatchObject(failure('equation', eq));
  });

  it.each<[string, () => Partial<MulProof>]>([
    ['A', () => ({ A: 0n })],
    ['A', () => ({ A: N2 })],
    ['A', () => ({ A: sk.p * 12345n })],
    ['B', () => ({ B: -proof.B })],
    ['B', () => ({ B: N2 + 1n })],
    ['B', () => ({ B: sk.q })],
    ['u', () => ({ u: 0n })],
    ['u', () => ({ u: N })],
    ['u', () => ({ u: sk.p })],
    ['v', () => ({ v: N + 1n })],
    ['v', () => ({ v: -1n })],
    ['v', () => ({ v: sk.q * 3n })],
  ])('rejects %s outside its group as a membership failure', (check, patch) => {
    expect(verify(patch())).toMatchObject(failure('membership', check));
  });

  it.each<['X' | 'Y' | 'C', () => bigint]>([
    ['X', () => 0n],
    ['X', () => N2],
    ['Y', () => sk.p * 77n],
    ['Y', () => N2 + stmt.Y],
    ['C', () => (sk.q * stmt.C) % N2],
    ['C', () => -1n],
  ])('rejects a statement ciphertext %s not in Z*_{N²}', (f, value) => {
    expect(verify({}, { [f]: value() } as Partial<MulStatement>)).toMatchObject(
      failure('statement', f)
    );
  });

  it('names the first bad element when several are bad (statement before membership)', () => {
    expect(verify({ u: 0n, A: 0n }, { C: 0n })).toMatchObject(failure('statement', 'C'));
    expect(verify({ u: 0n, B: N })).toMatchObject(failure('membership', 'B'));
  });

  it("rejects a modulus outside the level's window before anything else", () => {
    const otherLevel = level === LEVEL112 ? BOTH_LEVELS[1]![1] : LEVEL112;
    const other = fixtureKey(otherLevel, 0).publicKey();
    expect(verify({}, { key: other })).toMatchObject(failure('statement', 'N'));
  });

  it('a proof for H_i does not verify for another H, K or G (nor for another party)', () => {
    const H2 = sk.add(sk.mul(k, stmt.Y), sk.nonceToN(sampleUnit(rng, N))); // same product
    const H3 = sk.add(stmt.C, sk.encrypt(gamma, sampleUnit(rng, N))); // (k+1)·γ
    const K2 = sk.encrypt(k, sampleUnit(rng, N));
    const G2 = sk.encrypt(gamma, sampleUnit(rng, N));
    for (const s of [{ C: H2 }, { C: H3 }, { X: K2 }, { Y: G2 }, { X: stmt.Y, Y: stmt.X }]) {
      expect(verify({}, s)).toMatchObject(failure('equation', 'eq1'));
    }
    // P_1's own (K, G, H) under P_1's key: P_0's proof says nothing about it.
    const sk1 = fixtureKey(level, 1);
    const [a, b, c] = [sampleUnit(rng, sk1.N), sampleUnit(rng, sk1.N), sampleUnit(rng, sk1.N)];
    const Y1 = sk1.encrypt(gamma, b);
    const s1 = {
      key: sk1.publicKey(),
      X: sk1.encrypt(k, a),
      Y: Y1,
      C: sk1.add(sk1.mul(k, Y1), sk1.nonceToN(c)),
    };
    expect(verifyMul(level, { ...ctx, prover: 1 }, s1, proof).ok).toBe(false);
  });

  it('is bound to C: the proof does not carry over to −C (same plaintext) even when e is even', () => {
    // For even e, (−C)^e = C^e, so only the transcript tells C and −C mod N² apart.
    let s: MulStatement = stmt;
    let p = proof;
    while (challengeOf(ctx, s, p) % 2n !== 0n) {
      const r = sampleUnit(rng, N);
      s = { ...stmt, C: sk.add(sk.mul(k, stmt.Y), sk.nonceToN(r)) };
      p = prove(s, { ...witness, rho: r });
    }
    expect(verifyMul(level, ctx, s, p)).toEqual({ ok: true });
    const minusC = N2 - s.C; // = (k ⊙ Y)·(N − ρ)^N: a valid C for the same witness x
    expect(verifyMul(level, ctx, { ...s, C: minusC }, p)).toMatchObject(failure('equation', 'eq1'));
  });

  it('derives e ∈ ±Q from E(ctx, N, X, Y, C, A, B) exactly (CGGMP.md §2.3)', () => {
    const e = challengeOf(ctx, stmt, proof);
    expect(e >= -(1n << 128n) && e <= 1n << 128n).toBe(true);
    expect(equations(stmt, proof, e)).toEqual([true, true]);
    expect(equations(stmt, proof, e + 1n)).toEqual([false, false]);
  });

  it.each<[string, Partial<ProofContext>]>([
    ['session id', { sessionId: new Uint8Array(32).fill(8) }],
    ['prover index', { prover: 1 }],
    ['variant', { variant: 'other' }],
  ])('is bound to the %s', (_f, patch) => {
    expect(verify({}, {}, { ...ctx, ...patch })).toMatchObject(failure('equation', 'eq1'));
  });

  it('is a broadcast proof: a verifier index is a caller error on both sides', () => {
    const bound1 = { ...ctx, verifier: 1 };
    expect(() => prove(stmt, witness, bound1)).toThrow(InvalidArgs);
    expect(() => verifyMul(level, bound1, stmt, proof)).toThrow(InvalidArgs);
  });

  it('a cheater whose H_i encrypts k_i·γ_i + 1 cannot make a verifying proof (bad-δ abort)', () => {
    // Built either way (C6), H encrypts k·γ + 1.
    const rhoPrime = sampleUnit(rng, N);
    const bad1 = sk.add(stmt.C, sk.encrypt(1n, 1n)); // (k ⊙ G)·ρ^N ⊕ (1 + N)
    const bad2 = sk.encrypt(k * gamma + 1n, rhoPrime);
    const viaNu = mod(rhoPrime * modPow(nu, -k, N), N);
    for (const [C, r] of [
      [bad1, rho],
      [bad2, viaNu],
    ] as const) {
      expect(sk.decrypt(C)).toBe(k * gamma + 1n);
      const s = { ...stmt, C };
      // The honest algorithm with the true (k, ρ_i) opens X but not C: eq1 fails, eq2 holds.
      const p = prove(s, { x: k, rhoX: rhoK, rho: r });
      expect(verifyMul(level, ctx, s, p)).toMatchObject(failure('equation', 'eq1'));
      expect(equations(s, p, challengeOf(ctx, s, p))).toEqual([false, true]);
    }
    // The only x that makes C = (x ⊙ G)·ρ″^N hold is x′ = k + γ^{−1} mod N, which X does not
    // encrypt: eq1 then holds but eq2 fails — and |z| ≈ |e|·N already fails the C17 bound.
    const xAlt = mod(k + modInverse(gamma, N), N);
    const rhoAlt = mod(rhoPrime * modPow(nu, -xAlt, N), N);
    const s = { ...stmt, C: bad2 };
    const p = prove(s, { x: xAlt, rhoX: rhoK, rho: rhoAlt });
    expect(verifyMul(level, ctx, s, p)).toMatchObject(failure('bound', 'z'));
    expect(equations(s, p, challengeOf(ctx, s, p))).toEqual([true, false]);
  });

  it('a witness that does not open the statement fails the matching equation', () => {
    expect(verifyMul(level, ctx, stmt, prove(stmt, { ...witness, x: k + 1n }))).toMatchObject(
      failure('equation', 'eq1')
    );
    const wrongRhoX = { ...witness, rhoX: (rhoK * 2n) % N };
    expect(verifyMul(level, ctx, stmt, prove(stmt, wrongRhoX))).toMatchObject(
      failure('equation', 'eq2')
    );
  });

  it('an honest proof for a witness far out of range (x ≈ N/2, 2^{ℓ+ε+2}) fails at bound z', () => {
    for (const x of [N / 2n, -(N / 2n), 1n << BigInt(level.ell + level.epsilon + 2)]) {
      const [r1, r2] = [sampleUnit(rng, N), sampleUnit(rng, N)];
      const s = { X: sk.encrypt(x, r1), Y: stmt.Y, C: sk.add(sk.mul(x, stmt.Y), sk.nonceToN(r2)) };
      const p = prove(s, { x, rhoX: r1, rho: r2 });
      expect(verifyMul(level, ctx, { key: pk, ...s }, p)).toMatchObject(failure('bound', 'z'));
    }
  });

  it('z bound (C17) is 2^{ℓ+ε} + Q·2^ℓ: at it an equation fails, past it a bound failure', () => {
    expect(bound).toBe((1n << BigInt(level.ell + level.epsilon)) + (1n << 384n));
    expect(verify({ z: bound })).toMatchObject(failure('equation', 'eq1'));
    expect(verify({ z: -bound })).toMatchObject(failure('equation', 'eq1'));
    expect(verify({ z: bound + 1n })).toMatchObject(failure('bound', 'z'));
    expect(verify({ z: -bound - 1n })).toMatchObject(failure('bound', 'z'));
    // bound + 1 still decodes: it is verify, not the decoder, that refuses it.
    const again = decodeMulProof(encodeMulProof({ ...proof, z: bound + 1n }), level);
    expect(verifyMul(level, ctx, stmt, again)).toMatchObject(failure('bound', 'z'));
  });

  it('the decoder bounds every integer by the level', () => {
    const n = level.modulusBits;
    const zBits = level.ell + level.epsilon + 1; // bits of 2^{ℓ+ε} + 2^{128+ℓ}
    const tooBig: Array<Partial<MulProof>> = [
      { A: 1n << BigInt(2 * n) },
      { B: 1n << BigInt(2 * n) },
      { z: 1n << BigInt(zBits) },
      { z: -(1n << BigInt(zBits)) },
      { u: 1n << BigInt(n) },
      { v: 1n << BigInt(n) },
    ];
    for (const patch of tooBig) {
      expect(() => decodeMulProof(encodeMulProof({ ...proof, ...patch }), level)).toThrow(
        DecodeError
      );
    }
    // Just inside the decoder's limits: decodes, and verify names the check.
    const zMax = (1n << BigInt(zBits)) - 1n;
    for (const z of [zMax, -zMax]) {
      const inside = decodeMulProof(encodeMulProof({ ...proof, z }), level);
      expect(verifyMul(level, ctx, stmt, inside)).toMatchObject(failure('bound', 'z'));
    }
    const wide = decodeMulProof(encodeMulProof({ ...proof, A: (1n << BigInt(2 * n)) - 1n }), level);
    expect(verifyMul(level, ctx, stmt, wide)).toMatchObject(failure('membership', 'A'));
  });

  it('rejects non-canonical encodings', () => {
    const bytes = encodeMulProof(proof);
    expect(() => decodeMulProof(bytes.subarray(0, bytes.length - 1), level)).toThrow(DecodeError);
    expect(() => decodeMulProof(new Uint8Array([...bytes, 0]), level)).toThrow(DecodeError);
    expect(() => decodeMulProof(new Uint8Array(0), level)).toThrow(DecodeError);
    const badTag = bytes.slice();
    badTag[10] = badTag[10]! ^ 1; // inside the tag text
    expect(() => decodeMulProof(badTag, level)).toThrow(DecodeError);
    // z = 0 is encoded with sign byte 0; "−0" (sign 1) and a sign byte 2 are refused (C11).
    const zero = encodeMulProof({ ...proof, z: 0n });
    const at = encode((e) => e.tag(PROOF_TAG).nat(proof.A).nat(proof.B)).length;
    expect(zero[at]).toBe(0);
    for (const sign of [1, 2]) {
      const bad = zero.slice();
      bad[at] = sign;
      expect(() => decodeMulProof(bad, level)).toThrow(DecodeError);
    }
  });
});
