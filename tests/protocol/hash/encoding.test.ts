/**
 * Tests of protocol/hash/encoding.ts, the canonical encoding E(·) (CGGMP.md §2.1, C11): round trips
 * of every type, injectivity as a property over fixed schemas (the α-shuffle of SECURITY.md §1.1
 * must be impossible), and the strict decoder's rejection of every non-canonical form.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError, InvalidArgs } from '../../../protocol/errors.js';
import {
  decodeAll,
  Decoder,
  DEFAULT_MAX_FIELD_BYTES,
  DEFAULT_MAX_LIST,
  encode,
  Encoder,
} from '../../../protocol/hash/encoding.js';
import { bytesEqual } from '../../../protocol/math/bytes.js';
import { CURVE_ORDER, G, IDENTITY, mulBase } from '../../../protocol/math/curve.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const u8 = (...xs: number[]): Uint8Array => Uint8Array.from(xs);

/** A fixed schema: its encoder, its decoder and the value generator (small, to provoke near-misses). */
interface Schema<T> {
  name: string;
  arb: fc.Arbitrary<T>;
  write: (e: Encoder, v: T) => void;
  read: (d: Decoder) => T;
}

// Tiny alphabets and lengths make distinct tuples with overlapping byte content frequent.
const smallBytes = fc.uint8Array({ minLength: 0, maxLength: 4, min: 0, max: 2 });
const smallNat = fc.oneof(
  fc.bigInt({ min: 0n, max: 600n }),
  fc.bigInt({ min: 0n, max: 1n << 80n })
);
const smallInt = fc.oneof(
  fc.bigInt({ min: -600n, max: 600n }),
  fc.bigInt({ min: -(1n << 80n), max: 1n << 80n })
);

const schemas: Array<Schema<unknown>> = [
  {
    name: '[bytes, bytes]',
    arb: fc.tuple(smallBytes, smallBytes),
    write: (e, [a, b]: [Uint8Array, Uint8Array]) => e.bytes(a).bytes(b),
    read: (d) => [d.bytes(), d.bytes()],
  },
  {
    name: '[nat, nat]',
    arb: fc.tuple(smallNat, smallNat),
    write: (e, [a, b]: [bigint, bigint]) => e.nat(a).nat(b),
    read: (d) => [d.nat(), d.nat()],
  },
  {
    name: '[int, bytes]',
    arb: fc.tuple(smallInt, smallBytes),
    write: (e, [a, b]: [bigint, Uint8Array]) => e.int(a).bytes(b),
    read: (d) => [d.int(), d.bytes()],
  },
  {
    name: '[option<u32>, nat]',
    arb: fc.tuple(fc.option(fc.nat({ max: 3 }), { nil: undefined }), smallNat),
    write: (e, [a, b]: [number | undefined, bigint]) => e.option(a, (en, v) => en.u32(v)).nat(b),
    read: (d) => [d.option('o', (dd) => dd.u32()), d.nat()],
  },
  {
    name: '[list<nat>]',
    arb: fc.tuple(fc.array(smallNat, { maxLength: 4 })),
    write: (e, [xs]: [bigint[]]) => e.list(xs, (en, x) => en.nat(x)),
    read: (d) => [d.list('xs', (dd) => dd.nat())],
  },
  {
    name: '[list<bytes>, str]',
    arb: fc.tuple(fc.array(smallBytes, { maxLength: 3 }), fc.string({ maxLength: 3 })),
    write: (e, [xs, s]: [Uint8Array[], string]) => e.list(xs, (en, x) => en.bytes(x)).str(s),
    read: (d) => [d.list('xs', (dd) => dd.bytes()), d.str()],
  },
] as Array<Schema<unknown>>;

/** Structural equality for the values the schemas produce. */
function same(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return bytesEqual(a, b);
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => same(x, b[i]));
  }
  return a === b;
}

describe('round trips', () => {
  it('every type decodes back to what was encoded', () => {
    const P = mulBase(424242n);
    const bytes = encode((e) =>
      e
        .tag('mpcd/cggmp21/v1/test')
        .bytes(u8(1, 2, 3))
        .bytes(new Uint8Array(0))
        .str('héllo ∀')
        .nat(0n)
        .nat(255n)
        .nat(256n)
        .nat((1n << 3000n) - 1n)
        .int(0n)
        .int(-1n)
        .int(1n)
        .int(-(1n << 1000n))
        .u32(0)
        .u32(0xffffffff)
        .u8(0)
        .u8(255)
        .point(P)
        .point(IDENTITY, true)
        .scalar(0n)
        .scalar(CURVE_ORDER - 1n)
        .list([1n, 2n, 3n], (en, x) => en.nat(x))
        .list([], (en, x: bigint) => en.nat(x))
        .option(undefined, (en, x: number) => en.u32(x))
        .option(7, (en, x) => en.u32(x))
        .raw(encode((e2) => e2.u32(9).nat(10n)))
    );
    const out = decodeAll(bytes, (d) => {
      d.expectTag('mpcd/cggmp21/v1/test');
      return {
        b1: d.bytes(),
        b2: d.bytes(),
        s: d.str(),
        n: [d.nat(), d.nat(), d.nat(), d.nat('big', 3000)],
        i: [d.int(), d.int(), d.int(), d.int('i', 1001)],
        u32: [d.u32(), d.u32()],
        u8: [d.u8(), d.u8()],
        P: d.point(),
        O: d.point('O', true),
        sc: [d.scalar(), d.scalar()],
        l1: d.list('l1', (dd) => dd.nat()),
        l2: d.list('l2', (dd) => dd.nat(), 0),
        o1: d.option('o1', (dd) => dd.u32()),
        o2: d.option('o2', (dd) => dd.u32()),
        raw: [d.u32(), d.nat()],
      };
    });
    expect(out.b1).toEqual(u8(1, 2, 3));
    expect(out.b2).toEqual(new Uint8Array(0));
    expect(out.s).toBe('héllo ∀');
    expect(out.n).toEqual([0n, 255n, 256n, (1n << 3000n) - 1n]);
    expect(out.i).toEqual([0n, -1n, 1n, -(1n << 1000n)]);
    expect(out.u32).toEqual([0, 0xffffffff]);
    expect(out.u8).toEqual([0, 255]);
    expect(out.P.equals(P)).toBe(true);
    expect(out.O.equals(IDENTITY)).toBe(true);
    expect(out.sc).toEqual([0n, CURVE_ORDER - 1n]);
    expect(out.l1).toEqual([1n, 2n, 3n]);
    expect(out.l2).toEqual([]);
    expect(out.o1).toBeUndefined();
    expect(out.o2).toBe(7);
    expect(out.raw).toEqual([9, 10n]);
  });

  it('pins the byte layout of the C11 table', () => {
    expect(hex(encode((e) => e.bytes(u8(0xaa, 0xbb))))).toBe('00000002aabb');
    expect(hex(encode((e) => e.nat(0n)))).toBe('00000000');
    expect(hex(encode((e) => e.nat(256n)))).toBe('000000020100');
    expect(hex(encode((e) => e.int(0n)))).toBe('0000000000');
    expect(hex(encode((e) => e.int(-5n)))).toBe('010000000105');
    expect(hex(encode((e) => e.u32(258)))).toBe('00000102');
    expect(hex(encode((e) => e.list([1n], (en, x) => en.nat(x))))).toBe('000000010000000101');
    expect(hex(encode((e) => e.option(undefined, (en, x: number) => en.u8(x))))).toBe('00');
    expect(hex(encode((e) => e.option(4, (en, x) => en.u8(x))))).toBe('0104');
    expect(hex(encode((e) => e.tag('ab')))).toBe('000000026162');
    expect(hex(encode((e) => e.point(IDENTITY, true)))).toBe('00');
    expect(encode((e) => e.point(G))).toHaveLength(33);
    expect(encode((e) => e.scalar(1n))).toHaveLength(32);
  });

  it.each(schemas.map((s) => [s.name, s] as const))(
    '%s: decode(encode(v)) = v (fast-check)',
    (_n, schema) => {
      fc.assert(
        fc.property(schema.arb, (v) => {
          const b = encode((e) => schema.write(e, v));
          expect(same(decodeAll(b, schema.read), v)).toBe(true);
        }),
        { numRuns: 300 }
      );
    }
  );
});

describe('injectivity', () => {
  it.each(schemas.map((s) => [s.name, s] as const))(
    '%s: distinct tuples never share an encoding (fast-check)',
    (_n, schema) => {
      fc.assert(
        fc.property(schema.arb, schema.arb, (a, b) => {
          const ea = encode((e) => schema.write(e, a));
          const eb = encode((e) => schema.write(e, b));
          if (!same(a, b)) expect(bytesEqual(ea, eb)).toBe(false);
          else expect(bytesEqual(ea, eb)).toBe(true);
        }),
        { numRuns: 2000 }
      );
    }
  );

  it('no field shift: ("ab", "c") ≠ ("a", "bc"), also for strings and nats', () => {
    const enc2 = (a: string, b: string): string => hex(encode((e) => e.str(a).str(b)));
    expect(enc2('ab', 'c')).not.toBe(enc2('a', 'bc'));
    expect(enc2('', 'abc')).not.toBe(enc2('abc', ''));
    const bb = (a: number[], b: number[]): string =>
      hex(encode((e) => e.bytes(u8(...a)).bytes(u8(...b))));
    expect(bb([0x61, 0x62], [0x63])).not.toBe(bb([0x61], [0x62, 0x63]));
    const nn = (a: bigint, b: bigint): string => hex(encode((e) => e.nat(a).nat(b)));
    expect(nn(0x0102n, 0x03n)).not.toBe(nn(0x01n, 0x0203n));
  });

  it('−0 does not exist: int(0n) = int(-0n), sign byte 0', () => {
    expect(hex(encode((e) => e.int(-0n)))).toBe(hex(encode((e) => e.int(0n))));
    expect(encode((e) => e.int(-0n))[0]).toBe(0);
    expect(() => decodeAll(u8(1, 0, 0, 0, 0), (d) => d.int())).toThrow(/negative zero/);
    // "−0" spelled with a (non-minimal) zero magnitude byte is refused too.
    expect(() => decodeAll(u8(1, 0, 0, 0, 1, 0), (d) => d.int())).toThrow(DecodeError);
  });

  it('absent ≠ present-with-0 ≠ nat 0', () => {
    const absent = hex(encode((e) => e.option(undefined, (en, x: bigint) => en.nat(x))));
    const zero = hex(encode((e) => e.option(0n, (en, x) => en.nat(x))));
    const nat0 = hex(encode((e) => e.nat(0n)));
    expect(new Set([absent, zero, nat0]).size).toBe(3);
  });

  it('empty list ≠ list containing empty bytes ≠ empty bytes', () => {
    const empty = hex(encode((e) => e.list([], (en, x: Uint8Array) => en.bytes(x))));
    const one = hex(encode((e) => e.list([new Uint8Array(0)], (en, x) => en.bytes(x))));
    const two = hex(
      encode((e) => e.list([new Uint8Array(0), new Uint8Array(0)], (en, x) => en.bytes(x)))
    );
    const bytes = hex(encode((e) => e.bytes(new Uint8Array(0))));
    expect(new Set([empty, one, two]).size).toBe(3);
    // Across schemas E(list []) and E(bytes "") are both u32(0): injectivity is per schema, which is
    // why every structure starts with its own tag.
    expect(empty).toBe(bytes);
  });

  it('strings: ill-formed UTF-16 is refused, else a lone surrogate collides with U+FFFD', () => {
    // TextEncoder replaces a lone surrogate by U+FFFD, so two different JS strings would share an
    // encoding. Well-formed strings (surrogate pairs included) are fine.
    expect(hex(encode((e) => e.str('a\u{1F600}b')))).toBe('0000000661f09f988062');
    for (const s of ['\uD800', 'x\uDC00', '\uDC00\uD800']) {
      expect(() => new Encoder().str(s), JSON.stringify(s)).toThrow(InvalidArgs);
    }
  });

  it('different tags give different encodings even with equal fields', () => {
    const a = hex(encode((e) => e.tag('mpcd/cggmp21/v1/a').nat(1n)));
    const b = hex(encode((e) => e.tag('mpcd/cggmp21/v1/b').nat(1n)));
    const c = hex(encode((e) => e.tag('mpcd/cggmp21/v1/a\u0000').nat(1n)));
    expect(new Set([a, b, c]).size).toBe(3);
  });
});

describe('the encoder refuses values it cannot encode canonically', () => {
  it('negative nat, out-of-range u32/u8, identity without permission, scalar ≥ q', () => {
    expect(() => new Encoder().nat(-1n)).toThrow(InvalidArgs);
    for (const n of [-1, 2 ** 32, 1.5, Number.NaN])
      expect(() => new Encoder().u32(n)).toThrow(InvalidArgs);
    for (const n of [-1, 256, 0.5]) expect(() => new Encoder().u8(n)).toThrow(InvalidArgs);
    expect(() => new Encoder().point(IDENTITY)).toThrow(InvalidArgs);
    expect(() => new Encoder().scalar(CURVE_ORDER)).toThrow(InvalidArgs);
    expect(() => new Encoder().scalar(-1n)).toThrow(InvalidArgs);
  });
});

describe('the decoder rejects every non-canonical form', () => {
  const dec =
    (bytes: Uint8Array, read: (d: Decoder) => unknown, limits = {}): (() => unknown) =>
    () =>
      decodeAll(bytes, read, limits);

  it('leading zeros in a natural number (including a one-byte zero)', () => {
    expect(dec(u8(0, 0, 0, 2, 0, 5), (d) => d.nat())).toThrow(/leading zero/);
    expect(dec(u8(0, 0, 0, 1, 0), (d) => d.nat())).toThrow(/leading zero/);
    expect(dec(u8(0, 0, 0, 0, 2, 0, 1), (d) => d.int())).toThrow(/leading zero/);
    expect(decodeAll(u8(0, 0, 0, 1, 5), (d) => d.nat())).toBe(5n);
  });

  it('a sign byte other than 0/1', () => {
    for (const s of [2, 0x80, 0xff]) {
      expect(dec(u8(s, 0, 0, 0, 1, 5), (d) => d.int())).toThrow(/sign/);
    }
  });

  it('an option byte other than 0/1', () => {
    for (const o of [2, 0x80, 0xff]) {
      expect(dec(u8(o, 0, 0, 0, 0), (d) => d.option('o', (dd) => dd.u32()))).toThrow(/option/);
    }
  });

  it('lengths over the limit', () => {
    const five = encode((e) => e.bytes(new Uint8Array(5)));
    expect(dec(five, (d) => d.bytes(), { maxFieldBytes: 4 })).toThrow(/exceeds the limit/);
    expect(decodeAll(five, (d) => d.bytes(), { maxFieldBytes: 5 })).toHaveLength(5);
    expect(dec(five, (d) => d.bytes('b', 4))).toThrow(/exceeds the limit/);
    // A declared length of 2^32 − 1 is refused before any allocation or read.
    expect(dec(u8(0xff, 0xff, 0xff, 0xff), (d) => d.bytes())).toThrow(/exceeds the limit/);
    const big = encode((e) => e.bytes(new Uint8Array(DEFAULT_MAX_FIELD_BYTES + 1)));
    expect(dec(big, (d) => d.bytes())).toThrow(/exceeds the limit/);
    // Strings have their own default limit (1024 bytes), tags 256.
    const s = encode((e) => e.str('x'.repeat(1025)));
    expect(dec(s, (d) => d.str())).toThrow(/exceeds the limit/);
    const t = encode((e) => e.tag('mpcd/cggmp21/v1/' + 'x'.repeat(241)));
    expect(dec(t, (d) => d.expectTag('mpcd/cggmp21/v1/' + 'x'.repeat(241)))).toThrow(/exceeds/);
  });

  it('a natural number over maxBits (by length and by value)', () => {
    const v255 = encode((e) => e.nat(1n << 255n)); // 256 bits, 32 bytes
    expect(decodeAll(v255, (d) => d.nat('x', 256))).toBe(1n << 255n);
    expect(dec(v255, (d) => d.nat('x', 255))).toThrow(/exceeds 255 bits/);
    const nine = encode((e) => e.nat(0x1ffn)); // 9 bits in 2 bytes
    expect(decodeAll(nine, (d) => d.nat('x', 9))).toBe(0x1ffn);
    expect(
      dec(
        encode((e) => e.nat(0x200n)),
        (d) => d.nat('x', 9)
      )
    ).toThrow(/exceeds 9 bits/);
    expect(
      dec(
        encode((e) => e.nat(1n << 16n)),
        (d) => d.nat('x', 9)
      )
    ).toThrow(DecodeError);
    expect(
      dec(
        encode((e) => e.int(-(1n << 9n))),
        (d) => d.int('x', 9)
      )
    ).toThrow(/exceeds 9 bits/);
    expect(
      decodeAll(
        encode((e) => e.int(-0x1ffn)),
        (d) => d.int('x', 9)
      )
    ).toBe(-0x1ffn);
    expect(
      dec(
        encode((e) => e.nat(1n)),
        (d) => d.nat('x', 0)
      )
    ).toThrow(DecodeError);
    expect(
      decodeAll(
        encode((e) => e.nat(0n)),
        (d) => d.nat('x', 0)
      )
    ).toBe(0n);
  });

  it('list counts over the limit or different from `exactly`', () => {
    const three = encode((e) => e.list([1n, 2n, 3n], (en, x) => en.nat(x)));
    expect(dec(three, (d) => d.list('l', (dd) => dd.nat()), { maxList: 2 })).toThrow(/exceeds/);
    expect(dec(three, (d) => d.list('l', (dd) => dd.nat(), 2))).toThrow(/exactly 2/);
    expect(dec(three, (d) => d.list('l', (dd) => dd.nat(), 4))).toThrow(/exactly 4/);
    expect(decodeAll(three, (d) => d.list('l', (dd) => dd.nat(), 3))).toEqual([1n, 2n, 3n]);
    // A huge count is refused before looping.
    const huge = u8(0xff, 0xff, 0xff, 0xff);
    expect(dec(huge, (d) => d.list('l', (dd) => dd.u8()))).toThrow(/exceeds/);
    const over = encode((e) => e.u32(DEFAULT_MAX_LIST + 1));
    expect(dec(over, (d) => d.list('l', (dd) => dd.u8()))).toThrow(/exceeds/);
  });

  it('truncated input: every proper prefix of a valid encoding is refused', () => {
    const read = (d: Decoder): unknown => {
      d.expectTag('mpcd/cggmp21/v1/t');
      return [
        d.nat(),
        d.int(),
        d.point(),
        d.scalar(),
        d.option('o', (dd) => dd.u32()),
        d.list('l', (dd) => dd.bytes(), 2),
        d.u8(),
      ];
    };
    const full = encode((e) =>
      e
        .tag('mpcd/cggmp21/v1/t')
        .nat(123456789n)
        .int(-77n)
        .point(mulBase(3n))
        .scalar(42n)
        .option(5, (en, x) => en.u32(x))
        .list([u8(1), u8(2, 3)], (en, x) => en.bytes(x))
        .u8(9)
    );
    expect(() => decodeAll(full, read)).not.toThrow();
    for (let len = 0; len < full.length; len++) {
      expect(() => decodeAll(full.subarray(0, len), read), `prefix ${len}`).toThrow(DecodeError);
    }
  });

  it('trailing bytes', () => {
    const b = encode((e) => e.nat(5n));
    expect(dec(u8(...b, 0), (d) => d.nat())).toThrow(/trailing/);
    const dd = new Decoder(u8(...b, 1, 2));
    dd.nat();
    expect(() => dd.end()).toThrow(/trailing/);
  });

  it('a wrong tag (different, prefix, extension, case)', () => {
    const b = encode((e) => e.tag('mpcd/cggmp21/v1/zk/enc'));
    for (const other of [
      'mpcd/cggmp21/v1/zk/mod',
      'mpcd/cggmp21/v1/zk/en',
      'mpcd/cggmp21/v1/zk/enc/x',
      'MPCD/cggmp21/v1/zk/enc',
    ]) {
      expect(dec(b, (d) => d.expectTag(other))).toThrow(/expected tag/);
    }
    expect(() => decodeAll(b, (d) => d.expectTag('mpcd/cggmp21/v1/zk/enc'))).not.toThrow();
  });

  it('invalid UTF-8', () => {
    for (const bad of [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0x80]]) {
      const b = encode((e) => e.bytes(u8(...bad)));
      expect(
        dec(b, (d) => d.str()),
        hex(u8(...bad))
      ).toThrow(/UTF-8/);
    }
  });

  it('points and scalars keep their strict codecs inside the decoder', () => {
    const P = encode((e) => e.point(mulBase(5n)));
    const bad = P.slice();
    bad[0] = 4;
    expect(dec(bad, (d) => d.point())).toThrow(DecodeError);
    expect(dec(u8(0), (d) => d.point())).toThrow(/identity/);
    expect(decodeAll(u8(0), (d) => d.point('O', true)).equals(IDENTITY)).toBe(true);
    const q = encode((e) => e.raw(Buffer.from(CURVE_ORDER.toString(16), 'hex')));
    expect(dec(q, (d) => d.scalar())).toThrow(/curve order/);
  });

  it('random garbage never decodes as a non-canonical value (decode ∘ encode = id on success)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        for (const schema of schemas) {
          let v: unknown;
          try {
            v = decodeAll(bytes, schema.read);
          } catch (e) {
            expect(e).toBeInstanceOf(DecodeError);
            continue;
          }
          // Whatever decodes must re-encode to the very same bytes (canonical).
          expect(hex(encode((e) => schema.write(e, v)))).toBe(hex(bytes));
        }
      }),
      { numRuns: 3000 }
    );
  });
});
