/**
 * Issue 5 end to end: three `mpcd` processes on 127.0.0.1, B and C knowing only A's address.
 * DHT discovery, keygen 2-of-3, signing with every 2-subset (OpenSSL CLI, @noble and ethers
 * recovery), the allow-list, hostile envelopes during a session that still completes, a party
 * killed mid-keygen and mid-sign, and a full restart that signs with the key made before.
 */
import '../../daemon/polyfills.js';
import { randomBytes } from 'node:crypto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyShare } from '../../protocol/cggmp/key-share.js';
import { signDigestSessionId } from '../../protocol/cggmp/sign/sign-digest.js';
import type { KeygenOutput, Report, SignOutput } from '../../protocol/control/messages.js';
import { signEnvelope } from '../../protocol/round/envelope.js';
import { createNode } from '../../daemon/p2p/node.js';
import { request } from '../../daemon/p2p/streams.js';
import { encodeFrame, sessionTopic, TSS_PROTOCOL } from '../../daemon/session/transport.js';
import { rosterEntry } from '../../daemon/session/invitation.js';
import { ControlDriver, coordinatorKey, type RunOptions } from '../helpers/control-driver.js';
import { Cluster, type DaemonProcess } from '../helpers/daemons.js';
import { ethersRecover, nobleVerify, opensslVerify } from '../helpers/verify.js';

const LEVEL = 'level112' as const;

let cluster: Cluster;
let driver: ControlDriver;
let A: DaemonProcess;
let B: DaemonProcess;
let C: DaemonProcess;
let coordinator: Awaited<ReturnType<typeof coordinatorKey>>;
let key: KeygenOutput;

/** Short timeouts so the fault tests finish quickly; debug logs for the log-line assertions. */
const EXTRA = [
  '--round-timeout-ms',
  '8000',
  '--pull-timeout-ms',
  '300',
  '--drain-timeout-ms',
  '5000',
  '--log-level',
  'debug',
];

function flags(self: DaemonProcess, bootstrap: readonly DaemonProcess[]): string[] {
  return cluster.flags(self, coordinator.peerId, bootstrap, EXTRA);
}

async function startAll(): Promise<void> {
  await cluster.startAll(coordinator.peerId, EXTRA);
}

function completed(
  reports: ReadonlyMap<string, Report>,
  peers: readonly DaemonProcess[]
): Report['output'][] {
  return peers.map((p) => {
    const r = reports.get(p.peerId);
    expect(r, `${p.name} reported`).toBeDefined();
    expect(r!.outcome, `${p.name}: ${r!.reason} ${r!.detail}`).toBe('completed');
    return r!.output;
  });
}

async function sign(signers: readonly DaemonProcess[], digest: Uint8Array, opts: RunOptions = {}) {
  return driver.run(
    signers.map((s) => s.peerId),
    {
      kind: 'sign',
      keyId: key.keyId,
      digest: Buffer.from(digest).toString('hex'),
      hashing: 'none',
    },
    opts
  );
}

/** The key's roster as the daemons build it: sorted by party-id bytes. */
function rosterEntries() {
  return [A, B, C]
    .map((d) => ({ peer: d.peerId, entry: rosterEntry(d.peerId) }))
    .sort((x, y) => Buffer.compare(Buffer.from(x.entry.partyId), Buffer.from(y.entry.partyId)));
}

/** A daemon's roster index (depends on its random peer id). */
function rosterIndex(d: DaemonProcess): number {
  return rosterEntries().findIndex((e) => e.peer === d.peerId);
}

/** The protocol sid of a sign session, computed as the daemons do (public inputs only). */
function realSid(signers: readonly DaemonProcess[], nonce: Uint8Array): Uint8Array {
  const entries = rosterEntries();
  const roster = entries.map((e) => e.entry);
  const indices = signers
    .map((s) => entries.findIndex((e) => e.peer === s.peerId))
    .sort((a, b) => a - b);
  const share = {
    keyId: key.keyId,
    epoch: 0,
    roster,
    t: 2,
    n: 3,
    level: LEVEL,
  } as unknown as KeyShare;
  return signDigestSessionId(share, indices, nonce);
}

function checkSignature(out: SignOutput, digest: Uint8Array): void {
  const r = BigInt('0x' + out.r);
  const s = BigInt('0x' + out.s);
  const pk = Buffer.from(key.publicKey, 'hex');
  expect(opensslVerify(pk, digest, r, s), 'OpenSSL CLI verifies').toBe(true);
  expect(nobleVerify(pk, digest, r, s), '@noble verifies').toBe(true);
  expect(ethersRecover(digest, r, s, out.recid)).toBe(key.address);
}

async function waitStatus(
  d: DaemonProcess,
  pred: (s: Record<string, unknown>) => boolean,
  ms = 20_000
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const st = JSON.parse((await d.get('/v1/status')).body) as Record<string, unknown>;
    if (pred(st)) return st;
    if (Date.now() > deadline)
      throw new Error(`${d.name}: status never matched: ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  coordinator = await coordinatorKey();
  cluster = await Cluster.create(['A', 'B', 'C']);
  [A, B, C] = cluster.daemons as [DaemonProcess, DaemonProcess, DaemonProcess];
  await startAll();
  driver = await ControlDriver.start(coordinator, [A.peerId, B.peerId, C.peerId]);
  await Promise.all([A, B, C].map((d) => driver.connect(d.address)));
}, 90_000);

afterAll(async () => {
  await driver?.stop();
  await cluster?.cleanup();
}, 60_000);

describe('three mpcd daemons on loopback', () => {
  it('B and C find each other through the DHT knowing only A', async () => {
    const connected = (peer: string) => (st: Record<string, unknown>) =>
      (st.peers as Array<{ peerId: string; connected: boolean }>).some(
        (p) => p.peerId === peer && p.connected
      );
    await waitStatus(B, connected(C.peerId));
    await waitStatus(C, connected(B.peerId));
    const health = await A.get('/healthz');
    expect(health.status).toBe(200);
    const metrics = await A.get('/metrics');
    expect(metrics.body).toMatch(/^mpcd_peers_connected \d+$/m);
  });

  it('runs keygen 2-of-3 and every party reports the same key', async () => {
    const out = await driver.run([A.peerId, B.peerId, C.peerId], {
      kind: 'keygen',
      threshold: 2,
      level: LEVEL,
    });
    const outputs = completed(out.reports, [A, B, C]) as KeygenOutput[];
    key = outputs[0]!;
    for (const o of outputs) expect(o).toEqual(key);
    expect(key.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
  }, 120_000);

  it.each([
    ['A', 'B'],
    ['A', 'C'],
    ['B', 'C'],
  ])(
    'signs with %s and %s; OpenSSL, @noble and ethers accept the signature',
    async (x, y) => {
      const signers = cluster.daemons.filter((d) => d.name === x || d.name === y);
      const digest = randomBytes(32);
      const out = await sign(signers, digest);
      const outputs = completed(out.reports, signers) as SignOutput[];
      expect(outputs[1]).toEqual(outputs[0]);
      checkSignature(outputs[0]!, digest);
    },
    60_000
  );

  it('refuses a peer that is not on the allow-list', async () => {
    const stranger = await createNode({
      privateKey: await generateKeyPair('Ed25519'),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: [],
      allow: () => true,
    });
    try {
      await expect(
        stranger.dialProtocol(multiaddr(A.address), TSS_PROTOCOL, {
          signal: AbortSignal.timeout(5_000),
        })
      ).rejects.toThrow();
      await A.waitLog(
        (l) =>
          l.msg === 'refused a peer that is not on the allow-list' &&
          l.peer === stranger.peerId.toString()
      );
    } finally {
      await stranger.stop();
    }
  });

  it('drops hostile envelopes with a log line and still completes the session', async () => {
    const signers = [A, B];
    const digest = randomBytes(32);
    const junkKey = randomBytes(32);
    const out = await sign(signers, digest, {
      // Before start, so the session cannot finish before the hostile envelopes arrive: the
      // daemons hold them with the session's early envelopes and the engine judges each at start.
      beforeStart: async ({ id, nonce }) => {
        const sid = realSid(signers, nonce);
        // From a real signer's index (a non-signer would be refused as unknown-sender first).
        const signer = rosterIndex(signers[0]!);
        const forged = (from: number, sessionId: Uint8Array) =>
          signEnvelope({ sessionId, round: 1, from, payload: new Uint8Array([1, 2, 3]) }, junkKey);
        const payloads: Array<[string, Uint8Array]> = [
          ['garbage', randomBytes(200)],
          [
            'bad-signature',
            encodeFrame({ kind: 'envelope', session: id, envelope: forged(signer, sid) }),
          ],
          [
            'unknown-sender',
            encodeFrame({ kind: 'envelope', session: id, envelope: forged(9, sid) }),
          ],
          [
            'wrong-session',
            encodeFrame({
              kind: 'envelope',
              session: id,
              envelope: forged(signer, randomBytes(32)),
            }),
          ],
          [
            'unknown session id',
            encodeFrame({
              kind: 'envelope',
              session: 'x'.repeat(36),
              envelope: forged(signer, sid),
            }),
          ],
        ];
        for (const target of signers) {
          const peer = peerIdFromString(target.peerId);
          for (const [, bytes] of payloads) {
            await request(driver.node, peer, TSS_PROTOCOL, bytes, { timeoutMs: 5_000 });
          }
          // An oversized frame: the length prefix alone exceeds the bound.
          await request(driver.node, peer, TSS_PROTOCOL, new Uint8Array((4 << 20) + 64 * 1024), {
            timeoutMs: 10_000,
          }).catch(() => undefined);
        }
        // Garbage on the session's gossip topic.
        await driver.node.services.pubsub.publish(sessionTopic(id), randomBytes(100));
        // Start only once both daemons hold the four envelopes of this session (three forged,
        // one gossip): frames travel on their own streams and must not race the start.
        for (const d of signers) {
          await d.waitLog(
            (l) => l.msg === 'held early envelope' && l.session === id && Number(l.held) >= 4
          );
        }
      },
    });
    const outputs = completed(out.reports, signers) as SignOutput[];
    checkSignature(outputs[0]!, digest);
    for (const d of signers) {
      await d.waitLog(
        (l) => l.msg === 'dropped inbound message' && String(l.reason).startsWith('garbage frame')
      );
      await d.waitLog(
        (l) => l.msg === 'dropped inbound message' && String(l.reason).includes('stream error')
      );
      await d.waitLog((l) => l.msg === 'dropped envelope for an unknown session');
      for (const reason of ['bad-signature', 'unknown-sender', 'wrong-session']) {
        await d.waitLog((l) => l.msg === 'rejected envelope' && l.reason === reason);
      }
      await d.waitLog((l) => l.msg === 'rejected envelope' && l.reason === 'malformed');
    }
  }, 60_000);

  it('fails cleanly when a party is killed mid-keygen, and works again after its restart', async () => {
    const out = await driver.run(
      [A.peerId, B.peerId, C.peerId],
      { kind: 'keygen', threshold: 2, level: LEVEL },
      {
        reportTimeoutMs: 30_000,
        reportFrom: [A.peerId, B.peerId],
        afterStart: async () => {
          await new Promise((r) => setTimeout(r, 300));
          await C.kill();
        },
      }
    );
    for (const d of [A, B]) {
      const r = out.reports.get(d.peerId)!;
      expect(r.outcome).toBe('failed');
      expect(r.reason).toBe('round-timeout');
      expect(r.culprits).toEqual([]);
      // Nothing left half-done: the session is over on the survivors.
      const st = JSON.parse((await d.get('/v1/status')).body) as {
        sessions: Array<{ id: string; phase: string }>;
      };
      expect(st.sessions.find((x) => x.id === out.id)?.phase).toBe('failed');
      expect(st.sessions.filter((x) => x.phase !== 'completed' && x.phase !== 'failed')).toEqual(
        []
      );
    }
    await C.start(flags(C, [A]));
    await driver.connect(C.address);
    const again = await driver.run([A.peerId, B.peerId, C.peerId], {
      kind: 'keygen',
      threshold: 2,
      level: LEVEL,
    });
    const outputs = completed(again.reports, [A, B, C]) as KeygenOutput[];
    expect(outputs[1]).toEqual(outputs[0]);
    expect(outputs[0]!.keyId).not.toBe(key.keyId);
  }, 120_000);

  it('fails cleanly when a signer is killed mid-sign, and signs again after its restart', async () => {
    const out = await sign([A, B], randomBytes(32), {
      reportTimeoutMs: 30_000,
      reportFrom: [A.peerId],
      afterStart: async () => {
        await B.kill();
      },
    });
    const r = out.reports.get(A.peerId)!;
    expect(r.outcome).toBe('failed');
    expect(r.reason).toBe('round-timeout');
    await B.start(flags(B, [A]));
    await driver.connect(B.address);
    const digest = randomBytes(32);
    const again = await sign([A, B], digest);
    checkSignature((completed(again.reports, [A, B]) as SignOutput[])[0]!, digest);
  }, 90_000);

  it('drains a running session on SIGTERM: the session completes, then the daemon exits 0', async () => {
    const digest = randomBytes(32);
    let stopped: Promise<number | null> | undefined;
    const out = await sign([A, C], digest, {
      afterStart: () => {
        stopped = C.stop();
      },
    });
    checkSignature((completed(out.reports, [A, C]) as SignOutput[])[0]!, digest);
    expect(await stopped).toBe(0);
    await C.waitLog((l) => l.msg === 'draining');
    await C.start(flags(C, [A]));
    await driver.connect(C.address);
  }, 60_000);

  it('signs with a key made before all daemons were restarted', async () => {
    const codes = await Promise.all([A, B, C].map((d) => d.stop()));
    expect(codes).toEqual([0, 0, 0]);
    await startAll();
    await Promise.all([A, B, C].map((d) => driver.connect(d.address)));
    const digest = randomBytes(32);
    const out = await sign([B, C], digest);
    checkSignature((completed(out.reports, [B, C]) as SignOutput[])[0]!, digest);
  }, 90_000);
});
