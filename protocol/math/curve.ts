/**
 * secp256k1 adapter over `@noble/curves` (SEC 2 §2.4.1): canonical encodings only.
 *
 * - Points travel as the 33-byte SEC1 compressed form; uncompressed, hybrid, x ≥ p and off-curve
 *   encodings are rejected (SECURITY.md §1.11). The identity is rejected unless the caller says it
 *   is meaningful there (CGGMP.md C11: it then encodes as the single byte 0x00).
 * - Scalars are exactly 32 bytes with value < q; nothing is silently reduced mod q, because a
 *   reduction would let two encodings of one value collide in a transcript.
 * @module
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { DecodeError, InvalidArgs } from '../errors.js';
import { bigintToFixedBytes, bytesToBigint } from './bytes.js';
import { mod } from './modular.js';

/** A secp256k1 point (noble's projective point class). */
export type Point = InstanceType<typeof secp256k1.Point>;

/** The point class, for callers that need `Point.BASE` / `Point.ZERO`. */
export const PointClass = secp256k1.Point;
/** q: the prime order of the secp256k1 group. */
export const CURVE_ORDER: bigint = secp256k1.Point.Fn.ORDER;
/** p: the field prime of secp256k1. */
export const FIELD_PRIME: bigint = secp256k1.Point.Fp.ORDER;
/** The generator G. */
export const G: Point = secp256k1.Point.BASE;
/** The identity O. */
export const IDENTITY: Point = secp256k1.Point.ZERO;
/** Length of a compressed point encoding. */
export const POINT_BYTES = 33;
/** Length of a scalar encoding. */
export const SCALAR_BYTES = 32;

/** x mod q, for scalar arithmetic on values computed locally (never on wire input). */
export function modQ(x: bigint): bigint {
  return mod(x, CURVE_ORDER);
}

/**
 * k·P for any integer k (reduced mod q first); k ≡ 0 gives the identity. Variable-time in k is
 * avoided by noble's `multiply` (constant-time ladder) for non-zero scalars.
 */
export function mulPoint(P: Point, k: bigint): Point {
  const r = modQ(k);
  if (r === 0n) return IDENTITY;
  return P.multiply(r);
}

/**
 * k·P for **public** k (proof verification): noble's variable-time `multiplyUnsafe`, ~3× faster
 * than the constant-time ladder. Never use it with a secret scalar.
 */
export function mulPublic(P: Point, k: bigint): Point {
  const r = modQ(k);
  if (r === 0n || isIdentity(P)) return IDENTITY;
  return P.multiplyUnsafe(r);
}

/** k·G (see {@link mulPoint}). */
export function mulBase(k: bigint): Point {
  return mulPoint(G, k);
}

/** Whether P is the identity. */
export function isIdentity(P: Point): boolean {
  return P.equals(IDENTITY);
}

/**
 * Canonical encoding of a point: 33-byte compressed form; the identity is `[0x00]` and is only
 * produced when `allowIdentity` is set.
 * @throws InvalidArgs on the identity without `allowIdentity`.
 */
export function encodePoint(P: Point, allowIdentity = false): Uint8Array {
  if (isIdentity(P)) {
    if (!allowIdentity) throw new InvalidArgs('point', 'identity is not allowed here');
    return new Uint8Array([0]);
  }
  return P.toBytes(true);
}

/**
 * Strict point decoding (the exact inverse of {@link encodePoint}).
 * @param field name used in the error message
 * @throws DecodeError on any non-canonical, off-curve or (unless allowed) identity encoding.
 */
export function decodePoint(bytes: Uint8Array, field = 'point', allowIdentity = false): Point {
  if (bytes.length === 1 && bytes[0] === 0) {
    if (!allowIdentity) throw new DecodeError(field, 'identity point is not allowed here');
    return IDENTITY;
  }
  if (bytes.length !== POINT_BYTES)
    throw new DecodeError(field, 'expected a 33-byte compressed point');
  if (bytes[0] !== 2 && bytes[0] !== 3) throw new DecodeError(field, 'bad compressed-point prefix');
  const x = bytesToBigint(bytes.subarray(1));
  if (x >= FIELD_PRIME) throw new DecodeError(field, 'x coordinate not below the field prime');
  let P: Point;
  try {
    P = secp256k1.Point.fromBytes(bytes);
    P.assertValidity();
  } catch {
    throw new DecodeError(field, 'not a point on secp256k1');
  }
  return P;
}

/** Canonical 32-byte encoding of a scalar in [0, q). @throws InvalidArgs if out of range. */
export function encodeScalar(x: bigint): Uint8Array {
  if (x < 0n || x >= CURVE_ORDER) throw new InvalidArgs('scalar', 'must be in [0, q)');
  return bigintToFixedBytes(x, SCALAR_BYTES);
}

/** Strict scalar decoding: exactly 32 bytes, value < q. @throws DecodeError otherwise. */
export function decodeScalar(bytes: Uint8Array, field = 'scalar'): bigint {
  if (bytes.length !== SCALAR_BYTES) throw new DecodeError(field, 'expected 32 bytes');
  const x = bytesToBigint(bytes);
  if (x >= CURVE_ORDER) throw new DecodeError(field, 'scalar not below the curve order');
  return x;
}
