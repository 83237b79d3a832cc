/**
 * The session transport between two in-process libp2p nodes: point-to-point frames, gossip
 * broadcast, pulls of missing envelopes (and who may pull what), and frames that are dropped.
 */
import '../../daemon/polyfills.js';
import { randomBytes } from 'node:crypto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PeerId } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, type MpcdNode } from '../../daemon/p2p/node.js';
import { request } from '../../daemon/p2p/streams.js';
import { pullable } from '../../daemon/session/manager.js';
import {
  encodeFrame,
  SessionTransport,
  TSS_PROTOCOL,
  type TransportSink,
} from '../../daemon/session/transport.js';
import type { Outgoing } from '../../protocol/round/engine.js';

interface Seen {
  envelopes: Array<{ session: string; bytes: Uint8Array; from: string; via: string }>;
  pulls: Array<{ session: string; round: number; from: string }>;
  dropped: string[];
}

function sink(seen: Seen, answer: (round: number) => Uint8Array[]): TransportSink {
  return {
    envelope: (session, bytes, from, via) =>
      seen.envelopes.push({ session, bytes, from: from.toString(), via }),
    pull: (session, round, from) => {
      seen.pulls.push({ session, round, from: from.toString() });
      return answer(round);
    },
    dropped: (reason) => seen.dropped.push(reason),
  };
}

const SESSION = '6f1c1b0e-8a6b-4c1e-9d3a-2b7f5e4c3a21';
let x: MpcdNode;
let y: MpcdNode;
let tx: SessionTransport;
let ty: SessionTransport;
const seenX: Seen = { envelopes: [], pulls: [], dropped: [] };
const seenY: Seen = { envelopes: [], pulls: [], dropped: [] };
const stored = [randomBytes(100), randomBytes(200)];

async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  const [kx, ky] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')]);
  const ids = new Set([peerIdFromPrivateKey(kx), peerIdFromPrivateKey(ky)].map(String));
  const allow = (p: PeerId) => ids.has(p.toString());
  x = await createNode({ privateKey: kx, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], allow });
  y = await createNode({ privateKey: ky, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], allow });
  tx = new SessionTransport(
    x,
    sink(seenX, () => []),
    5_000
  );
  ty = new SessionTransport(
    y,
    sink(seenY, (round) => (round <= 2 ? stored : [])),
    5_000
  );
  await Promise.all([tx.start(), ty.start()]);
  await x.dial(y.getMultiaddrs()[0]!);
  tx.subscribe(SESSION);
  ty.subscribe(SESSION);
  await until(
    'subscriptions',
    () =>
      tx.subscribers(SESSION).some((p) => p.equals(y.peerId)) &&
      ty.subscribers(SESSION).some((p) => p.equals(x.peerId))
  );
}, 30_000);

afterAll(async () => {
  await Promise.all([x?.stop(), y?.stop()]);
});

describe('SessionTransport', () => {
  it('delivers a point-to-point envelope with its session and authenticated sender', async () => {
    const env = randomBytes(300);
    await tx.send(y.peerId, SESSION, env);
    await until('delivery', () => seenY.envelopes.some((e) => e.via === 'direct'));
    const got = seenY.envelopes.find((e) => e.via === 'direct')!;
    expect(got).toMatchObject({ session: SESSION, from: x.peerId.toString() });
    expect(Buffer.from(got.bytes).equals(env)).toBe(true);
  });

  it('broadcasts on the session topic', async () => {
    const env = randomBytes(64);
    await ty.publish(SESSION, env);
    await until('gossip', () => seenX.envelopes.some((e) => e.via === 'gossip'));
    const got = seenX.envelopes.find((e) => e.via === 'gossip')!;
    expect(got).toMatchObject({ session: SESSION, from: y.peerId.toString() });
    expect(Buffer.from(got.bytes).equals(env)).toBe(true);
  });

  it('pulls what the peer answers for a round, and nothing for a later one', async () => {
    const got = await tx.pull(y.peerId, SESSION, 2);
    expect(got.map((b) => Buffer.from(b).toString('hex'))).toEqual(
      stored.map((b) => b.toString('hex'))
    );
    expect(seenY.pulls.at(-1)).toEqual({ session: SESSION, round: 2, from: x.peerId.toString() });
    expect(await tx.pull(y.peerId, SESSION, 3)).toEqual([]);
  });

  it('drops garbage and oversized frames with a reason, and keeps serving', async () => {
    const before = seenY.dropped.length;
    await request(x, y.peerId, TSS_PROTOCOL, randomBytes(50), { timeoutMs: 5_000 });
    await request(x, y.peerId, TSS_PROTOCOL, new Uint8Array((4 << 20) + 16 * 1024), {
      timeoutMs: 10_000,
    }).catch(() => undefined);
    await until('two drops', () => seenY.dropped.length >= before + 2);
    expect(seenY.dropped.slice(before).some((r) => r.startsWith('garbage frame'))).toBe(true);
    expect(seenY.dropped.slice(before).some((r) => r.startsWith('stream error'))).toBe(true);
    const env = encodeFrame({ kind: 'envelope', session: SESSION, envelope: randomBytes(10) });
    const n = seenY.envelopes.length;
    await request(x, y.peerId, TSS_PROTOCOL, env, { timeoutMs: 5_000 });
    await until('delivery after the drops', () => seenY.envelopes.length === n + 1);
  }, 30_000);
});

describe('pullable', () => {
  const out = (round: number, to: number | undefined, tag: number): Outgoing => ({
    round,
    ...(to === undefined ? {} : { to }),
    bytes: new Uint8Array([tag]),
  });
  const sent = [out(1, undefined, 1), out(2, 1, 2), out(2, 2, 3), out(3, undefined, 4)];
  const tags = (b: Uint8Array[]) => b.map((x) => x[0]);

  it('gives a participant the broadcasts and its own point-to-point envelopes from the round on', () => {
    expect(tags(pullable(sent, 2, 1, [0, 1, 2]))).toEqual([2, 4]);
    expect(tags(pullable(sent, 1, 2, [0, 1, 2]))).toEqual([1, 3, 4]);
  });

  it('gives nothing to a peer outside the session or the roster', () => {
    expect(pullable(sent, 1, 2, [0, 1])).toEqual([]);
    expect(pullable(sent, 1, -1, [0, 1, 2])).toEqual([]);
  });
});
