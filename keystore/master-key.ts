/**
 * Master-key sources (ARCHITECTURE.md "Storage"): exactly one of
 * - `MPCD_MASTER_KEY`: 32 bytes as 64 hex digits or base64/base64url;
 * - a key file holding the same text (or 32 raw bytes), refused when group- or world-accessible;
 * - a passphrase, stretched with scrypt under a salt and parameters stored in the keystore.
 *
 * The master key never encrypts a record directly: per-purpose data keys are derived from it with
 * HKDF (`encryption.ts`). Nothing here logs or echoes key material; errors name the source only.
 * @module
 */
import { scrypt } from 'node:crypto';
import { open } from 'node:fs/promises';
import { KeystoreError } from './errors.js';

/** Length of the master key and of every derived data key. */
export const MASTER_KEY_BYTES = 32;
/** Shortest passphrase accepted. */
export const MIN_PASSPHRASE_LENGTH = 12;

/** A master key in memory (32 bytes). */
export interface MasterKey {
  readonly bytes: Uint8Array;
}

/** scrypt parameters (stored next to the data they protect; not secret). */
export interface ScryptParams {
  /** log₂ of the cost N */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Uint8Array;
}

/** Defaults: N = 2^15, r = 8, p = 1 (32 MiB, ~0.1 s here): OWASP's minimum for scrypt. */
export const DEFAULT_SCRYPT = { logN: 15, r: 8, p: 1 } as const;

/** Backups are the file most exposed to offline guessing: N = 2^17 (128 MiB, ~0.4 s). */
export const BACKUP_SCRYPT = { logN: 17, r: 8, p: 1 } as const;

/** Where a master key comes from; a passphrase is resolved against the store's scrypt salt. */
export type MasterKeySource =
  | { readonly kind: 'key'; readonly key: MasterKey }
  | { readonly kind: 'passphrase'; readonly passphrase: string };

/**
 * Parse 32 key bytes from text: 64 hex digits, or base64 / base64url of 32 bytes.
 * @param origin what the text is (named in errors, e.g. "MPCD_MASTER_KEY")
 * @throws KeystoreError INVALID_MASTER_KEY
 */
export function parseMasterKey(text: string, origin: string): MasterKey {
  const t = text.trim();
  let bytes: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(t)) bytes = Buffer.from(t, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(t)) bytes = Buffer.from(t, 'base64');
  if (!bytes || bytes.length !== MASTER_KEY_BYTES) {
    throw new KeystoreError(
      'INVALID_MASTER_KEY',
      `${origin} must be 32 bytes written as 64 hex digits or base64 (got ${t.length} characters)`
    );
  }
  return { bytes: new Uint8Array(bytes) };
}

/**
 * Read a key file. Refuses anything but a regular file with no group/other permission bits
 * (chmod 600 or 400), so a key left world-readable is an error rather than a silent leak.
 * @throws KeystoreError KEY_FILE_PERMISSIONS or INVALID_MASTER_KEY
 */
export async function masterKeyFromFile(path: string): Promise<MasterKey> {
  const raw = await readSecretFile(path, 'key file');
  if (raw.length === MASTER_KEY_BYTES && !/^[\x20-\x7e\s]*$/.test(raw.toString('latin1'))) {
    return { bytes: new Uint8Array(raw) };
  }
  return parseMasterKey(raw.toString('utf8'), `key file ${path}`);
}

/**
 * Read a passphrase file (one trailing newline dropped), with the key file's rules: a regular
 * file with no group/other permission bits, at most 4 KiB. The length rule is checked where the
 * passphrase is stretched.
 * @throws KeystoreError KEY_FILE_PERMISSIONS or INVALID_MASTER_KEY
 */
export async function passphraseFromFile(path: string): Promise<string> {
  const raw = await readSecretFile(path, 'passphrase file');
  return raw.toString('utf8').replace(/\r?\n$/, '');
}

/** A small secret file, refused unless it is a regular file private to its owner. */
async function readSecretFile(path: string, what: string): Promise<Buffer> {
  // Open first, then fstat the open file: no window between the check and the read, and a
  // symlink (e.g. a Kubernetes secret mount) is judged by the file it points to.
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    throw new KeystoreError('KEY_FILE_PERMISSIONS', `${what} ${path} cannot be read`, { path });
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) {
      throw new KeystoreError('KEY_FILE_PERMISSIONS', `${what} ${path} is not a regular file`, {
        path,
      });
    }
    if ((st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8);
      throw new KeystoreError(
        'KEY_FILE_PERMISSIONS',
        `${what} ${path} has mode ${mode}: it must not be accessible by group or others (chmod 600)`,
        { path, mode }
      );
    }
    if (st.size > 4096) {
      throw new KeystoreError(
        'INVALID_MASTER_KEY',
        `${what} ${path} is too large to hold a secret`,
        { path }
      );
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/**
 * Stretch a passphrase into a master key with scrypt.
 * @throws KeystoreError INVALID_MASTER_KEY if the passphrase is too short or params are absurd
 */
export async function masterKeyFromPassphrase(
  passphrase: string,
  params: ScryptParams
): Promise<MasterKey> {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new KeystoreError(
      'INVALID_MASTER_KEY',
      `the passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters`
    );
  }
  assertScryptParams(params);
  const N = 2 ** params.logN;
  const key = await new Promise<Buffer>((resolve, reject) =>
    scrypt(
      passphrase.normalize('NFKC'),
      params.salt,
      MASTER_KEY_BYTES,
      { N, r: params.r, p: params.p, maxmem: 256 * N * params.r + (1 << 20) },
      (err, out) => (err ? reject(err) : resolve(out))
    )
  );
  return { bytes: new Uint8Array(key) };
}

/**
 * Bounds on stored scrypt parameters. They come from disk or from an archive, so they bound what
 * a hostile file can make us spend before any key check: at most N = 2^20, r = 8 (1 GiB, ~3 s).
 * @throws KeystoreError INVALID_MASTER_KEY
 */
export function assertScryptParams(params: ScryptParams): void {
  const ok =
    Number.isInteger(params.logN) &&
    params.logN >= 14 &&
    params.logN <= 20 &&
    params.r === 8 &&
    Number.isInteger(params.p) &&
    params.p >= 1 &&
    params.p <= 4 &&
    params.salt.length >= 16 &&
    params.salt.length <= 64;
  if (!ok) throw new KeystoreError('INVALID_MASTER_KEY', 'scrypt parameters out of bounds');
}

/**
 * Pick the configured source: exactly one of `MPCD_MASTER_KEY`, a key file, or a passphrase.
 * @throws KeystoreError MASTER_KEY_SOURCE (none or several), or the source's own errors
 */
export async function resolveMasterKeySource(cfg: {
  envValue?: string | undefined;
  keyFile?: string | undefined;
  passphrase?: string | undefined;
}): Promise<MasterKeySource> {
  const given = [cfg.envValue, cfg.keyFile, cfg.passphrase].filter(
    (x) => x !== undefined && x !== ''
  );
  if (given.length !== 1) {
    throw new KeystoreError(
      'MASTER_KEY_SOURCE',
      given.length === 0
        ? 'no master key: set MPCD_MASTER_KEY, or configure a key file or a passphrase'
        : 'several master key sources are configured: use exactly one of MPCD_MASTER_KEY, key file, passphrase'
    );
  }
  if (cfg.envValue) return { kind: 'key', key: parseMasterKey(cfg.envValue, 'MPCD_MASTER_KEY') };
  if (cfg.keyFile) return { kind: 'key', key: await masterKeyFromFile(cfg.keyFile) };
  return { kind: 'passphrase', passphrase: cfg.passphrase! };
}
