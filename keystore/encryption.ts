/**
 * At-rest encryption of keystore values: AES-256-GCM with a fresh 96-bit nonce per write and
 * additional data binding (record kind, id, party, epoch, format version), so a value copied under
 * another id, kind, party or epoch fails authentication (ARCHITECTURE.md "Storage").
 *
 * Keys: per-purpose data keys come from the master key with HKDF-SHA256 over the store's random
 * salt (`records`, `fingerprint`; backups derive their own, `backup.ts`). The 8-byte fingerprint is
 * written in every value, so during a master-key rotation each value says which key opens it.
 *
 * Value layout: `format (1) ‖ key fingerprint (8) ‖ nonce (12) ‖ ciphertext ‖ GCM tag (16)`.
 * @module
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { KeystoreError } from './errors.js';
import type { MasterKey } from './master-key.js';

/** Version of the value envelope. */
export const ENVELOPE_FORMAT = 1;
const FP_BYTES = 8;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + FP_BYTES + NONCE_BYTES;

/** The data keys of one master key for one store. */
export interface StoreKeys {
  /** AES-256-GCM key for records. */
  readonly records: Buffer;
  /** Non-secret 8-byte identifier of the master key (HKDF output, reveals nothing). */
  readonly fingerprint: Buffer;
}

/** HKDF-SHA256(master, salt, info) → `length` bytes. */
export function hkdf(master: MasterKey, salt: Uint8Array, info: string, length = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', master.bytes, salt, `mpcd/keystore/v1/${info}`, length));
}

/** Derive the record key and the fingerprint of `master` for a store with salt `salt`. */
export function deriveStoreKeys(master: MasterKey, salt: Uint8Array): StoreKeys {
  return {
    records: hkdf(master, salt, 'records'),
    fingerprint: hkdf(master, salt, 'fingerprint', FP_BYTES),
  };
}

/** What a value is bound to; every field goes into the GCM additional data. */
export interface RecordAad {
  readonly kind: string;
  readonly id: string;
  readonly party: string;
  readonly epoch: number;
  /** The record codec version of the plaintext. */
  readonly version: number;
}

/** Length-prefixed, injective encoding of the additional data. */
export function encodeAad(a: RecordAad): Buffer {
  const parts = [a.kind, a.id, a.party].map((s) => {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  });
  const nums = Buffer.alloc(8);
  nums.writeUInt32BE(a.epoch);
  nums.writeUInt32BE(a.version, 4);
  return Buffer.concat([Buffer.from('mpcd/keystore/v1/aad'), ...parts, nums]);
}

/** Encrypt `plaintext` under `keys` with a fresh nonce. */
export function seal(keys: StoreKeys, aad: Buffer, plaintext: Uint8Array): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keys.records, nonce);
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([
    Buffer.from([ENVELOPE_FORMAT]),
    keys.fingerprint,
    nonce,
    ct,
    cipher.getAuthTag(),
  ]);
}

/** The key fingerprint a stored value was sealed with. @throws KeystoreError RECORD_CORRUPT */
export function envelopeFingerprint(value: Uint8Array, where: string): Buffer {
  checkEnvelope(value, where);
  return Buffer.from(value.subarray(1, 1 + FP_BYTES));
}

function checkEnvelope(value: Uint8Array, where: string): void {
  if (value.length < HEADER_BYTES + TAG_BYTES) {
    throw new KeystoreError('RECORD_CORRUPT', `${where}: stored value is truncated`);
  }
  if (value[0] !== ENVELOPE_FORMAT) {
    throw new KeystoreError(
      value[0]! > ENVELOPE_FORMAT ? 'UNSUPPORTED_VERSION' : 'RECORD_CORRUPT',
      `${where}: unknown value format ${value[0]}`
    );
  }
}

/**
 * Decrypt a stored value with whichever of `candidates` its fingerprint names.
 * @param where "kind/id", for error messages
 * @throws KeystoreError RECORD_CORRUPT (truncated, tampered, swapped, or no candidate key matches)
 */
export function open(
  candidates: readonly StoreKeys[],
  aad: Buffer,
  value: Uint8Array,
  where: string
): Buffer {
  checkEnvelope(value, where);
  const fp = value.subarray(1, 1 + FP_BYTES);
  const keys = candidates.find((k) => k.fingerprint.equals(fp));
  if (!keys) {
    throw new KeystoreError(
      'RECORD_CORRUPT',
      `${where}: sealed under a master key that is not open`
    );
  }
  const nonce = value.subarray(1 + FP_BYTES, HEADER_BYTES);
  const ct = value.subarray(HEADER_BYTES, value.length - TAG_BYTES);
  const tag = value.subarray(value.length - TAG_BYTES);
  try {
    const d = createDecipheriv('aes-256-gcm', keys.records, nonce);
    d.setAAD(aad);
    d.setAuthTag(tag);
    return Buffer.concat([d.update(ct), d.final()]);
  } catch {
    throw new KeystoreError(
      'RECORD_CORRUPT',
      `${where}: authentication failed (tampered, truncated, or moved from another record)`
    );
  }
}
