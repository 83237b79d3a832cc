/**
 * Wire payloads of the sign rounds (CGGMP.md §5.6, Decisions) and their strict codecs; tags
 * `mpcd/cggmp21/v1/sign/r<N>`.
 *
 * | round | broadcast                                                                   |
 * |-------|-----------------------------------------------------------------------------|
 * | 1     | nonce_i (C12), the presignature id, the digest, σ_i                         |
 * | 2     | only after an invalid signature: Ĥ_i, the D̂_{i,j} envelopes, and for each verifier P_j (Πmul*, Πdec/sigma) |
 *
 * Round 1 repeats the presignature id and digest so that a signer holding another presignature or
 * digest is caught before anyone combines (Decisions: the stored presignature must match the
 * session); both are also bound into the sign ssid.
 * @module
 */
import { DecodeError } from '../../errors.js';
import { decodeAll, encode } from '../../hash/encoding.js';
import type { PaillierPublicKey } from '../../paillier/paillier.js';
import type { SecurityLevel } from '../../params.js';
import { readDecProof, writeDecProof, type DecProof } from '../../zk/dec.js';
import { readMulStarProof, writeMulStarProof, type MulStarProof } from '../../zk/mul-star.js';
import { MAX_EMBEDDED_ENVELOPE, readCiphertext } from '../presign/messages.js';

const T = 'mpcd/cggmp21/v1/sign/';
/** Tags of the sign payloads. */
export const SIGN_TAGS = Object.freeze({ r1: `${T}r1`, r2: `${T}r2/bad-sigma` });

/** Round-1 broadcast: σ_i = k_i·m + r·χ_i mod q and what it was computed for. */
export interface SignR1 {
  readonly nonce: Uint8Array;
  /** The presignature id (32 bytes: the presign ssid). */
  readonly presignatureId: Uint8Array;
  readonly digest: Uint8Array;
  readonly sigma: bigint;
}

/** Canonical bytes of a sign round-1 broadcast. */
export function encodeSignR1(m: SignR1): Uint8Array {
  return encode((e) =>
    e.tag(SIGN_TAGS.r1).bytes(m.nonce).bytes(m.presignatureId).bytes(m.digest).scalar(m.sigma)
  );
}

/** @throws DecodeError (`nonce`, `presignatureId`, `digest`: 32 bytes; `sigma` < q) */
export function decodeSignR1(b: Uint8Array): SignR1 {
  return decodeAll(b, (d) => {
    d.expectTag(SIGN_TAGS.r1);
    const fixed = (f: string): Uint8Array => {
      const v = d.bytes(f, 32);
      if (v.length !== 32) throw new DecodeError(f, 'must be 32 bytes');
      return v.slice();
    };
    const nonce = fixed('nonce');
    const presignatureId = fixed('presignatureId');
    const digest = fixed('digest');
    return { nonce, presignatureId, digest, sigma: d.scalar('sigma') };
  });
}

/** One verifier's pair of bad-σ proofs. */
export interface BadSigmaProofs {
  /** Πmul* on (K_i, Ĥ_i, W_i) against the verifier's R_j (C5). */
  readonly mulStar: MulStarProof;
  /** Πdec/sigma on the σ ciphertext and σ_i against R_j (C1). */
  readonly dec: DecProof;
}

/**
 * The bad-σ message of P_i (CGGMP.md §5.6, C1, C5): exactly these fields.
 */
export interface SignR2BadSigma {
  /** Ĥ_i = (w_i ⊙ K_i)·ρ̂^{N_i}: an encryption of the integer k_i·w_i (C5, C6). */
  readonly Hhat: bigint;
  /**
   * The signed presign round-3 point-to-point envelopes P_i received (each carrying D̂_{i,j}
   * from its author j), for the other signers j in increasing order.
   */
  readonly envelopes: readonly Uint8Array[];
  /** Proofs for each other signer (as verifier), in increasing order. */
  readonly proofs: readonly BadSigmaProofs[];
}

/** Canonical bytes of a bad-σ message. */
export function encodeSignR2(m: SignR2BadSigma): Uint8Array {
  return encode((e) => {
    e.tag(SIGN_TAGS.r2).nat(m.Hhat);
    e.list(m.envelopes, (x, b) => x.bytes(b));
    e.list(m.proofs, (x, p) => {
      writeMulStarProof(x, p.mulStar);
      writeDecProof(x, p.dec);
    });
  });
}

/**
 * @param key the sender's key (Ĥ is under it)
 * @param count t − 1
 * @throws DecodeError
 */
export function decodeSignR2(
  b: Uint8Array,
  level: SecurityLevel,
  key: PaillierPublicKey,
  count: number
): SignR2BadSigma {
  return decodeAll(
    b,
    (d) => {
      d.expectTag(SIGN_TAGS.r2);
      const Hhat = readCiphertext(d, 'Hhat', level, key);
      const envelopes = d.list(
        'envelopes',
        (x) => x.bytes('envelope', MAX_EMBEDDED_ENVELOPE).slice(),
        count
      );
      const proofs = d.list(
        'proofs',
        (x) => ({ mulStar: readMulStarProof(x, level), dec: readDecProof(x, level) }),
        count
      );
      return { Hhat, envelopes, proofs };
    },
    { maxFieldBytes: MAX_EMBEDDED_ENVELOPE }
  );
}
