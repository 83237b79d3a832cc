/**
 * Πfac (CGGMP.md §4.4, C10/C14/C15/C17; SECURITY.md §1.5 and test 3): completeness, encoding,
 * every tampered field with its named failure, exact ranges and C17 bounds at the edge, context
 * binding, per-recipient parameters, strict decoding, and the unbalanced-modulus regression.
 */
import { generatePrimeSync } from 'node:crypto';
import { shake256 } from '@noble/hashes/sha3.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { DecodeError, InvalidArgs } from '../../../protocol/errors.js';
import { encode } from '../../../protocol/hash/encoding.js';
import { bitLength } from '../../../protocol/math/bytes.js';
import { isqrt, modPowBigint } from '../../../protocol/math/modular.js';
import { validatePublicModulus } from '../../../protocol/paillier/paillier.js';
import type { RingPedersenParams } from '../../../protocol/paillier/ring-pedersen.js';
import type { FailureKind, ProofContext, VerifyResult } from '../../../protocol/zk/common.js';
import {
  decodeFacProof,
  encodeFacProof,
  facBounds,
  proveFac,
  verifyFac,
  type FacBounds,
  type FacProof,
} from '../../../protocol/zk/fac.js';
import { BOTH_LEVELS, fixtureKey, fixtureRingPedersen } from '../../helpers/fixtures.js';
import { seededRng } from '../../helpers/rng.js';

/**
 * The large factors of the unbalanced moduli of SECURITY.md test 3: Blum primes (≡ 3 mod 4) of
 * 8κ − 200 bits, made once with `generatePrimeSync(bits, { add: 4n, rem: 3n })` from node:crypto.
 * Generating them in the test took 1–9 s (mean ≈ 4 s) at level128, over the suite's budget; the
 * 200-bit small factor is still generated per run (≈ 1 ms).
 */
const UNBALANCED_LARGE: Record<string, bigint> = {
  // 1848-bit Blum prime
  level112: BigInt(
    '0x' +
      [
        '8904add3747bc2b9aa3a65178291ed7c2e4c775f948898a33f03acfeb73d684d58015e13fec5506a',
        '0d902f6d348045f44125a50c78a9d707a82aa57bd40ce952ad44c99c5ad261cdf67ab63a64646d33',
        '85d510d58bad8d4b37ea49d326fa2a967114d0327ceeaf0977267a2c356e3aaa63117b05c0d4a906',
        '244da7ab8da3777b30ece6f9025eb976faca529da35232825cd79676f01a05248217b52e6f304571',
        '32127f1e63e0df34bba9328615be9b1ba0fab7a4b595fa392add1a2ea90b2a488c9ce44896a5360e',
        '544aa3895890b43c77a2dc69422c7acf8c52f72b2d9a977858ccc1eff2488f',
      ].join('')
  ),
  // 2872-bit Blum prime
  level128: BigInt(
    '0x' +
      [
        'd4bff3a8179087df1786389a98a6ab816eae67fda9c591444a35b6700dbd4965a1a47af8da8bf53a',
        '6087c6bb9563f98b957491ee9c2def6fd2384d153e3f321fc666d10d30b3b354dbb666d584cb5841',
        '2fd3f23e199b2e22ef9ab4f65e7f6c9aec7a77fee4810b14a7a4f42be47a3f5dc896d88b834c7c8a',
        '1d5bab7aabbcde52b442afbe8353cefb869b2f5e7bcb4366d5e4a5d8bf921f70a6d46299217ec1d7',
        '62f589f894c7d450f1d343d8db21d2873919f1aa58c8c80c803a0da18b2882d2634d51281a6d8830',
        'ac94b11dfef03fbe65079368db41edb56f4ea61eb8bf5153d5aaa931c533dee413c999bc5a66f977',
        '01c9ec8d29f5583b860915f72acbfb0731cd82b7c4054114a8558a625bc2ce98010e3e044db59971',
        'c1a8e2553b193914ce48fb52b051eee3305673b07bf9ec8a00e60bd03ade30eedc2e73790389afb0',
        'f51383cab88b3db178fafa8be6964fa60e121123b1e0420d2c2ad00afc502238cfe5db1188246f',
      ].join('')
  ),
};

const TAG = 'mpcd/cggmp21/v1/zk/fac/proof';
/** SHAKE256-128 of the seeded proof (see the known-answer test). */
const KAT: Record<string, string> = {
  level112: '55e0095f07c5dac5db9e50a9187f1dc1',
  level128: '0bfbf1c22c322d02d28765d0d819ded9',
};
const ctx: ProofContext = { sessionId: new Uint8Array(32).fill(7), prover: 0, verifier: 1 };

function expectFail(r: VerifyResult, kind: FailureKind, check: string): void {
  expect(r).toEqual({ ok: false, failure: { proof: 'fac', kind, check } });
}

const pub = (R: RingPedersenParams): RingPedersenParams => ({ N: R.N, s: R.s, t: R.t });

describe.each(BOTH_LEVELS)('Πfac at %s', (_name, level) => {
  const n = level.modulusBits;
  let N0: bigint;
  let aux: RingPedersenParams; // verifier P_1's ring-Pedersen parameters
  let other: RingPedersenParams; // another verifier's (P_2)
  let proof: FacProof;
  let b: FacBounds;
  const verify = (p: Partial<FacProof>, c: ProofContext = ctx): VerifyResult =>
    verifyFac(level, c, aux, { N0 }, { ...proof, ...p });

  beforeAll(() => {
    const key = fixtureKey(level, 0);
    N0 = key.N;
    aux = pub(fixtureRingPedersen(level, 1));
    other = pub(fixtureRingPedersen(level, 2));
    proof = proveFac(level, ctx, aux, { N0 }, key, seededRng(`fac/${level.name}`));
    b = facBounds(level, N0, aux.N);
  });

  it('an honest proof verifies and survives encode → decode', () => {
    expect(verifyFac(level, ctx, aux, { N0 }, proof)).toEqual({ ok: true });
    const again = decodeFacProof(encodeFacProof(proof), level);
    expect(again).toEqual(proof);
    expect(verifyFac(level, ctx, aux, { N0 }, again)).toEqual({ ok: true });
    // The verifier may pass its full secret parameters; only (N̂, s, t) are used.
    expect(verifyFac(level, ctx, fixtureRingPedersen(level, 1), { N0 }, proof).ok).toBe(true);
  });

  it('known answer: the transcript and encoding are frozen (wire compatibility)', () => {
    // Seeded prover + deterministic fixtures ⇒ fixed bytes. A change to what the challenge
    // absorbs (ctx, R, N₀, P, Qc, A, B, T, σ), to its order or to the encoding changes this.
    const digest = Buffer.from(shake256(encodeFacProof(proof), { dkLen: 16 })).toString('hex');
    expect(digest).toBe(KAT[level.name]);
  });

  it('bounds follow the Decisions and C17 exactly', () => {
    const { ell, epsilon } = level;
    const Q = 1n << 128n;
    const Nh = aux.N;
    const root = isqrt(N0);
    expect(root * root <= N0 && (root + 1n) * (root + 1n) > N0).toBe(true); // floor √
    expect(b.z).toBe((1n << BigInt(ell + epsilon)) * root);
    expect(b.sigma).toBe((1n << BigInt(ell)) * N0 * Nh);
    expect(b.w).toBe((1n << BigInt(ell + epsilon)) * Nh + Q * (1n << BigInt(ell)) * Nh);
    // |σ − ν·p| ≤ 2^ℓ·N₀·N̂ + 2^ℓ·N̂·N₀ (p ≤ N₀)
    expect(b.v).toBe(
      (1n << BigInt(ell + epsilon)) * N0 * Nh + Q * (1n << BigInt(ell + 1)) * N0 * Nh
    );
  });

  it.each<[keyof FacProof, string, (p: FacProof, N: bigint) => bigint]>([
    ['P', 'eq1', (p, N) => (p.P * 2n) % N],
    ['Qc', 'eq1', (p, N) => (p.Qc * 2n) % N],
    ['A', 'eq1', (p, N) => (p.A * 2n) % N],
    ['B', 'eq1', (p, N) => (p.B * 2n) % N],
    ['T', 'eq1', (p, N) => (p.T * 2n) % N],
    ['sigma', 'eq1', (p) => p.sigma + 1n],
    ['z1', 'eq1', (p) => p.z1 + 1n],
    ['z2', 'eq2', (p) => p.z2 + 1n],
    ['w1', 'eq1', (p) => p.w1 + 1n],
    ['w2', 'eq2', (p) => p.w2 - 1n],
    ['v', 'eq3', (p) => p.v + 1n],
  ])('a tampered %s fails the equation %s', (field, eq, tamper) => {
    // First-message fields and σ change the challenge, so eq1 is the first to break.
    expectFail(verify({ [field]: tamper(proof, aux.N) }), 'equation', eq);
  });

  it.each(['P', 'Qc', 'A', 'B', 'T'] as const)('%s outside Z*_N̂ fails membership', (f) => {
    const factor = fixtureKey(level, 1).p; // a prime factor of the verifier's N̂
    for (const bad of [0n, aux.N, aux.N + proof[f], factor, -proof[f]]) {
      expectFail(verify({ [f]: bad }), 'membership', f);
    }
  });

  it('rejects a malformed or different statement', () => {
    expectFail(verifyFac(level, ctx, aux, { N0: N0 + 1n }, proof), 'statement', 'N0-even');
    expectFail(verifyFac(level, ctx, aux, { N0: (N0 >> 2n) | 1n }, proof), 'statement', 'N0-size');
    expectFail(verifyFac(level, ctx, aux, { N0: (N0 << 1n) | 1n }, proof), 'statement', 'N0-size');
    // Another valid modulus: its z range differs (a smaller √N₀ may already exclude z1 or z2),
    // and the challenge changes.
    const r = verifyFac(level, ctx, aux, { N0: fixtureKey(level, 2).N }, proof);
    expect(r.ok ? 'ok' : r.failure.kind).toMatch(/^(range|equation)$/);
  });

  it.each<[string, ProofContext]>([
    ['session id', { ...ctx, sessionId: new Uint8Array(32).fill(8) }],
    ['prover index', { ...ctx, prover: 2 }],
    ['verifier index', { ...ctx, verifier: 2 }],
    ['variant', { ...ctx, variant: 'other' }],
  ])('is bound to the %s', (_f, c) => {
    expectFail(verify({}, c), 'equation', 'eq1');
  });

  it("is per-recipient: a proof for P_1 fails under P_2's ring-Pedersen parameters", () => {
    const r = verifyFac(level, { ...ctx, verifier: 2 }, other, { N0 }, proof);
    // Elements mod N̂_1 may lie outside Z*_N̂_2, responses sized for N̂_1 may exceed the bounds
    // for N̂_2, and otherwise the challenge differs.
    expect(r.ok ? 'ok' : r.failure.kind).toMatch(/^(membership|bound|equation)$/);
    // And the converse: a proof made for P_2 does not verify at P_1.
    const forOther = proveFac(level, ctx, other, { N0 }, fixtureKey(level, 0), seededRng('fac/o'));
    expect(verifyFac(level, ctx, other, { N0 }, forOther).ok).toBe(true);
    expect(verifyFac(level, ctx, aux, { N0 }, forOther).ok).toBe(false);
  });

  it('z1, z2 ranges are exact: ±bound reaches the equations, ±(bound + 1) fails the range', () => {
    for (const sign of [1n, -1n]) {
      expectFail(verify({ z1: sign * b.z }), 'equation', 'eq1');
      expectFail(verify({ z1: sign * (b.z + 1n) }), 'range', 'z1');
      expectFail(verify({ z2: sign * b.z }), 'equation', 'eq2');
      expectFail(verify({ z2: sign * (b.z + 1n) }), 'range', 'z2');
    }
  });

  it('C17 bounds on σ, w1, w2, v are exact', () => {
    for (const sign of [1n, -1n]) {
      expectFail(verify({ sigma: sign * b.sigma }), 'equation', 'eq1');
      expectFail(verify({ sigma: sign * (b.sigma + 1n) }), 'bound', 'sigma');
      expectFail(verify({ w1: sign * b.w }), 'equation', 'eq1');
      expectFail(verify({ w1: sign * (b.w + 1n) }), 'bound', 'w1');
      expectFail(verify({ w2: sign * b.w }), 'equation', 'eq2');
      expectFail(verify({ w2: sign * (b.w + 1n) }), 'bound', 'w2');
      expectFail(verify({ v: sign * b.v }), 'equation', 'eq3');
      expectFail(verify({ v: sign * (b.v + 1n) }), 'bound', 'v');
    }
  });

  it('witnesses: swapped (p, q) verifies; a wrong or trivial factorisation is rejected', () => {
    const key = fixtureKey(level, 0);
    const rng = seededRng(`fac/w/${level.name}`);
    // The statement is N₀ alone and the proof treats (p, q) symmetrically, so either order works.
    const swapped = proveFac(level, ctx, aux, { N0 }, { p: key.q, q: key.p }, rng);
    expect(verifyFac(level, ctx, aux, { N0 }, swapped)).toEqual({ ok: true });
    // p·q ≠ N₀: eq1 and eq2 hold for any committed integers; eq3 needs s^{e·p·q} = s^{e·N₀}.
    const wrong = proveFac(level, ctx, aux, { N0 }, { p: key.p + 2n, q: key.q }, rng);
    expectFail(verifyFac(level, ctx, aux, { N0 }, wrong), 'equation', 'eq3');
    // N₀ = 1·N₀: the "factor" N₀ pushes z2 = β + e·N₀ far out of range.
    const trivial = proveFac(level, ctx, aux, { N0 }, { p: 1n, q: N0 }, rng);
    expectFail(verifyFac(level, ctx, aux, { N0 }, trivial), 'range', 'z2');
  });

  it('SECURITY.md test 3: an unbalanced N₀ (one factor < 2^ℓ) fails the range check', () => {
    const large = UNBALANCED_LARGE[level.name]!;
    expect(bitLength(large)).toBe(n - 200);
    // ≡ 3 mod 4 and a base-2 Fermat probable prime. (checkPrimeSync, and modPow's OpenSSL route
    // whose DH set-up tests a prime modulus, each spend ~1 s here; BigInt with base 2 ~40 ms.)
    expect(large % 4n === 3n && modPowBigint(2n, large - 1n, large) === 1n).toBe(true);
    const small = generatePrimeSync(200, { bigint: true, add: 4n, rem: 3n });
    const Nu = small * large; // a Paillier–Blum modulus: Πmod alone would accept it
    expect(small < 1n << BigInt(level.ell)).toBe(true);
    expect(() => validatePublicModulus(Nu, level)).not.toThrow(); // size window, odd, not prime/power
    const rng = seededRng(`fac/u/${level.name}`);
    // The large factor as p: z1 = α + e·p with |e·p| ≈ |e|·2^{n−200} ≫ 2^{ℓ+ε}·√N₀ ≈ 2^{ℓ+ε+n/2}.
    const bigFirst = proveFac(level, ctx, aux, { N0: Nu }, { p: large, q: small }, rng);
    expectFail(verifyFac(level, ctx, aux, { N0: Nu }, bigFirst), 'range', 'z1');
    // The large factor as q: z1 (small p) is within its range, z2 fails.
    const bigSecond = proveFac(level, ctx, aux, { N0: Nu }, { p: small, q: large }, rng);
    expect(inRange(bigSecond.z1, facBounds(level, Nu, aux.N).z)).toBe(true);
    expectFail(verifyFac(level, ctx, aux, { N0: Nu }, bigSecond), 'range', 'z2');
  });

  it('refuses caller errors: no verifier index, N̂ outside the level window', () => {
    const key = fixtureKey(level, 0);
    const bad = { ...aux, N: aux.N >> 8n };
    const broadcast: ProofContext = { sessionId: ctx.sessionId, prover: ctx.prover };
    for (const [c, R] of [
      [ctx, bad],
      [broadcast, aux],
    ] as const) {
      expect(() => proveFac(level, c, R, { N0 }, key)).toThrow(InvalidArgs);
      expect(() => verifyFac(level, c, R, { N0 }, proof)).toThrow(InvalidArgs);
    }
  });

  describe('decoding', () => {
    // Decoder caps: bits of each bound at the largest moduli of the level (N₀ = N̂ = 2^n − 1).
    const max = (1n << BigInt(n)) - 1n;
    const cap = (k: keyof FacBounds): number => facBounds(level, max, max)[k].toString(2).length;
    const caps: Array<[keyof FacProof, number]> = [
      ['P', n],
      ['T', n],
      ['sigma', cap('sigma')],
      ['z1', cap('z')],
      ['z2', cap('z')],
      ['w1', cap('w')],
      ['w2', cap('w')],
      ['v', cap('v')],
    ];

    it('caps match the level: z at ℓ+ε+n/2 bits, σ at ℓ+2n, elements at n', () => {
      expect(cap('z')).toBe(level.ell + level.epsilon + n / 2);
      expect(cap('sigma')).toBe(level.ell + 2 * n);
      expect(cap('w')).toBe(level.ell + level.epsilon + n + 1);
      expect(cap('v')).toBe(level.ell + level.epsilon + 2 * n + 1);
    });

    it.each(caps)('%s: accepted at the cap, a DecodeError one bit over it', (f, bits) => {
      const top = (1n << BigInt(bits)) - 1n;
      const signed = f !== 'P' && f !== 'T';
      for (const x of signed ? [top, -top] : [top]) {
        expect(decodeFacProof(encodeFacProof({ ...proof, [f]: x }), level)[f]).toBe(x);
      }
      for (const x of signed ? [top + 1n, -(top + 1n)] : [top + 1n]) {
        expect(() => decodeFacProof(encodeFacProof({ ...proof, [f]: x }), level)).toThrow(
          DecodeError
        );
      }
    });

    it('a decodable but oversized response is refused by verify (bound), before any exponentiation', () => {
      const big = decodeFacProof(encodeFacProof({ ...proof, v: b.v + 1n }), level);
      expectFail(verifyFac(level, ctx, aux, { N0 }, big), 'bound', 'v');
    });

    it('rejects truncated, trailing, mis-tagged and non-canonical bytes', () => {
      const bytes = encodeFacProof(proof);
      expect(() => decodeFacProof(bytes.subarray(0, bytes.length - 1), level)).toThrow(DecodeError);
      expect(() => decodeFacProof(new Uint8Array([...bytes, 0]), level)).toThrow(DecodeError);
      const tag = bytes.slice();
      const f = 4 + TAG.indexOf('fac'); // after the tag's u32 length
      tag[f] = tag[f]! ^ 0x01; // 'fac' → 'gac'
      expect(() => decodeFacProof(tag, level)).toThrow(/tag/);
      // σ = 0 written as "−0" (sign byte 1, empty magnitude) is not canonical (C11).
      const zero = encodeFacProof({ ...proof, sigma: 0n });
      const { P, Qc, A, B, T } = proof;
      const at = encode((e) => e.tag(TAG).nat(P).nat(Qc).nat(A).nat(B).nat(T)).length; // σ's sign
      expect([...zero.subarray(at, at + 5)]).toEqual([0, 0, 0, 0, 0]);
      zero[at] = 1;
      expect(() => decodeFacProof(zero, level)).toThrow(/negative zero/);
    });
  });
});

function inRange(x: bigint, bound: bigint): boolean {
  return (x < 0n ? -x : x) <= bound;
}
