/**
 * The invitation check (daemon/session/invitation.ts, ARCHITECTURE.md "Session lifecycle" step 3):
 * every {@link ControlRefusal} code `planSession` can give, each from an invitation that is valid
 * on the wire (it passes `decodeInvitation`) and wrong in exactly one respect; the accepted keygen
 * plan (roster sorted by party-id bytes, our index, all parties, the C12 sid) and sign plan (sorted
 * signer indices, digest bytes, `signDigestSessionId`); `rosterEntry`; and `digestOf` against
 * ethers (`hashMessage`, `keccak256`) and node:crypto.
 *
 * The key shares are the test dealer's, re-rostered onto real Ed25519 peer ids (the dealer's own
 * roster uses made-up party ids), stored in a real encrypted keystore in a temp dir.
 */
import '../../daemon/polyfills.js';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { hashMessage, keccak256 } from 'ethers';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlRefusal } from '../../daemon/control.js';
import {
  digestOf,
  planSession,
  rosterEntry,
  type PlanContext,
  type SessionPlan,
} from '../../daemon/session/invitation.js';
import { Keystore } from '../../keystore/index.js';
import { computeKeyId, type KeyShare } from '../../protocol/cggmp/key-share.js';
import { encodeKeyShare } from '../../protocol/cggmp/keygen/index.js';
import { signDigestSessionId } from '../../protocol/cggmp/sign/sign-digest.js';
import {
  decodeInvitation,
  invitationSigningBytes,
  signControl,
  type HashingMode,
  type Invitation,
  type SignParams,
} from '../../protocol/control/messages.js';
import { computeSessionId } from '../../protocol/hash/session-id.js';
import { LEVEL112 } from '../../protocol/params.js';
import { dealKeyShares } from '../helpers/dealer.js';
import { seededRng } from '../helpers/rng.js';

// ---- identities, shares, keystore ------------------------------------------------------------

interface Identity {
  readonly peer: string;
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

async function identity(): Promise<Identity> {
  const k = await generateKeyPair('Ed25519');
  return {
    peer: peerIdFromPrivateKey(k).toString(),
    seed: k.raw.slice(0, 32),
    publicKey: k.publicKey.raw,
  };
}

const [coord, rogue, self, bob, carol, dave, eve] = (await Promise.all(
  Array.from({ length: 7 }, () => identity())
)) as [Identity, Identity, Identity, Identity, Identity, Identity, Identity];
/** A valid peer id that is not Ed25519 (its roster entry must be refused). */
const secpPeer = peerIdFromPrivateKey(await generateKeyPair('secp256k1')).toString();

const A = self.peer; // this daemon
const B = bob.peer;
const C = carol.peer;
const D = dave.peer; // allowed, but holds no share of the keys below
const E = eve.peer; // not on the allow-list

const byPartyId = (x: string, y: string): number =>
  Buffer.compare(rosterEntry(x).partyId, rosterEntry(y).partyId);
/** The key roster: A, B, C sorted by multihash bytes (ARCHITECTURE.md "Identities and trust"). */
const ROSTER_PEERS = [A, B, C].sort(byPartyId);
const ROSTER = ROSTER_PEERS.map(rosterEntry);
const idx = (p: string): number => ROSTER_PEERS.indexOf(p);

/** Dealer shares of a fresh key whose roster is `peers` (sorted by party id), key id recomputed. */
function sharesFor(peers: readonly string[], t: number, label: string): KeyShare[] {
  const roster = peers.map(rosterEntry);
  const dealt = dealKeyShares({ level: LEVEL112, n: peers.length, t, rng: seededRng(label) });
  const keyId = computeKeyId(dealt[0]!.publicKey, roster, t);
  return dealt.map((s) => ({ ...s, roster, keyId }));
}

const key2 = sharesFor(ROSTER_PEERS, 2, 'invitation/2-of-3')[idx(A)]!; // our share, 2-of-3
const key3 = sharesFor(ROSTER_PEERS, 3, 'invitation/3-of-3')[idx(A)]!; // our share, 3-of-3

let dir: string;
let keystore: Keystore;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mpcd-invitation-'));
  keystore = await Keystore.open({
    dir,
    source: { kind: 'key', key: { bytes: new Uint8Array(randomBytes(32)) } },
    create: true,
    partyId: A,
  });
  for (const share of [key2, key3]) {
    await keystore.putKeyShare({
      keyId: share.keyId,
      epoch: share.epoch,
      data: encodeKeyShare(share),
    });
  }
});
afterAll(async () => {
  await keystore?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---- invitations -------------------------------------------------------------------------------

const NOW = 1_750_000_000_000;
const NONCE = 'c3'.repeat(32);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const MESSAGE = new TextEncoder().encode(
  'transfer 1.5 ETH to 0x00000000000000000000000000000000deadbeef'
);

function keygenInv(over: Partial<Invitation> = {}): Invitation {
  return {
    v: 1,
    sessionId: '3b0c9a51-6f2e-4d7a-8c19-5e4f3a2b1c0d',
    coordinator: coord.peer,
    recipient: A,
    participants: [A, B, C],
    params: { kind: 'keygen', threshold: 2, level: 'level112' },
    nonce: NONCE,
    expiresAt: NOW + 60_000,
    joinToken: '9e8d7c6b-5a49-4382-b716-0a1b2c3d4e5f',
    ...over,
  };
}

/** A sign invitation for `key2` over MESSAGE (keccak256 unless `params` says otherwise). */
function signInv(params: Partial<SignParams> = {}, over: Partial<Invitation> = {}): Invitation {
  const hashing = params.hashing ?? 'keccak256';
  const p: SignParams =
    hashing === 'none'
      ? { kind: 'sign', keyId: key2.keyId, digest: '5e'.repeat(32), hashing, ...params }
      : {
          kind: 'sign',
          keyId: key2.keyId,
          digest: hex(digestOf(hashing, MESSAGE)),
          message: hex(MESSAGE),
          hashing,
          ...params,
        };
  return keygenInv({ participants: [A, B], params: p, ...over });
}

const sign = (inv: Invitation, seed = coord.seed): string =>
  signControl(invitationSigningBytes(inv), seed);

function ctx(over: Partial<PlanContext> = {}): PlanContext {
  return {
    self: A,
    coordinator: coord.peer,
    allowed: new Set([B, C, D]),
    keystore,
    now: NOW,
    ...over,
  };
}

/** Plan a wire-valid invitation (checked: it passes the codec unchanged), signed by `seed`. */
async function plan(
  inv: Invitation,
  opts: { ctx?: PlanContext; signature?: string } = {}
): Promise<SessionPlan> {
  expect(decodeInvitation(JSON.parse(JSON.stringify(inv)))).toStrictEqual(inv);
  return planSession(inv, opts.signature ?? sign(inv), opts.ctx ?? ctx());
}

/** Await a refusal; return it (fails the test if `p` resolves or throws anything else). */
async function refusal(p: Promise<unknown>): Promise<ControlRefusal> {
  const outcome = await p.then(
    (v) => ({ ok: true as const, v }),
    (err: unknown) => ({ ok: false as const, err })
  );
  if (outcome.ok) throw new Error('expected a ControlRefusal, the invitation was accepted');
  expect(outcome.err).toBeInstanceOf(ControlRefusal);
  return outcome.err as ControlRefusal;
}

// ---- rosterEntry / digestOf --------------------------------------------------------------------

describe('rosterEntry', () => {
  it('is the multihash bytes as party id and the raw Ed25519 key', () => {
    const e = rosterEntry(A);
    expect(e.partyId).toEqual(peerIdFromString(A).toMultihash().bytes);
    // identity multihash (0x00), 36 bytes: protobuf PublicKey{Type: Ed25519, Data: 32 bytes}
    expect([...e.partyId.subarray(0, 6)]).toEqual([0x00, 0x24, 0x08, 0x01, 0x12, 0x20]);
    expect(e.partyId).toHaveLength(38);
    expect(e.publicKey).toEqual(self.publicKey);
  });

  it('refuses a peer id that is not Ed25519, naming it', async () => {
    const err = await refusal(Promise.resolve().then(() => rosterEntry(secpPeer)));
    expect(err.code).toBe('bad-participant');
    expect(err.message).toContain(secpPeer);
  });
});

describe('digestOf', () => {
  const sha = (m: Uint8Array): string => createHash('sha256').update(m).digest('hex');

  it.each<[string, Uint8Array]>([
    ['empty', new Uint8Array(0)],
    ['"hello world"', new TextEncoder().encode('hello world')],
    ['1000 bytes (four-digit length)', new Uint8Array(1000).fill(7)],
    ['the test message', MESSAGE],
  ])(
    '%s: eth-personal = ethers.hashMessage, keccak256 = ethers.keccak256, sha256 = node',
    (_l, m) => {
      expect('0x' + hex(digestOf('eth-personal', m))).toBe(hashMessage(m));
      expect('0x' + hex(digestOf('keccak256', m))).toBe(keccak256(m));
      expect(hex(digestOf('sha256', m))).toBe(sha(m));
    }
  );

  it('agrees with ethers and node:crypto on arbitrary messages (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (m) => {
        expect('0x' + hex(digestOf('eth-personal', m))).toBe(hashMessage(m));
        expect('0x' + hex(digestOf('keccak256', m))).toBe(keccak256(m));
        expect(hex(digestOf('sha256', m))).toBe(sha(m));
      }),
      { numRuns: 200 }
    );
  });

  it('the three modes give three different digests', () => {
    const all = (['keccak256', 'sha256', 'eth-personal'] as const).map((h) =>
      hex(digestOf(h, MESSAGE))
    );
    expect(new Set(all).size).toBe(3);
  });
});

// ---- refusals ----------------------------------------------------------------------------------

describe('planSession refusals', () => {
  describe('not-coordinator', () => {
    it('when this daemon has no coordinator configured', async () => {
      const inv = keygenInv();
      const err = await refusal(plan(inv, { ctx: ctx({ coordinator: undefined }) }));
      expect(err.code).toBe('not-coordinator');
    });

    it('when another (validly signing) coordinator sends it', async () => {
      const inv = keygenInv({ coordinator: rogue.peer });
      const err = await refusal(plan(inv, { signature: sign(inv, rogue.seed) }));
      expect(err.code).toBe('not-coordinator');
    });
  });

  describe('bad-signature', () => {
    it('signed by another key', async () => {
      const inv = keygenInv();
      const err = await refusal(plan(inv, { signature: sign(inv, rogue.seed) }));
      expect(err.code).toBe('bad-signature');
    });

    it.each(['', 'zz', '00'.repeat(64), 'not a signature'])('garbage signature %j', async (sig) => {
      const err = await refusal(plan(keygenInv(), { signature: sig }));
      expect(err.code).toBe('bad-signature');
    });

    it('the valid signature in upper case', async () => {
      const inv = keygenInv();
      const err = await refusal(plan(inv, { signature: sign(inv).toUpperCase() }));
      expect(err.code).toBe('bad-signature');
    });

    it.each<[string, Invitation, (i: Invitation) => Invitation]>([
      [
        'sessionId',
        keygenInv(),
        (i) => ({ ...i, sessionId: '3b0c9a51-6f2e-4d7a-8c19-5e4f3a2b1c0e' }),
      ],
      ['recipient (before the recipient check)', keygenInv(), (i) => ({ ...i, recipient: B })],
      ['participants', keygenInv(), (i) => ({ ...i, participants: [A, B, D] })],
      ['nonce', keygenInv(), (i) => ({ ...i, nonce: 'c4' + NONCE.slice(2) })],
      ['expiresAt', keygenInv(), (i) => ({ ...i, expiresAt: i.expiresAt + 3_600_000 })],
      [
        'joinToken',
        keygenInv(),
        (i) => ({ ...i, joinToken: '9e8d7c6b-5a49-4382-b716-0a1b2c3d4e50' }),
      ],
      [
        'threshold',
        keygenInv(),
        (i) => ({ ...i, params: { kind: 'keygen', threshold: 3, level: 'level112' } }),
      ],
      [
        'level',
        keygenInv(),
        (i) => ({ ...i, params: { kind: 'keygen', threshold: 2, level: 'level128' } }),
      ],
      [
        'keyId',
        signInv(),
        (i) => ({ ...i, params: { ...(i.params as SignParams), keyId: key3.keyId } }),
      ],
      [
        'digest',
        signInv(),
        (i) => ({ ...i, params: { ...(i.params as SignParams), digest: '00'.repeat(32) } }),
      ],
      [
        'message and digest together',
        signInv(),
        (i) =>
          signInv(
            { message: '00', digest: hex(digestOf('keccak256', new Uint8Array(1))) },
            { participants: i.participants }
          ),
      ],
      [
        'hashing',
        signInv(),
        (i) => signInv({ hashing: 'sha256' }, { participants: i.participants }),
      ],
    ])('a field tampered after signing: %s', async (_field, base, tamper) => {
      const signature = sign(base);
      const tampered = tamper(base);
      expect(tampered).not.toStrictEqual(base);
      const err = await refusal(plan(tampered, { signature }));
      expect(err.code).toBe('bad-signature');
    });
  });

  it('not-recipient: a correctly signed invitation addressed to another participant', async () => {
    const err = await refusal(plan(keygenInv({ recipient: B })));
    expect(err.code).toBe('not-recipient');
  });

  it.each([
    ['expiring right now', NOW],
    ['expired a millisecond ago', NOW - 1],
    ['expiring at the epoch', 0],
  ])('expired: %s', async (_label, expiresAt) => {
    const err = await refusal(plan(keygenInv({ expiresAt })));
    expect(err.code).toBe('expired');
  });

  it('a millisecond before expiry is still accepted', async () => {
    const p = await plan(keygenInv({ expiresAt: NOW + 1 }));
    expect(p.kind).toBe('keygen');
  });

  it('unknown-participant: a participant not on the allow-list, named', async () => {
    for (const inv of [
      keygenInv({ participants: [A, B, E] }),
      signInv({}, { participants: [E, A] }),
    ]) {
      const err = await refusal(plan(inv));
      expect(err.code).toBe('unknown-participant');
      expect(err.message).toContain(E);
    }
  });

  it('unknown-participant: the coordinator itself is not a participant unless allowed', async () => {
    const err = await refusal(plan(keygenInv({ participants: [A, coord.peer] })));
    expect(err.code).toBe('unknown-participant');
  });

  it('bad-participant: an allowed participant whose peer id is not Ed25519', async () => {
    const inv = keygenInv({ participants: [A, B, secpPeer] });
    const err = await refusal(plan(inv, { ctx: ctx({ allowed: new Set([B, secpPeer]) }) }));
    expect(err.code).toBe('bad-participant');
    expect(err.message).toContain(secpPeer);
  });

  it('unknown-key: a key this daemon holds no share of, named', async () => {
    const keyId = 'f'.repeat(32);
    const err = await refusal(plan(signInv({ keyId })));
    expect(err.code).toBe('unknown-key');
    expect(err.message).toContain(keyId);
  });

  it('shareCache: a share is decoded and validated once, then served from the cache', async () => {
    const shareCache = new Map<string, KeyShare>();
    const first = await plan(signInv(), { ctx: ctx({ shareCache }) });
    expect(shareCache.get(key2.keyId)).toBe(first.kind === 'sign' ? first.keyShare : undefined);
    // With the keystore out of the way, only the cache can answer.
    const noStore = { getKeyShare: () => Promise.reject(new Error('keystore touched')) };
    const again = await plan(signInv(), {
      ctx: ctx({ shareCache, keystore: noStore as unknown as Keystore }),
    });
    expect(again.kind === 'sign' && again.keyShare).toBe(shareCache.get(key2.keyId));
    await expect(
      plan(signInv(), { ctx: ctx({ keystore: noStore as unknown as Keystore }) })
    ).rejects.toThrow('keystore touched');
  });

  it('not-in-roster: an allowed signer that holds no share of the key, named', async () => {
    const err = await refusal(plan(signInv({}, { participants: [A, D] })));
    expect(err.code).toBe('not-in-roster');
    expect(err.message).toContain(D);
  });

  it('too-few-signers: two signers for a 3-of-3 key', async () => {
    const err = await refusal(plan(signInv({ keyId: key3.keyId }, { participants: [A, B] })));
    expect(err.code).toBe('too-few-signers');
    expect(err.message).toContain(key3.keyId);
  });

  // Presign needs exactly t signers (computeSessionId: "signers must have exactly t entries"):
  // more must be a coded refusal, not an InvalidArgs surfacing as 'internal'.
  it('refuses more signers than the threshold with a ControlRefusal', async () => {
    const err = await refusal(plan(signInv({}, { participants: [A, B, C] })));
    expect(err.code).toBe('too-many-signers');
  });

  describe.each(['keccak256', 'sha256', 'eth-personal'] as const)(
    'digest-mismatch (%s)',
    (hashing) => {
      const others = (['keccak256', 'sha256', 'eth-personal'] as const).filter(
        (h) => h !== hashing
      );

      it.each(others)('the digest is the %s hash instead', async (other) => {
        const inv = signInv({ hashing, digest: hex(digestOf(other, MESSAGE)) });
        const err = await refusal(plan(inv));
        expect(err.code).toBe('digest-mismatch');
        expect(err.message).toContain(hashing);
      });

      it('the digest has one bit flipped', async () => {
        const d = digestOf(hashing, MESSAGE).slice();
        d[31]! ^= 1;
        const err = await refusal(plan(signInv({ hashing, digest: hex(d) })));
        expect(err.code).toBe('digest-mismatch');
      });

      it('the digest is of another message', async () => {
        const inv = signInv({ hashing, digest: hex(digestOf(hashing, MESSAGE.subarray(1))) });
        const err = await refusal(plan(inv));
        expect(err.code).toBe('digest-mismatch');
      });
    }
  );

  it('checks the signature before anything the invitation claims', async () => {
    // expired, for someone else, with unknown participants — but unsigned: bad-signature first
    const inv = keygenInv({ recipient: B, expiresAt: 0, participants: [A, B, E] });
    const err = await refusal(plan(inv, { signature: sign(inv, rogue.seed) }));
    expect(err.code).toBe('bad-signature');
  });
});

// ---- accepted plans ----------------------------------------------------------------------------

describe('planSession: keygen', () => {
  const nonce = Buffer.from(NONCE, 'hex');
  const sidOf = (
    roster = ROSTER,
    t = 2,
    level: 'level112' | 'level128' = 'level112',
    nonceBytes: Uint8Array = nonce
  ): Uint8Array =>
    computeSessionId({
      protocol: 'keygen',
      keyEpoch: 0,
      roster,
      t,
      n: roster.length,
      level,
      nonce: nonceBytes,
    });

  it('roster sorted by party-id bytes, self = our index, parties = all, sid of C12', async () => {
    const inv = keygenInv({ participants: [...ROSTER_PEERS].reverse() });
    const p = await plan(inv);
    if (p.kind !== 'keygen') throw new Error('not a keygen plan');
    expect(p.invitation).toBe(inv);
    expect(p.roster).toEqual(ROSTER);
    for (let i = 1; i < p.roster.length; i++) {
      expect(Buffer.compare(p.roster[i - 1]!.partyId, p.roster[i]!.partyId)).toBeLessThan(0);
    }
    expect(p.peers).toEqual(ROSTER_PEERS);
    expect(p.self).toBe(idx(A));
    expect(p.peers[p.self]).toBe(A);
    expect(p.parties).toEqual([0, 1, 2]);
    expect(p.sid).toEqual(sidOf());
  });

  it('does not depend on the order the coordinator listed the participants in', async () => {
    const orders = [
      [A, B, C],
      [C, B, A],
      [B, A, C],
    ];
    const plans = await Promise.all(
      orders.map((participants) => plan(keygenInv({ participants })))
    );
    for (const p of plans) {
      if (p.kind !== 'keygen') throw new Error('not a keygen plan');
      expect(p.roster).toEqual(ROSTER);
      expect(p.peers).toEqual(ROSTER_PEERS);
      expect(p.sid).toEqual(sidOf());
    }
  });

  it('binds the threshold, the level and the nonce into the sid', async () => {
    const base = await plan(keygenInv());
    const t3 = await plan(
      keygenInv({ params: { kind: 'keygen', threshold: 3, level: 'level112' } })
    );
    const l128 = await plan(
      keygenInv({ params: { kind: 'keygen', threshold: 2, level: 'level128' } })
    );
    const other = await plan(keygenInv({ nonce: '5d'.repeat(32) }));
    expect(t3.sid).toEqual(sidOf(ROSTER, 3));
    expect(l128.sid).toEqual(sidOf(ROSTER, 2, 'level128'));
    expect(other.sid).toEqual(sidOf(ROSTER, 2, 'level112', Buffer.from('5d'.repeat(32), 'hex')));
    expect(new Set([base, t3, l128, other].map((p) => hex(p.sid))).size).toBe(4);
  });

  it('a four-party roster with another allowed peer', async () => {
    const peers4 = [A, B, C, D].sort(byPartyId);
    const p = await plan(keygenInv({ participants: [D, C, B, A] }));
    if (p.kind !== 'keygen') throw new Error('not a keygen plan');
    expect(p.peers).toEqual(peers4);
    expect(p.roster).toEqual(peers4.map(rosterEntry));
    expect(p.self).toBe(peers4.indexOf(A));
    expect(p.parties).toEqual([0, 1, 2, 3]);
    expect(p.sid).toEqual(sidOf(peers4.map(rosterEntry)));
  });
});

describe('planSession: sign', () => {
  const nonce = Buffer.from(NONCE, 'hex');

  it('parties = sorted roster indices of the signers, digest bytes, sid = signDigestSessionId', async () => {
    const inv = signInv({}, { participants: [B, A] });
    const p = await plan(inv);
    if (p.kind !== 'sign') throw new Error('not a sign plan');
    const parties = [idx(A), idx(B)].sort((x, y) => x - y);
    expect(p.invitation).toBe(inv);
    expect(p.parties).toEqual(parties);
    expect(p.self).toBe(key2.index);
    expect(p.self).toBe(idx(A));
    expect(p.keyShare).toEqual(key2);
    expect(p.digest).toBeInstanceOf(Uint8Array);
    expect(p.digest).toEqual(digestOf('keccak256', MESSAGE));
    expect(p.sid).toEqual(signDigestSessionId(key2, parties, nonce));
    // a peer id per roster index, '' for the member that is not signing
    expect(p.peers).toEqual(ROSTER_PEERS.map((q) => (q === C ? '' : q)));
  });

  it.each<HashingMode>(['keccak256', 'sha256', 'eth-personal'])(
    'accepts the correct %s digest of the message',
    async (hashing) => {
      const p = await plan(signInv({ hashing }));
      if (p.kind !== 'sign') throw new Error('not a sign plan');
      expect(p.digest).toEqual(digestOf(hashing as Exclude<HashingMode, 'none'>, MESSAGE));
    }
  );

  it("hashing 'none': the digest is taken as given", async () => {
    const p = await plan(signInv({ hashing: 'none', digest: '5e'.repeat(32) }));
    if (p.kind !== 'sign') throw new Error('not a sign plan');
    expect(hex(p.digest)).toBe('5e'.repeat(32));
  });

  it('an empty message hashes like any other', async () => {
    const p = await plan(
      signInv({
        hashing: 'eth-personal',
        message: '',
        digest: hex(digestOf('eth-personal', new Uint8Array(0))),
      })
    );
    if (p.kind !== 'sign') throw new Error('not a sign plan');
    expect('0x' + hex(p.digest)).toBe(hashMessage(new Uint8Array(0)));
  });

  it('a 3-of-3 key with every signer', async () => {
    const p = await plan(signInv({ keyId: key3.keyId }, { participants: [C, A, B] }));
    if (p.kind !== 'sign') throw new Error('not a sign plan');
    expect(p.parties).toEqual([0, 1, 2]);
    expect(p.keyShare).toEqual(key3);
    expect(p.peers).toEqual(ROSTER_PEERS);
    expect(p.sid).toEqual(signDigestSessionId(key3, [0, 1, 2], nonce));
  });

  it('the sid differs per signer set and per nonce', async () => {
    const ab = await plan(signInv({}, { participants: [A, B] }));
    const ac = await plan(signInv({}, { participants: [A, C] }));
    const ab2 = await plan(signInv({}, { participants: [A, B], nonce: '77'.repeat(32) }));
    expect(new Set([ab, ac, ab2].map((p) => hex(p.sid))).size).toBe(3);
    expect(ac.sid).toEqual(
      signDigestSessionId(
        key2,
        [idx(A), idx(C)].sort((x, y) => x - y),
        nonce
      )
    );
  });
});
