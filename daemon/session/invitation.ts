/**
 * Checks an invitation before the daemon commits anything to it (ARCHITECTURE.md step 3): signed
 * by the configured coordinator, addressed to us, not expired, every participant on our allow-list,
 * and — for a sign session — the key exists here, the signers are in its roster and are enough,
 * and the digest really is the declared hash of the message (the daemon recomputes it rather than
 * trusting the coordinator's arithmetic).
 *
 * The output is the session's resolved plan: roster, our index, the protocol sid (C12).
 * @module
 */
import { peerIdFromString } from '@libp2p/peer-id';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { KeyShare } from '../../protocol/cggmp/key-share.js';
import { decodeKeyShare } from '../../protocol/cggmp/keygen/index.js';
import { signDigestSessionId } from '../../protocol/cggmp/sign/sign-digest.js';
import {
  invitationSigningBytes,
  verifyControl,
  type HashingMode,
  type Invitation,
} from '../../protocol/control/messages.js';
import { computeSessionId, type RosterEntry } from '../../protocol/hash/session-id.js';
import type { Keystore } from '../../keystore/index.js';
import { ControlRefusal } from '../control.js';
import { compareBytes } from '../../protocol/math/bytes.js';

/** Everything a session needs, resolved from a checked invitation. */
export type SessionPlan =
  | {
      readonly kind: 'keygen';
      readonly invitation: Invitation;
      readonly sid: Uint8Array;
      readonly roster: readonly RosterEntry[];
      /** Peer id string per roster index. */
      readonly peers: readonly string[];
      readonly self: number;
      /** Roster indices taking part (all of them). */
      readonly parties: readonly number[];
    }
  | {
      readonly kind: 'sign';
      readonly invitation: Invitation;
      readonly sid: Uint8Array;
      readonly keyShare: KeyShare;
      readonly peers: readonly string[];
      readonly self: number;
      readonly parties: readonly number[];
      readonly digest: Uint8Array;
    };

/** Roster entry of a peer id: multihash bytes as party id, the Ed25519 key (Decisions). */
export function rosterEntry(peer: string): RosterEntry {
  const id = peerIdFromString(peer);
  if (id.type !== 'Ed25519')
    throw new ControlRefusal('bad-participant', `${peer} is not an Ed25519 peer id`);
  return { partyId: id.toMultihash().bytes, publicKey: id.publicKey.raw };
}

const utf8 = new TextEncoder();

/** The digest a hashing mode makes of a message. */
export function digestOf(hashing: Exclude<HashingMode, 'none'>, message: Uint8Array): Uint8Array {
  switch (hashing) {
    case 'keccak256':
      return keccak_256(message);
    case 'sha256':
      return sha256(message);
    case 'eth-personal': {
      // EIP-191 version 0x45: "\x19Ethereum Signed Message:\n" + decimal length + message.
      const prefix = utf8.encode(`\x19Ethereum Signed Message:\n${message.length}`);
      const all = new Uint8Array(prefix.length + message.length);
      all.set(prefix);
      all.set(message, prefix.length);
      return keccak_256(all);
    }
  }
}

/** Most shares a cache keeps (oldest dropped first). */
const MAX_CACHED_SHARES = 256;

async function loadShare(keyId: string, ctx: PlanContext): Promise<KeyShare> {
  const cached = ctx.shareCache?.get(keyId);
  if (cached) return cached;
  const stored = await ctx.keystore.getKeyShare(keyId);
  if (!stored) throw new ControlRefusal('unknown-key', `key ${keyId} is not held by this daemon`);
  const share = decodeKeyShare(stored.data);
  if (ctx.shareCache) {
    if (ctx.shareCache.size >= MAX_CACHED_SHARES) {
      ctx.shareCache.delete(ctx.shareCache.keys().next().value!);
    }
    ctx.shareCache.set(keyId, share);
  }
  return share;
}

/** What the check needs from the daemon. */
export interface PlanContext {
  readonly self: string;
  readonly coordinator: string | undefined;
  /** Peers on the allow-list (other parties). */
  readonly allowed: ReadonlySet<string>;
  readonly keystore: Keystore;
  /**
   * Key shares already decoded and validated, by key id. `decodeKeyShare` re-checks the whole
   * share (ring-Pedersen and Paillier from the primes: ~175 ms at level128) — on the main thread,
   * before every sign session — so the daemon keeps the checked shares. Shares never change for a
   * key id until refresh exists (refresh will have to clear this cache).
   */
  readonly shareCache?: Map<string, KeyShare>;
  readonly now: number;
}

/**
 * Check an invitation and resolve its plan.
 * @throws ControlRefusal with a code naming what is wrong
 */
export async function planSession(
  inv: Invitation,
  signature: string,
  ctx: PlanContext
): Promise<SessionPlan> {
  if (!ctx.coordinator || inv.coordinator !== ctx.coordinator) {
    throw new ControlRefusal(
      'not-coordinator',
      'the invitation is not from this daemon’s coordinator'
    );
  }
  const coordKey = peerIdFromString(ctx.coordinator).publicKey;
  if (!coordKey || !verifyControl(invitationSigningBytes(inv), signature, coordKey.raw)) {
    throw new ControlRefusal(
      'bad-signature',
      'the invitation signature does not verify under the coordinator key'
    );
  }
  if (inv.recipient !== ctx.self)
    throw new ControlRefusal('not-recipient', 'the invitation is addressed to another daemon');
  if (inv.expiresAt <= ctx.now) throw new ControlRefusal('expired', 'the invitation has expired');
  for (const p of inv.participants) {
    if (p !== ctx.self && !ctx.allowed.has(p)) {
      throw new ControlRefusal(
        'unknown-participant',
        `participant ${p} is not on this daemon’s allow-list`
      );
    }
  }
  const nonce = Buffer.from(inv.nonce, 'hex');
  const params = inv.params;
  if (params.kind === 'keygen') {
    const entries = inv.participants.map((p) => ({ peer: p, entry: rosterEntry(p) }));
    entries.sort((a, b) => compareBytes(a.entry.partyId, b.entry.partyId));
    const roster = entries.map((e) => e.entry);
    const peers = entries.map((e) => e.peer);
    const sid = computeSessionId({
      protocol: 'keygen',
      keyEpoch: 0,
      roster,
      t: params.threshold,
      n: roster.length,
      level: params.level,
      nonce,
    });
    return {
      kind: 'keygen',
      invitation: inv,
      sid,
      roster,
      peers,
      self: peers.indexOf(ctx.self),
      parties: roster.map((_, i) => i),
    };
  }
  const keyShare = await loadShare(params.keyId, ctx);
  const rosterPeers = keyShare.roster.map((r) => {
    const m = inv.participants.find((p) => compareBytes(rosterEntry(p).partyId, r.partyId) === 0);
    return m;
  });
  const parties: number[] = [];
  for (const p of inv.participants) {
    const i = rosterPeers.indexOf(p);
    if (i < 0)
      throw new ControlRefusal(
        'not-in-roster',
        `signer ${p} does not hold a share of key ${params.keyId}`
      );
    parties.push(i);
  }
  parties.sort((a, b) => a - b);
  // Presign runs with exactly t signers (CGGMP.md §5.4): fewer cannot sign, more is a
  // coordinator error that must be refused here, not surface as an internal failure later.
  if (parties.length !== keyShare.t) {
    throw new ControlRefusal(
      parties.length < keyShare.t ? 'too-few-signers' : 'too-many-signers',
      `key ${params.keyId} signs with exactly ${keyShare.t} signers, got ${parties.length}`
    );
  }
  const digest = Buffer.from(params.digest, 'hex');
  if (params.message !== undefined && params.hashing !== 'none') {
    const want = digestOf(params.hashing, Buffer.from(params.message, 'hex'));
    if (compareBytes(want, digest) !== 0) {
      throw new ControlRefusal(
        'digest-mismatch',
        `the digest is not the ${params.hashing} hash of the message`
      );
    }
  }
  const sid = signDigestSessionId(keyShare, parties, nonce);
  // Peer id per roster index, for every roster member (signers known from the invitation; the
  // others are not contacted in this session).
  const peers = keyShare.roster.map((_, i) => rosterPeers[i] ?? '');
  return {
    kind: 'sign',
    invitation: inv,
    sid,
    keyShare,
    peers,
    self: keyShare.index,
    parties,
    digest: new Uint8Array(digest),
  };
}
