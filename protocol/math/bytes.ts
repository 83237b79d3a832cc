/**
 * Conversions between non-negative bigints and big-endian bytes.
 *
 * Every encoding that crosses a trust boundary goes through `protocol/hash/encoding.ts`, which is
 * strict about minimality; these helpers are the raw building blocks.
 * @module
 */
import { InvalidArgs } from '../errors.js';

/** Number of bits of a non-negative bigint (0 for 0). */
export function bitLength(x: bigint): number {
  if (x < 0n) x = -x;
  if (x === 0n) return 0;
  return x.toString(2).length;
}

/**
 * Minimal big-endian magnitude of a non-negative integer (0 → empty array).
 * @throws InvalidArgs on a negative input.
 */
export function bigintToBytes(x: bigint): Uint8Array {
  if (x < 0n) throw new InvalidArgs('x', 'must be non-negative');
  if (x === 0n) return new Uint8Array(0);
  let hex = x.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/**
 * Fixed-width big-endian encoding, left-padded with zeros.
 * @throws InvalidArgs if x is negative or does not fit in `len` bytes.
 */
export function bigintToFixedBytes(x: bigint, len: number): Uint8Array {
  const raw = bigintToBytes(x);
  if (raw.length > len) throw new InvalidArgs('x', `does not fit in ${len} bytes`);
  const out = new Uint8Array(len);
  out.set(raw, len - raw.length);
  return out;
}

/** Big-endian bytes → non-negative bigint (empty → 0). Leading zeros are accepted here. */
export function bytesToBigint(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  return BigInt('0x' + Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex'));
}

/** Big-endian `Buffer` of a non-negative bigint, at least one byte long (OpenSSL wants ≥ 1 byte). */
export function bigintToBuffer(x: bigint): Buffer {
  let hex = x.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return Buffer.from(hex, 'hex');
}

/** Constant-length byte comparison (lengths are public). */
/** Lexicographic order of byte strings (a shorter prefix sorts first): the roster order. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const len = Math.min(a.length, b.length);
  for (let i = 0; i < len; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Concatenate byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
