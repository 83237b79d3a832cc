/**
 * The node's keystore: LevelDB (`level`) with one sublevel per record kind, every value
 * AES-256-GCM-sealed (`encryption.ts`), and the store's non-secret metadata (format, salt, scrypt
 * parameters, key check, rotation state) in a `meta` sublevel. Format: docs/keystore.md.
 *
 * Guarantees:
 * - a wrong master key is a clear WRONG_MASTER_KEY at open (key-check record), never garbage later;
 * - only one process opens a store (LevelDB's lock → STORE_LOCKED);
 * - every write is one atomic LevelDB batch, synced, so a crash never leaves a half-written record;
 * - a presignature is consumed by one synced write that replaces it with a tombstone **before**
 *   its data is returned, and concurrent consumers are serialized: exactly one wins;
 * - a protocol session id is recorded once; a repeat is SESSION_ID_REUSED (C12 freshness);
 * - a pooled prime pair is deleted by one synced write **before** it is returned, and takers of
 *   one level are serialized: no two callers ever get the same pair.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AbstractSublevel } from 'abstract-level';
import { Level } from 'level';
import { KeystoreError } from './errors.js';
import { deriveStoreKeys, encodeAad, open, seal, type StoreKeys } from './encryption.js';
import {
  DEFAULT_SCRYPT,
  masterKeyFromPassphrase,
  type MasterKey,
  type MasterKeySource,
} from './master-key.js';
import type { SecurityLevelName } from '../protocol/params.js';
import {
  assertData,
  assertEpoch,
  assertId,
  assertPrimeLevel,
  assertPrimeValue,
  bigintToBytes,
  bytes,
  bytesToBigint,
  CODEC_VERSION,
  decodePlaintext,
  encodePlaintext,
  primeKey,
  RECORD_KINDS,
  sidHex,
  str,
  type AuxInfoRecord,
  type JournalRecord,
  type KeyShareRecord,
  type PresignatureRecord,
  type PrimePairRecord,
  type RecordKind,
  type StoredPresignature,
} from './records.js';

/** Version of the store layout (meta + sublevels). */
export const STORE_FORMAT = 1;
const CHECK_PLAINTEXT = Buffer.from('mpcd keystore key check v1');

/** A sublevel with string keys and byte values. */
export type Sub = AbstractSublevel<
  Level<string, Uint8Array>,
  string | Buffer | Uint8Array,
  string,
  Uint8Array
>;

/** One write of an atomic, synced batch. */
export type WriteOp =
  | {
      readonly type: 'put';
      readonly kind: RecordKind | 'meta';
      readonly key: string;
      readonly value: Uint8Array;
    }
  | { readonly type: 'del'; readonly kind: RecordKind | 'meta'; readonly key: string };

/** The `store` meta record (plaintext JSON, not secret). */
export interface StoreMeta {
  readonly format: number;
  readonly partyId: string;
  /** HKDF salt of the data keys, base64. */
  readonly salt: string;
  readonly createdAt: string;
  /** scrypt parameters when the master key is a passphrase. */
  readonly kdf?: { logN: number; r: number; p: number; salt: string };
}

/** Pending master-key rotation (meta record `rotation`). */
export interface RotationState {
  /** fingerprint (hex) of the new key */
  readonly to: string;
  /** new key-check value, base64 */
  readonly check: string;
  /** new scrypt parameters when the new key is a passphrase */
  readonly kdf?: StoreMeta['kdf'];
}

/** Options of {@link Keystore.open}. */
export interface KeystoreOptions {
  /** The data directory of the LevelDB store. */
  readonly dir: string;
  readonly source: MasterKeySource;
  /** Create the store if missing; then `partyId` is required. */
  readonly create?: boolean;
  /** The node's party id (peer id), bound into every record's AAD. Checked against the store. */
  readonly partyId?: string;
  /** scrypt parameters for a new passphrase store (defaults: DEFAULT_SCRYPT). */
  readonly scrypt?: { logN: number; r: number; p: number };
}

function epochKey(id: string, epoch: number): string {
  return `${id}@${epoch.toString().padStart(10, '0')}`;
}

/** Parse the LevelDB key of a record into (id, epoch). @throws KeystoreError RECORD_CORRUPT */
export function parseRecordKey(kind: RecordKind, key: string): { id: string; epoch: number } {
  if (kind === 'keyshare' || kind === 'aux' || kind === 'presig') {
    const m = /^([A-Za-z0-9._:-]{1,128})@(\d{10})$/.exec(key);
    if (!m) throw new KeystoreError('RECORD_CORRUPT', `${kind}: malformed record key`);
    return { id: m[1]!, epoch: Number(m[2]) };
  }
  if (kind === 'prime') {
    const m = /^(level112|level128)\.([A-Za-z0-9._:-]{1,128})$/.exec(key);
    if (!m) throw new KeystoreError('RECORD_CORRUPT', `${kind}: malformed record key`);
    return { id: m[2]!, epoch: 0 };
  }
  if (kind === 'identity' ? key !== 'identity' : !/^[0-9a-f]{64}$/.test(key)) {
    throw new KeystoreError('RECORD_CORRUPT', `${kind}: malformed record key`);
  }
  return { id: key, epoch: 0 };
}

/** Resolve a source into a master key, using the store's (or given) scrypt parameters. */
export async function resolveKey(
  source: MasterKeySource,
  kdf: StoreMeta['kdf'] | undefined
): Promise<MasterKey> {
  if (source.kind === 'key') return source.key;
  if (!kdf) {
    throw new KeystoreError(
      'WRONG_MASTER_KEY',
      'this store is keyed by a raw master key, not a passphrase'
    );
  }
  return masterKeyFromPassphrase(source.passphrase, {
    ...kdf,
    salt: Buffer.from(kdf.salt, 'base64'),
  });
}

/** Fresh scrypt parameters (new salt) for a passphrase source, else undefined. */
export function newKdf(
  source: MasterKeySource,
  params: { logN: number; r: number; p: number } = DEFAULT_SCRYPT
): StoreMeta['kdf'] | undefined {
  if (source.kind !== 'passphrase') return undefined;
  return { ...params, salt: randomBytes(32).toString('base64') };
}

/** The encrypted per-node store. Create with {@link Keystore.open}. */
export class Keystore {
  private closed = false;
  private readonly locks = new Map<string, Promise<void>>();

  private constructor(
    private readonly db: Level<string, Uint8Array>,
    private readonly subs: Readonly<Record<RecordKind | 'meta', Sub>>,
    /** Decryption candidates; the first one seals. */
    private keys: StoreKeys[],
    readonly meta: StoreMeta
  ) {}

  /** The node's party id, bound into every record. */
  get partyId(): string {
    return this.meta.partyId;
  }

  /**
   * Open (or create) the store in `opts.dir`.
   * @throws KeystoreError STORE_LOCKED, STORE_MISSING, WRONG_MASTER_KEY, ROTATION_IN_PROGRESS,
   *   UNSUPPORTED_VERSION, INVALID_RECORD (bad partyId)
   */
  static async open(opts: KeystoreOptions): Promise<Keystore> {
    return Keystore.openInternal(opts, false);
  }

  /** @internal Open; with `forRotation` a pending rotation is allowed (rotation.ts resumes it). */
  static async openInternal(opts: KeystoreOptions, forRotation: boolean): Promise<Keystore> {
    // Never let a mistyped --data-dir leave LevelDB files behind: check before LevelDB creates any.
    if (!existsSync(join(opts.dir, 'CURRENT'))) {
      if (!opts.create) {
        throw new KeystoreError(
          'STORE_MISSING',
          `no keystore in ${opts.dir} (initialise it first)`,
          { dir: opts.dir }
        );
      }
      // Owner-only: ids are not secret, but nobody else has business listing the store.
      try {
        mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
      } catch (err) {
        throw new KeystoreError(
          'STORE_MISSING',
          `the store ${opts.dir} cannot be created: ${(err as Error).message}`,
          { dir: opts.dir }
        );
      }
    }
    const db = new Level<string, Uint8Array>(opts.dir, {
      keyEncoding: 'utf8',
      valueEncoding: 'view',
    });
    try {
      await db.open();
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      if (cause?.code === 'LEVEL_LOCKED') {
        throw new KeystoreError(
          'STORE_LOCKED',
          `the store ${opts.dir} is in use by another process`,
          { dir: opts.dir }
        );
      }
      throw new KeystoreError(
        'STORE_MISSING',
        `the store ${opts.dir} cannot be opened: ${cause?.message ?? ''}`
      );
    }
    try {
      const sub = (name: string): Sub =>
        db.sublevel<string, Uint8Array>(name, { valueEncoding: 'view' });
      const subs = Object.fromEntries(
        [...RECORD_KINDS, 'meta' as const].map((k) => [k, sub(k)])
      ) as unknown as Record<RecordKind | 'meta', Sub>;
      let meta = await readJson<StoreMeta>(subs.meta, 'store');
      if (!meta) {
        if (!opts.create) {
          throw new KeystoreError(
            'STORE_MISSING',
            `no keystore in ${opts.dir} (initialise it first)`
          );
        }
        meta = await initialise(db, subs, opts);
      }
      if (meta.format > STORE_FORMAT) {
        throw new KeystoreError(
          'UNSUPPORTED_VERSION',
          `store format ${meta.format} is newer than this mpcd`
        );
      }
      if (opts.partyId !== undefined && opts.partyId !== meta.partyId) {
        throw new KeystoreError('INVALID_RECORD', 'this store belongs to another party id');
      }
      const rotation = await readJson<RotationState>(subs.meta, 'rotation');
      if (rotation && !forRotation) {
        throw new KeystoreError(
          'ROTATION_IN_PROGRESS',
          'a master-key rotation was interrupted: run it again with the old and the new key to finish it'
        );
      }
      const master = await resolveKey(opts.source, meta.kdf);
      const keys = deriveStoreKeys(master, Buffer.from(meta.salt, 'base64'));
      const checkOk = verifyCheck(keys, meta.partyId, await subs.meta.get('check'));
      if (!checkOk) {
        throw new KeystoreError(
          'WRONG_MASTER_KEY',
          `the master key does not open the store ${opts.dir}`
        );
      }
      return new Keystore(db, subs, [keys], meta);
    } catch (err) {
      await db.close();
      throw err;
    }
  }

  /** Close the store (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }

  private assertOpen(): void {
    if (this.closed || this.db.status !== 'open') {
      throw new KeystoreError('STORE_CLOSED', 'the keystore is closed');
    }
  }

  // ---- key shares, aux info ---------------------------------------------------------------

  /**
   * Store a key share (one synced write). Refuses an epoch older than the newest stored one and a
   * different share under an existing (keyId, epoch); writing the identical record again is a no-op.
   */
  async putKeyShare(rec: KeyShareRecord): Promise<void> {
    assertId('keyId', rec.keyId);
    await this.putEpochRecord('keyshare', rec.keyId, rec.epoch, rec.data, {
      keyId: rec.keyId,
      epoch: rec.epoch,
    });
  }

  /** The key share of `keyId` at `epoch`, or at its newest epoch; undefined if none. */
  async getKeyShare(keyId: string, epoch?: number): Promise<KeyShareRecord | undefined> {
    const r = await this.getEpochRecord('keyshare', keyId, epoch);
    return (
      r && {
        keyId: str(r.obj, 'keyId', r.where),
        epoch: r.epoch,
        data: bytes(r.obj, 'data', r.where),
      }
    );
  }

  /** (keyId, epoch) of every stored key share; reads keys only, decrypts nothing. */
  async listKeyShares(): Promise<Array<{ keyId: string; epoch: number }>> {
    this.assertOpen();
    const out: Array<{ keyId: string; epoch: number }> = [];
    for await (const key of this.subs.keyshare.keys()) {
      const { id, epoch } = parseRecordKey('keyshare', key);
      out.push({ keyId: id, epoch });
    }
    return out;
  }

  /** Delete one epoch of a key share (after a refresh is confirmed). */
  async deleteKeyShare(keyId: string, epoch: number): Promise<void> {
    assertId('keyId', keyId);
    assertEpoch(epoch);
    this.assertOpen();
    await this.write([{ type: 'del', kind: 'keyshare', key: epochKey(keyId, epoch) }]);
  }

  /** Store aux info (same rules as {@link putKeyShare}). */
  async putAuxInfo(rec: AuxInfoRecord): Promise<void> {
    assertId('auxId', rec.auxId);
    await this.putEpochRecord('aux', rec.auxId, rec.epoch, rec.data, {
      auxId: rec.auxId,
      epoch: rec.epoch,
    });
  }

  /** Aux info by id at `epoch` or its newest epoch. */
  async getAuxInfo(auxId: string, epoch?: number): Promise<AuxInfoRecord | undefined> {
    const r = await this.getEpochRecord('aux', auxId, epoch);
    return (
      r && {
        auxId: str(r.obj, 'auxId', r.where),
        epoch: r.epoch,
        data: bytes(r.obj, 'data', r.where),
      }
    );
  }

  // ---- presignatures ------------------------------------------------------------------------

  /** Store a FRESH presignature. Refuses an id that exists (fresh or consumed). */
  async putPresignature(rec: PresignatureRecord): Promise<void> {
    assertId('presigId', rec.presigId);
    assertId('keyId', rec.keyId);
    assertEpoch(rec.epoch);
    assertData('data', rec.data);
    await this.withLock(`presig:${rec.presigId}`, async () => {
      if (await this.findPresignatureKey(rec.presigId)) {
        throw new KeystoreError('INVALID_RECORD', `presignature ${rec.presigId} already exists`);
      }
      const stored: StoredPresignature = { ...rec, state: 'fresh' };
      await this.putRecord('presig', epochKey(rec.presigId, rec.epoch), rec.epoch, stored);
    });
  }

  /**
   * Consume a presignature: in one synced write its record becomes a CONSUMED tombstone (the
   * record no longer holds the data; the old sealed value may linger in LevelDB's log/table files,
   * see docs/keystore.md), and only then is the data returned. A second or a
   * concurrent call fails with PRESIGNATURE_CONSUMED (SECURITY.md §1.15).
   * @throws KeystoreError NOT_FOUND, PRESIGNATURE_CONSUMED
   */
  async consumePresignature(presigId: string): Promise<PresignatureRecord> {
    assertId('presigId', presigId);
    return this.withLock(`presig:${presigId}`, async () => {
      const key = await this.findPresignatureKey(presigId);
      if (!key) throw new KeystoreError('NOT_FOUND', `no presignature ${presigId}`);
      const r = await this.getRecord('presig', key);
      if (!r) throw new KeystoreError('NOT_FOUND', `no presignature ${presigId}`);
      if (str(r.obj, 'state', r.where) !== 'fresh') {
        throw new KeystoreError(
          'PRESIGNATURE_CONSUMED',
          `presignature ${presigId} was already used`
        );
      }
      const rec: PresignatureRecord = {
        presigId,
        keyId: str(r.obj, 'keyId', r.where),
        epoch: r.epoch,
        data: bytes(r.obj, 'data', r.where),
      };
      const tombstone: StoredPresignature = {
        presigId,
        keyId: rec.keyId,
        epoch: rec.epoch,
        state: 'consumed',
        consumedAt: new Date().toISOString(),
      };
      await this.putRecord('presig', key, rec.epoch, tombstone);
      return rec;
    });
  }

  /** Ids of the FRESH presignatures of a key (decrypts each record's header fields). */
  async listFreshPresignatures(keyId: string): Promise<string[]> {
    assertId('keyId', keyId);
    this.assertOpen();
    const out: string[] = [];
    for await (const [key, value] of this.subs.presig.iterator()) {
      const r = this.openRecord('presig', key, value);
      if (str(r.obj, 'keyId', r.where) === keyId && str(r.obj, 'state', r.where) === 'fresh') {
        out.push(parseRecordKey('presig', key).id);
      }
    }
    return out;
  }

  // ---- identity, journal, session ids -------------------------------------------------------

  /** Store the node's identity private key (protobuf bytes). */
  async putIdentity(privateKey: Uint8Array): Promise<void> {
    assertData('privateKey', privateKey);
    await this.putRecord('identity', 'identity', 0, { privateKey });
  }

  /** The identity private key, if stored. */
  async getIdentity(): Promise<Uint8Array | undefined> {
    const r = await this.getRecord('identity', 'identity');
    return r && bytes(r.obj, 'privateKey', r.where);
  }

  /** Write (replace) the journal entry of a session. */
  async putJournal(entry: JournalRecord): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(entry.sid))
      throw new KeystoreError('INVALID_RECORD', 'journal sid must be 64 hex digits');
    for (const f of ['protocol', 'state', 'updatedAt'] as const) {
      if (typeof entry[f] !== 'string' || entry[f].length === 0 || entry[f].length > 256) {
        throw new KeystoreError('INVALID_RECORD', `journal ${f} must be 1..256 characters`);
      }
    }
    if (entry.detail !== undefined && entry.detail.length > 4096) {
      throw new KeystoreError('INVALID_RECORD', 'journal detail must be at most 4096 characters');
    }
    await this.putRecord('journal', entry.sid, 0, entry);
  }

  /** The journal entry of a session id (hex), if any. */
  async getJournal(sid: string): Promise<JournalRecord | undefined> {
    if (!/^[0-9a-f]{64}$/.test(sid))
      throw new KeystoreError('INVALID_RECORD', 'sid must be 64 hex digits');
    const r = await this.getRecord('journal', sid);
    if (!r) return undefined;
    const detail = r.obj.detail;
    return {
      sid,
      protocol: str(r.obj, 'protocol', r.where),
      state: str(r.obj, 'state', r.where),
      updatedAt: str(r.obj, 'updatedAt', r.where),
      ...(typeof detail === 'string' ? { detail } : {}),
    };
  }

  /**
   * Record that this node takes part in protocol session `sid` (32 bytes). Refuses a sid seen
   * before — the freshness guarantee of C12 against a buggy or hostile coordinator.
   * @throws KeystoreError SESSION_ID_REUSED
   */
  async recordSessionId(sid: Uint8Array): Promise<void> {
    const hex = sidHex(sid);
    this.assertOpen();
    await this.withLock(`sid:${hex}`, async () => {
      if ((await this.subs.sid.get(hex)) !== undefined) {
        throw new KeystoreError(
          'SESSION_ID_REUSED',
          `session id ${hex.slice(0, 16)}… was already used`
        );
      }
      await this.putRecord('sid', hex, 0, { sid: hex, at: new Date().toISOString() });
    });
  }

  /** Whether `sid` was recorded. */
  async hasSessionId(sid: Uint8Array): Promise<boolean> {
    this.assertOpen();
    return (await this.subs.sid.get(sidHex(sid))) !== undefined;
  }

  // ---- prime pool -----------------------------------------------------------------------------

  /**
   * Store a pair of safe primes for a later keygen at `level` (one synced write). The keystore
   * checks only shape (id, level, 0 < p, q < 2^4096); primality is the pool's job
   * (daemon/prime-pool.ts checks every pair before it stores it). Refuses an id already pooled
   * at that level. Errors name the field, never a prime.
   * @throws KeystoreError INVALID_RECORD
   */
  async putPrimePair(rec: PrimePairRecord): Promise<void> {
    assertId('id', rec.id);
    assertPrimeLevel(rec.level);
    assertPrimeValue('p', rec.p);
    assertPrimeValue('q', rec.q);
    this.assertOpen();
    const key = primeKey(rec.level, rec.id);
    await this.withLock(`prime:${rec.level}`, async () => {
      if ((await this.subs.prime.get(key)) !== undefined) {
        throw new KeystoreError(
          'INVALID_RECORD',
          `prime pair ${rec.level}/${rec.id} already exists`
        );
      }
      await this.putRecord('prime', key, 0, {
        id: rec.id,
        level: rec.level,
        p: bigintToBytes(rec.p),
        q: bigintToBytes(rec.q),
      });
    });
  }

  /**
   * Take one pooled pair of `level`: read it, delete it in one synced write, and only then return
   * it — a crash after this call never hands the same primes to a second keygen. Takers (and
   * writers) of a level are serialized, so concurrent calls never get the same pair.
   * @returns the pair, or undefined when the pool of that level is empty
   * @throws KeystoreError INVALID_RECORD (level), RECORD_CORRUPT (a tampered pool record)
   */
  async takePrimePair(
    level: SecurityLevelName
  ): Promise<{ id: string; p: bigint; q: bigint } | undefined> {
    assertPrimeLevel(level);
    this.assertOpen();
    return this.withLock(`prime:${level}`, async () => {
      for await (const [key, value] of this.subs.prime.iterator({
        gte: `${level}.`,
        lt: `${level}.~`,
        limit: 1,
      })) {
        const r = this.openRecord('prime', key, value);
        const id = parseRecordKey('prime', key).id;
        if (str(r.obj, 'id', r.where) !== id || str(r.obj, 'level', r.where) !== level) {
          throw new KeystoreError('RECORD_CORRUPT', `${r.where}: id or level mismatch`);
        }
        const p = bytesToBigint(bytes(r.obj, 'p', r.where));
        const q = bytesToBigint(bytes(r.obj, 'q', r.where));
        await this.write([{ type: 'del', kind: 'prime', key }]);
        return { id, p, q };
      }
      return undefined;
    });
  }

  /** Number of pooled pairs of `level` (reads keys only, decrypts nothing). */
  async countPrimePairs(level: SecurityLevelName): Promise<number> {
    assertPrimeLevel(level);
    this.assertOpen();
    let n = 0;
    for await (const _ of this.subs.prime.keys({ gte: `${level}.`, lt: `${level}.~` })) n++;
    return n;
  }

  // ---- record plumbing (also used by rotation.ts and backup.ts) ---------------------------

  private async putEpochRecord(
    kind: 'keyshare' | 'aux',
    id: string,
    epoch: number,
    data: Uint8Array,
    fields: Record<string, unknown>
  ): Promise<void> {
    assertEpoch(epoch);
    assertData('data', data);
    await this.withLock(`${kind}:${id}`, async () => {
      const newest = await this.getEpochRecord(kind, id);
      if (newest && newest.epoch > epoch) {
        throw new KeystoreError(
          'INVALID_RECORD',
          `${kind} ${id}: epoch ${epoch} is older than the stored ${newest.epoch}`
        );
      }
      if (newest && newest.epoch === epoch) {
        if (Buffer.from(bytes(newest.obj, 'data', newest.where)).equals(Buffer.from(data))) return;
        throw new KeystoreError('INVALID_RECORD', `${kind} ${id} epoch ${epoch} is already stored`);
      }
      await this.putRecord(kind, epochKey(id, epoch), epoch, { ...fields, data });
    });
  }

  private async getEpochRecord(kind: 'keyshare' | 'aux', id: string, epoch?: number) {
    assertId('id', id);
    this.assertOpen();
    if (epoch !== undefined) {
      assertEpoch(epoch);
      return this.getRecord(kind, epochKey(id, epoch));
    }
    for await (const [key, value] of this.subs[kind].iterator({
      gte: `${id}@`,
      lt: `${id}@~`,
      reverse: true,
      limit: 1,
    })) {
      return this.openRecord(kind, key, value);
    }
    return undefined;
  }

  private async findPresignatureKey(presigId: string): Promise<string | undefined> {
    this.assertOpen();
    for await (const key of this.subs.presig.keys({
      gte: `${presigId}@`,
      lt: `${presigId}@~`,
      limit: 1,
    })) {
      return key;
    }
    return undefined;
  }

  /** @internal Seal and write one record (synced). */
  async putRecord(kind: RecordKind, key: string, epoch: number, obj: object): Promise<void> {
    await this.write([{ type: 'put', kind, key, value: this.sealRecord(kind, key, epoch, obj) }]);
  }

  /**
   * @internal One atomic LevelDB batch across sublevels, fsynced before it resolves: either all
   * of `ops` is on disk or none of it.
   */
  async write(ops: readonly WriteOp[]): Promise<void> {
    this.assertOpen();
    await writeBatch(this.db, this.subs, ops);
  }

  /** @internal Seal a record's plaintext under the current key. */
  sealRecord(kind: RecordKind, key: string, epoch: number, obj: object): Buffer {
    const aad = encodeAad({
      kind,
      id: key,
      party: this.partyId,
      epoch,
      version: CODEC_VERSION[kind],
    });
    return seal(this.keys[0]!, aad, encodePlaintext(kind, obj));
  }

  private async getRecord(kind: RecordKind, key: string) {
    this.assertOpen();
    const value = await this.subs[kind].get(key);
    return value === undefined ? undefined : this.openRecord(kind, key, value);
  }

  /**
   * @internal Decrypt one stored value: its plaintext and the codec version bound in its AAD.
   * The current version is tried first, then each older one (a record an older mpcd wrote).
   * @throws KeystoreError RECORD_CORRUPT
   */
  openRaw(
    kind: RecordKind,
    key: string,
    value: Uint8Array
  ): { plaintext: Buffer; version: number } {
    const { epoch } = parseRecordKey(kind, key);
    const where = `${kind}/${key}`;
    const aadOf = (version: number) =>
      encodeAad({ kind, id: key, party: this.partyId, epoch, version });
    let failure: unknown;
    for (let version = CODEC_VERSION[kind]; version >= 1; version--) {
      try {
        return { plaintext: open(this.keys, aadOf(version), value, where), version };
      } catch (err) {
        failure ??= err;
      }
    }
    // Written by a newer mpcd? Its codec version is in the AAD: say so instead of "tampered".
    for (let version = CODEC_VERSION[kind] + 1; version <= CODEC_VERSION[kind] + 16; version++) {
      try {
        open(this.keys, aadOf(version), value, where);
      } catch {
        continue;
      }
      throw new KeystoreError(
        'UNSUPPORTED_VERSION',
        `${where}: record version ${version} is newer than this mpcd understands (${CODEC_VERSION[kind]})`
      );
    }
    throw failure;
  }

  /** @internal The plaintext bytes of a stored value (backup). */
  openRecordPlaintext(kind: RecordKind, key: string, value: Uint8Array): Buffer {
    return this.openRaw(kind, key, value).plaintext;
  }

  /** @internal Decrypt and decode (upgrading older versions) one stored value. */
  openRecord(kind: RecordKind, key: string, value: Uint8Array) {
    const { epoch } = parseRecordKey(kind, key);
    const where = `${kind}/${key}`;
    const { plaintext, version } = this.openRaw(kind, key, value);
    const decoded = decodePlaintext(kind, plaintext, where);
    if (decoded.version !== version) {
      throw new KeystoreError(
        'RECORD_CORRUPT',
        `${where}: version mismatch between header and body`
      );
    }
    return { obj: decoded.obj, epoch, where };
  }

  /** @internal Seal given plaintext bytes at a given codec version (backup import). */
  sealPlaintext(
    kind: RecordKind,
    key: string,
    epoch: number,
    version: number,
    plaintext: Uint8Array
  ): Buffer {
    const aad = encodeAad({ kind, id: key, party: this.partyId, epoch, version });
    return seal(this.keys[0]!, aad, plaintext);
  }

  /** @internal Re-seal a stored value under the current (first) key, plaintext and AAD unchanged. */
  resealRecord(kind: RecordKind, key: string, value: Uint8Array): Buffer {
    const { plaintext, version } = this.openRaw(kind, key, value);
    return this.sealPlaintext(kind, key, parseRecordKey(kind, key).epoch, version, plaintext);
  }

  /** @internal The sublevel of a kind (rotation, backup). */
  sublevel(kind: RecordKind | 'meta'): Sub {
    this.assertOpen();
    return this.subs[kind];
  }

  /** @internal Whether `master` is this store's current master key. */
  isCurrentKey(master: MasterKey): boolean {
    return deriveStoreKeys(master, Buffer.from(this.meta.salt, 'base64')).fingerprint.equals(
      this.keys[0]!.fingerprint
    );
  }

  /** @internal Replace the sealing/decryption keys (rotation). */
  setKeys(keys: StoreKeys[]): void {
    this.keys = keys;
  }

  /** @internal The underlying database (atomic multi-sublevel batches). */
  database(): Level<string, Uint8Array> {
    this.assertOpen();
    return this.db;
  }

  /** Serialize `fn` per `name` (check-then-write sections: one process owns the store). */
  private async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(name) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chained = prev.then(() => mine);
    this.locks.set(name, chained);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(name) === chained) this.locks.delete(name);
    }
  }
}

/** The key-check value: the constant sealed under the record key (kind `meta`, id `key-check`). */
export function makeCheck(keys: StoreKeys, partyId: string): Buffer {
  return seal(keys, checkAad(partyId), CHECK_PLAINTEXT);
}

/** Whether `check` opens with `keys`. */
export function verifyCheck(
  keys: StoreKeys,
  partyId: string,
  check: Uint8Array | undefined
): boolean {
  if (!check) return false;
  try {
    return open([keys], checkAad(partyId), check, 'meta/key-check').equals(CHECK_PLAINTEXT);
  } catch {
    return false;
  }
}

function checkAad(partyId: string): Buffer {
  return encodeAad({ kind: 'meta', id: 'key-check', party: partyId, epoch: 0, version: 1 });
}

/** Read a plaintext JSON meta record. */
export async function readJson<T>(meta: Sub, key: string): Promise<T | undefined> {
  const v = await meta.get(key);
  if (v === undefined) return undefined;
  try {
    return JSON.parse(Buffer.from(v).toString('utf8')) as T;
  } catch {
    throw new KeystoreError('RECORD_CORRUPT', `meta/${key} is not valid JSON`);
  }
}

/** JSON bytes of a meta record. */
export function jsonBytes(x: unknown): Buffer {
  return Buffer.from(JSON.stringify(x), 'utf8');
}

/** Atomic, fsynced batch over sublevels. */
async function writeBatch(
  db: Level<string, Uint8Array>,
  subs: Readonly<Record<RecordKind | 'meta', Sub>>,
  ops: readonly WriteOp[]
): Promise<void> {
  await db.batch(
    ops.map((op) =>
      op.type === 'put'
        ? { type: 'put' as const, sublevel: subs[op.kind], key: op.key, value: op.value }
        : { type: 'del' as const, sublevel: subs[op.kind], key: op.key }
    ),
    { sync: true }
  );
}

async function initialise(
  db: Level<string, Uint8Array>,
  subs: Readonly<Record<RecordKind | 'meta', Sub>>,
  opts: KeystoreOptions
): Promise<StoreMeta> {
  if (opts.partyId === undefined)
    throw new KeystoreError('INVALID_RECORD', 'partyId is required to create a store');
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(opts.partyId)) {
    throw new KeystoreError(
      'INVALID_RECORD',
      'partyId must be 1..128 characters of [A-Za-z0-9._:-]'
    );
  }
  const kdf = newKdf(opts.source, opts.scrypt);
  const storeMeta: StoreMeta = {
    format: STORE_FORMAT,
    partyId: opts.partyId,
    salt: randomBytes(32).toString('base64'),
    createdAt: new Date().toISOString(),
    ...(kdf ? { kdf } : {}),
  };
  const master = await resolveKey(opts.source, kdf);
  const keys = deriveStoreKeys(master, Buffer.from(storeMeta.salt, 'base64'));
  await writeBatch(db, subs, [
    { type: 'put', kind: 'meta', key: 'store', value: jsonBytes(storeMeta) },
    { type: 'put', kind: 'meta', key: 'check', value: makeCheck(keys, storeMeta.partyId) },
  ]);
  return storeMeta;
}
