/**
 * Session ids (CGGMP.md correction C12).
 *
 * sid = SHAKE256(E("mpcd/cggmp21/v1/sid", protocol, key id or ⊥, key epoch, roster,
 *                  signer set or ⊥, t, n, level, coordinator nonce))
 *
 * The sid is the envelope's `sessionId`, the context of round-1 proofs, and what a party records as
 * "taken part in" so that a repeated sid is refused (the freshness guarantee against a buggy or
 * hostile coordinator). Every input is validated here, so two different sessions can only share a
 * sid through a SHAKE256 collision.
 * @module
 */
import { InvalidArgs } from '../errors.js';
import { MAX_PARTIES, type SecurityLevelName } from '../params.js';
import { hashTagged, TAG_PREFIX } from './transcript.js';
import { bytesToBigint, compareBytes } from '../math/bytes.js';

/** The protocols a session can run. */
export type ProtocolName = 'keygen' | 'aux-info' | 'presign' | 'sign';

/** One roster entry: the party's opaque id (the daemon uses peer-id bytes) and Ed25519 key. */
export interface RosterEntry {
  readonly partyId: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** Everything a sid binds. */
export interface SessionIdInputs {
  readonly protocol: ProtocolName;
  /** The key the session works on (presign/sign); absent for keygen. */
  readonly keyId?: Uint8Array;
  /** The key's epoch (0 for keygen). */
  readonly keyEpoch: number;
  /** The full roster, sorted by party-id bytes (index i = position, evaluation point i+1). */
  readonly roster: readonly RosterEntry[];
  /** Roster indices of the signers (presign/sign), strictly increasing; absent otherwise. */
  readonly signers?: readonly number[];
  /** Threshold: the number of parties needed to sign. */
  readonly t: number;
  /** Number of parties. */
  readonly n: number;
  readonly level: SecurityLevelName;
  /** The coordinator's fresh 32-byte nonce. */
  readonly nonce: Uint8Array;
}

/**
 * Check the sid inputs: 2 ≤ t ≤ n ≤ 16, roster of n distinct entries sorted by party id, 32-byte
 * Ed25519 keys, signer set of size t with valid increasing indices, 32-byte nonce.
 * @throws InvalidArgs naming the first bad field.
 */
export function validateSessionIdInputs(x: SessionIdInputs): void {
  const { t, n } = x;
  if (!Number.isInteger(n) || n < 2 || n > MAX_PARTIES)
    throw new InvalidArgs('n', `must be in [2, ${MAX_PARTIES}]`);
  if (!Number.isInteger(t) || t < 2 || t > n) throw new InvalidArgs('t', 'must be in [2, n]');
  if (x.roster.length !== n) throw new InvalidArgs('roster', 'must have n entries');
  x.roster.forEach((r, i) => {
    if (r.partyId.length < 1 || r.partyId.length > 128) {
      throw new InvalidArgs(`roster[${i}].partyId`, 'must be 1..128 bytes');
    }
    if (r.publicKey.length !== 32)
      throw new InvalidArgs(`roster[${i}].publicKey`, 'must be 32 bytes');
    if (i > 0 && compareBytes(x.roster[i - 1]!.partyId, r.partyId) >= 0) {
      throw new InvalidArgs('roster', 'must be sorted by party id with no duplicates');
    }
  });
  const needsSigners = x.protocol === 'presign' || x.protocol === 'sign';
  if (needsSigners !== (x.signers !== undefined)) {
    throw new InvalidArgs(
      'signers',
      needsSigners ? 'required for presign/sign' : 'only for presign/sign'
    );
  }
  if (x.signers) {
    if (x.signers.length !== t) throw new InvalidArgs('signers', 'must have exactly t entries');
    x.signers.forEach((s, i) => {
      if (!Number.isInteger(s) || s < 0 || s >= n)
        throw new InvalidArgs(`signers[${i}]`, 'not a roster index');
      if (i > 0 && s <= x.signers![i - 1]!)
        throw new InvalidArgs('signers', 'must be strictly increasing');
    });
  }
  if ((x.keyId === undefined) !== (x.protocol === 'keygen' || x.protocol === 'aux-info')) {
    throw new InvalidArgs('keyId', 'required exactly for presign/sign');
  }
  if (x.keyId && (x.keyId.length < 1 || x.keyId.length > 64))
    throw new InvalidArgs('keyId', 'must be 1..64 bytes');
  if (!Number.isInteger(x.keyEpoch) || x.keyEpoch < 0 || x.keyEpoch > 0xffffffff) {
    throw new InvalidArgs('keyEpoch', 'must be a u32');
  }
  if (x.nonce.length !== 32) throw new InvalidArgs('nonce', 'must be 32 bytes');
  if (bytesToBigint(x.nonce) === 0n) throw new InvalidArgs('nonce', 'must not be all zero');
}

/**
 * The 32-byte sid of C12.
 * @throws InvalidArgs on invalid inputs (see {@link validateSessionIdInputs}).
 */
export function computeSessionId(x: SessionIdInputs): Uint8Array {
  validateSessionIdInputs(x);
  return hashTagged(`${TAG_PREFIX}sid`, (e) =>
    e
      .str(x.protocol)
      .option(x.keyId, (e2, id) => e2.bytes(id))
      .u32(x.keyEpoch)
      .list(x.roster, (e2, r) => e2.bytes(r.partyId).bytes(r.publicKey))
      .option(x.signers, (e2, s) => e2.list(s, (e3, i) => e3.u32(i)))
      .u32(x.t)
      .u32(x.n)
      .str(x.level)
      .bytes(x.nonce)
  );
}
