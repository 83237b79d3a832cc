/**
 * The signed envelope every protocol message travels in (ARCHITECTURE.md "Identities and trust",
 * CGGMP.md §2.5): `{version, sessionId, round, from, to | broadcast, payload}` in the canonical
 * encoding E(·), followed by the sender's Ed25519 signature (RFC 8032, the key type of a libp2p
 * peer id) over exactly those bytes.
 *
 * Noise authenticates a link but proves nothing to a third party; this signature does, so an
 * abort can carry the culprit's own envelopes as transferable evidence. Verification is strict
 * (RFC 8032, not ZIP-215: one signature per message, no malleability) and decoding is bounded.
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { DecodeError, InvalidArgs } from '../errors.js';
import { Decoder, encode } from '../hash/encoding.js';
import { bytesEqual } from '../math/bytes.js';
import type { PartyIndex } from './types.js';

/** Envelope format version. */
export const ENVELOPE_VERSION = 1;
const TAG = 'mpcd/cggmp21/v1/envelope';
const SIG_BYTES = 64;
/** Largest payload accepted (aux-info round 3 carries a ~100 KB Πmod at level128): 4 MiB. */
export const MAX_PAYLOAD_BYTES = 4 << 20;

/** An envelope's fields. */
export interface Envelope {
  readonly version: number;
  readonly sessionId: Uint8Array;
  readonly round: number;
  readonly from: PartyIndex;
  /** Absent: broadcast. */
  readonly to?: PartyIndex;
  readonly payload: Uint8Array;
}

/** Why an envelope was refused (never a protocol culprit: an unverifiable message proves nothing). */
export type EnvelopeRejection =
  'malformed' | 'bad-version' | 'wrong-session' | 'unknown-sender' | 'not-for-me' | 'bad-signature';

/** A refused envelope. */
export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
  constructor(
    readonly code: EnvelopeRejection,
    message: string
  ) {
    super(message);
  }
}

function body(e: Envelope): Uint8Array {
  return encode((enc) =>
    enc
      .tag(TAG)
      .u8(e.version)
      .bytes(e.sessionId)
      .u32(e.round)
      .u32(e.from)
      .option(e.to, (x, to) => x.u32(to))
      .bytes(e.payload)
  );
}

/**
 * Encode and sign an envelope.
 * @param secretKey the sender's 32-byte Ed25519 secret key (seed)
 * @throws InvalidArgs on a bad session id, index or payload size
 */
export function signEnvelope(e: Omit<Envelope, 'version'>, secretKey: Uint8Array): Uint8Array {
  if (e.sessionId.length !== 32) throw new InvalidArgs('sessionId', 'must be 32 bytes');
  if (e.payload.length > MAX_PAYLOAD_BYTES) throw new InvalidArgs('payload', 'too large');
  if (secretKey.length !== 32) throw new InvalidArgs('secretKey', 'must be a 32-byte Ed25519 seed');
  const b = body({ ...e, version: ENVELOPE_VERSION });
  const sig = ed25519.sign(b, secretKey);
  const out = new Uint8Array(b.length + SIG_BYTES);
  out.set(b);
  out.set(sig, b.length);
  return out;
}

/**
 * Decode an envelope without checking its signature (strict, bounded).
 * @throws EnvelopeError `malformed` / `bad-version`
 */
export function decodeEnvelope(
  bytes: Uint8Array
): Envelope & { readonly signed: Uint8Array; readonly signature: Uint8Array } {
  if (bytes.length < SIG_BYTES + 1 || bytes.length > MAX_PAYLOAD_BYTES + 1024) {
    throw new EnvelopeError('malformed', 'envelope size out of bounds');
  }
  const signed = bytes.subarray(0, bytes.length - SIG_BYTES);
  const signature = bytes.subarray(bytes.length - SIG_BYTES);
  try {
    const d = new Decoder(signed, { maxFieldBytes: MAX_PAYLOAD_BYTES });
    d.expectTag(TAG);
    const version = d.u8('version');
    if (version !== ENVELOPE_VERSION)
      throw new EnvelopeError('bad-version', `envelope version ${version}`);
    const sessionId = d.bytes('sessionId', 32);
    if (sessionId.length !== 32) throw new DecodeError('sessionId', 'must be 32 bytes');
    const round = d.u32('round');
    const from = d.u32('from');
    const to = d.option('to', (x) => x.u32('to'));
    const payload = d.bytes('payload', MAX_PAYLOAD_BYTES);
    d.end();
    return {
      version,
      sessionId,
      round,
      from,
      ...(to === undefined ? {} : { to }),
      payload,
      signed,
      signature,
    };
  } catch (err) {
    if (err instanceof EnvelopeError) throw err;
    throw new EnvelopeError('malformed', (err as Error).message);
  }
}

/** What a receiver checks an envelope against. */
export interface EnvelopeExpectations {
  readonly sessionId: Uint8Array;
  /** Ed25519 public keys of the roster, by index. */
  readonly rosterKeys: readonly Uint8Array[];
  /** Indices allowed to send in this session. */
  readonly parties: readonly PartyIndex[];
  /** The receiver's index: a point-to-point envelope must be addressed to it. */
  readonly self?: PartyIndex;
}

/**
 * Decode and verify an envelope (CGGMP.md §6 steps 1–2): signature under the roster key of
 * `from`, session id, sender in the session, recipient.
 * @throws EnvelopeError with the failed check
 */
export function openEnvelope(bytes: Uint8Array, exp: EnvelopeExpectations): Envelope {
  const e = decodeEnvelope(bytes);
  if (!bytesEqual(e.sessionId, exp.sessionId))
    throw new EnvelopeError('wrong-session', 'envelope for another session');
  if (!exp.parties.includes(e.from) || exp.rosterKeys[e.from] === undefined) {
    throw new EnvelopeError('unknown-sender', `sender ${e.from} is not in this session`);
  }
  if (e.to !== undefined && (e.to === e.from || (exp.self !== undefined && e.to !== exp.self))) {
    throw new EnvelopeError('not-for-me', 'point-to-point envelope addressed to another party');
  }
  let ok: boolean;
  try {
    ok = ed25519.verify(e.signature, e.signed, exp.rosterKeys[e.from]!, { zip215: false });
  } catch {
    ok = false;
  }
  if (!ok)
    throw new EnvelopeError('bad-signature', `signature of sender ${e.from} does not verify`);
  const { signed: _s, signature: _g, ...env } = e;
  return env;
}

/** The Ed25519 public key of a 32-byte secret key. */
export function ed25519PublicKey(secretKey: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(secretKey);
}
