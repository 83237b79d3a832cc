/**
 * The node's encrypted keystore: see docs/keystore.md.
 * @module
 */
export { KeystoreError, type KeystoreErrorCode } from './errors.js';
export {
  masterKeyFromFile,
  passphraseFromFile,
  masterKeyFromPassphrase,
  parseMasterKey,
  resolveMasterKeySource,
  DEFAULT_SCRYPT,
  MIN_PASSPHRASE_LENGTH,
  type MasterKey,
  type MasterKeySource,
  type ScryptParams,
} from './master-key.js';
export { Keystore, STORE_FORMAT, type KeystoreOptions } from './keystore.js';
export { rotateMasterKey, type RotationOptions, type RotationResult } from './rotation.js';
export {
  exportBackup,
  importBackup,
  inspectBackup,
  BACKUP_FORMAT,
  MAX_BACKUP_BYTES,
  type BackupKeying,
  type BackupKind,
  type BackupSummary,
  type ImportReport,
  type InspectKeying,
} from './backup.js';
export {
  MAX_DATA_BYTES,
  MAX_PRIME_BITS,
  PRIME_LEVELS,
  type AuxInfoRecord,
  type JournalRecord,
  type KeyShareRecord,
  type PresignatureRecord,
  type PrimePairRecord,
  type RecordKind,
} from './records.js';
