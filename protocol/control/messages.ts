/**
 * The session-lifecycle messages of `/mpcd/control/1` (ARCHITECTURE.md "Session lifecycle"):
 * the coordinator **invites** each participant, each daemon **joins** with its one-time token and
 * says **ready** once it reaches the other participants, the coordinator says **start**, and every
 * daemon **reports** its outcome. The coordinator may **abort** a session it gave up on.
 *
 * One libp2p stream carries one request and one response, each a single length-prefixed UTF-8
 * JSON frame of at most {@link MAX_CONTROL_FRAME} bytes. Decoding is strict: unknown fields,
 * wrong types and out-of-range values are refused with a {@link DecodeError} naming the field, so a
 * hostile or buggy peer can never hand the daemon a half-checked object.
 *
 * Invitations and reports are signed with the sender's Ed25519 identity key over the canonical
 * encoding E(·) of their fields (not over JSON text, which has no canonical form). The Noise link
 * already authenticates the sender; the signature is what a daemon can show later (an invitation
 * it followed) and what makes a report transferable evidence.
 *
 * Peer ids travel as base58btc strings; turning them into roster bytes (multihash) is the
 * transport's job (`daemon/`), which keeps this module free of libp2p.
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { DecodeError, InvalidArgs } from '../errors.js';
import { encode } from '../hash/encoding.js';
import { MAX_PARTIES, type SecurityLevelName } from '../params.js';

/** The libp2p protocol id of the control channel. */
export const CONTROL_PROTOCOL = '/mpcd/control/1';
/** Largest control frame (a 64 KiB message to sign plus JSON overhead fits). */
export const MAX_CONTROL_FRAME = 256 * 1024;
/** Largest message a sign request may carry for the daemon to hash itself. */
export const MAX_SIGN_MESSAGE_BYTES = 64 * 1024;

const INVITE_TAG = 'mpcd/control/v1/invitation';
const REPORT_TAG = 'mpcd/control/v1/report';

/** How a sign request's digest was made from its message (the daemon recomputes it). */
export type HashingMode = 'none' | 'keccak256' | 'sha256' | 'eth-personal';
const HASHING_MODES: readonly HashingMode[] = ['none', 'keccak256', 'sha256', 'eth-personal'];
const LEVELS: readonly SecurityLevelName[] = ['level112', 'level128'];

/** What a session does. */
export type SessionKind = 'keygen' | 'sign';

/** Parameters of a keygen session. */
export interface KeygenParams {
  readonly kind: 'keygen';
  readonly threshold: number;
  readonly level: SecurityLevelName;
}

/** Parameters of a sign session (presign + sign as one session). */
export interface SignParams {
  readonly kind: 'sign';
  readonly keyId: string;
  /** Hex of the 32-byte digest to sign. */
  readonly digest: string;
  /** The message the digest was made from, hex (absent when the caller gave a digest). */
  readonly message?: string;
  readonly hashing: HashingMode;
}

/** An invitation to one participant (each recipient gets its own token). */
export interface Invitation {
  readonly v: 1;
  /** Coordinator session id, UUID v4. */
  readonly sessionId: string;
  readonly coordinator: string;
  /** The invited daemon's peer id. */
  readonly recipient: string;
  /** Peer ids of every participant (keygen: the future roster; sign: the signers). */
  readonly participants: readonly string[];
  readonly params: KeygenParams | SignParams;
  /** Hex of the coordinator's fresh 32-byte nonce, bound into the protocol sid (C12). */
  readonly nonce: string;
  /** Expiry, milliseconds since the Unix epoch. */
  readonly expiresAt: number;
  /** The recipient's one-time join token, UUID v4. */
  readonly joinToken: string;
}

/** A culprit as reported: who, and the protocol's reason code. */
export interface ReportedCulprit {
  readonly party: string;
  readonly reason: string;
}

/** What a finished keygen produced (public values only). */
export interface KeygenOutput {
  readonly kind: 'keygen';
  readonly keyId: string;
  /** Compressed secp256k1 public key, hex (33 bytes). */
  readonly publicKey: string;
  /** EIP-55 Ethereum address. */
  readonly address: string;
}

/** What a finished sign session produced. */
export interface SignOutput {
  readonly kind: 'sign';
  readonly r: string;
  readonly s: string;
  /** Recovery id (0 or 1, or 2/3 when R.x ≥ n). */
  readonly recid: number;
  /** r ‖ s ‖ (27 + recid), hex (65 bytes). */
  readonly signature65: string;
  /** DER-encoded signature, hex. */
  readonly der: string;
}

/** A daemon's outcome report for one session. */
export interface Report {
  readonly v: 1;
  readonly sessionId: string;
  /** The reporting daemon's peer id. */
  readonly party: string;
  readonly outcome: 'completed' | 'failed';
  readonly output?: KeygenOutput | SignOutput;
  /** Stable reason code when failed (e.g. `timeout`, `protocol-abort:bad-proof:enc`). */
  readonly reason?: string;
  /** Human-readable detail (never secret). */
  readonly detail?: string;
  readonly culprits?: readonly ReportedCulprit[];
}

/** A request on the control channel. */
export type ControlRequest =
  | { readonly type: 'invite'; readonly invitation: Invitation; readonly signature: string }
  | { readonly type: 'join'; readonly sessionId: string; readonly joinToken: string }
  | { readonly type: 'ready'; readonly sessionId: string }
  | { readonly type: 'start'; readonly sessionId: string }
  | { readonly type: 'abort'; readonly sessionId: string; readonly reason: string }
  | { readonly type: 'report'; readonly report: Report; readonly signature: string };

/** The answer to a request. */
export type ControlResponse =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

// ---- field checks ------------------------------------------------------------------------------

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** base58btc peer ids (Ed25519 identity multihash ids are 52 characters: 12D3KooW…). */
const PEER_ID = /^[1-9A-HJ-NP-Za-km-z]{40,64}$/;
const KEY_ID = /^[0-9a-f]{32}$/;
const CODE = /^[a-z0-9][a-z0-9:._-]{0,127}$/;

type Obj = Record<string, unknown>;

function obj(v: unknown, field: string, allowed: readonly string[]): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new DecodeError(field, 'must be an object');
  }
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) throw new DecodeError(`${field}.${k}`, 'unknown field');
  }
  return v as Obj;
}

function str(o: Obj, k: string, field: string, re: RegExp, rule: string): string {
  const v = o[k];
  if (typeof v !== 'string' || !re.test(v)) throw new DecodeError(`${field}.${k}`, rule);
  return v;
}

function int(o: Obj, k: string, field: string, min: number, max: number): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new DecodeError(`${field}.${k}`, `must be an integer in [${min}, ${max}]`);
  }
  return v;
}

/** C0 controls, DEL and C1 controls (U+009B alone is a terminal escape). */
function isControlChar(c: string): boolean {
  const x = c.charCodeAt(0);
  return x < 0x20 || (x >= 0x7f && x <= 0x9f);
}

function text(o: Obj, k: string, field: string, max: number): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length > max || [...v].some(isControlChar)) {
    throw new DecodeError(
      `${field}.${k}`,
      `must be a string of at most ${max} printable characters`
    );
  }
  return v;
}

function hex(o: Obj, k: string, field: string, bytes: number): string {
  return str(
    o,
    k,
    field,
    new RegExp(`^[0-9a-f]{${bytes * 2}}$`),
    `must be ${bytes} bytes of lower-case hex`
  );
}

function oneOf<T extends string>(o: Obj, k: string, field: string, values: readonly T[]): T {
  const v = o[k];
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    throw new DecodeError(`${field}.${k}`, `must be one of ${values.join(', ')}`);
  }
  return v as T;
}

/** @throws DecodeError unless `s` is a UUID v4 in lower case. */
export function assertUuid(s: unknown, field: string): asserts s is string {
  if (typeof s !== 'string' || !UUID_V4.test(s)) throw new DecodeError(field, 'must be a UUID v4');
}

/** @throws DecodeError unless `s` looks like a base58btc peer id. */
export function assertPeerIdString(s: unknown, field: string): asserts s is string {
  if (typeof s !== 'string' || !PEER_ID.test(s)) {
    throw new DecodeError(field, 'must be a base58btc peer id');
  }
}

function peerList(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.length < 2 || v.length > MAX_PARTIES) {
    throw new DecodeError(field, `must list 2..${MAX_PARTIES} peer ids`);
  }
  v.forEach((p, i) => assertPeerIdString(p, `${field}[${i}]`));
  if (new Set(v).size !== v.length) throw new DecodeError(field, 'must not repeat a peer id');
  return v as string[];
}

// ---- invitation --------------------------------------------------------------------------------

function decodeParams(v: unknown, n: number): KeygenParams | SignParams {
  const kindOf = (v as Obj | null)?.kind;
  if (kindOf === 'keygen') {
    const o = obj(v, 'params', ['kind', 'threshold', 'level']);
    return {
      kind: 'keygen',
      threshold: int(o, 'threshold', 'params', 2, n),
      level: oneOf(o, 'level', 'params', LEVELS),
    };
  }
  if (kindOf === 'sign') {
    const o = obj(v, 'params', ['kind', 'keyId', 'digest', 'message', 'hashing']);
    const out: SignParams = {
      kind: 'sign',
      keyId: str(o, 'keyId', 'params', KEY_ID, 'must be a 32-hex-digit key id'),
      digest: hex(o, 'digest', 'params', 32),
      hashing: oneOf(o, 'hashing', 'params', HASHING_MODES),
    };
    if (o.message === undefined) {
      if (out.hashing !== 'none') {
        throw new DecodeError('params.message', `required with hashing ${out.hashing}`);
      }
      return out;
    }
    const m = o.message;
    if (
      typeof m !== 'string' ||
      m.length > 2 * MAX_SIGN_MESSAGE_BYTES ||
      !/^(?:[0-9a-f]{2})*$/.test(m)
    ) {
      throw new DecodeError(
        'params.message',
        `must be lower-case hex of at most ${MAX_SIGN_MESSAGE_BYTES} bytes`
      );
    }
    if (out.hashing === 'none')
      throw new DecodeError('params.hashing', 'must not be none when a message is given');
    return { ...out, message: m };
  }
  throw new DecodeError('params.kind', 'must be keygen or sign');
}

/** Validate an invitation object from the wire. @throws DecodeError naming the field */
export function decodeInvitation(v: unknown): Invitation {
  const o = obj(v, 'invitation', [
    'v',
    'sessionId',
    'coordinator',
    'recipient',
    'participants',
    'params',
    'nonce',
    'expiresAt',
    'joinToken',
  ]);
  if (o.v !== 1)
    throw new DecodeError('invitation.v', 'unsupported version (this daemon speaks 1)');
  assertUuid(o.sessionId, 'invitation.sessionId');
  assertPeerIdString(o.coordinator, 'invitation.coordinator');
  assertPeerIdString(o.recipient, 'invitation.recipient');
  const participants = peerList(o.participants, 'invitation.participants');
  if (!participants.includes(o.recipient)) {
    throw new DecodeError('invitation.participants', 'must include the recipient');
  }
  const params = decodeParams(o.params, participants.length);
  assertUuid(o.joinToken, 'invitation.joinToken');
  return {
    v: 1,
    sessionId: o.sessionId,
    coordinator: o.coordinator,
    recipient: o.recipient,
    participants,
    params,
    nonce: hex(o, 'nonce', 'invitation', 32),
    expiresAt: int(o, 'expiresAt', 'invitation', 0, 8.64e15),
    joinToken: o.joinToken,
  };
}

/** The bytes an invitation signature covers: E(tag, every field in a fixed order). */
export function invitationSigningBytes(inv: Invitation): Uint8Array {
  const p = inv.params;
  return encode((e) => {
    e.tag(INVITE_TAG)
      .u32(inv.v)
      .str(inv.sessionId)
      .str(inv.coordinator)
      .str(inv.recipient)
      .list(inv.participants, (x, id) => x.str(id))
      .str(p.kind)
      .str(inv.nonce)
      .str(String(inv.expiresAt))
      .str(inv.joinToken);
    if (p.kind === 'keygen') e.u32(p.threshold).str(p.level);
    else
      e.str(p.keyId)
        .str(p.digest)
        .str(p.hashing)
        .option(p.message, (x, m) => x.str(m));
  });
}

// ---- report ------------------------------------------------------------------------------------

function decodeOutput(v: unknown): KeygenOutput | SignOutput {
  const kindOf = (v as Obj | null)?.kind;
  if (kindOf === 'keygen') {
    const o = obj(v, 'output', ['kind', 'keyId', 'publicKey', 'address']);
    return {
      kind: 'keygen',
      keyId: str(o, 'keyId', 'output', KEY_ID, 'must be a 32-hex-digit key id'),
      publicKey: hex(o, 'publicKey', 'output', 33),
      address: str(o, 'address', 'output', /^0x[0-9a-fA-F]{40}$/, 'must be an Ethereum address'),
    };
  }
  if (kindOf === 'sign') {
    const o = obj(v, 'output', ['kind', 'r', 's', 'recid', 'signature65', 'der']);
    return {
      kind: 'sign',
      r: hex(o, 'r', 'output', 32),
      s: hex(o, 's', 'output', 32),
      recid: int(o, 'recid', 'output', 0, 3),
      signature65: hex(o, 'signature65', 'output', 65),
      der: str(o, 'der', 'output', /^30[0-9a-f]{12,142}$/, 'must be a hex DER signature'),
    };
  }
  throw new DecodeError('output.kind', 'must be keygen or sign');
}

/** Validate a report object from the wire. @throws DecodeError naming the field */
export function decodeReport(v: unknown): Report {
  const o = obj(v, 'report', [
    'v',
    'sessionId',
    'party',
    'outcome',
    'output',
    'reason',
    'detail',
    'culprits',
  ]);
  if (o.v !== 1) throw new DecodeError('report.v', 'unsupported version');
  assertUuid(o.sessionId, 'report.sessionId');
  assertPeerIdString(o.party, 'report.party');
  const outcome = oneOf(o, 'outcome', 'report', ['completed', 'failed'] as const);
  if (outcome === 'completed') {
    if (o.reason !== undefined || o.culprits !== undefined || o.detail !== undefined) {
      throw new DecodeError('report', 'a completed report carries only its output');
    }
    return {
      v: 1,
      sessionId: o.sessionId,
      party: o.party,
      outcome,
      output: decodeOutput(o.output),
    };
  }
  if (o.output !== undefined)
    throw new DecodeError('report.output', 'a failed report has no output');
  const reason = str(o, 'reason', 'report', CODE, 'must be a reason code');
  const culpritsRaw = o.culprits === undefined ? [] : o.culprits;
  if (!Array.isArray(culpritsRaw) || culpritsRaw.length > MAX_PARTIES) {
    throw new DecodeError('report.culprits', `must be a list of at most ${MAX_PARTIES}`);
  }
  const culprits = culpritsRaw.map((c, i) => {
    const co = obj(c, `report.culprits[${i}]`, ['party', 'reason']);
    assertPeerIdString(co.party, `report.culprits[${i}].party`);
    return {
      party: co.party,
      reason: str(co, 'reason', `report.culprits[${i}]`, CODE, 'must be a reason code'),
    };
  });
  return {
    v: 1,
    sessionId: o.sessionId,
    party: o.party,
    outcome,
    reason,
    ...(o.detail !== undefined ? { detail: text(o, 'detail', 'report', 1024) } : {}),
    culprits,
  };
}

/** The bytes a report signature covers. */
export function reportSigningBytes(r: Report): Uint8Array {
  return encode((e) => {
    e.tag(REPORT_TAG).u32(r.v).str(r.sessionId).str(r.party).str(r.outcome);
    const out = r.output;
    e.option(out, (x, o) => {
      if (o.kind === 'keygen') x.str('keygen').str(o.keyId).str(o.publicKey).str(o.address);
      else x.str('sign').str(o.r).str(o.s).u32(o.recid).str(o.signature65).str(o.der);
    });
    e.option(r.reason, (x, s) => x.str(s));
    e.option(r.detail, (x, s) => x.str(s));
    e.list(r.culprits ?? [], (x, c) => x.str(c.party).str(c.reason));
  });
}

// ---- signatures ------------------------------------------------------------------------------

/** Sign bytes with a 32-byte Ed25519 seed; hex signature. */
export function signControl(bytes: Uint8Array, secretKey: Uint8Array): string {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) {
    throw new InvalidArgs('secretKey', 'must be a 32-byte Ed25519 seed');
  }
  return Buffer.from(ed25519.sign(bytes, secretKey)).toString('hex');
}

/** Verify a hex Ed25519 signature (strict RFC 8032, as the envelopes). */
export function verifyControl(
  bytes: Uint8Array,
  signature: string,
  publicKey: Uint8Array
): boolean {
  if (!/^[0-9a-f]{128}$/.test(signature)) return false;
  try {
    return ed25519.verify(Buffer.from(signature, 'hex'), bytes, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

// ---- frames ------------------------------------------------------------------------------------

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Encode a request or response as one frame body. */
export function encodeControl(msg: ControlRequest | ControlResponse): Uint8Array {
  const b = utf8.encode(JSON.stringify(msg));
  if (b.length > MAX_CONTROL_FRAME)
    throw new InvalidArgs('message', `exceeds ${MAX_CONTROL_FRAME} bytes`);
  return b;
}

function parseFrame(bytes: Uint8Array): unknown {
  if (bytes.length > MAX_CONTROL_FRAME)
    throw new DecodeError('frame', `exceeds ${MAX_CONTROL_FRAME} bytes`);
  let text: string;
  try {
    text = utf8Strict.decode(bytes);
  } catch {
    throw new DecodeError('frame', 'is not UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new DecodeError('frame', 'is not JSON');
  }
}

/** Decode and validate a request frame. @throws DecodeError naming the field */
export function decodeControlRequest(bytes: Uint8Array): ControlRequest {
  const v = parseFrame(bytes);
  const type = (v as Obj | null)?.type;
  switch (type) {
    case 'invite': {
      const o = obj(v, 'request', ['type', 'invitation', 'signature']);
      return {
        type,
        invitation: decodeInvitation(o.invitation),
        signature: hex(o, 'signature', 'request', 64),
      };
    }
    case 'join': {
      const o = obj(v, 'request', ['type', 'sessionId', 'joinToken']);
      assertUuid(o.sessionId, 'request.sessionId');
      assertUuid(o.joinToken, 'request.joinToken');
      return { type, sessionId: o.sessionId, joinToken: o.joinToken };
    }
    case 'ready':
    case 'start': {
      const o = obj(v, 'request', ['type', 'sessionId']);
      assertUuid(o.sessionId, 'request.sessionId');
      return { type, sessionId: o.sessionId };
    }
    case 'abort': {
      const o = obj(v, 'request', ['type', 'sessionId', 'reason']);
      assertUuid(o.sessionId, 'request.sessionId');
      return { type, sessionId: o.sessionId, reason: text(o, 'reason', 'request', 256) };
    }
    case 'report': {
      const o = obj(v, 'request', ['type', 'report', 'signature']);
      return {
        type,
        report: decodeReport(o.report),
        signature: hex(o, 'signature', 'request', 64),
      };
    }
    default:
      throw new DecodeError('request.type', 'must be invite, join, ready, start, abort or report');
  }
}

/** Decode a response frame. @throws DecodeError */
export function decodeControlResponse(bytes: Uint8Array): ControlResponse {
  const v = parseFrame(bytes);
  const o = obj(v, 'response', ['ok', 'error']);
  if (o.ok === true) {
    if (o.error !== undefined) throw new DecodeError('response.error', 'must be absent when ok');
    return { ok: true };
  }
  if (o.ok !== false) throw new DecodeError('response.ok', 'must be a boolean');
  const e = obj(o.error, 'response.error', ['code', 'message']);
  return {
    ok: false,
    error: {
      code: str(e, 'code', 'response.error', CODE, 'must be an error code'),
      message: text(e, 'message', 'response.error', 1024),
    },
  };
}
