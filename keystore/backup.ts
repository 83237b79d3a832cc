/**
 * Backup (export) and restore (import) of a node's records as one encrypted, versioned,
 * integrity-checked archive.
 *
 * Archive layout (docs/keystore.md):
 * `"MPCDBAK\0" ‖ version (1) ‖ mode (1: master key, 2: passphrase) ‖ logN ‖ r ‖ p ‖ salt (32) ‖
 *  check nonce (12) ‖ check ciphertext+tag (32) ‖ body nonce (12) ‖ body ciphertext ‖ tag (16)`.
 * The body key is HKDF(master key, salt, "backup") or scrypt(passphrase, salt); the check block
 * (16 zero bytes sealed under that key) tells a wrong key from a tampered archive; the whole
 * header is the body's GCM additional data, so no header byte can change unnoticed.
 * Body: JSON `{format, partyId, createdAt, records: [{kind, key, data}]}`, data = the record's
 * plaintext (base64) — every record is re-sealed under the target store's keys on import.
 *
 * `inspectBackup` opens an archive without a store (its party id, date and record counts) through
 * the same code as `importBackup`, which is what restoring a wiped node needs first.
 *
 * Presignatures are never exported, and an import drops any presignature record it meets, so no
 * restore can bring one back (SECURITY.md §1.15). Pooled prime pairs get the same treatment: a
 * restored pool could hand the primes of a live key to a second keygen, and they are cheap to
 * regenerate. Session ids are exported: a restored node still refuses the sids it took part in.
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KeystoreError } from './errors.js';
import { hkdf } from './encryption.js';
import { parseRecordKey, resolveKey, type Keystore, type WriteOp } from './keystore.js';
import {
  BACKUP_SCRYPT,
  assertScryptParams,
  masterKeyFromPassphrase,
  MIN_PASSPHRASE_LENGTH,
  type MasterKey,
  type MasterKeySource,
} from './master-key.js';
import { assertId, decodePlaintext, RECORD_KINDS, type RecordKind } from './records.js';

const MAGIC = Buffer.from('MPCDBAK\0', 'latin1');
/** Archive format version. */
export const BACKUP_FORMAT = 1;
const SALT = 32;
const NONCE = 12;
const TAG = 16;
const HEADER = MAGIC.length + 1 + 1 + 3 + SALT + NONCE + 16 + TAG + NONCE;
/** Largest archive accepted: 256 MiB. */
export const MAX_BACKUP_BYTES = 256 * 1024 * 1024;
/** Most records one archive may hold. */
export const MAX_BACKUP_RECORDS = 1_000_000;

/** How the archive is keyed: the store's master key (default) or a separate backup passphrase. */
export interface BackupKeying {
  /** A separate passphrase for this archive (scrypt); default: derived from the master key. */
  readonly passphrase?: string;
}

/**
 * The keys {@link inspectBackup} may open an archive with. No store is open there, so a master
 * key cannot come from a store's passphrase: give what the archive's header asks for.
 */
export interface InspectKeying {
  /** The raw master key of the node that made a master-key archive (mode 1). */
  readonly master?: MasterKey;
  /**
   * The passphrase of a passphrase archive (mode 2): the backup passphrase it was made with, or
   * the node's own passphrase (a passphrase node's archives are keyed by it by default).
   */
  readonly passphrase?: string;
}

/** What an archive holds, as {@link inspectBackup} reads it. */
export interface BackupSummary {
  /** The party id (the node's peer id) the archive belongs to. */
  readonly partyId: string;
  /** When the archive was made (ISO 8601, by the exporting node's clock). */
  readonly createdAt: string;
  /**
   * Records per kind. `presig` and `prime` count records an import would drop: an archive of
   * ours never holds them, a doctored or foreign one may.
   */
  readonly counts: Readonly<Record<RecordKind, number>>;
}

/** Kinds a backup can carry (a report counts them; `presig` is always 0). */
export type BackupKind = Exclude<RecordKind, 'prime'>;

/** What an import did. */
export interface ImportReport {
  readonly imported: Record<BackupKind, number>;
  /** Records already present with identical content, left as they were. */
  readonly unchanged: number;
  /** Presignature records met in the archive and dropped. */
  readonly droppedPresignatures: number;
  /**
   * Prime-pool records met in the archive and dropped; present only when the archive held any
   * (our own archives never do, so a report of a clean import keeps its old shape).
   */
  readonly droppedPrimes?: number;
}

/** Kinds that never leave the store in a backup and are dropped on import: single-use secrets. */
const NEVER_BACKED_UP: ReadonlySet<RecordKind> = new Set<RecordKind>(['presig', 'prime']);

/** The `keyedBy` detail of a BACKUP_WRONG_KEY error: which key the archive needs. */
const KEYED_BY = { 1: 'master-key', 2: 'passphrase' } as const;

interface BodyRecord {
  kind: string;
  key: string;
  data: string;
}

/** An archive record that passed every check that needs no store. */
interface CheckedRecord {
  readonly kind: Exclude<RecordKind, 'presig' | 'prime'>;
  readonly key: string;
  readonly id: string;
  readonly epoch: number;
  readonly plaintext: Buffer;
  readonly version: number;
}

/** An archive opened with its key and checked as far as that goes without a store. */
interface OpenedArchive {
  readonly partyId: string;
  readonly createdAt: string;
  /** The records an import writes: presignatures and pooled primes are not among them. */
  readonly records: readonly CheckedRecord[];
  readonly droppedPresignatures: number;
  readonly droppedPrimes: number;
}

/** The keys {@link openArchive} may use; the master key is resolved only if the archive needs it. */
interface ArchiveKeys {
  readonly master: () => Promise<MasterKey | undefined>;
  readonly passphrase: string | undefined;
}

function wrongKey(mode: 1 | 2, message: string): KeystoreError {
  return new KeystoreError('BACKUP_WRONG_KEY', message, { keyedBy: KEYED_BY[mode] });
}

async function archiveKey(
  mode: 1 | 2,
  salt: Uint8Array,
  params: { logN: number; r: number; p: number },
  master: MasterKey | undefined,
  passphrase: string | undefined
): Promise<Buffer> {
  if (mode === 2) {
    if (passphrase === undefined) throw wrongKey(2, 'this archive needs its backup passphrase');
    assertScryptParams({ ...params, salt });
    return Buffer.from((await masterKeyFromPassphrase(passphrase, { ...params, salt })).bytes);
  }
  if (!master) throw wrongKey(1, 'this archive is keyed by a master key');
  return hkdf(master, salt, 'backup');
}

function gcmSeal(key: Buffer, nonce: Buffer, aad: Buffer, pt: Buffer): Buffer {
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  return Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
}

function gcmOpen(key: Buffer, nonce: Buffer, aad: Buffer, sealed: Buffer): Buffer | undefined {
  try {
    const d = createDecipheriv('aes-256-gcm', key, nonce);
    d.setAAD(aad);
    d.setAuthTag(sealed.subarray(sealed.length - TAG));
    return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG)), d.final()]);
  } catch {
    return undefined;
  }
}

/**
 * Export every record except presignatures and pooled primes as an encrypted archive.
 * @param source the store's master-key source (keys the archive unless a passphrase is given)
 */
export async function exportBackup(
  store: Keystore,
  source: MasterKeySource,
  keying: BackupKeying = {}
): Promise<Uint8Array> {
  const records: BodyRecord[] = [];
  for (const kind of RECORD_KINDS) {
    if (NEVER_BACKED_UP.has(kind)) continue; // single-use: never in a backup
    for await (const [key, value] of store.sublevel(kind).iterator()) {
      const plaintext = store.openRecordPlaintext(kind, key, value);
      records.push({ kind, key, data: plaintext.toString('base64') });
    }
  }
  const body = Buffer.from(
    JSON.stringify({
      format: BACKUP_FORMAT,
      partyId: store.partyId,
      createdAt: new Date().toISOString(),
      records,
    }),
    'utf8'
  );
  // The source must be the store's key: an archive keyed by a mistyped key is a silent loss.
  const storeMaster = await resolveKey(source, store.meta.kdf);
  if (!store.isCurrentKey(storeMaster)) {
    throw new KeystoreError(
      'WRONG_MASTER_KEY',
      'the master key given for the backup is not the key of this store'
    );
  }
  // A passphrase store's master key depends on its scrypt salt, which a wipe loses: key such an
  // archive by the passphrase itself (mode 2) unless a separate backup passphrase is given.
  const archivePass =
    keying.passphrase ?? (source.kind === 'passphrase' ? source.passphrase : undefined);
  const mode = archivePass !== undefined ? 2 : 1;
  const params = BACKUP_SCRYPT;
  const salt = randomBytes(SALT);
  const master = mode === 1 ? storeMaster : undefined;
  const key = await archiveKey(mode, salt, params, master, archivePass);
  const pre = Buffer.concat([
    MAGIC,
    Buffer.from([BACKUP_FORMAT, mode, params.logN, params.r, params.p]),
    salt,
  ]);
  const checkNonce = randomBytes(NONCE);
  const check = gcmSeal(key, checkNonce, pre, Buffer.alloc(16));
  const nonce = randomBytes(NONCE);
  const header = Buffer.concat([pre, checkNonce, check, nonce]);
  return Buffer.concat([header, gcmSeal(key, nonce, header, body)]);
}

/**
 * Open an archive without a store: the party it belongs to, when it was made and what it holds.
 * It runs every check of {@link importBackup} that needs no store (size, format, key, integrity,
 * body shape, record kinds, keys and plaintexts), with the same error codes, so an archive that
 * passes can fail an import only by conflicting with the target store. Restoring a wiped node
 * needs the party id before a store exists (a store binds its party id into every record), and a
 * backup tool reads back what it is about to write.
 * @param keying the raw master key of a master-key archive, or the passphrase of a passphrase one
 * @returns the party id, the creation time and the records per kind
 * @throws KeystoreError BACKUP_INVALID (malformed, tampered, unknown version, too large),
 *   BACKUP_WRONG_KEY (`details.keyedBy`: `master-key` or `passphrase`, the key the archive needs),
 *   UNSUPPORTED_VERSION or RECORD_CORRUPT (a record's plaintext)
 * @example
 * const { partyId, counts } = await inspectBackup(archive, { passphrase: backupPassphrase });
 */
export async function inspectBackup(
  archive: Uint8Array,
  keying: InspectKeying
): Promise<BackupSummary> {
  const opened = await openArchive(archive, {
    master: () => Promise.resolve(keying.master),
    passphrase: keying.passphrase,
  });
  const counts = Object.fromEntries(RECORD_KINDS.map((k) => [k, 0])) as Record<RecordKind, number>;
  for (const r of opened.records) counts[r.kind]++;
  counts.presig = opened.droppedPresignatures;
  counts.prime = opened.droppedPrimes;
  return { partyId: opened.partyId, createdAt: opened.createdAt, counts };
}

/**
 * Import an archive into `store`. Everything is validated before anything is written, and the
 * writes are one atomic batch: a refused archive changes nothing.
 * @throws KeystoreError BACKUP_INVALID (malformed, tampered, unknown version),
 *   BACKUP_WRONG_KEY (`details.keyedBy` as in {@link inspectBackup}), BACKUP_CONFLICT (another
 *   party id, named with the store's in the message and as `details.archivePartyId` /
 *   `details.storePartyId`; a key share or aux info older than the store's epoch; a different
 *   identity or record under an existing id)
 */
export async function importBackup(
  store: Keystore,
  archive: Uint8Array,
  source: MasterKeySource,
  keying: BackupKeying = {}
): Promise<ImportReport> {
  const opened = await openArchive(archive, {
    master: () => resolveKey(source, store.meta.kdf),
    passphrase: keying.passphrase ?? (source.kind === 'passphrase' ? source.passphrase : undefined),
  });
  if (opened.partyId !== store.partyId) {
    throw new KeystoreError(
      'BACKUP_CONFLICT',
      `the archive belongs to another party id: ${opened.partyId}, not this store's ${store.partyId}`,
      { archivePartyId: opened.partyId, storePartyId: store.partyId }
    );
  }
  return applyRecords(store, opened);
}

/** Check the header, derive the key, open the check block and the body, check the body. */
async function openArchive(archive: Uint8Array, keys: ArchiveKeys): Promise<OpenedArchive> {
  if (archive.length > MAX_BACKUP_BYTES)
    throw new KeystoreError('BACKUP_INVALID', 'archive larger than 256 MiB');
  const buf = Buffer.from(archive);
  if (buf.length < HEADER + TAG || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new KeystoreError('BACKUP_INVALID', 'not an mpcd backup archive');
  }
  let off = MAGIC.length;
  const version = buf[off++]!;
  if (version !== BACKUP_FORMAT) {
    throw new KeystoreError(
      'BACKUP_INVALID',
      `archive format ${version} is not supported (expected ${BACKUP_FORMAT})`
    );
  }
  const mode = buf[off++]!;
  if (mode !== 1 && mode !== 2)
    throw new KeystoreError('BACKUP_INVALID', 'unknown archive keying mode');
  const params = { logN: buf[off++]!, r: buf[off++]!, p: buf[off++]! };
  const salt = buf.subarray(off, (off += SALT));
  const pre = buf.subarray(0, off);
  const checkNonce = buf.subarray(off, (off += NONCE));
  const check = buf.subarray(off, (off += 16 + TAG));
  const nonce = buf.subarray(off, (off += NONCE));
  const header = buf.subarray(0, off);
  const master = mode === 1 ? await keys.master() : undefined;
  if (
    mode === 2 &&
    keys.passphrase !== undefined &&
    keys.passphrase.length < MIN_PASSPHRASE_LENGTH
  ) {
    throw wrongKey(2, 'wrong backup passphrase');
  }
  let key: Buffer;
  try {
    key = await archiveKey(mode, salt, params, master, keys.passphrase);
  } catch (err) {
    if (err instanceof KeystoreError && err.code === 'INVALID_MASTER_KEY') {
      throw new KeystoreError('BACKUP_INVALID', 'archive key parameters are out of bounds');
    }
    throw err;
  }
  const checkPt = gcmOpen(key, checkNonce, pre, check);
  if (!checkPt || !checkPt.equals(Buffer.alloc(16))) {
    throw wrongKey(
      mode,
      mode === 2 ? 'wrong backup passphrase' : 'the master key does not open this archive'
    );
  }
  const body = gcmOpen(key, nonce, header, buf.subarray(off));
  if (!body) throw new KeystoreError('BACKUP_INVALID', 'archive is corrupt or was tampered with');
  const parsed = parseBody(body);
  return { partyId: parsed.partyId, createdAt: parsed.createdAt, ...checkRecords(parsed.records) };
}

function parseBody(body: Buffer): { partyId: string; createdAt: string; records: BodyRecord[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw new KeystoreError('BACKUP_INVALID', 'archive body is not valid JSON');
  }
  const d = doc as { format?: unknown; partyId?: unknown; createdAt?: unknown; records?: unknown };
  if (
    d.format !== BACKUP_FORMAT ||
    typeof d.partyId !== 'string' ||
    typeof d.createdAt !== 'string' ||
    !Array.isArray(d.records)
  ) {
    throw new KeystoreError('BACKUP_INVALID', 'archive body has an unexpected shape');
  }
  try {
    assertId('partyId', d.partyId); // a store's party id has this shape; messages quote it
  } catch {
    throw new KeystoreError('BACKUP_INVALID', 'archive party id is malformed');
  }
  if (d.records.length > MAX_BACKUP_RECORDS)
    throw new KeystoreError('BACKUP_INVALID', 'too many records');
  for (const r of d.records as unknown[]) {
    const x = r as Partial<BodyRecord>;
    if (typeof x.kind !== 'string' || typeof x.key !== 'string' || typeof x.data !== 'string') {
      throw new KeystoreError('BACKUP_INVALID', 'archive record has an unexpected shape');
    }
  }
  return { partyId: d.partyId, createdAt: d.createdAt, records: d.records as BodyRecord[] };
}

/** The checks of every record that need no store; presignatures and primes are counted, dropped. */
function checkRecords(
  records: readonly BodyRecord[]
): Pick<OpenedArchive, 'records' | 'droppedPresignatures' | 'droppedPrimes'> {
  const out: CheckedRecord[] = [];
  let droppedPresignatures = 0;
  let droppedPrimes = 0;
  const seen = new Set<string>();
  for (const r of records) {
    if (r.kind === 'presig') {
      droppedPresignatures++; // never restore a presignature, whatever the archive says
      continue;
    }
    if (r.kind === 'prime') {
      droppedPrimes++; // nor a pooled prime pair: it could seed a second key with the same primes
      continue;
    }
    if (!(RECORD_KINDS as readonly string[]).includes(r.kind)) {
      throw new KeystoreError('BACKUP_INVALID', `archive holds an unknown record kind ${r.kind}`);
    }
    const kind = r.kind as CheckedRecord['kind'];
    let id: string;
    let epoch: number;
    try {
      ({ id, epoch } = parseRecordKey(kind, r.key));
    } catch {
      throw new KeystoreError('BACKUP_INVALID', `archive holds a malformed ${kind} key`);
    }
    if (seen.has(`${kind}/${r.key}`))
      throw new KeystoreError('BACKUP_INVALID', 'archive holds a record twice');
    seen.add(`${kind}/${r.key}`);
    const plaintext = Buffer.from(r.data, 'base64');
    const { obj, version } = decodePlaintext(kind, plaintext, `archive ${kind}/${r.key}`);
    if (kind === 'identity' && obj.privateKey === undefined) {
      throw new KeystoreError('BACKUP_INVALID', 'archive identity record is incomplete');
    }
    out.push({ kind, key: r.key, id, epoch, plaintext, version });
  }
  return { records: out, droppedPresignatures, droppedPrimes };
}

async function applyRecords(store: Keystore, archive: OpenedArchive): Promise<ImportReport> {
  const imported = Object.fromEntries(
    RECORD_KINDS.filter((k) => k !== 'prime').map((k) => [k, 0])
  ) as Record<BackupKind, number>;
  let unchanged = 0;
  const ops: WriteOp[] = [];
  for (const { kind, key, id, epoch, plaintext, version } of archive.records) {
    const existing = await store.sublevel(kind).get(key);
    if (existing !== undefined) {
      if (store.openRecordPlaintext(kind, key, existing).equals(plaintext)) {
        unchanged++;
        continue;
      }
      if (kind === 'journal' || kind === 'sid') {
        // The live journal is newer than any backup of it; a session id is a set member, its
        // timestamp does not matter.
        unchanged++;
        continue;
      }
      throw new KeystoreError(
        'BACKUP_CONFLICT',
        `${kind} ${id} epoch ${epoch} differs from the stored one`
      );
    }
    if (kind === 'keyshare' || kind === 'aux') {
      const newest = await newestEpoch(store, kind, id);
      if (newest !== undefined && newest > epoch) {
        throw new KeystoreError(
          'BACKUP_CONFLICT',
          `${kind} ${id}: the archive's epoch ${epoch} is older than the stored epoch ${newest}`
        );
      }
    }
    ops.push({
      type: 'put',
      kind,
      key,
      value: store.sealPlaintext(kind, key, epoch, version, plaintext),
    });
    imported[kind]++;
  }
  if (ops.length > 0) await store.write(ops);
  const { droppedPresignatures, droppedPrimes } = archive;
  return {
    imported,
    unchanged,
    droppedPresignatures,
    ...(droppedPrimes > 0 ? { droppedPrimes } : {}),
  };
}

async function newestEpoch(
  store: Keystore,
  kind: 'keyshare' | 'aux',
  id: string
): Promise<number | undefined> {
  for await (const key of store
    .sublevel(kind)
    .keys({ gte: `${id}@`, lt: `${id}@~`, reverse: true, limit: 1 })) {
    return parseRecordKey(kind, key).epoch;
  }
  return undefined;
}
