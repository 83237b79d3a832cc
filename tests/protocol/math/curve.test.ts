/**
 * Tests of protocol/math/curve.ts: the strict secp256k1 point and scalar codecs (SECURITY.md §1.11,
 * CGGMP.md C11) and scalar multiplication by any integer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError, InvalidArgs } from '../../../protocol/errors.js';
import { bigintToFixedBytes } from '../../../protocol/math/bytes.js';
import {
  CURVE_ORDER,
  decodePoint,
  decodeScalar,
  encodePoint,
  encodeScalar,
  FIELD_PRIME,
  G,
  IDENTITY,
  isIdentity,
  modQ,
  mulBase,
  mulPoint,
  mulPublic,
  POINT_BYTES,
  SCALAR_BYTES,
} from '../../../protocol/math/curve.js';

const scalarArb = fc.bigInt({ min: 1n, max: CURVE_ORDER - 1n });
const compressed = (prefix: number, x: bigint): Uint8Array =>
  Uint8Array.from([prefix, ...bigintToFixedBytes(x, 32)]);

/** Whether 02‖x is a valid point, found without our decoder (y² = x³ + 7 has a root). */
function onCurve(x: bigint): boolean {
  const p = FIELD_PRIME;
  const rhs = (((x * x) % p) * x + 7n) % p;
  // Euler's criterion; p ≡ 3 (mod 4).
  let r = 1n;
  let b = rhs;
  let e = (p - 1n) / 2n;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % p;
    b = (b * b) % p;
    e >>= 1n;
  }
  return rhs === 0n || r === 1n;
}

describe('point codec', () => {
  it('round trips every non-identity point as 33 compressed bytes', () => {
    fc.assert(
      fc.property(scalarArb, (k) => {
        const P = mulBase(k);
        const b = encodePoint(P);
        expect(b).toHaveLength(POINT_BYTES);
        expect(b[0] === 2 || b[0] === 3).toBe(true);
        expect(decodePoint(b).equals(P)).toBe(true);
        expect(decodePoint(b, 'P', true).equals(P)).toBe(true);
      }),
      { numRuns: 100 }
    );
    expect(decodePoint(encodePoint(G)).equals(G)).toBe(true);
  });

  it('rejects the uncompressed form (0x04, 65 bytes) and 0x04 with 33 bytes', () => {
    const P = mulBase(12345n);
    const raw = P.toBytes(false);
    expect(raw[0]).toBe(4);
    expect(() => decodePoint(raw)).toThrow(DecodeError);
    const short = Uint8Array.from([4, ...raw.subarray(1, 33)]);
    expect(() => decodePoint(short)).toThrow(/prefix/);
  });

  it('rejects hybrid forms (0x06 / 0x07) of both lengths', () => {
    const P = mulBase(777n);
    const raw = P.toBytes(false);
    const yOdd = (raw[64]! & 1) === 1;
    const hybrid = Uint8Array.from([yOdd ? 7 : 6, ...raw.subarray(1)]);
    expect(() => decodePoint(hybrid)).toThrow(DecodeError);
    const comp = encodePoint(P);
    for (const prefix of [6, 7]) {
      const h = comp.slice();
      h[0] = prefix;
      expect(() => decodePoint(h)).toThrow(/prefix/);
    }
  });

  it('rejects every prefix other than 0x02 / 0x03', () => {
    const comp = encodePoint(mulBase(99n));
    for (let prefix = 0; prefix < 256; prefix++) {
      if (prefix === 2 || prefix === 3) continue;
      const b = comp.slice();
      b[0] = prefix;
      expect(() => decodePoint(b, 'P', true), `prefix ${prefix}`).toThrow(DecodeError);
    }
  });

  it('rejects x ≥ p, including an x + p that would reduce to a valid x', () => {
    expect(() => decodePoint(compressed(2, FIELD_PRIME))).toThrow(/field prime/);
    expect(() => decodePoint(compressed(3, (1n << 256n) - 1n))).toThrow(/field prime/);
    // 2^256 − p = 2^32 + 977, so every small x has a second 32-byte spelling x + p. Find a small x
    // on the curve: 02‖x decodes, 02‖(x + p) must not.
    let x = 1n;
    while (!onCurve(x)) x++;
    const P = decodePoint(compressed(2, x));
    expect(P.toAffine().x).toBe(x);
    expect(x + FIELD_PRIME < 1n << 256n).toBe(true);
    expect(() => decodePoint(compressed(2, x + FIELD_PRIME))).toThrow(/field prime/);
    expect(() => decodePoint(compressed(3, x + FIELD_PRIME))).toThrow(/field prime/);
  });

  it('rejects an x that is not on the curve', () => {
    let found = 0;
    for (let x = 0n; found < 5; x++) {
      if (onCurve(x)) continue;
      found++;
      expect(() => decodePoint(compressed(2, x))).toThrow(/not a point/);
      expect(() => decodePoint(compressed(3, x))).toThrow(/not a point/);
    }
    // One large off-curve x too.
    let y = FIELD_PRIME - 1n;
    while (onCurve(y)) y--;
    expect(() => decodePoint(compressed(2, y))).toThrow(/not a point/);
  });

  it('rejects wrong lengths', () => {
    const comp = encodePoint(mulBase(5n));
    for (const b of [
      new Uint8Array(0),
      Uint8Array.from([2]),
      Uint8Array.from([0, 0]),
      comp.subarray(0, 32),
      comp.subarray(1),
      Uint8Array.from([...comp, 0]),
      new Uint8Array(65),
    ]) {
      expect(() => decodePoint(b, 'P', true), `length ${b.length}`).toThrow(DecodeError);
    }
  });

  it('the identity: refused unless allowed, then exactly [0x00]', () => {
    expect(() => encodePoint(IDENTITY)).toThrow(InvalidArgs);
    expect(encodePoint(IDENTITY, true)).toEqual(Uint8Array.from([0]));
    expect(() => decodePoint(Uint8Array.from([0]))).toThrow(/identity/);
    expect(isIdentity(decodePoint(Uint8Array.from([0]), 'P', true))).toBe(true);
    // No other spelling of the identity.
    expect(() => decodePoint(new Uint8Array(33), 'P', true)).toThrow(DecodeError);
    expect(() => decodePoint(Uint8Array.from([0, 0]), 'P', true)).toThrow(DecodeError);
    expect(() => decodePoint(compressed(2, 0n), 'P', true)).toThrow(DecodeError);
  });

  it('names the field in the error', () => {
    try {
      decodePoint(Uint8Array.from([9]), 'X[3]');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      expect((e as DecodeError).field).toBe('X[3]');
    }
  });
});

describe('scalar codec', () => {
  it('round trips [0, q) as exactly 32 bytes', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: CURVE_ORDER - 1n }), (x) => {
        const b = encodeScalar(x);
        expect(b).toHaveLength(SCALAR_BYTES);
        expect(decodeScalar(b)).toBe(x);
      }),
      { numRuns: 200 }
    );
    expect(decodeScalar(encodeScalar(0n))).toBe(0n);
    expect(decodeScalar(encodeScalar(CURVE_ORDER - 1n))).toBe(CURVE_ORDER - 1n);
  });

  it('refuses to encode values outside [0, q)', () => {
    for (const x of [-1n, CURVE_ORDER, CURVE_ORDER + 1n, 1n << 256n]) {
      expect(() => encodeScalar(x)).toThrow(InvalidArgs);
    }
  });

  it('rejects values ≥ q and wrong lengths', () => {
    for (const x of [CURVE_ORDER, CURVE_ORDER + 1n, (1n << 256n) - 1n]) {
      expect(() => decodeScalar(bigintToFixedBytes(x, 32))).toThrow(/curve order/);
    }
    for (const len of [0, 1, 31, 33, 64]) {
      expect(() => decodeScalar(new Uint8Array(len))).toThrow(DecodeError);
    }
  });
});

describe('scalar multiplication', () => {
  it('0, q and multiples of q give the identity', () => {
    for (const k of [0n, CURVE_ORDER, -CURVE_ORDER, 5n * CURVE_ORDER]) {
      expect(isIdentity(mulBase(k))).toBe(true);
      expect(isIdentity(mulPoint(mulBase(7n), k))).toBe(true);
    }
  });

  it('−1 gives the negation, q + 1 gives the point, k and k mod q agree', () => {
    const P = mulBase(31337n);
    expect(mulPoint(P, -1n).equals(P.negate())).toBe(true);
    expect(mulBase(-1n).equals(G.negate())).toBe(true);
    expect(mulPoint(P, CURVE_ORDER + 1n).equals(P)).toBe(true);
    expect(mulPoint(P, 1n).equals(P)).toBe(true);
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 600n), max: 1n << 600n }), (k) => {
        expect(mulBase(k).equals(mulBase(modQ(k)))).toBe(true);
        expect(mulBase(k).add(mulBase(-k)).equals(IDENTITY)).toBe(true);
      }),
      { numRuns: 40 }
    );
  });

  it('is linear: a·G + b·G = (a + b)·G and a·(b·G) = (ab)·G', () => {
    fc.assert(
      fc.property(scalarArb, scalarArb, (a, b) => {
        expect(
          mulBase(a)
            .add(mulBase(b))
            .equals(mulBase(a + b))
        ).toBe(true);
        expect(mulPoint(mulBase(b), a).equals(mulBase(a * b))).toBe(true);
      }),
      { numRuns: 30 }
    );
  });

  it('modQ reduces into [0, q)', () => {
    expect(modQ(-1n)).toBe(CURVE_ORDER - 1n);
    expect(modQ(CURVE_ORDER)).toBe(0n);
    expect(modQ(CURVE_ORDER + 5n)).toBe(5n);
  });

  it('mulPublic (variable-time, verification only) equals the constant-time mulPoint', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }), (k) => {
        expect(mulPublic(G, k).equals(mulPoint(G, k))).toBe(true);
      }),
      { numRuns: 100 }
    );
    for (const k of [0n, CURVE_ORDER, -CURVE_ORDER, 1n, -1n]) {
      expect(mulPublic(G, k).equals(mulPoint(G, k))).toBe(true);
    }
    expect(isIdentity(mulPublic(IDENTITY, 5n))).toBe(true);
  });
});
