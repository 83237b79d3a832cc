/**
 * Combining partial signatures into an ECDSA signature (CGGMP.md §5.6 steps 2–5, §5.8;
 * SECURITY.md §1.10, §1.11, §3 case 25).
 *
 * s = Σ_j σ_j mod q with r = R.x mod q; both must be non-zero. Low-s: if s > q/2, s ← q − s and
 * bit 0 of the recovery id flips. recid = (R.y odd) + 2·(R.x ≥ q); the x-overflow case (~2^−128)
 * cannot be expressed as an Ethereum v and is refused (discard the presignature, presign again).
 * Before anything is returned the signature is verified against pk with `@noble/curves` and the
 * public key recovered from (digest, r, s, recid) must equal pk (§5.8).
 * @module
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bigintToFixedBytes, bytesEqual, bytesToBigint } from '../../math/bytes.js';
import { CURVE_ORDER, modQ, type Point } from '../../math/curve.js';

/** A verified, low-s ECDSA signature with its recovery id and encodings. */
export interface EcdsaSignature {
  readonly r: bigint;
  /** s ≤ q/2 (low-s). */
  readonly s: bigint;
  /** Recovery id: 0 or 1 (the x-overflow ids 2, 3 are refused). */
  readonly recid: number;
  /** Ethereum legacy v = 27 + recid. */
  readonly v: number;
  /** r (32 bytes) ‖ s (32 bytes) ‖ v (1 byte). */
  readonly signature65: Uint8Array;
  /** ASN.1 DER encoding of (r, s). */
  readonly der: Uint8Array;
}

/** The outcome of {@link finishSignature}. */
export type FinishResult =
  | { readonly ok: true; readonly signature: EcdsaSignature }
  | { readonly ok: false; readonly reason: string };

/** m = int(digest) mod q (bits2int of SEC1 / RFC 6979 for a 256-bit digest, then mod q). */
export function messageScalar(digest: Uint8Array): bigint {
  return modQ(bytesToBigint(digest));
}

/** The affine x of R and the ECDSA r = R.x mod q, plus whether R.x ≥ q (x-overflow). */
export function rOf(R: Point): { r: bigint; overflow: boolean; yOdd: boolean } {
  const { x, y } = R.toAffine();
  return { r: modQ(x), overflow: x >= CURVE_ORDER, yOdd: (y & 1n) === 1n };
}

/**
 * Finish a signature from R and the raw sum s = Σσ_j.
 * - r = R.x mod q ≠ 0, s ≠ 0, no x-overflow;
 * - low-s with recid parity flip;
 * - verify (r, s) against pk with @noble/curves (prehash: false, low-s enforced) and recover pk.
 * @returns the signature, or why it is not a valid one (the caller runs the bad-σ procedure)
 */
export function finishSignature(
  R: Point,
  sRaw: bigint,
  digest: Uint8Array,
  publicKey: Uint8Array
): FinishResult {
  const { r, overflow, yOdd } = rOf(R);
  if (r === 0n) return { ok: false, reason: 'r-zero' };
  if (overflow) return { ok: false, reason: 'x-overflow' };
  let s = modQ(sRaw);
  if (s === 0n) return { ok: false, reason: 's-zero' };
  let recid = yOdd ? 1 : 0;
  if (s > CURVE_ORDER >> 1n) {
    s = CURVE_ORDER - s; // low-s (SECURITY.md §1.11): negating s negates the nonce point's y
    recid ^= 1;
  }
  const sig = new secp256k1.Signature(r, s);
  if (!secp256k1.verify(sig.toBytes('compact'), digest, publicKey, { prehash: false })) {
    return { ok: false, reason: 'invalid-signature' };
  }
  let recovered: Uint8Array;
  try {
    recovered = sig.addRecoveryBit(recid).recoverPublicKey(digest).toBytes(true);
  } catch {
    return { ok: false, reason: 'recovery-failed' };
  }
  if (!bytesEqual(recovered, publicKey)) return { ok: false, reason: 'recovery-mismatch' };
  const v = 27 + recid;
  const signature65 = new Uint8Array(65);
  signature65.set(bigintToFixedBytes(r, 32), 0);
  signature65.set(bigintToFixedBytes(s, 32), 32);
  signature65[64] = v;
  return { ok: true, signature: { r, s, recid, v, signature65, der: sig.toBytes('der') } };
}
