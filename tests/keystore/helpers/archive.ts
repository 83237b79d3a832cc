/**
 * Reads and rewrites backup archives in tests, from the layout documented in keystore/backup.ts
 * and docs/keystore.md (written independently of backup.ts, so the tests check the format too):
 *
 * `"MPCDBAK\0" ‖ version ‖ mode ‖ logN ‖ r ‖ p ‖ salt (32) ‖ check nonce (12) ‖ check (32) ‖
 *  body nonce (12) ‖ body ciphertext ‖ tag (16)`; the check block is 16 zero bytes sealed with
 * the pre-check header as AAD, the body is sealed with the whole header as AAD.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { hkdf } from '../../../keystore/encryption.js';
import { masterKeyFromPassphrase, type MasterKey } from '../../../keystore/master-key.js';

export const MAGIC = Buffer.from('MPCDBAK\0', 'latin1');
/** Offsets of the header fields. */
export const OFF = {
  version: 8,
  mode: 9,
  logN: 10,
  r: 11,
  p: 12,
  salt: 13,
  checkNonce: 45,
  check: 57,
  nonce: 89,
  body: 101,
} as const;

/** The archive body (JSON). */
export interface ArchiveBody {
  format: number;
  partyId: string;
  createdAt: string;
  records: Array<{ kind: string; key: string; data: string }>;
}

/** The key of an archive: HKDF(master, salt, "backup") (mode 1) or scrypt(passphrase) (mode 2). */
export async function archiveKey(
  archive: Uint8Array,
  k: { master?: MasterKey; passphrase?: string }
): Promise<Buffer> {
  const a = Buffer.from(archive);
  const salt = a.subarray(OFF.salt, OFF.checkNonce);
  if (a[OFF.mode] === 1) return hkdf(k.master!, salt, 'backup');
  const mk = await masterKeyFromPassphrase(k.passphrase!, {
    logN: a[OFF.logN]!,
    r: a[OFF.r]!,
    p: a[OFF.p]!,
    salt,
  });
  return Buffer.from(mk.bytes);
}

/** Decrypt and parse the body (throws if the key is wrong). */
export function openBody(archive: Uint8Array, key: Buffer): ArchiveBody {
  const a = Buffer.from(archive);
  const header = a.subarray(0, OFF.body);
  const d = createDecipheriv('aes-256-gcm', key, a.subarray(OFF.nonce, OFF.body));
  d.setAAD(header);
  d.setAuthTag(a.subarray(a.length - 16));
  const pt = Buffer.concat([d.update(a.subarray(OFF.body, a.length - 16)), d.final()]);
  return JSON.parse(pt.toString('utf8')) as ArchiveBody;
}

/** The archive with its body replaced (a fresh body nonce; magic, params, salt and check kept). */
export function withBody(archive: Uint8Array, key: Buffer, body: unknown): Buffer {
  const a = Buffer.from(archive);
  const nonce = randomBytes(12);
  const header = Buffer.concat([a.subarray(0, OFF.nonce), nonce]);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(header);
  const pt = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
  return Buffer.concat([header, c.update(pt), c.final(), c.getAuthTag()]);
}

/** A record plaintext as the keystore's codec writes it (`{v:1,…}`, bytes as `{b64}`). */
export function plaintextB64(obj: Record<string, unknown>): string {
  const out: Record<string, unknown> = { v: 1 };
  for (const [k, v] of Object.entries(obj)) {
    out[k] = v instanceof Uint8Array ? { b64: Buffer.from(v).toString('base64') } : v;
  }
  return Buffer.from(JSON.stringify(out), 'utf8').toString('base64');
}
