/**
 * Keystore errors: one class with a stable `code` (STYLE.md habit 13). Messages name the record
 * kind, id or file involved and the rule broken — never a key, a share or any other secret.
 * @module
 */

/** Every way a keystore operation can fail. */
export type KeystoreErrorCode =
  /** MPCD_MASTER_KEY / key file content is not 32 bytes of hex or base64. */
  | 'INVALID_MASTER_KEY'
  /** The key file is readable by group or others, or is not a regular file. */
  | 'KEY_FILE_PERMISSIONS'
  /** No master key source was configured, or more than one. */
  | 'MASTER_KEY_SOURCE'
  /** The master key does not open this store (key-check record fails). */
  | 'WRONG_MASTER_KEY'
  /** Another process holds the store's LevelDB lock. */
  | 'STORE_LOCKED'
  /** The store is closed (or was never opened). */
  | 'STORE_CLOSED'
  /** The store does not exist and `create` was not requested, or exists when it must not. */
  | 'STORE_MISSING'
  /** The store's format or a record's format is newer than this code understands. */
  | 'UNSUPPORTED_VERSION'
  /** A stored value cannot be decrypted or authenticated (tampered, truncated, or swapped). */
  | 'RECORD_CORRUPT'
  /** A record argument is malformed (id, epoch, sizes). */
  | 'INVALID_RECORD'
  /** The presignature was already consumed (or is being consumed). */
  | 'PRESIGNATURE_CONSUMED'
  /** No such record. */
  | 'NOT_FOUND'
  /** This protocol session id was already taken part in (C12 freshness). */
  | 'SESSION_ID_REUSED'
  /** A master-key rotation is unfinished: re-run it with the old and the new key. */
  | 'ROTATION_IN_PROGRESS'
  /** The backup archive is malformed, tampered with or of an unknown version. */
  | 'BACKUP_INVALID'
  /** The backup passphrase (or master key) does not open the archive. */
  | 'BACKUP_WRONG_KEY'
  /** The archive belongs to another party, or holds a record older than the store's epoch. */
  | 'BACKUP_CONFLICT';

/** A keystore failure. `code` is stable; `details` carries non-secret context. */
export class KeystoreError extends Error {
  override readonly name = 'KeystoreError';
  constructor(
    readonly code: KeystoreErrorCode,
    message: string,
    readonly details: Readonly<Record<string, string | number>> = {}
  ) {
    super(message);
  }
}
