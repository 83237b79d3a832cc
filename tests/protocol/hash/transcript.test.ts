/**
 * Tests of protocol/hash/transcript.ts (CGGMP.md §2.2–2.4, C11/C12): the tag prefix, the 32-byte
 * digest, binding of every absorbed field, and the challenges drawn by rejection from one
 * continuing SHAKE256 stream.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgs } from '../../../protocol/errors.js';
import type { Encoder } from '../../../protocol/hash/encoding.js';
import {
  DIGEST_BYTES,
  hashTagged,
  TAG_PREFIX,
  Transcript,
  XofStream,
} from '../../../protocol/hash/transcript.js';
import { CURVE_ORDER, mulBase } from '../../../protocol/math/curve.js';
import { gcd } from '../../../protocol/math/modular.js';
import { sampleUnit } from '../../../protocol/math/sample.js';
import { LEVEL112 } from '../../../protocol/params.js';
import { fixtureKey } from '../../helpers/fixtures.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const TAG = 'mpcd/cggmp21/v1/test/transcript';

/** The fields of a sample transcript; each entry can be replaced by a variant. */
type Field = (e: Encoder) => void;
const fields: Field[] = [
  (e) => e.bytes(new Uint8Array(32).fill(7)), // sid
  (e) => e.u32(1), // prover
  (e) => e.option(2, (en, v) => en.u32(v)), // verifier
  (e) => e.nat(123456789n),
  (e) => e.int(-5n),
  (e) => e.point(mulBase(9n)),
  (e) => e.scalar(11n),
  (e) => e.list([1n, 2n], (en, x) => en.nat(x)),
];
const variants: Field[] = [
  (e) => e.bytes(new Uint8Array(32).fill(8)),
  (e) => e.u32(2),
  (e) => e.option(undefined, (en, v: number) => en.u32(v)),
  (e) => e.nat(123456788n),
  (e) => e.int(5n),
  (e) => e.point(mulBase(10n)),
  (e) => e.scalar(12n),
  (e) => e.list([1n, 2n, 3n], (en, x) => en.nat(x)),
];

function build(tag: string, fs: Field[]): Transcript {
  const t = new Transcript(tag);
  for (const f of fs) f(t.enc);
  return t;
}

describe('Transcript', () => {
  it('enforces the tag prefix', () => {
    for (const bad of [
      '',
      'foo',
      'mpcd/cggmp21/v2/x',
      'MPCD/cggmp21/v1/x',
      ' mpcd/cggmp21/v1/x',
      'mpcd/cggmp21/v1',
    ]) {
      expect(() => new Transcript(bad), bad).toThrow(InvalidArgs);
      expect(() => hashTagged(bad, () => {})).toThrow(InvalidArgs);
    }
    expect(TAG_PREFIX).toBe('mpcd/cggmp21/v1/');
    expect(() => new Transcript('mpcd/cggmp21/v1/x')).not.toThrow();
  });

  it('the digest is 32 bytes, deterministic, and equals hashTagged', () => {
    const d1 = build(TAG, fields).digest();
    const d2 = build(TAG, fields).digest();
    expect(DIGEST_BYTES).toBe(32);
    expect(d1).toHaveLength(32);
    expect(hex(d1)).toBe(hex(d2));
    const t = build(TAG, fields);
    expect(hex(t.digest())).toBe(hex(t.digest())); // digest does not consume state
    expect(hex(hashTagged(TAG, (e) => fields.forEach((f) => f(e))))).toBe(hex(d1));
  });

  it('changing any absorbed field (or the tag) changes the digest and the challenges', () => {
    const base = build(TAG, fields);
    const digests = new Set([hex(base.digest())]);
    const challenges = new Set([base.xof().challengePm(128)]);
    for (let i = 0; i < fields.length; i++) {
      const fs = fields.slice();
      fs[i] = variants[i]!;
      const t = build(TAG, fs);
      digests.add(hex(t.digest()));
      challenges.add(t.xof().challengePm(128));
    }
    // Dropping the last field, appending one, and another tag.
    digests.add(hex(build(TAG, fields.slice(0, -1)).digest()));
    digests.add(hex(build(TAG, [...fields, (e) => e.u8(0)]).digest()));
    digests.add(hex(build(TAG + '2', fields).digest()));
    expect(digests.size).toBe(fields.length + 4);
    expect(challenges.size).toBe(fields.length + 1);
  });

  it('field boundaries are bound: ("ab","c") and ("a","bc") hash differently', () => {
    const a = hashTagged(TAG, (e) => e.str('ab').str('c'));
    const b = hashTagged(TAG, (e) => e.str('a').str('bc'));
    expect(hex(a)).not.toBe(hex(b));
  });

  it('xof() gives a fresh stream each time, the same for the same transcript', () => {
    const t = build(TAG, fields);
    expect(hex(t.xof().read(64))).toBe(hex(t.xof().read(64)));
    // SHAKE256: the digest is the stream's first 32 bytes. Digest and challenge uses are kept apart
    // by their tags (commitments and proofs never share one), not by the function.
    expect(hex(t.xof().read(32))).toBe(hex(t.digest()));
  });
});

describe('XofStream', () => {
  const input = new TextEncoder().encode('xof test');

  it('continues: two reads differ, and read(a)+read(b) = read(a+b)', () => {
    const x = new XofStream(input);
    const r1 = x.read(32);
    const r2 = x.read(32);
    expect(hex(r1)).not.toBe(hex(r2));
    const y = new XofStream(input);
    expect(hex(y.read(64))).toBe(hex(r1) + hex(r2));
    const z = new XofStream(input);
    expect(hex(z.rng(10)) + hex(z.rng(54))).toBe(hex(r1) + hex(r2));
  });

  it('challengePm(bits) stays within ±2^bits and reaches both endpoints for bits = 2', () => {
    const x = new XofStream(input);
    for (const bits of [0, 1, 8, 128, 256]) {
      const B = 1n << BigInt(bits);
      for (let i = 0; i < 50; i++) {
        const e = x.challengePm(bits);
        expect(e >= -B && e <= B).toBe(true);
      }
    }
    const seen = new Set<bigint>();
    for (let i = 0; i < 400; i++) seen.add(x.challengePm(2));
    expect(seen).toEqual(new Set([-4n, -3n, -2n, -1n, 0n, 1n, 2n, 3n, 4n]));
    // Successive challenges from one stream differ.
    const c = new XofStream(input);
    expect(c.challengePm(128)).not.toBe(c.challengePm(128));
  });

  it('challengeScalar is < q', () => {
    const x = new XofStream(input);
    for (let i = 0; i < 200; i++) {
      const e = x.challengeScalar();
      expect(e >= 0n && e < CURVE_ORDER).toBe(true);
    }
  });

  it('challengeBits(m) gives exactly m values in {0, 1}, MSB first from the stream', () => {
    for (const m of [1, 7, 8, 9, 80, 112, 128]) {
      const bits = new XofStream(input).challengeBits(m);
      expect(bits).toHaveLength(m);
      expect(bits.every((b) => b === 0 || b === 1)).toBe(true);
      const raw = new XofStream(input).read(Math.ceil(m / 8));
      const want = Array.from(raw, (byte) => byte.toString(2).padStart(8, '0'))
        .join('')
        .slice(0, m)
        .split('')
        .map(Number);
      expect(bits).toEqual(want);
    }
    const ones = new XofStream(input).challengeBits(128).filter((b) => b === 1).length;
    expect(ones).toBeGreaterThan(32); // not constant (a 128-bit draw with ≤ 32 ones: p < 10⁻⁸)
    expect(ones).toBeLessThan(96);
  });

  it('challengeUnits(N, m): m values in Z*_N, pairwise distinct, from one continuing stream', () => {
    const { N } = fixtureKey(LEVEL112, 0);
    const x = new XofStream(input);
    const ys = x.challengeUnits(N, LEVEL112.m);
    expect(ys).toHaveLength(LEVEL112.m);
    for (const y of ys) {
      expect(y >= 1n && y < N).toBe(true);
      expect(gcd(y, N)).toBe(1n);
    }
    expect(new Set(ys).size).toBe(ys.length);
    // Deterministic for the same input; the next batch of the same stream is different.
    expect(new XofStream(input).challengeUnits(N, LEVEL112.m)).toEqual(ys);
    const more = x.challengeUnits(N, 4);
    for (const y of more) expect(ys.includes(y)).toBe(false);
    // Non-units are skipped for a modulus with small factors.
    const M = 3n * 5n * 7n * 11n * 13n * 17n * 19n;
    for (const y of new XofStream(input).challengeUnits(M, 200)) expect(gcd(y, M)).toBe(1n);
  });

  // The batched fast path (one gcd for all m candidates) must give exactly what the normative
  // per-value rejection gives, whether or not a non-unit shows up among the candidates.
  const reference = (stream: XofStream, N: bigint, m: number): bigint[] =>
    Array.from({ length: m }, () => sampleUnit(stream.rng, N));
  it.each<[string, bigint, number]>([
    ['an honest modulus (fast path)', fixtureKey(LEVEL112, 0).N, LEVEL112.m],
    ['a modulus with small factors (fallback path)', 3n * 5n * 7n * 11n * 13n * 17n * 19n, 50],
    ['a modulus whose candidates are rarely non-units', fixtureKey(LEVEL112, 1).N * 3n, 40],
  ])('challengeUnits equals per-value rejection sampling for %s', (_c, N, m) => {
    const a = new XofStream(input);
    const b = new XofStream(input);
    expect(a.challengeUnits(N, m)).toEqual(reference(b, N, m));
    // …and leaves the stream at the same position.
    expect(a.read(16)).toEqual(b.read(16));
  });
});
