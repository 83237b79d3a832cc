import { beforeAll, describe, expect, it } from 'vitest';
import { DecodeError, InvalidArgs } from '../../../protocol/errors.js';
import { encode } from '../../../protocol/hash/encoding.js';
import { samplePmBits, sampleUnit } from '../../../protocol/math/sample.js';
import type { PaillierPublicKey, PaillierSecretKey } from '../../../protocol/paillier/paillier.js';
import {
  ringPedersenPublic,
  type RingPedersenParams,
} from '../../../protocol/paillier/ring-pedersen.js';
import { LEVEL112, type SecurityLevel } from '../../../protocol/params.js';
import { proofTranscript, type ProofContext } from '../../../protocol/zk/common.js';
import {
  decodeEncProof,
  encodeEncProof,
  encResponseBounds,
  proveEnc,
  verifyEnc,
  type EncProof,
  type EncStatement,
} from '../../../protocol/zk/enc.js';
import { BOTH_LEVELS, fixtureKey, fixtureRingPedersen } from '../../helpers/fixtures.js';
import { seededRng } from '../../helpers/rng.js';

const PROOF_TAG = 'mpcd/cggmp21/v1/zk/enc/proof';
const ctx: ProofContext = { sessionId: new Uint8Array(32).fill(7), prover: 0, verifier: 1 };

/** The challenge, re-derived here from the documented transcript layout (not the module's code). */
function challengeOf(c: ProofContext, R: RingPedersenParams, s: EncStatement, p: EncProof): bigint {
  const tr = proofTranscript('enc', c, R);
  tr.enc.nat(s.key.N).nat(s.K).nat(p.S).nat(p.A).nat(p.C);
  return tr.xof().challengePm(128);
}

describe.each(BOTH_LEVELS)('Πenc at %s', (name, level: SecurityLevel) => {
  const rng = seededRng(`enc/${name}`);
  let sk: PaillierSecretKey; // the prover's key (CRT encryption)
  let pk: PaillierPublicKey; // what the verifier holds
  let aux: RingPedersenParams; // verifier P_1's ring-Pedersen parameters
  let auxOther: RingPedersenParams; // another party's (P_2)
  let k: bigint;
  let rho: bigint;
  let stmt: EncStatement; // as the verifier sees it
  let proof: EncProof;
  let bounds: { z1: bigint; z3: bigint };

  const verify = (p: Partial<EncProof>, s: EncStatement = stmt, c = ctx, R = aux) =>
    verifyEnc(level, c, R, s, { ...proof, ...p });
  const failure = (kind: string, check: string) => ({
    ok: false,
    failure: { proof: 'enc', kind, check },
  });

  beforeAll(() => {
    sk = fixtureKey(level, 0);
    pk = sk.publicKey();
    aux = ringPedersenPublic(fixtureRingPedersen(level, 1));
    auxOther = ringPedersenPublic(fixtureRingPedersen(level, 2));
    k = samplePmBits(rng, level.ell);
    rho = sampleUnit(rng, sk.N);
    stmt = { key: pk, K: sk.encrypt(k, rho) };
    proof = proveEnc(level, ctx, aux, { key: sk, K: stmt.K }, { k, rho }, rng);
    bounds = encResponseBounds(level, aux.N);
  });

  it('an honest proof verifies (public key) and survives encode → decode', () => {
    expect(verifyEnc(level, ctx, aux, stmt, proof)).toEqual({ ok: true });
    const bytes = encodeEncProof(proof);
    const again = decodeEncProof(bytes, level);
    expect(again).toEqual(proof);
    expect(encodeEncProof(again)).toEqual(bytes);
    expect(verifyEnc(level, ctx, aux, stmt, again)).toEqual({ ok: true });
    // The exact range of z1 (CGGMP.md Decisions).
    expect(bounds.z1).toBe(1n << BigInt(level.ell + level.epsilon));
  });

  it('also verifies for k at the honest extremes ±2^ℓ and k = 0', () => {
    for (const kk of [1n << BigInt(level.ell), -(1n << BigInt(level.ell)), 0n]) {
      const r = sampleUnit(rng, sk.N);
      const s = { key: pk, K: sk.encrypt(kk, r) };
      const p = proveEnc(level, ctx, aux, { key: sk, K: s.K }, { k: kk, rho: r }, rng);
      expect(verifyEnc(level, ctx, aux, s, p)).toEqual({ ok: true });
    }
  });

  it.each<[string, (p: EncProof, N0: bigint, Nh: bigint) => Partial<EncProof>, string]>([
    ['S', (p, _n, Nh) => ({ S: (p.S * 4n) % Nh }), 'eq1'], // changes e
    ['A', (p, N0) => ({ A: (p.A * (1n + N0)) % (N0 * N0) }), 'eq1'],
    ['C', (p, _n, Nh) => ({ C: (p.C * 4n) % Nh }), 'eq1'], // changes e
    ['z1', (p) => ({ z1: p.z1 + 1n }), 'eq1'],
    ['z2', (p, N0) => ({ z2: (p.z2 * 4n) % N0 }), 'eq1'],
    ['z3', (p) => ({ z3: p.z3 + 1n }), 'eq2'],
  ])('a tampered %s fails the equation %s', (_f, tamper, eq) => {
    expect(verify(tamper(proof, sk.N, aux.N))).toMatchObject(failure('equation', eq));
  });

  it('rejects elements outside their groups as membership failures', () => {
    const N0 = sk.N;
    const N2 = N0 * N0;
    expect(verify({ A: 0n })).toMatchObject(failure('membership', 'A'));
    expect(verify({ A: N2 })).toMatchObject(failure('membership', 'A'));
    expect(verify({ A: sk.p * 12345n })).toMatchObject(failure('membership', 'A'));
    expect(verify({ S: 0n })).toMatchObject(failure('membership', 'S'));
    expect(verify({ S: aux.N })).toMatchObject(failure('membership', 'S'));
    expect(verify({ S: proof.S + aux.N })).toMatchObject(failure('membership', 'S'));
    expect(verify({ C: -proof.C })).toMatchObject(failure('membership', 'C'));
    expect(verify({ C: fixtureKey(level, 1).q })).toMatchObject(failure('membership', 'C'));
    expect(verify({ z2: 0n })).toMatchObject(failure('membership', 'z2'));
    expect(verify({ z2: N0 })).toMatchObject(failure('membership', 'z2'));
    expect(verify({ z2: sk.q })).toMatchObject(failure('membership', 'z2'));
  });

  it('rejects a malformed statement (K not in Z*_{N₀²}, N₀ of the wrong size)', () => {
    const N2 = sk.N * sk.N;
    for (const K of [0n, N2, N2 + stmt.K, sk.p * 77n, (sk.q * stmt.K) % N2]) {
      expect(verify({}, { key: pk, K })).toMatchObject(failure('statement', 'K'));
    }
    // A modulus of the other level is refused before anything else.
    const otherLevel = level === LEVEL112 ? BOTH_LEVELS[1]![1] : LEVEL112;
    const small = fixtureKey(otherLevel, 0).publicKey();
    expect(verify({}, { key: small, K: stmt.K % small.N2 })).toMatchObject(
      failure('statement', 'N0')
    );
  });

  it('fails for a different (valid) ciphertext K', () => {
    const K2 = sk.encrypt(k, sampleUnit(rng, sk.N)); // same k, other nonce
    expect(verify({}, { key: pk, K: K2 })).toMatchObject(failure('equation', 'eq1'));
  });

  it('derives e ∈ ±Q from E(ctx, R, N₀, K, S, A, C) exactly (CGGMP.md §2.3)', () => {
    const e = challengeOf(ctx, aux, stmt, proof);
    expect(e >= -(1n << 128n) && e <= 1n << 128n).toBe(true);
    // eq1 with the independently derived e holds, so the prover used exactly this transcript.
    expect(pk.encrypt(proof.z1, proof.z2)).toBe(pk.add(proof.A, pk.mul(e, stmt.K)));
  });

  it('is bound to K: a proof does not carry over to −K (same plaintext) even when e is even', () => {
    // For even e, (−K)^e = K^e, so only the transcript tells K and −K mod N₀² apart.
    let s = stmt;
    let p = proof;
    while (challengeOf(ctx, aux, s, p) % 2n !== 0n) {
      const r = sampleUnit(rng, sk.N);
      s = { key: pk, K: sk.encrypt(k, r) };
      p = proveEnc(level, ctx, aux, { key: sk, K: s.K }, { k, rho: r }, rng);
    }
    const minusK = pk.N2 - s.K; // = enc(k; N₀ − ρ), a valid ciphertext of the same k
    expect(verifyEnc(level, ctx, aux, { key: pk, K: minusK }, p)).toMatchObject(
      failure('equation', 'eq1')
    );
  });

  it.each<[string, Partial<ProofContext>]>([
    ['session id', { sessionId: new Uint8Array(32).fill(8) }],
    ['prover index', { prover: 2 }],
    ['verifier index', { verifier: 2 }],
    ['variant', { variant: 'other' }],
  ])('is bound to the %s', (_f, patch) => {
    expect(verify({}, stmt, { ...ctx, ...patch })).toMatchObject({ ok: false });
  });

  it("a proof for P_1's parameters is rejected by P_2 (SECURITY.md test 14)", () => {
    const r = verify({}, stmt, { ...ctx, verifier: 2 }, auxOther);
    expect(r.ok).toBe(false);
    // Only the verifier's parameters changed: still rejected.
    expect(verify({}, stmt, ctx, auxOther).ok).toBe(false);
    // And a proof honestly made for P_2 verifies for P_2 only.
    const ctx2 = { ...ctx, verifier: 2 };
    const p2 = proveEnc(level, ctx2, auxOther, { key: sk, K: stmt.K }, { k, rho }, rng);
    expect(verifyEnc(level, ctx2, auxOther, stmt, p2)).toEqual({ ok: true });
    expect(verifyEnc(level, ctx2, aux, stmt, p2).ok).toBe(false);
  });

  it('K encrypting k = N₀/2 with an honest proof fails at range z1 (SECURITY.md test 13)', () => {
    for (const bad of [sk.N / 2n, -(sk.N / 2n), 1n << BigInt(level.ell + level.epsilon + 2)]) {
      const r = sampleUnit(rng, sk.N);
      const s = { key: pk, K: sk.encrypt(bad, r) };
      const p = proveEnc(level, ctx, aux, { key: sk, K: s.K }, { k: bad, rho: r }, rng);
      expect(verifyEnc(level, ctx, aux, s, p)).toMatchObject(failure('range', 'z1'));
    }
  });

  it('a witness that does not open K fails the equation', () => {
    const p = proveEnc(level, ctx, aux, { key: sk, K: stmt.K }, { k: k + 1n, rho }, rng);
    expect(verifyEnc(level, ctx, aux, stmt, p)).toMatchObject(failure('equation', 'eq1'));
  });

  it('z1 range is exact: ±2^{ℓ+ε} reaches the equations, ±(2^{ℓ+ε}+1) is a range failure', () => {
    const B = bounds.z1;
    expect(verify({ z1: B })).toMatchObject(failure('equation', 'eq1'));
    expect(verify({ z1: -B })).toMatchObject(failure('equation', 'eq1'));
    expect(verify({ z1: B + 1n })).toMatchObject(failure('range', 'z1'));
    expect(verify({ z1: -B - 1n })).toMatchObject(failure('range', 'z1'));
  });

  it('z3 bound (C17) is 2^{ℓ+ε}·N̂ + Q·2^ℓ·N̂: at it an equation fails, past it a bound failure', () => {
    const W = bounds.z3;
    expect(W).toBe((1n << BigInt(level.ell + level.epsilon)) * aux.N + (1n << 384n) * aux.N);
    expect(verify({ z3: W })).toMatchObject(failure('equation', 'eq2'));
    expect(verify({ z3: -W })).toMatchObject(failure('equation', 'eq2'));
    expect(verify({ z3: W + 1n })).toMatchObject(failure('bound', 'z3'));
    expect(verify({ z3: -W - 1n })).toMatchObject(failure('bound', 'z3'));
    // bound + 1 still decodes: it is verify, not the decoder, that refuses it.
    const bytes = encodeEncProof({ ...proof, z3: W + 1n });
    expect(verifyEnc(level, ctx, aux, stmt, decodeEncProof(bytes, level))).toMatchObject(
      failure('bound', 'z3')
    );
  });

  it('the decoder bounds every integer by the level', () => {
    const n = level.modulusBits;
    const z1Bits = level.ell + level.epsilon + 1; // bits of 2^{ℓ+ε}
    const z3Bits = n + level.ell + level.epsilon + 1; // bits of the C17 bound with N̂ < 2^{8κ}
    const tooBig: Array<Partial<EncProof>> = [
      { S: 1n << BigInt(n) },
      { A: 1n << BigInt(2 * n) },
      { C: 1n << BigInt(n) },
      { z1: 1n << BigInt(z1Bits) },
      { z1: -(1n << BigInt(z1Bits)) },
      { z2: 1n << BigInt(n) },
      { z3: 1n << BigInt(z3Bits) },
      { z3: -(1n << BigInt(z3Bits)) },
    ];
    for (const patch of tooBig) {
      expect(() => decodeEncProof(encodeEncProof({ ...proof, ...patch }), level)).toThrow(
        DecodeError
      );
    }
    // Just inside the decoder's limits: decodes, and verify names the check.
    const z1Max = (1n << BigInt(z1Bits)) - 1n;
    const inside = decodeEncProof(encodeEncProof({ ...proof, z1: z1Max }), level);
    expect(verifyEnc(level, ctx, aux, stmt, inside)).toMatchObject(failure('range', 'z1'));
    const z3Max = (1n << BigInt(z3Bits)) - 1n;
    const inside3 = decodeEncProof(encodeEncProof({ ...proof, z3: z3Max }), level);
    expect(verifyEnc(level, ctx, aux, stmt, inside3)).toMatchObject(failure('bound', 'z3'));
  });

  it('rejects non-canonical encodings', () => {
    const bytes = encodeEncProof(proof);
    expect(() => decodeEncProof(bytes.subarray(0, bytes.length - 1), level)).toThrow(DecodeError);
    expect(() => decodeEncProof(new Uint8Array([...bytes, 0]), level)).toThrow(DecodeError);
    const badTag = bytes.slice();
    badTag[10] = badTag[10]! ^ 1; // inside the tag text
    expect(() => decodeEncProof(badTag, level)).toThrow(DecodeError);
    // z1 = 0 is encoded with sign byte 0; "−0" (sign 1) and a sign byte 2 are refused (C11).
    const zero = encodeEncProof({ ...proof, z1: 0n });
    const at = encode((e) => e.tag(PROOF_TAG).nat(proof.S).nat(proof.A).nat(proof.C)).length;
    expect(zero[at]).toBe(0);
    for (const sign of [1, 2]) {
      const bad = zero.slice();
      bad[at] = sign;
      expect(() => decodeEncProof(bad, level)).toThrow(DecodeError);
    }
  });

  it('refuses a context without the verifier index (caller error)', () => {
    const { verifier: _v, ...bare } = ctx;
    expect(() => proveEnc(level, bare, aux, { key: sk, K: stmt.K }, { k, rho }, rng)).toThrow(
      InvalidArgs
    );
    expect(() => verifyEnc(level, bare, aux, stmt, proof)).toThrow(InvalidArgs);
  });
});
