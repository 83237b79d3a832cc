/**
 * The coordinator's session service: join tokens, readiness, expiry and report rules against a
 * recording control link; then with three real daemons — keygen, signing, and a coordinator that
 * restarts mid-session and still reports the session completed once the daemons' reports arrive.
 */
import '../../daemon/polyfills.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PeerId, PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlNode } from '../../coordinator-lite/control-node.js';
import {
  SessionService,
  type SessionEvent,
  type ControlLink,
  type SessionRecord,
} from '../../coordinator-lite/sessions.js';
import { Store } from '../../coordinator-lite/store.js';
import { createLogger } from '../../daemon/log.js';
import type { MpcdNode } from '../../daemon/p2p/node.js';
import {
  reportSigningBytes,
  signControl,
  type ControlRequest,
  type Invitation,
  type KeygenOutput,
  type Report,
  type SignOutput,
} from '../../protocol/control/messages.js';
import { Cluster, freePort, type DaemonProcess } from '../helpers/daemons.js';
import { ethersRecover, opensslVerify } from '../helpers/verify.js';

const log = createLogger({ level: 'silent', name: 'coordinator-test' });
const dirs: string[] = [];

async function tempStore(): Promise<Store> {
  const d = await mkdtemp(join(tmpdir(), 'mpc-coord-'));
  dirs.push(d);
  return Store.open(d);
}

async function identity(): Promise<{ key: PrivateKey; id: PeerId; seed: Uint8Array }> {
  const key = await generateKeyPair('Ed25519');
  return { key, id: peerIdFromPrivateKey(key), seed: key.raw.subarray(0, 32) };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('session rules (recording control link)', () => {
  let parties: Array<Awaited<ReturnType<typeof identity>>>;
  let coordSeed: Uint8Array;
  let coord: string;

  beforeAll(async () => {
    parties = await Promise.all([identity(), identity()]);
    const c = await identity();
    coordSeed = c.seed;
    coord = c.id.toString();
  });

  async function service(joinMs = 10_000) {
    const events: SessionEvent[] = [];
    const sent: Array<{ to: string; req: ControlRequest }> = [];
    const link: ControlLink = {
      send: async (peer, req) => {
        sent.push({ to: peer.toString(), req });
        return { ok: true };
      },
    };
    const store = await tempStore();
    const svc = new SessionService({
      store,
      link,
      self: coord,
      secretKey: coordSeed,
      log,
      joinMs,
      onEvent: (e) => events.push(e),
    });
    const rec = await svc.create({
      accountId: 'acct',
      participants: parties.map((p) => p.id.toString()),
      params: { kind: 'keygen', threshold: 2, level: 'level112' },
    });
    const token = (i: number) =>
      (
        sent.find((s) => s.req.type === 'invite' && s.to === parties[i]!.id.toString())!.req as {
          invitation: Invitation;
        }
      ).invitation.joinToken;
    return { svc, rec, sent, token, store, events };
  }

  it('accepts each join token once, refuses a wrong or reused one, starts when all are ready', async () => {
    const { svc, rec, sent, token, store, events } = await service();
    const [a, b] = parties.map((p) => p.id) as [PeerId, PeerId];
    expect(rec.status).toBe('joining');
    await expect(
      svc.control({ type: 'join', sessionId: rec.id, joinToken: token(1) }, a)
    ).rejects.toMatchObject({ code: 'bad-token' });
    await svc.control({ type: 'join', sessionId: rec.id, joinToken: token(0) }, a);
    await expect(
      svc.control({ type: 'join', sessionId: rec.id, joinToken: token(0) }, a)
    ).rejects.toMatchObject({ code: 'token-used' });
    await expect(svc.control({ type: 'ready', sessionId: rec.id }, b)).rejects.toMatchObject({
      code: 'not-joined',
    });
    await svc.control({ type: 'join', sessionId: rec.id, joinToken: token(1) }, b);
    await svc.control({ type: 'ready', sessionId: rec.id }, a);
    await svc.control({ type: 'ready', sessionId: rec.id }, b);
    await until('start sent to both', async () =>
      sent.filter((s) => s.req.type === 'start').length === 2 ? true : undefined
    );
    expect((await svc.get(rec.id))!.status).toBe('running');
    // One event per status change: `running` once (it feeds mpc_sessions_total and SSE).
    expect(events.map((e) => e.status)).toEqual(['joining', 'running']);
    // The stored record holds token hashes only.
    expect(JSON.stringify(await svc.get(rec.id))).not.toContain(token(0));
    svc.close();
    await store.close();
  });

  it('expires a session whose participants are not all ready, naming them, and aborts it', async () => {
    const { svc, rec, sent, token, store } = await service(300);
    await svc.control({ type: 'join', sessionId: rec.id, joinToken: token(0) }, parties[0]!.id);
    await svc.control({ type: 'ready', sessionId: rec.id }, parties[0]!.id);
    const done = await until('expiry', async () => {
      const r = await svc.get(rec.id);
      return r?.status === 'expired' ? r : undefined;
    });
    expect(done.failure?.reason).toBe('not-ready');
    expect(done.failure?.detail).toContain(`never joined: ${parties[1]!.id.toString()}`);
    expect(done.failure?.detail).not.toContain(parties[0]!.id.toString());
    await until('aborts', async () =>
      sent.filter((s) => s.req.type === 'abort').length === 2 ? true : undefined
    );
    // A join after expiry is refused.
    await expect(
      svc.control({ type: 'join', sessionId: rec.id, joinToken: token(1) }, parties[1]!.id)
    ).rejects.toMatchObject({ code: 'not-joinable' });
    svc.close();
    await store.close();
  });

  it('completes only when every report agrees; a report must be signed by its party', async () => {
    const { svc, rec, token, store } = await service();
    for (let i = 0; i < 2; i++) {
      await svc.control({ type: 'join', sessionId: rec.id, joinToken: token(i) }, parties[i]!.id);
      await svc.control({ type: 'ready', sessionId: rec.id }, parties[i]!.id);
    }
    const output: KeygenOutput = {
      kind: 'keygen',
      keyId: 'ab'.repeat(16),
      publicKey: '02' + 'cd'.repeat(32),
      address: '0x' + 'ef'.repeat(20),
    };
    const report = (i: number, out = output): Report => ({
      v: 1,
      sessionId: rec.id,
      party: parties[i]!.id.toString(),
      outcome: 'completed',
      output: out,
    });
    const send = (i: number, r: Report, seed = parties[i]!.seed) =>
      svc.control(
        { type: 'report', report: r, signature: signControl(reportSigningBytes(r), seed) },
        parties[i]!.id
      );
    await expect(send(0, report(0), parties[1]!.seed)).rejects.toMatchObject({
      code: 'bad-signature',
    });
    await send(0, report(0));
    expect((await svc.get(rec.id))!.status).toBe('running');
    await send(1, report(1, { ...output, address: '0x' + '00'.repeat(20) }));
    const r = (await svc.get(rec.id))!;
    expect(r.status).toBe('failed');
    expect(r.failure?.reason).toBe('reports-disagree');
    svc.close();
    await store.close();
  });
});

describe('with three daemons', () => {
  let cluster: Cluster;
  let A: DaemonProcess;
  let B: DaemonProcess;
  let C: DaemonProcess;
  let coordKey: PrivateKey;
  let coordPort: number;
  let storeDir: string;
  let store: Store;
  let node: MpcdNode;
  let svc: SessionService;
  let key: KeygenOutput;

  async function startCoordinator(): Promise<void> {
    store = await Store.open(storeDir);
    const self = peerIdFromPrivateKey(coordKey).toString();
    const members = new Set(cluster.daemons.map((d) => d.peerId));
    const ref: { service?: SessionService } = {};
    const started = await startControlNode({
      privateKey: coordKey,
      listen: [`/ip4/127.0.0.1/tcp/${coordPort}`],
      isNode: (p) => members.has(p.toString()),
      log,
      handle: (req, from) => ref.service!.control(req, from),
    });
    node = started.node;
    ref.service = new SessionService({
      store,
      link: started.link,
      self,
      secretKey: coordKey.raw.subarray(0, 32),
      log,
      joinMs: 60_000,
    });
    svc = ref.service;
    await svc.resume();
    for (const d of cluster.daemons) {
      // The node registry (later) holds the daemons' addresses; the test knows them.
      await node.dial(multiaddr(d.address), { signal: AbortSignal.timeout(10_000) });
    }
  }

  async function stopCoordinator(): Promise<void> {
    svc.close();
    await node.stop();
    await store.close();
  }

  async function finished(id: string, ms = 120_000): Promise<SessionRecord> {
    return until(
      `session ${id}`,
      async () => {
        const r = await svc.get(id);
        return r && r.status !== 'joining' && r.status !== 'inviting' && r.status !== 'running'
          ? r
          : undefined;
      },
      ms
    );
  }

  beforeAll(async () => {
    coordKey = await generateKeyPair('Ed25519');
    coordPort = await freePort();
    storeDir = await mkdtemp(join(tmpdir(), 'mpc-coord-'));
    dirs.push(storeDir);
    cluster = await Cluster.create(['A', 'B', 'C']);
    [A, B, C] = cluster.daemons as [DaemonProcess, DaemonProcess, DaemonProcess];
    const coordinator = peerIdFromPrivateKey(coordKey).toString();
    await cluster.startAll(coordinator, [
      '--round-timeout-ms',
      '15000',
      '--pull-timeout-ms',
      '300',
    ]);
    await startCoordinator();
  }, 90_000);

  afterAll(async () => {
    await stopCoordinator().catch(() => undefined);
    await cluster?.cleanup();
  }, 60_000);

  it('runs keygen 2-of-3 to one agreed result', async () => {
    const rec = await svc.create({
      accountId: 'acct',
      participants: [A.peerId, B.peerId, C.peerId],
      params: { kind: 'keygen', threshold: 2, level: 'level112' },
    });
    const done = await finished(rec.id);
    expect(done.status, JSON.stringify(done.failure)).toBe('completed');
    key = done.result as KeygenOutput;
    expect(Object.keys(done.reports)).toHaveLength(3);
    // The key is stored with its session, and only its account sees it.
    expect(await svc.key('acct', key.keyId)).toMatchObject({
      keyId: key.keyId,
      publicKey: key.publicKey,
      address: key.address,
      threshold: 2,
      participants: [A.peerId, B.peerId, C.peerId],
      sessionId: rec.id,
    });
    expect(await svc.key('someone-else', key.keyId)).toBeUndefined();
  }, 120_000);

  it('signs with A and C; the signature verifies with OpenSSL and recovers the address', async () => {
    const digest = randomBytes(32);
    const rec = await svc.create({
      accountId: 'acct',
      participants: [A.peerId, C.peerId],
      params: { kind: 'sign', keyId: key.keyId, digest: digest.toString('hex'), hashing: 'none' },
    });
    const done = await finished(rec.id);
    expect(done.status, JSON.stringify(done.failure)).toBe('completed');
    const sig = done.result as SignOutput;
    const r = BigInt('0x' + sig.r);
    const s = BigInt('0x' + sig.s);
    expect(opensslVerify(Buffer.from(key.publicKey, 'hex'), digest, r, s)).toBe(true);
    expect(ethersRecover(digest, r, s, sig.recid)).toBe(key.address);
  }, 60_000);

  it('restarted mid-session, loses nothing and reports the session completed with its result', async () => {
    const rec = await svc.create({
      accountId: 'acct',
      participants: [A.peerId, B.peerId, C.peerId],
      params: { kind: 'keygen', threshold: 2, level: 'level112' },
    });
    const running = await until('running', async () => {
      const r = await svc.get(rec.id);
      return r?.status === 'running' ? r : undefined;
    });
    await stopCoordinator();
    // The keygen takes seconds: its reports can only reach the restarted coordinator.
    expect(Object.keys(running.reports)).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 1_500));
    await startCoordinator();
    const done = await finished(rec.id);
    expect(done.status, JSON.stringify(done.failure)).toBe('completed');
    expect((done.result as KeygenOutput).keyId).toMatch(/^[0-9a-f]{32}$/);
    expect(Object.keys(done.reports)).toHaveLength(3);
  }, 120_000);

  it('a daemon that never gets ready: the session expires naming it, the others are released', async () => {
    await C.kill();
    const rec = await svc.create({
      accountId: 'acct',
      participants: [A.peerId, C.peerId],
      params: { kind: 'sign', keyId: key.keyId, digest: 'ab'.repeat(32), hashing: 'none' },
      joinMs: 3_000,
    });
    // Unreachable is not a refusal: the session waits (and re-invites) until it expires.
    expect(rec.status).toBe('joining');
    const done = await finished(rec.id, 30_000);
    expect(done.status, JSON.stringify(done.failure)).toBe('expired');
    expect(done.failure?.reason).toBe('not-ready');
    expect(done.failure?.detail).toContain(`never joined: ${C.peerId}`);
    expect(done.failure?.detail).toContain(`joined but not ready: ${A.peerId}`);
    // A was told: its session ends as aborted by the coordinator, not left waiting.
    await A.waitLog(
      (l) => l.msg === 'failed' && l.session === rec.id && l.reason === 'aborted-by-coordinator'
    );
  }, 60_000);
});
