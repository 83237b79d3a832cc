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
import { decodePlaintext, RECORD_KINDS, type RecordKind } from './records.js';

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

interface BodyRecord {
  kind: string;
  key: string;
  data: string;
}

async function archiveKey(
  mode: number,
  salt: Uint8Array,
  params: { logN: number; r: number; p: number },
  master: MasterKey | undefined,
  passphrase: string | undefined
): Promise<Buffer> {
  if (mode === 2) {
    if (passphrase === undefined)
      throw new KeystoreError('BACKUP_WRONG_KEY', 'this archive needs its backup passphrase');
    assertScryptParams({ ...params, salt });
    return Buffer.from((await masterKeyFromPassphrase(passphrase, { ...params, salt })).bytes);
  }
  if (!master) throw new KeystoreError('BACKUP_WRONG_KEY', 'this archive is keyed by a master key');
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
 * Import an archive into `store`. Everything is validated before anything is written, and the
 * writes are one atomic batch: a refused archive changes nothing.
 * @throws KeystoreError BACKUP_INVALID (malformed, tampered, unknown version),
 *   BACKUP_WRONG_KEY, BACKUP_CONFLICT (other party; a key share or aux info older than the
 *   store's epoch; a different identity or record under an existing id)
 */
export async function importBackup(
  store: Keystore,
  archive: Uint8Array,
  source: MasterKeySource,
  keying: BackupKeying = {}
): Promise<ImportReport> {
  const buf = Buffer.from(archive);
  if (buf.length > MAX_BACKUP_BYTES)
    throw new KeystoreError('BACKUP_INVALID', 'archive larger than 256 MiB');
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
  const master = mode === 1 ? await resolveKey(source, store.meta.kdf) : undefined;
  const archivePass =
    keying.passphrase ?? (source.kind === 'passphrase' ? source.passphrase : undefined);
  if (mode === 2 && archivePass !== undefined && archivePass.length < MIN_PASSPHRASE_LENGTH) {
    throw new KeystoreError('BACKUP_WRONG_KEY', 'wrong backup passphrase');
  }
  let key: Buffer;
  try {
    key = await archiveKey(mode, salt, params, master, archivePass);
  } catch (err) {
    if (err instanceof KeystoreError && err.code === 'INVALID_MASTER_KEY') {
      throw new KeystoreError('BACKUP_INVALID', 'archive key parameters are out of bounds');
    }
    throw err;
  }
  const checkPt = gcmOpen(key, checkNonce, pre, check);
  if (!checkPt || !checkPt.equals(Buffer.alloc(16))) {
    throw new KeystoreError(
      'BACKUP_WRONG_KEY',
      mode === 2 ? 'wrong backup passphrase' : 'the master key does not open this archive'
    );
  }
  const body = gcmOpen(key, nonce, header, buf.subarray(off));
  if (!body) throw new KeystoreError('BACKUP_INVALID', 'archive is corrupt or was tampered with');
  const parsed = parseBody(body);
  if (parsed.partyId !== store.partyId) {
    throw new KeystoreError('BACKUP_CONFLICT', 'the archive belongs to another party id');
  }
  return applyRecords(store, parsed.records);
}

function parseBody(body: Buffer): { partyId: string; records: BodyRecord[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw new KeystoreError('BACKUP_INVALID', 'archive body is not valid JSON');
  }
  const d = doc as { format?: unknown; partyId?: unknown; records?: unknown };
  if (d.format !== BACKUP_FORMAT || typeof d.partyId !== 'string' || !Array.isArray(d.records)) {
    throw new KeystoreError('BACKUP_INVALID', 'archive body has an unexpected shape');
  }
  if (d.records.length > MAX_BACKUP_RECORDS)
    throw new KeystoreError('BACKUP_INVALID', 'too many records');
  for (const r of d.records as unknown[]) {
    const x = r as Partial<BodyRecord>;
    if (typeof x.kind !== 'string' || typeof x.key !== 'string' || typeof x.data !== 'string') {
      throw new KeystoreError('BACKUP_INVALID', 'archive record has an unexpected shape');
    }
  }
  return { partyId: d.partyId, records: d.records as BodyRecord[] };
}

async function applyRecords(store: Keystore, records: BodyRecord[]): Promise<ImportReport> {
  const imported = Object.fromEntries(
    RECORD_KINDS.filter((k) => k !== 'prime').map((k) => [k, 0])
  ) as Record<BackupKind, number>;
  let unchanged = 0;
  let droppedPresignatures = 0;
  let droppedPrimes = 0;
  const ops: WriteOp[] = [];
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
    const kind = r.kind as RecordKind;
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
    const existing = await store.sublevel(kind).get(r.key);
    if (existing !== undefined) {
      if (store.openRecordPlaintext(kind, r.key, existing).equals(plaintext)) {
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
    if (kind === 'identity' && obj.privateKey === undefined) {
      throw new KeystoreError('BACKUP_INVALID', 'archive identity record is incomplete');
    }
    ops.push({
      type: 'put',
      kind,
      key: r.key,
      value: store.sealPlaintext(kind, r.key, epoch, version, plaintext),
    });
    imported[kind as BackupKind]++;
  }
  if (ops.length > 0) await store.write(ops);
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
