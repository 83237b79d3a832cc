/**
 * Wire payloads of the presign rounds (CGGMP.md §5.5 with C3 and C8; §6 receiver checks 3) and
 * their strict codecs. One tag per round and channel: `mpcd/cggmp21/v1/presign/r<N>[/p2p]`.
 *
 * | round | broadcast (B-echo where marked)              | point-to-point (to P_j)             |
 * |-------|----------------------------------------------|-------------------------------------|
 * | 1     | nonce_i, δ_HD, K_i, G_i (B-echo)             | ψ⁰ = Πenc for P_j                   |
 * | 2     | Γ_i, F_{j,i} and F̂_{j,i} for every j (B-echo)| D_{j,i}, ψ = Πaff-g/delta, ψ′ = Πlog* (gamma) |
 * | 3     | δ_i, Δ_i (B-echo, checked by round 4)        | D̂_{j,i}, ψ̂ = Πaff-g/chi, ψ″ = Πlog* (delta) |
 * | 4     | empty = "confirm"; or the bad-δ message: H_i, Πmul, the D_{i,j} envelopes, Πdec per verifier | — |
 *
 * D̂ and ψ̂ travel in round 3 rather than with D and ψ in round 2 (docs/presign-sign.md): a signed
 * round-2 envelope then carries only δ-path values, so the bad-δ procedure can show it to everyone
 * without publishing anything from the χ path, and the bad-σ procedure shows round-3 envelopes.
 *
 * Decoders are strict and bounded: ciphertexts are read with 2·8κ bits and must lie in
 * Z*_{N_j²} of their author's key (else `DecodeError`, which blames the signed sender); points are
 * canonical and never the identity; scalars are < q; lists have exactly the expected length.
 * @module
 */
import { DecodeError } from '../../errors.js';
import { decodeAll, encode, type Decoder } from '../../hash/encoding.js';
import type { Point } from '../../math/curve.js';
import type { PaillierPublicKey } from '../../paillier/paillier.js';
import type { SecurityLevel } from '../../params.js';
import { readAffGProof, writeAffGProof, type AffGProof } from '../../zk/aff-g.js';
import { readDecProof, writeDecProof, type DecProof } from '../../zk/dec.js';
import { readEncProof, writeEncProof, type EncProof } from '../../zk/enc.js';
import { readLogStarProof, writeLogStarProof, type LogStarProof } from '../../zk/log-star.js';
import { readMulProof, writeMulProof, type MulProof } from '../../zk/mul.js';

const T = 'mpcd/cggmp21/v1/presign/';
/** Tags of the presign payloads. */
export const PRESIGN_TAGS = Object.freeze({
  r1: `${T}r1`,
  r1p2p: `${T}r1/p2p`,
  r2: `${T}r2`,
  r2p2p: `${T}r2/p2p`,
  r3: `${T}r3`,
  r3p2p: `${T}r3/p2p`,
  r4: `${T}r4/bad-delta`,
});

/** Largest embedded envelope in a bad-δ / bad-σ message (a round-2/3 p2p envelope is < 16 KiB). */
export const MAX_EMBEDDED_ENVELOPE = 1 << 16;
/** Decoder limits of abort messages (they embed t−1 envelopes). */
const ABORT_LIMITS = { maxFieldBytes: MAX_EMBEDDED_ENVELOPE };

/**
 * A ciphertext of `key` read strictly: at most 2·8κ bits, in Z*_{N²} (CGGMP.md §3, §6.3).
 * @throws DecodeError naming the field otherwise
 */
export function readCiphertext(
  d: Decoder,
  field: string,
  level: SecurityLevel,
  key: PaillierPublicKey
): bigint {
  const c = d.nat(field, 2 * level.modulusBits);
  if (!key.isValidCiphertext(c)) throw new DecodeError(field, 'not a unit of Z*_{N²}');
  return c;
}

// ---- round 1 ------------------------------------------------------------------------------

/**
 * Round-1 broadcast: nonce_i (C12), the HD tweak the sender presigns for (checked equal by
 * everyone), K_i = enc_i(k_i; ρ_i), G_i = enc_i(γ_i; ν_i).
 */
export interface R1Broadcast {
  readonly nonce: Uint8Array;
  readonly tweak: bigint;
  readonly K: bigint;
  readonly G: bigint;
}

/** Canonical bytes of a round-1 broadcast. */
export function encodeR1Broadcast(m: R1Broadcast): Uint8Array {
  return encode((e) => e.tag(PRESIGN_TAGS.r1).bytes(m.nonce).scalar(m.tweak).nat(m.K).nat(m.G));
}

/** @throws DecodeError (`nonce`, `tweak`, `K`, `G`) */
export function decodeR1Broadcast(
  b: Uint8Array,
  level: SecurityLevel,
  key: PaillierPublicKey
): R1Broadcast {
  return decodeAll(b, (d) => {
    d.expectTag(PRESIGN_TAGS.r1);
    const nonce = d.bytes('nonce', 32);
    if (nonce.length !== 32) throw new DecodeError('nonce', 'must be 32 bytes');
    const tweak = d.scalar('tweak');
    const K = readCiphertext(d, 'K', level, key);
    const G = readCiphertext(d, 'G', level, key);
    return { nonce: nonce.slice(), tweak, K, G };
  });
}

/** Canonical bytes of the round-1 point-to-point message: ψ⁰_{j,i} = Πenc on K_i for P_j. */
export function encodeR1P2p(psi0: EncProof): Uint8Array {
  return encode((e) => {
    e.tag(PRESIGN_TAGS.r1p2p);
    writeEncProof(e, psi0);
  });
}

/** Decode a round-1 point-to-point message (the Πenc proof). @throws DecodeError */
export function decodeR1P2p(b: Uint8Array, level: SecurityLevel): EncProof {
  return decodeAll(b, (d) => {
    d.expectTag(PRESIGN_TAGS.r1p2p);
    return readEncProof(d, level);
  });
}

// ---- round 2 ------------------------------------------------------------------------------

/**
 * Round-2 broadcast (B-echo, C8): Γ_i and, for every other signer j in increasing order,
 * F_{j,i} = enc_i(−β_{i,j}; r) and F̂_{j,i} = enc_i(−β̂_{i,j}; r̂) (C3).
 */
export interface R2Broadcast {
  readonly Gamma: Point;
  /** F_{j,i} for the sender's other signers j, in increasing order. */
  readonly F: readonly bigint[];
  readonly Fhat: readonly bigint[];
}

/** Canonical bytes of a round-2 broadcast. */
export function encodeR2Broadcast(m: R2Broadcast): Uint8Array {
  return encode((e) =>
    e
      .tag(PRESIGN_TAGS.r2)
      .point(m.Gamma)
      .list(m.F, (x, c) => x.nat(c))
      .list(m.Fhat, (x, c) => x.nat(c))
  );
}

/**
 * @param key the sender's key (F and F̂ are under it)
 * @param count t − 1
 * @throws DecodeError (`Gamma`, `F[k]`, `Fhat[k]`, list lengths)
 */
export function decodeR2Broadcast(
  b: Uint8Array,
  level: SecurityLevel,
  key: PaillierPublicKey,
  count: number
): R2Broadcast {
  return decodeAll(b, (d) => {
    d.expectTag(PRESIGN_TAGS.r2);
    const Gamma = d.point('Gamma');
    const F = d.list('F', (x, i) => readCiphertext(x, `F[${i}]`, level, key), count);
    const Fhat = d.list('Fhat', (x, i) => readCiphertext(x, `Fhat[${i}]`, level, key), count);
    return { Gamma, F, Fhat };
  });
}

/** Round-2 point-to-point to P_j: D_{j,i}, ψ_{j,i} (Πaff-g/delta), ψ′_{j,i} (Πlog* (gamma)). */
export interface R2P2p {
  readonly D: bigint;
  readonly psi: AffGProof;
  readonly psiPrime: LogStarProof;
}

/** Canonical bytes of a round-2 point-to-point message. */
export function encodeR2P2p(m: R2P2p): Uint8Array {
  return encode((e) => {
    e.tag(PRESIGN_TAGS.r2p2p).nat(m.D);
    writeAffGProof(e, m.psi);
    writeLogStarProof(e, m.psiPrime);
  });
}

/**
 * @param key the RECIPIENT's key (D_{j,i} is under N_j)
 * @throws DecodeError (`D`, proof fields)
 */
export function decodeR2P2p(b: Uint8Array, level: SecurityLevel, key: PaillierPublicKey): R2P2p {
  return decodeAll(b, (d) => {
    d.expectTag(PRESIGN_TAGS.r2p2p);
    const D = readCiphertext(d, 'D', level, key);
    const psi = readAffGProof(d, level);
    const psiPrime = readLogStarProof(d, level);
    return { D, psi, psiPrime };
  });
}

// ---- round 3 ------------------------------------------------------------------------------

/** Round-3 broadcast (B-echo, confirmed in round 4): δ_i and Δ_i = k_i·Γ. */
export interface R3Broadcast {
  readonly delta: bigint;
  readonly Delta: Point;
}

/** Canonical bytes of a round-3 broadcast. */
export function encodeR3Broadcast(m: R3Broadcast): Uint8Array {
  return encode((e) => e.tag(PRESIGN_TAGS.r3).scalar(m.delta).point(m.Delta));
}

/** @throws DecodeError (`delta` ≥ q, `Delta` not a canonical point or the identity) */
export function decodeR3Broadcast(b: Uint8Array): R3Broadcast {
  return decodeAll(b, (d) => {
    d.expectTag(PRESIGN_TAGS.r3);
    return { delta: d.scalar('delta'), Delta: d.point('Delta') };
  });
}

/** Round-3 point-to-point to P_j: D̂_{j,i}, ψ̂_{j,i} (Πaff-g/chi), ψ″_{j,i} (Πlog* (delta)). */
export interface R3P2p {
  readonly Dhat: bigint;
  readonly psiHat: AffGProof;
  readonly psiDoublePrime: LogStarProof;
}

/** Canonical bytes of a round-3 point-to-point message. */
export function encodeR3P2p(m: R3P2p): Uint8Array {
  return encode((e) => {
    e.tag(PRESIGN_TAGS.r3p2p).nat(m.Dhat);
    writeAffGProof(e, m.psiHat);
    writeLogStarProof(e, m.psiDoublePrime);
  });
}

/**
 * @param key the RECIPIENT's key (D̂_{j,i} is under N_j)
 * @throws DecodeError (`Dhat`, proof fields)
 */
export function decodeR3P2p(b: Uint8Array, level: SecurityLevel, key: PaillierPublicKey): R3P2p {
  return decodeAll(b, (d) => {
    d.expectTag(PRESIGN_TAGS.r3p2p);
    const Dhat = readCiphertext(d, 'Dhat', level, key);
    const psiHat = readAffGProof(d, level);
    const psiDoublePrime = readLogStarProof(d, level);
    return { Dhat, psiHat, psiDoublePrime };
  });
}

// ---- round 4 ------------------------------------------------------------------------------

/**
 * The bad-δ message of P_i (CGGMP.md §5.5 "Identifiable abort", C1, C3, C6, C7): exactly these
 * fields and nothing else — no plaintext, nonce or χ-path value.
 */
export interface R4BadDelta {
  /** H_i = (k_i ⊙ G_i)·ρ^{N_i}: an encryption of the integer k_i·γ_i (C6). */
  readonly H: bigint;
  /** Πmul on (K_i, G_i, H_i), a broadcast proof. */
  readonly mul: MulProof;
  /**
   * The signed round-2 point-to-point envelopes P_i received (each carrying D_{i,j} from its
   * author j), for the other signers j in increasing order.
   */
  readonly envelopes: readonly Uint8Array[];
  /**
   * Πdec/delta that U_i = H_i ⊕ ⨁_j(D_{i,j} ⊖ F_{j,i}) decrypts to δ_i mod q, one per verifier,
   * for the other signers in increasing order (each made against that verifier's R_j).
   */
  readonly dec: readonly DecProof[];
}

/** Round 4: empty body = confirmation; otherwise the bad-δ message. */
export type R4Message =
  { readonly kind: 'confirm' } | ({ readonly kind: 'bad-delta' } & R4BadDelta);

/** Canonical bytes of a bad-δ message (a confirmation is the empty body). */
export function encodeR4BadDelta(m: R4BadDelta): Uint8Array {
  return encode((e) => {
    e.tag(PRESIGN_TAGS.r4).nat(m.H);
    writeMulProof(e, m.mul);
    e.list(m.envelopes, (x, b) => x.bytes(b));
    e.list(m.dec, (x, p) => writeDecProof(x, p));
  });
}

/**
 * Decode a round-4 body: empty = confirmation, else a bad-δ message.
 * @param key the sender's key (H is under it)
 * @param count t − 1
 * @throws DecodeError
 */
export function decodeR4(
  b: Uint8Array,
  level: SecurityLevel,
  key: PaillierPublicKey,
  count: number
): R4Message {
  if (b.length === 0) return { kind: 'confirm' };
  return decodeAll(
    b,
    (d) => {
      d.expectTag(PRESIGN_TAGS.r4);
      const H = readCiphertext(d, 'H', level, key);
      const mul = readMulProof(d, level);
      const envelopes = d.list(
        'envelopes',
        (x) => x.bytes('envelope', MAX_EMBEDDED_ENVELOPE).slice(),
        count
      );
      const dec = d.list('dec', (x) => readDecProof(x, level), count);
      return { kind: 'bad-delta' as const, H, mul, envelopes, dec };
    },
    ABORT_LIMITS
  );
}
