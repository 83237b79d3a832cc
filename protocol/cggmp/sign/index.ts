/**
 * CGGMP21 signing from a presignature: one round of σ_i among the signers, each combining and
 * verifying (CGGMP.md Decisions, §5.6, §5.8; corrections C1, C5, C12, C16; SECURITY.md §1.10,
 * §1.11, §1.15).
 *
 * Single use (SECURITY.md §1.15): {@link startSign} refuses a presignature whose `consumed` flag is
 * set and sets the flag before σ_i is computed. The durable guarantee across crashes is the
 * keystore's (`consumePresignature` turns the record into a tombstone in one synced write; call it
 * before `startSign`).
 *
 * Session binding (Decisions): the sign sid should come from {@link signSessionId}, which folds the
 * presignature id and the digest into the coordinator nonce of C12; round 1 repeats both and the
 * sign ssid binds them, so a signer holding another presignature or digest is named before anyone
 * combines.
 *
 * If Σσ_j is not a valid signature the bad-σ procedure runs (`bad-sigma.ts`) and names every
 * signer whose proofs fail; no invalid signature is ever returned.
 * @module
 */
import { InvalidArgs } from '../../errors.js';
import { computeSessionId } from '../../hash/session-id.js';
import { hashTagged, TAG_PREFIX } from '../../hash/transcript.js';
import { bytesEqual } from '../../math/bytes.js';
import { CURVE_ORDER, decodePoint, encodePoint, G, modQ, mulPublic } from '../../math/curve.js';
import { systemRng, type Rng } from '../../math/sample.js';
import { RoundEngine } from '../../round/engine.js';
import type { PartyIndex, Protocol, Step } from '../../round/types.js';
import type { KeyShare } from '../key-share.js';
import { SigningContext } from '../presign/context.js';
import { assertKeyShare, assertSigners } from '../presign/index.js';
import { PRESIGNATURE_VERSION, type Presignature } from '../presign/types.js';
import { messageScalar, rOf, type EcdsaSignature } from './combine.js';
import { encodeSignR1 } from './messages.js';
import { finalizeSignRound1, SIGN } from './round1.js';
import { finalizeSignRound2 } from './round2.js';
import type { PresignaturePublic, SignRound1, SignState } from './types.js';

export type { EcdsaSignature } from './combine.js';
export type { SignState } from './types.js';

/**
 * The sign protocol for the round engine.
 * @param rng randomness of the bad-σ proofs (defaults to the system CSPRNG)
 */
export function signProtocol(rng: Rng = systemRng): Protocol<SignState, EcdsaSignature> {
  return {
    name: SIGN,
    round: (s) => s.round,
    spec: () => ({ broadcast: true, p2p: false, echo: false }),
    finalize(info, s, inbox) {
      const ctx = new SigningContext(s.share, s.presig.signers, s.presig.tweak);
      return s.round === 1
        ? finalizeSignRound1(ctx, info, s, inbox, rng)
        : finalizeSignRound2(ctx, s, inbox);
    },
  };
}

/** What {@link startSign} needs. */
export interface StartSignArgs {
  readonly keyShare: KeyShare;
  /** A fresh presignature of this key, epoch and party; marked consumed by this call. */
  readonly presignature: Presignature;
  /** The 32-byte message digest (e.g. keccak256 for Ethereum). */
  readonly digest: Uint8Array;
  /** The sign sid (C12), from {@link signSessionId}. */
  readonly sessionId: Uint8Array;
  /** The signer set the session was opened for; must equal the presignature's. */
  readonly signers?: readonly PartyIndex[];
  readonly rng?: Rng;
}

function sameSet(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Check a presignature against a key share and the requested signer set.
 * @throws InvalidArgs (`presignature`, `signers`)
 */
export function assertPresignature(
  share: KeyShare,
  p: Presignature,
  signers?: readonly PartyIndex[]
): void {
  if (p === null || typeof p !== 'object') throw new InvalidArgs('presignature', 'missing');
  if (p.version !== PRESIGNATURE_VERSION) throw new InvalidArgs('presignature', 'unknown version');
  if (p.keyId !== share.keyId) throw new InvalidArgs('presignature', 'belongs to another key');
  if (p.epoch !== share.epoch)
    throw new InvalidArgs('presignature', 'made under another key epoch');
  if (p.level !== share.level) throw new InvalidArgs('presignature', 'made at another level');
  if (p.index !== share.index) throw new InvalidArgs('presignature', 'belongs to another party');
  assertSigners(share, p.signers);
  if (signers !== undefined && !sameSet(signers, p.signers)) {
    throw new InvalidArgs('signers', 'differ from the presignature signer set');
  }
  if (typeof p.tweak !== 'bigint' || p.tweak < 0n || p.tweak >= CURVE_ORDER) {
    throw new InvalidArgs('presignature', 'malformed tweak');
  }
  const target = decodePoint(share.publicKey, 'publicKey').add(mulPublic(G, p.tweak));
  if (!(p.publicKey instanceof Uint8Array) || !bytesEqual(p.publicKey, encodePoint(target))) {
    throw new InvalidArgs('presignature', 'public key is not pk + tweak·G');
  }
  const t = p.signers.length;
  const lists = [p.K, p.Rbar, p.Fhat, p.chiEnvelopes, p.broadcasts?.r1, p.broadcasts?.r2];
  if (lists.some((l) => !Array.isArray(l) || l.length !== t)) {
    throw new InvalidArgs('presignature', 'malformed (lists must have t entries)');
  }
}

/**
 * σ_i for a validated, not yet consumed presignature: marks it consumed FIRST, then computes.
 * Shared by {@link startSign} and the composite `signDigest`.
 * @throws InvalidArgs if the presignature is consumed, or unusable (r = 0 or R.x ≥ q: it is then
 *   discarded — left consumed — and a new one must be made)
 */
export function releaseSigma(
  share: KeyShare,
  presignature: Presignature,
  digest: Uint8Array,
  rng: Rng
): Step<SignState, EcdsaSignature> {
  if (presignature.consumed) throw new InvalidArgs('presignature', 'already consumed');
  presignature.consumed = true; // SECURITY.md §1.15: before anything depends on k_i
  const { r, overflow } = rOf(decodePoint(presignature.R, 'presignature.R'));
  if (r === 0n) throw new InvalidArgs('presignature', 'r = 0: discard it and presign again');
  if (overflow) throw new InvalidArgs('presignature', 'R.x ≥ q (no Ethereum v): presign again');
  const m = messageScalar(digest);
  const sigma = modQ(presignature.k * m + r * presignature.chi); // σ_i = k_i·m + r·χ_i
  const nonce = rng(32).slice();
  const { k: _k, chi: _chi, consumed: _c, ...presig } = presignature;
  const pub: PresignaturePublic = presig;
  const state: SignRound1 = {
    round: 1,
    share,
    presig: pub,
    digest: digest.slice(),
    nonce,
    sigma,
  };
  const payload = encodeSignR1({
    nonce,
    presignatureId: Buffer.from(presignature.id, 'hex'),
    digest,
    sigma,
  });
  return { kind: 'next', state, outgoing: [{ payload }] };
}

/**
 * Start a sign session: validate, mark the presignature consumed, release σ_i.
 * @returns round 1's step (the σ_i broadcast)
 * @throws InvalidArgs on a bad digest (not 32 bytes), session id, key share, a presignature of
 *   another key/epoch/party/signer set, a consumed presignature, or an unusable R
 * @example
 * const sid = signSessionId(keyShare, presignature, digest, coordinatorNonce);
 * const first = startSign({ keyShare, presignature, digest, sessionId: sid });
 */
export function startSign(args: StartSignArgs): Step<SignState, EcdsaSignature> {
  const { keyShare, presignature, digest, sessionId } = args;
  if (!(digest instanceof Uint8Array) || digest.length !== 32) {
    throw new InvalidArgs('digest', 'must be exactly 32 bytes');
  }
  if (!(sessionId instanceof Uint8Array) || sessionId.length !== 32) {
    throw new InvalidArgs('sessionId', 'must be 32 bytes');
  }
  assertKeyShare(keyShare);
  assertPresignature(keyShare, presignature, args.signers);
  return releaseSigma(keyShare, presignature, digest, args.rng ?? systemRng);
}

/**
 * The sid of a sign session (C12 + Decisions): computeSessionId with protocol `sign`, the
 * presignature's signer set, and as nonce SHAKE256(E(tag, coordinator nonce, presignature id,
 * digest)), so the sid itself binds the presignature and the digest.
 * @throws InvalidArgs on invalid inputs
 */
export function signSessionId(
  keyShare: KeyShare,
  presignature: Pick<Presignature, 'id' | 'signers'>,
  digest: Uint8Array,
  nonce: Uint8Array
): Uint8Array {
  if (digest.length !== 32) throw new InvalidArgs('digest', 'must be exactly 32 bytes');
  if (nonce.length !== 32) throw new InvalidArgs('nonce', 'must be 32 bytes');
  const bound = hashTagged(`${TAG_PREFIX}sign/nonce`, (e) =>
    e.bytes(nonce).str(presignature.id).bytes(digest)
  );
  return computeSessionId({
    protocol: 'sign',
    keyId: Buffer.from(keyShare.keyId, 'hex'),
    keyEpoch: keyShare.epoch,
    roster: keyShare.roster,
    signers: presignature.signers,
    t: keyShare.t,
    n: keyShare.n,
    level: keyShare.level,
    nonce: bound,
  });
}

/** What {@link signEngine} needs. */
export interface SignEngineArgs extends StartSignArgs {
  /** This party's Ed25519 identity secret key (32-byte seed). */
  readonly secretKey: Uint8Array;
}

/**
 * A round engine running sign for this party.
 * @throws InvalidArgs as {@link startSign}
 */
export function signEngine(args: SignEngineArgs): RoundEngine<SignState, EcdsaSignature> {
  const rng = args.rng ?? systemRng;
  const first = startSign({ ...args, rng });
  return new RoundEngine(
    signProtocol(rng),
    {
      sessionId: args.sessionId,
      self: args.keyShare.index,
      parties: args.presignature.signers,
      rosterKeys: args.keyShare.roster.map((r) => r.publicKey),
      secretKey: args.secretKey,
    },
    first
  );
}
