/**
 * Independent signature verifiers for tests (STACK.md "Verifying signatures independently"):
 * - the OpenSSL CLI over the raw 32-byte digest — no code shared with mpcd or @noble;
 * - @noble/curves (what ethers and viem are built on too);
 * - ethers' address recovery, compared with the key's Ethereum address.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { recoverAddress, Signature } from 'ethers';

/** SubjectPublicKeyInfo prefix of an uncompressed secp256k1 key (id-ecPublicKey, secp256k1). */
const SPKI_PREFIX = Buffer.from('3056301006072a8648ce3d020106052b8104000a034200', 'hex');

function derInt(x: bigint): Buffer {
  let hex = x.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let b = Buffer.from(hex, 'hex');
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return Buffer.concat([Buffer.from([0x02, b.length]), b]);
}

/** DER-encoded ECDSA signature (r, s). */
export function derSignature(r: bigint, s: bigint): Buffer {
  const body = Buffer.concat([derInt(r), derInt(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/**
 * Verify (r, s) over a raw digest with `openssl pkeyutl -verify` (no hashing by OpenSSL).
 * @returns true when OpenSSL prints "Signature Verified Successfully"
 */
export function opensslVerify(
  publicKey: Uint8Array,
  digest: Uint8Array,
  r: bigint,
  s: bigint
): boolean {
  const uncompressed = secp256k1.Point.fromBytes(publicKey).toBytes(false);
  const spki = Buffer.concat([SPKI_PREFIX, Buffer.from(uncompressed)]);
  const pem = `-----BEGIN PUBLIC KEY-----\n${spki.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PUBLIC KEY-----\n`;
  const dir = mkdtempSync(join(tmpdir(), 'mpcd-openssl-'));
  try {
    writeFileSync(join(dir, 'pub.pem'), pem);
    writeFileSync(join(dir, 'sig.der'), derSignature(r, s));
    writeFileSync(join(dir, 'digest.bin'), digest);
    try {
      const out = execFileSync(
        'openssl',
        [
          'pkeyutl',
          '-verify',
          '-pubin',
          '-inkey',
          'pub.pem',
          '-sigfile',
          'sig.der',
          '-in',
          'digest.bin',
        ],
        { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }
      ).toString();
      return out.includes('Signature Verified Successfully');
    } catch {
      return false;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Verify with @noble/curves over the raw digest (low-s enforced). */
export function nobleVerify(
  publicKey: Uint8Array,
  digest: Uint8Array,
  r: bigint,
  s: bigint
): boolean {
  const sig = new secp256k1.Signature(r, s).toBytes('compact');
  return secp256k1.verify(sig, digest, publicKey, { prehash: false });
}

/** The Ethereum address ethers recovers from (digest, r, s, recovery id). */
export function ethersRecover(digest: Uint8Array, r: bigint, s: bigint, recid: number): string {
  const hex32 = (x: bigint): string => '0x' + x.toString(16).padStart(64, '0');
  return recoverAddress(digest, Signature.from({ r: hex32(r), s: hex32(s), v: 27 + recid }));
}
