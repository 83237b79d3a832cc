/**
 * The canonical encoding E(·) of CGGMP.md §2.1 with correction C11 — used both for every hash
 * input (commitments, session ids, Fiat–Shamir transcripts) and as the wire format of proofs.
 *
 * | value            | encoding                                                           |
 * |------------------|--------------------------------------------------------------------|
 * | byte string      | u32be(len) ‖ bytes                                                 |
 * | natural number   | u32be(len) ‖ minimal big-endian magnitude (0 ↦ len 0)              |
 * | signed integer   | sign byte (0 = +, 1 = −) ‖ natural(|x|); zero only with sign 0     |
 * | point            | 33-byte compressed SEC1; the identity is 0x00 where allowed        |
 * | scalar           | exactly 32 bytes, < q                                              |
 * | small integer    | u32be (indices, counts, t, n)                                      |
 * | list             | u32be(count) ‖ elements                                            |
 * | option           | 0x00 (absent) or 0x01 ‖ value                                      |
 * | tag              | a length-prefixed UTF-8 byte string                                |
 *
 * Every structure starts with its tag, which fixes the sequence of field types that follows; with
 * every variable-length field length-prefixed and every fixed-length field of fixed width, the
 * encoding is injective per tag (the α-shuffle of SECURITY.md §1.1 cannot re-split fields).
 * The {@link Decoder} is its exact inverse and rejects every non-canonical form (leading zeros,
 * "−0", bad sign or option bytes, oversized lengths, trailing bytes) with a {@link DecodeError}.
 * @module
 */
import { DecodeError, InvalidArgs } from '../errors.js';
import { bigintToBytes, bytesToBigint, concatBytes } from '../math/bytes.js';
import {
  decodePoint,
  decodeScalar,
  encodePoint,
  encodeScalar,
  type Point,
  POINT_BYTES,
  SCALAR_BYTES,
} from '../math/curve.js';

const utf8 = new TextEncoder();

/** Default bound on any single length-prefixed field when decoding (bytes): 64 KiB. */
export const DEFAULT_MAX_FIELD_BYTES = 1 << 16;
/** Default bound on any list length when decoding. */
export const DEFAULT_MAX_LIST = 1 << 12;

function u32(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgs('u32', 'out of range');
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

/** Appends canonical encodings; `finish()` returns the concatenation. */
export class Encoder {
  private readonly parts: Uint8Array[] = [];

  /** A length-prefixed byte string. */
  bytes(b: Uint8Array): this {
    // Copy: a caller mutating its buffer later must not change what was absorbed.
    this.parts.push(u32(b.length), b.slice());
    return this;
  }
  /** A length-prefixed UTF-8 string (tags, names). */
  str(s: string): this {
    // A lone surrogate would be replaced by U+FFFD: two strings, one encoding.
    if (/\p{Cs}/u.test(s)) throw new InvalidArgs('string', 'ill-formed UTF-16 (lone surrogate)');
    return this.bytes(utf8.encode(s));
  }
  /** A domain tag: same encoding as {@link Encoder.str}, named for readability. */
  tag(t: string): this {
    return this.str(t);
  }
  /** A natural number (x ≥ 0), minimal magnitude. */
  nat(x: bigint): this {
    if (x < 0n) throw new InvalidArgs('nat', 'must be non-negative');
    return this.bytes(bigintToBytes(x));
  }
  /** A signed integer: sign byte then magnitude; zero always has sign byte 0 (C11). */
  int(x: bigint): this {
    this.parts.push(new Uint8Array([x < 0n ? 1 : 0]));
    return this.nat(x < 0n ? -x : x);
  }
  /** A 32-bit unsigned integer (indices, counts, t, n). */
  u32(n: number): this {
    this.parts.push(u32(n));
    return this;
  }
  /** A single byte (flags, small enums). */
  u8(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 255) throw new InvalidArgs('u8', 'out of range');
    this.parts.push(new Uint8Array([n]));
    return this;
  }
  /** A curve point; the identity only with `allowIdentity` (C11). */
  point(P: Point, allowIdentity = false): this {
    this.parts.push(encodePoint(P, allowIdentity));
    return this;
  }
  /** A scalar < q, exactly 32 bytes. */
  scalar(x: bigint): this {
    this.parts.push(encodeScalar(x));
    return this;
  }
  /** A list: count, then each element written by `each`. */
  list<T>(items: readonly T[], each: (enc: this, item: T) => void): this {
    this.u32(items.length);
    for (const item of items) each(this, item);
    return this;
  }
  /** An optional value: 0x00 when absent, else 0x01 then the value. */
  option<T>(value: T | undefined, each: (enc: this, v: T) => void): this {
    if (value === undefined) return this.u8(0);
    this.u8(1);
    each(this, value);
    return this;
  }
  /** Raw bytes already in canonical form (a nested, self-delimiting encoding). */
  raw(b: Uint8Array): this {
    this.parts.push(b.slice());
    return this;
  }
  /** The concatenated encoding. */
  finish(): Uint8Array {
    return concatBytes(...this.parts);
  }
}

/** Decoding limits; every length read from the wire is bounded (ARCHITECTURE: bound every size). */
export interface DecodeLimits {
  /** Largest byte string / natural number magnitude, in bytes. */
  maxFieldBytes?: number;
  /** Largest list count. */
  maxList?: number;
}

/** Strict reader, the exact inverse of {@link Encoder}. */
export class Decoder {
  private off = 0;
  private readonly maxFieldBytes: number;
  private readonly maxList: number;

  constructor(
    private readonly buf: Uint8Array,
    limits: DecodeLimits = {}
  ) {
    this.maxFieldBytes = limits.maxFieldBytes ?? DEFAULT_MAX_FIELD_BYTES;
    this.maxList = limits.maxList ?? DEFAULT_MAX_LIST;
  }

  private take(n: number, field: string): Uint8Array {
    if (this.off + n > this.buf.length) throw new DecodeError(field, 'truncated input');
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }

  /** A u32be. */
  u32(field = 'u32'): number {
    const b = this.take(4, field);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }
  /** One byte. */
  u8(field = 'u8'): number {
    return this.take(1, field)[0]!;
  }
  /** A length-prefixed byte string of at most `max` bytes (default: the limit). */
  bytes(field = 'bytes', max = this.maxFieldBytes): Uint8Array {
    const len = this.u32(field);
    if (len > max) throw new DecodeError(field, `length ${len} exceeds the limit ${max}`);
    return this.take(len, field);
  }
  /** A string; returns it decoded as UTF-8 (fatal on invalid UTF-8). */
  str(field = 'string', max = 1024): string {
    const b = this.bytes(field, max);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      throw new DecodeError(field, 'invalid UTF-8');
    }
  }
  /** Read a tag and require it to equal `expected`. */
  expectTag(expected: string, field = 'tag'): void {
    const t = this.str(field, 256);
    if (t !== expected) throw new DecodeError(field, `expected tag ${expected}`);
  }
  /** A natural number, minimal encoding (no leading zero byte), at most `maxBits` bits if given. */
  nat(field = 'nat', maxBits?: number): bigint {
    const maxBytes = maxBits === undefined ? this.maxFieldBytes : Math.ceil(maxBits / 8);
    const b = this.bytes(field, maxBytes);
    if (b.length > 0 && b[0] === 0)
      throw new DecodeError(field, 'non-minimal integer (leading zero)');
    const x = bytesToBigint(b);
    if (maxBits !== undefined && x >> BigInt(maxBits) !== 0n) {
      throw new DecodeError(field, `integer exceeds ${maxBits} bits`);
    }
    return x;
  }
  /** A signed integer; rejects sign bytes other than 0/1 and "−0" (C11). */
  int(field = 'int', maxBits?: number): bigint {
    const sign = this.u8(field);
    if (sign > 1) throw new DecodeError(field, 'bad sign byte');
    const mag = this.nat(field, maxBits);
    if (sign === 1 && mag === 0n) throw new DecodeError(field, 'negative zero');
    return sign === 1 ? -mag : mag;
  }
  /** A point (identity only with `allowIdentity`). */
  point(field = 'point', allowIdentity = false): Point {
    const first = this.take(1, field)[0]!;
    if (first === 0) return decodePoint(new Uint8Array([0]), field, allowIdentity);
    this.off -= 1;
    return decodePoint(this.take(POINT_BYTES, field), field, allowIdentity);
  }
  /** A scalar < q. */
  scalar(field = 'scalar'): bigint {
    return decodeScalar(this.take(SCALAR_BYTES, field), field);
  }
  /** A list; `exactly` pins the count (e.g. m for Πmod/Πprm, t for Feldman vectors). */
  list<T>(field: string, each: (dec: this, i: number) => T, exactly?: number): T[] {
    const count = this.u32(field);
    if (exactly !== undefined && count !== exactly) {
      throw new DecodeError(field, `expected exactly ${exactly} entries, got ${count}`);
    }
    if (count > this.maxList)
      throw new DecodeError(field, `list of ${count} exceeds ${this.maxList}`);
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(each(this, i));
    return out;
  }
  /** An option: 0x00 → undefined, 0x01 → the value; any other byte is rejected. */
  option<T>(field: string, each: (dec: this) => T): T | undefined {
    const flag = this.u8(field);
    if (flag === 0) return undefined;
    if (flag !== 1) throw new DecodeError(field, 'bad option byte');
    return each(this);
  }
  /** Require that every byte was consumed. */
  end(field = 'message'): void {
    if (this.off !== this.buf.length) throw new DecodeError(field, 'trailing bytes');
  }
}

/** Shorthand: encode with a fresh {@link Encoder}. */
export function encode(write: (enc: Encoder) => void): Uint8Array {
  const enc = new Encoder();
  write(enc);
  return enc.finish();
}

/**
 * Decode `bytes` completely with `read` (trailing bytes rejected).
 * @throws DecodeError on any non-canonical input.
 */
export function decodeAll<T>(
  bytes: Uint8Array,
  read: (dec: Decoder) => T,
  limits?: DecodeLimits
): T {
  const dec = new Decoder(bytes, limits);
  const value = read(dec);
  dec.end();
  return value;
}
