/**
 * Keygen wire payloads (CGGMP.md §5.1 + §5.2 as one session, Decisions; corrections C11, C12,
 * C17) and their strict, size-bounded codecs.
 *
 * | round | channel         | tag                              | body                                        |
 * |-------|-----------------|----------------------------------|---------------------------------------------|
 * | 1     | broadcast, echo | `…/keygen/r1`                    | nonce_i, V_i                                |
 * | 2     | broadcast, echo | `…/keygen/r2`                    | ok(E(decommitment)) \| complaint(items)     |
 * | 2     | p2p             | `…/keygen/r2/p2p`                | σ_{i,j} or ⊥                                |
 * | 3     | broadcast, echo | `…/keygen/r3`                    | ok(ψ_i = Schnorr z, Πmod) \| complaint      |
 * | 3     | p2p             | `…/keygen/r3/p2p`                | Πfac for P_j or ⊥                           |
 * | 4     | broadcast       | `…/keygen/r4`                    | ok(confirmation hash) \| complaint          |
 *
 * Every payload starts with its tag; every integer is bounded by the level, every list has its
 * exact length (t for S_i, m inside Πmod/Πprm) and every 32-byte value its exact size; trailing
 * bytes are refused. A complaint carries signed point-to-point envelopes of the previous round
 * (see `complaints.ts`). `…` is {@link TAG_PREFIX} (`mpcd/cggmp21/v1/`). The session hashes
 * (V_i, ssid, confirmation) are in `hashes.ts`.
 * @module
 */
import { DecodeError } from '../../errors.js';
import { decodeAll, encode, type Decoder, type Encoder } from '../../hash/encoding.js';
import { TAG_PREFIX } from '../../hash/transcript.js';
import type { Point } from '../../math/curve.js';
import type { SecurityLevel } from '../../params.js';
import { MAX_PAYLOAD_BYTES } from '../../round/envelope.js';
import { readFacProof, writeFacProof, type FacProof } from '../../zk/fac.js';
import { readModProof, writeModProof, type ModProof } from '../../zk/mod.js';
import { readPrmProof, writePrmProof, type PrmProof } from '../../zk/prm.js';

const P = `${TAG_PREFIX}keygen/`;

/** Domain tags of the keygen payloads and hashes. */
export const KEYGEN_TAGS = Object.freeze({
  r1: `${P}r1`,
  decommitment: `${P}decommitment`,
  r2: `${P}r2`,
  r2p2p: `${P}r2/p2p`,
  r3: `${P}r3`,
  r3p2p: `${P}r3/p2p`,
  r4: `${P}r4`,
  commit: `${P}commit`,
  ssid: `${P}ssid`,
  confirm: `${P}confirm`,
});

/** Largest signed envelope a complaint may carry (the envelope decoder's own bound). */
const MAX_ENVELOPE_BYTES = MAX_PAYLOAD_BYTES + 1024;
/** Largest decommitment encoding (≈ 100 KB at level128, dominated by Πprm). */
const MAX_DECOMMITMENT_BYTES = 1 << 20;
/** Decoder limits for a whole payload: fields are bounded one by one below. */
const LIMITS = { maxFieldBytes: MAX_ENVELOPE_BYTES } as const;
/** Bytes of every random value (rid, u, c, ρ, nonce) and of every hash. */
export const RANDOM_BYTES = 32;

/** What a codec needs to know about the session. */
export interface CodecParams {
  readonly level: SecurityLevel;
  /** Threshold: |S_i| = t. */
  readonly t: number;
  /** Parties: bounds complaint lists. */
  readonly n: number;
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

function fixed32(d: Decoder, field: string): Uint8Array {
  const b = d.bytes(field, RANDOM_BYTES);
  if (b.length !== RANDOM_BYTES) throw new DecodeError(field, `must be ${RANDOM_BYTES} bytes`);
  return b.slice();
}

/**
 * One accusation inside a complaint: the accused's signed point-to-point envelope of the previous
 * round (addressed to the complainer) and optional context envelopes of the accused that a third
 * party needs to re-check it (for a bad share σ_{j,i}: j's round-2 broadcast, which holds S_j).
 */
export interface ComplaintItem {
  readonly envelope: Uint8Array;
  readonly context: readonly Uint8Array[];
}

/** A round body after round 1: the round's content, or a complaint (CGGMP.md §5.2 blame). */
export type Posted<T> =
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: 'complaint'; readonly items: readonly ComplaintItem[] };

function writePosted<T>(
  e: Encoder,
  tag: string,
  p: Posted<T>,
  write: (e: Encoder, v: T) => void
): void {
  e.tag(tag);
  if (p.kind === 'ok') {
    e.u8(0);
    write(e, p.value);
    return;
  }
  e.u8(1).list(p.items, (x, it) => x.bytes(it.envelope).list(it.context, (y, c) => y.bytes(c)));
}

function readPosted<T>(d: Decoder, tag: string, n: number, read: (d: Decoder) => T): Posted<T> {
  d.expectTag(tag);
  const kind = d.u8('kind');
  if (kind === 0) return { kind: 'ok', value: read(d) };
  if (kind !== 1) throw new DecodeError('kind', 'must be 0 (ok) or 1 (complaint)');
  const items = d.list('complaint', (x) => ({
    envelope: x.bytes('complaint.envelope', MAX_ENVELOPE_BYTES).slice(),
    context: x.list('complaint.context', (y) =>
      y.bytes('complaint.context', MAX_ENVELOPE_BYTES).slice()
    ),
  }));
  // At most one accusation per other party, at most one context envelope each.
  if (items.length > n - 1) throw new DecodeError('complaint', 'more items than accusable parties');
  if (items.some((it) => it.context.length > 1))
    throw new DecodeError('complaint.context', 'at most one context envelope');
  return { kind: 'complaint', items };
}

// ---------------------------------------------------------------------------------------------
// Round 1: nonce_i (C12) and V_i

/** Round 1 (B-echo): a fresh nonce for the ssid (C12) and the commitment V_i. */
export interface Round1Msg {
  readonly nonce: Uint8Array;
  readonly V: Uint8Array;
}

/** Encode a round-1 body. */
export function encodeRound1(m: Round1Msg): Uint8Array {
  return encode((e) => e.tag(KEYGEN_TAGS.r1).bytes(m.nonce).bytes(m.V));
}

/** Decode a round-1 body. @throws DecodeError */
export function decodeRound1(bytes: Uint8Array): Round1Msg {
  return decodeAll(bytes, (d) => {
    d.expectTag(KEYGEN_TAGS.r1);
    return { nonce: fixed32(d, 'keygen.nonce'), V: fixed32(d, 'keygen.V') };
  });
}

// ---------------------------------------------------------------------------------------------
// The decommitment (opened in round 2)

/**
 * P_i's decommitment: everything V_i binds (§5.1 round 1 and §5.2 round 1 merged).
 * - rid_i, u_i, c_i, ρ_i: fresh 32-byte values (rid coin toss, commitment blinding, chain code
 *   share, aux-info ρ);
 * - S_i = (a_{i,k}·G)_{k<t}: Feldman commitments to f_i; A_i = τ_i·G: Schnorr commitment;
 * - (N_i, s_i, t_i): Paillier modulus = ring-Pedersen modulus, and ψ̂_i = Πprm (ctx sid, prover i).
 */
export interface Decommitment {
  readonly rid: Uint8Array;
  readonly S: readonly Point[];
  readonly A: Point;
  readonly u: Uint8Array;
  readonly c: Uint8Array;
  readonly N: bigint;
  readonly s: bigint;
  readonly t: bigint;
  readonly prm: PrmProof;
  readonly rho: Uint8Array;
}

/** E(decommitment): the exact bytes V_i commits to. */
export function encodeDecommitment(d: Decommitment): Uint8Array {
  return encode((e) => {
    e.tag(KEYGEN_TAGS.decommitment)
      .bytes(d.rid)
      .list(d.S, (x, S) => x.point(S))
      .point(d.A)
      .bytes(d.u)
      .bytes(d.c)
      .nat(d.N)
      .nat(d.s)
      .nat(d.t);
    writePrmProof(e, d.prm);
    e.bytes(d.rho);
  });
}

/**
 * Decode a decommitment: exactly t points, none the identity (C11); N, s, t of at most 8κ bits;
 * Πprm with exactly m entries.
 * @throws DecodeError
 */
export function decodeDecommitment(bytes: Uint8Array, p: CodecParams): Decommitment {
  const bits = p.level.modulusBits;
  return decodeAll(
    bytes,
    (d) => {
      d.expectTag(KEYGEN_TAGS.decommitment);
      const rid = fixed32(d, 'keygen.rid');
      const S = d.list('keygen.S', (x) => x.point('keygen.S'), p.t);
      const A = d.point('keygen.A');
      const u = fixed32(d, 'keygen.u');
      const c = fixed32(d, 'keygen.c');
      const N = d.nat('keygen.N', bits);
      const s = d.nat('keygen.s', bits);
      const t = d.nat('keygen.t', bits);
      const prm = readPrmProof(d, p.level);
      const rho = fixed32(d, 'keygen.rho');
      return { rid, S, A, u, c, N, s, t, prm, rho };
    },
    LIMITS
  );
}

// ---------------------------------------------------------------------------------------------
// Round 2

/** Encode a round-2 broadcast: the decommitment bytes, or a complaint. */
export function encodeRound2(p: Posted<Uint8Array>): Uint8Array {
  return encode((e) => writePosted(e, KEYGEN_TAGS.r2, p, (x, v) => x.bytes(v)));
}

/** Decode a round-2 broadcast (the decommitment stays raw: it is hashed before it is parsed). */
export function decodeRound2(bytes: Uint8Array, p: CodecParams): Posted<Uint8Array> {
  return decodeAll(
    bytes,
    (d) =>
      readPosted(d, KEYGEN_TAGS.r2, p.n, (x) =>
        x.bytes('keygen.decommitment', MAX_DECOMMITMENT_BYTES).slice()
      ),
    LIMITS
  );
}

/** Encode a round-2 point-to-point body: σ_{i,j} = f_i(j+1), or ⊥ (when complaining). */
export function encodeShare(sigma: bigint | undefined): Uint8Array {
  return encode((e) => e.tag(KEYGEN_TAGS.r2p2p).option(sigma, (x, v) => x.scalar(v)));
}

/** Decode a round-2 point-to-point body. @throws DecodeError */
export function decodeShare(bytes: Uint8Array): bigint | undefined {
  return decodeAll(bytes, (d) => {
    d.expectTag(KEYGEN_TAGS.r2p2p);
    return d.option('keygen.sigma', (x) => x.scalar('keygen.sigma'));
  });
}

// ---------------------------------------------------------------------------------------------
// Round 3

/** Round 3 content: the Schnorr response ψ_i = z for X_i (A_i was committed) and Πmod. */
export interface Round3Ok {
  readonly z: bigint;
  readonly mod: ModProof;
}

/** Encode a round-3 broadcast. */
export function encodeRound3(p: Posted<Round3Ok>): Uint8Array {
  return encode((e) =>
    writePosted(e, KEYGEN_TAGS.r3, p, (x, v) => {
      x.scalar(v.z);
      writeModProof(x, v.mod);
    })
  );
}

/** Decode a round-3 broadcast. @throws DecodeError */
export function decodeRound3(bytes: Uint8Array, p: CodecParams): Posted<Round3Ok> {
  return decodeAll(
    bytes,
    (d) =>
      readPosted(d, KEYGEN_TAGS.r3, p.n, (x) => ({
        z: x.scalar('keygen.z'),
        mod: readModProof(x, p.level),
      })),
    LIMITS
  );
}

/** Encode a round-3 point-to-point body: Πfac for the recipient, or ⊥ (when complaining). */
export function encodeFac(proof: FacProof | undefined): Uint8Array {
  return encode((e) => e.tag(KEYGEN_TAGS.r3p2p).option(proof, (x, v) => writeFacProof(x, v)));
}

/** Decode a round-3 point-to-point body. @throws DecodeError */
export function decodeFac(bytes: Uint8Array, p: CodecParams): FacProof | undefined {
  return decodeAll(
    bytes,
    (d) => {
      d.expectTag(KEYGEN_TAGS.r3p2p);
      return d.option('keygen.fac', (x) => readFacProof(x, p.level));
    },
    LIMITS
  );
}

// ---------------------------------------------------------------------------------------------
// Round 4

/** Encode a round-4 broadcast: the confirmation hash (C17), or a complaint. */
export function encodeRound4(p: Posted<Uint8Array>): Uint8Array {
  return encode((e) => writePosted(e, KEYGEN_TAGS.r4, p, (x, v) => x.bytes(v)));
}

/** Decode a round-4 broadcast. @throws DecodeError */
export function decodeRound4(bytes: Uint8Array, p: CodecParams): Posted<Uint8Array> {
  return decodeAll(
    bytes,
    (d) => readPosted(d, KEYGEN_TAGS.r4, p.n, (x) => fixed32(x, 'keygen.confirmation')),
    LIMITS
  );
}
