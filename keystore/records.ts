/**
 * Record kinds and their versioned plaintext codecs.
 *
 * The protocol defines what a key share, aux info or presignature contains; the keystore stores
 * it as opaque bytes (`data`) next to the few fields it must understand itself: ids, the key epoch
 * and, for presignatures, the single-use state. When `protocol/` grows its serialized types they
 * drop into `data` without a keystore format change. Pooled prime pairs (`prime`) are the one
 * kind the keystore understands field by field: p and q are big-endian bytes, validated on write.
 *
 * Plaintext = UTF-8 JSON `{ "v": <codec version>, …fields }`, byte strings as base64. Reading an
 * older `v` runs the upgrade chain of {@link UPGRADES}; a newer `v` is refused with
 * UNSUPPORTED_VERSION (never guessed at). Today every kind is at version 1.
 * @module
 */
import type { SecurityLevelName } from '../protocol/params.js';
import { KeystoreError } from './errors.js';

/** The record kinds, one LevelDB sublevel each. */
export type RecordKind = 'keyshare' | 'aux' | 'presig' | 'identity' | 'journal' | 'sid' | 'prime';
/**
 * All kinds, in backup order. Rotation re-seals every kind listed here; a backup skips `presig`
 * and `prime` (single-use material, see backup.ts).
 */
export const RECORD_KINDS: readonly RecordKind[] = [
  'identity',
  'keyshare',
  'aux',
  'presig',
  'journal',
  'sid',
  'prime',
];
/** Current codec version of each kind. */
export const CODEC_VERSION: Readonly<Record<RecordKind, number>> = {
  keyshare: 1,
  aux: 1,
  presig: 1,
  identity: 1,
  journal: 1,
  sid: 1,
  prime: 1,
};

/** Largest opaque payload accepted (bound every size): 1 MiB. */
export const MAX_DATA_BYTES = 1 << 20;

/** A node's share of one key at one epoch. */
export interface KeyShareRecord {
  /** Key id (non-secret: e.g. a hash of the public key), 1..128 chars of [A-Za-z0-9._:-]. */
  readonly keyId: string;
  /** Key epoch: increases with each refresh. */
  readonly epoch: number;
  /** The protocol's serialized key share (secret). */
  readonly data: Uint8Array;
}

/** A node's auxiliary info (Paillier primes, ring-Pedersen secrets; secret). */
export interface AuxInfoRecord {
  readonly auxId: string;
  readonly epoch: number;
  readonly data: Uint8Array;
}

/** Presignature state: FRESH until consumed, then a tombstone without secret data. */
export type PresignatureState = 'fresh' | 'consumed';

/** A presignature (single use). */
export interface PresignatureRecord {
  readonly presigId: string;
  readonly keyId: string;
  readonly epoch: number;
  readonly data: Uint8Array;
}

/** The node's identity key (libp2p Ed25519 private key, protobuf). */
export interface IdentityRecord {
  readonly privateKey: Uint8Array;
}

/** A session journal entry: enough to report after a crash and never reuse state. */
export interface JournalRecord {
  /** Protocol session id (hex of the 32-byte sid). */
  readonly sid: string;
  readonly protocol: string;
  readonly state: string;
  readonly updatedAt: string;
  /** Free-form, non-secret detail (reason, culprits). */
  readonly detail?: string;
}

/** Stored form of a presignature (fresh: with data; consumed: tombstone). */
export interface StoredPresignature {
  readonly presigId: string;
  readonly keyId: string;
  readonly epoch: number;
  readonly state: PresignatureState;
  readonly data?: Uint8Array;
  readonly consumedAt?: string;
}

/** A session id the node has taken part in (C12). */
export interface SessionIdRecord {
  readonly sid: string;
  readonly at: string;
}

/** The security levels a pooled prime pair can belong to (protocol/params.ts). */
export const PRIME_LEVELS: readonly SecurityLevelName[] = ['level112', 'level128'];

/** Largest prime the pool stores, in bits (level128 uses 1536; anything far larger is a bug). */
export const MAX_PRIME_BITS = 4096;

/**
 * A pooled pair of safe primes for one future Paillier key (ARCHITECTURE.md "Primes"). Secret:
 * whoever knows p, q of a key share's modulus can decrypt everything sent to that party. Single
 * use: `takePrimePair` deletes it before handing it out, and backups never carry it.
 */
export interface PrimePairRecord {
  /** Pool entry id, 1..128 chars of [A-Za-z0-9._:-] (non-secret, e.g. random). */
  readonly id: string;
  readonly level: SecurityLevelName;
  readonly p: bigint;
  readonly q: bigint;
}

/** @throws KeystoreError INVALID_RECORD unless `level` is one of {@link PRIME_LEVELS}. */
export function assertPrimeLevel(level: string): asserts level is SecurityLevelName {
  if (typeof level !== 'string' || !(PRIME_LEVELS as readonly string[]).includes(level)) {
    throw new KeystoreError('INVALID_RECORD', `level must be one of ${PRIME_LEVELS.join(', ')}`);
  }
}

/**
 * @throws KeystoreError INVALID_RECORD unless `x` is a bigint in [1, 2^MAX_PRIME_BITS). The
 *   message names the field and the rule, never the value.
 */
export function assertPrimeValue(field: string, x: bigint): void {
  if (typeof x !== 'bigint' || x <= 0n || x >> BigInt(MAX_PRIME_BITS) !== 0n) {
    throw new KeystoreError(
      'INVALID_RECORD',
      `${field} must be a positive bigint of at most ${MAX_PRIME_BITS} bits`
    );
  }
}

/** The LevelDB key of a pooled pair: the level as a prefix, so a level is one range scan. */
export function primeKey(level: SecurityLevelName, id: string): string {
  return `${level}.${id}`;
}

/** Big-endian bytes of a positive bigint (minimal length). */
export function bigintToBytes(x: bigint): Uint8Array {
  let hex = x.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** The positive bigint of big-endian bytes. */
export function bytesToBigint(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b).toString('hex'));
}

const ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/** @throws KeystoreError INVALID_RECORD unless `id` is 1..128 chars of [A-Za-z0-9._:-]. */
export function assertId(field: string, id: string): void {
  if (typeof id !== 'string' || !ID_RE.test(id)) {
    throw new KeystoreError(
      'INVALID_RECORD',
      `${field} must be 1..128 characters of [A-Za-z0-9._:-]`
    );
  }
}

/** @throws KeystoreError INVALID_RECORD unless `epoch` is a u32. */
export function assertEpoch(epoch: number): void {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > 0xffffffff) {
    throw new KeystoreError('INVALID_RECORD', 'epoch must be an integer in [0, 2^32)');
  }
}

/** @throws KeystoreError INVALID_RECORD unless `data` is 1..MAX_DATA_BYTES bytes. */
export function assertData(field: string, data: Uint8Array): void {
  if (!(data instanceof Uint8Array) || data.length === 0 || data.length > MAX_DATA_BYTES) {
    throw new KeystoreError('INVALID_RECORD', `${field} must be 1..${MAX_DATA_BYTES} bytes`);
  }
}

/** Session ids are 32 bytes, stored as 64 lower-case hex digits. */
export function sidHex(sid: Uint8Array): string {
  if (!(sid instanceof Uint8Array) || sid.length !== 32) {
    throw new KeystoreError('INVALID_RECORD', 'a session id must be 32 bytes');
  }
  return Buffer.from(sid).toString('hex');
}

/** Upgrade steps: UPGRADES[kind][v] turns a version-v object into version v+1. None yet. */
export const UPGRADES: Readonly<
  Record<
    RecordKind,
    Readonly<Record<number, (o: Record<string, unknown>) => Record<string, unknown>>>
  >
> = { keyshare: {}, aux: {}, presig: {}, identity: {}, journal: {}, sid: {}, prime: {} };

/** Encode a plaintext object at the current version (Uint8Array fields become base64). */
export function encodePlaintext(kind: RecordKind, obj: object): Buffer {
  const out: Record<string, unknown> = { v: CODEC_VERSION[kind] };
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    out[k] = v instanceof Uint8Array ? { b64: Buffer.from(v).toString('base64') } : v;
  }
  return Buffer.from(JSON.stringify(out), 'utf8');
}

/**
 * Decode a plaintext, upgrading older versions; returns the object and its stored version.
 * @throws KeystoreError UNSUPPORTED_VERSION (newer than this code) or RECORD_CORRUPT
 */
export function decodePlaintext(
  kind: RecordKind,
  bytes: Uint8Array,
  where: string
): { obj: Record<string, unknown>; version: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new KeystoreError('RECORD_CORRUPT', `${where}: plaintext is not valid JSON`);
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    typeof (parsed as { v?: unknown }).v !== 'number'
  ) {
    throw new KeystoreError('RECORD_CORRUPT', `${where}: plaintext has no version`);
  }
  let obj = parsed as Record<string, unknown>;
  const version = obj.v as number;
  if (version > CODEC_VERSION[kind]) {
    throw new KeystoreError(
      'UNSUPPORTED_VERSION',
      `${where}: record version ${version} is newer than this mpcd understands (${CODEC_VERSION[kind]})`
    );
  }
  for (let v = version; v < CODEC_VERSION[kind]; v++) {
    const step = UPGRADES[kind][v];
    if (!step)
      throw new KeystoreError('UNSUPPORTED_VERSION', `${where}: no upgrade from version ${v}`);
    obj = { ...step(obj), v: v + 1 };
  }
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'object' && v !== null && typeof (v as { b64?: unknown }).b64 === 'string') {
      obj[k] = new Uint8Array(Buffer.from((v as { b64: string }).b64, 'base64'));
    }
  }
  return { obj, version };
}

/** Read a required string field. @throws KeystoreError RECORD_CORRUPT */
export function str(obj: Record<string, unknown>, field: string, where: string): string {
  const v = obj[field];
  if (typeof v !== 'string')
    throw new KeystoreError('RECORD_CORRUPT', `${where}: field ${field} missing`);
  return v;
}

/** Read a required bytes field. @throws KeystoreError RECORD_CORRUPT */
export function bytes(obj: Record<string, unknown>, field: string, where: string): Uint8Array {
  const v = obj[field];
  if (!(v instanceof Uint8Array))
    throw new KeystoreError('RECORD_CORRUPT', `${where}: field ${field} missing`);
  return v;
}
