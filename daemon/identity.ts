/**
 * The node's identity: one Ed25519 key that is both its libp2p identity (peer id = party id) and
 * the key that signs its protocol envelopes (ARCHITECTURE.md "Identities and trust": Noise
 * authenticates links but gives no transferable evidence; envelope signatures do, so they must
 * verify under the same key the peer id names).
 *
 * The key is persisted in the keystore as libp2p's private-key protobuf. libp2p's Ed25519 `raw`
 * is 64 bytes, seed ‖ public key; protocol/round/envelope.ts signs with the 32-byte seed. Loading
 * checks that the stored public half is the one the seed derives — libp2p does not — so a
 * corrupted record cannot give a peer id whose key does not sign our envelopes.
 * @module
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PeerId, PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { ed25519PublicKey } from '../protocol/round/envelope.js';

/** Length of an Ed25519 seed and of a public key. */
const ED25519_BYTES = 32;

/** Why an identity key was refused. */
export type IdentityErrorCode = 'INVALID_IDENTITY_KEY' | 'NOT_ED25519';

/** A stored identity key cannot be used. Never carries key bytes. */
export class IdentityError extends Error {
  override readonly name = 'IdentityError';
  constructor(
    readonly code: IdentityErrorCode,
    message: string
  ) {
    super(message);
  }
}

/** The node's Ed25519 identity in the forms libp2p and the protocol layer need. */
export interface Identity {
  /** libp2p private key (Ed25519). */
  readonly privateKey: PrivateKey;
  readonly peerId: PeerId;
  /** The 32-byte Ed25519 seed that signs protocol envelopes (same key as the libp2p identity). */
  readonly envelopeSecretKey: Uint8Array;
  /** The 32-byte Ed25519 public key (roster entry). */
  readonly publicKey: Uint8Array;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Build an {@link Identity} from a libp2p key, checking type and the seed/public-key pairing. */
function fromPrivateKey(privateKey: PrivateKey): Identity {
  if (privateKey.type !== 'Ed25519') {
    throw new IdentityError(
      'NOT_ED25519',
      `the identity key must be Ed25519 (got a ${privateKey.type} key)`
    );
  }
  const raw = privateKey.raw;
  const publicKey = privateKey.publicKey.raw;
  if (raw.length !== 2 * ED25519_BYTES || publicKey.length !== ED25519_BYTES) {
    throw new IdentityError('INVALID_IDENTITY_KEY', 'the Ed25519 identity key has a bad length');
  }
  // Copy: the seed must not alias libp2p's buffer, which may be reused or zeroed by it.
  const envelopeSecretKey = raw.slice(0, ED25519_BYTES);
  if (!equalBytes(ed25519PublicKey(envelopeSecretKey), publicKey)) {
    throw new IdentityError(
      'INVALID_IDENTITY_KEY',
      'the Ed25519 identity key is inconsistent: its public half does not belong to its seed'
    );
  }
  return Object.freeze({
    privateKey,
    peerId: peerIdFromPrivateKey(privateKey),
    envelopeSecretKey,
    publicKey: Uint8Array.from(publicKey),
  });
}

/**
 * A fresh Ed25519 identity (`mpcd init`).
 * @returns the identity; its peer id starts with `12D3KooW`
 * @example const id = await generateIdentity(); id.peerId.toString() // '12D3KooW…'
 */
export async function generateIdentity(): Promise<Identity> {
  return fromPrivateKey(await generateKeyPair('Ed25519'));
}

/**
 * Load an identity from libp2p's private-key protobuf (as stored in the keystore).
 * @throws IdentityError INVALID_IDENTITY_KEY (not a key protobuf, inconsistent key) or NOT_ED25519
 * @example const id = identityFromProtobuf((await keystore.getIdentity())!);
 */
export function identityFromProtobuf(bytes: Uint8Array): Identity {
  let key: PrivateKey;
  try {
    key = privateKeyFromProtobuf(bytes);
  } catch {
    // libp2p's message may describe the bytes; ours says only what failed.
    throw new IdentityError(
      'INVALID_IDENTITY_KEY',
      `the stored identity is not a libp2p private key (${bytes.length} bytes)`
    );
  }
  return fromPrivateKey(key);
}

/**
 * The libp2p private-key protobuf of an identity (what `Keystore.putIdentity` stores).
 * @example await keystore.putIdentity(identityToProtobuf(await generateIdentity()));
 */
export function identityToProtobuf(id: Identity): Uint8Array {
  return privateKeyToProtobuf(id.privateKey);
}
