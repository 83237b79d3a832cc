/**
 * The coordinator's /v1 API over real HTTP with three real daemons: setup, node registry, keygen
 * with an idempotency key, status and its event stream, signing an Ethereum personal message that
 * ethers verifies, account isolation, and 4xx answers that name the bad field.
 */
import '../../daemon/polyfills.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { Signature, verifyMessage } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accounts, type Account } from '../../coordinator-lite/accounts.js';
import { apiRoutes } from '../../coordinator-lite/api.js';
import { startControlNode } from '../../coordinator-lite/control-node.js';
import { createApiServer, type ApiServer } from '../../coordinator-lite/http/server.js';
import { NodeRegistry } from '../../coordinator-lite/registry.js';
import { SessionService, type SessionEvent } from '../../coordinator-lite/sessions.js';
import { Store } from '../../coordinator-lite/store.js';
import { createLogger } from '../../daemon/log.js';
import type { MpcdNode } from '../../daemon/p2p/node.js';
import { Cluster, type DaemonProcess } from '../helpers/daemons.js';

const log = createLogger({ level: 'silent', name: 'api-test' });
let cluster: Cluster;
let dir: string;
let store: Store;
let node: MpcdNode;
let api: ApiServer;
let sessions: SessionService;
let admin: string;
let other: string;

async function call(
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {}
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined || opts.raw !== undefined)
    headers['content-type'] ??= 'application/json';
  const res = await fetch(api.url + path, {
    method,
    headers,
    ...(opts.raw !== undefined
      ? { body: opts.raw }
      : opts.body !== undefined
        ? { body: JSON.stringify(opts.body) }
        : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function finished(id: string, token = admin): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const r = await call('GET', `/v1/sessions/${id}`, { token });
    expect(r.status).toBe(200);
    if (['completed', 'failed', 'expired'].includes(r.body.status as string)) return r.body;
    if (Date.now() > deadline) throw new Error(`session ${id} did not finish`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mpc-api-'));
  store = await Store.open(join(dir, 'store'));
  const coordKey = await generateKeyPair('Ed25519');
  const coordinator = peerIdFromPrivateKey(coordKey).toString();
  cluster = await Cluster.create(['a', 'b', 'c']);
  const [A, B, C] = cluster.daemons as [DaemonProcess, DaemonProcess, DaemonProcess];
  await cluster.startAll(coordinator);

  const listeners = new Set<(e: SessionEvent) => void>();
  const ref: { sessions?: SessionService; node?: MpcdNode } = {};
  const registry = new NodeRegistry(store, (p) =>
    (ref.node?.getConnections(peerIdFromString(p)) ?? []).some((c) => c.status === 'open')
  );
  await registry.load();
  const started = await startControlNode({
    privateKey: coordKey,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    isNode: (p) => registry.has(p.toString()),
    log,
    handle: (req, from) => ref.sessions!.control(req, from),
  });
  node = ref.node = started.node;
  sessions = ref.sessions = new SessionService({
    store,
    link: started.link,
    self: coordinator,
    secretKey: coordKey.raw.subarray(0, 32),
    log,
    onEvent: (e) => listeners.forEach((f) => f(e)),
  });
  const accounts = new Accounts(store, log);
  const setup = await accounts.ensureSetupToken();
  api = await createApiServer<Account>({
    host: '127.0.0.1',
    port: 0,
    log,
    routes: apiRoutes({
      accounts,
      registry,
      sessions,
      store,
      subscribe: (f) => {
        listeners.add(f);
        return () => listeners.delete(f);
      },
      keygenJoinMs: 60_000,
      signJoinMs: 30_000,
    }),
    authenticate: (bearer) => accounts.authenticate(bearer).catch(() => undefined),
  });
  const boot = await call('POST', '/v1/setup', { body: { setupToken: setup, name: 'ops' } });
  expect(boot.status).toBe(201);
  admin = boot.body.token as string;
  for (const d of [A, B, C]) {
    const r = await call('POST', '/v1/nodes', {
      token: admin,
      body: { peerId: d.peerId, name: `node-${d.name}`, addresses: [d.address] },
    });
    expect(r.status).toBe(201);
    await node.dial(multiaddr(d.address), { signal: AbortSignal.timeout(10_000) });
  }
  const second = await call('POST', '/v1/accounts', { token: admin, body: { name: 'someone' } });
  expect(second.status).toBe(201);
  other = second.body.token as string;
}, 90_000);

afterAll(async () => {
  await api?.close();
  sessions?.close();
  await node?.stop();
  await store?.close();
  await cluster?.cleanup();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('coordinator /v1 API with three daemons', () => {
  let keyId: string;
  let address: string;

  it('lists the registered nodes as online', async () => {
    const r = await call('GET', '/v1/nodes', { token: admin });
    const nodes = r.body.nodes as Array<{ name: string; online: boolean }>;
    expect(nodes.map((n) => [n.name, n.online])).toEqual([
      ['node-a', true],
      ['node-b', true],
      ['node-c', true],
    ]);
  });

  it('creates a 2-of-3 key once for a retried POST with one idempotency key', async () => {
    const body = { threshold: 2, parties: 3, level: 'level112', label: 'treasury' };
    const headers = { 'idempotency-key': 'keygen-1' };
    const first = await call('POST', '/v1/keys', { token: admin, body, headers });
    expect(first.status).toBe(202);
    const again = await call('POST', '/v1/keys', { token: admin, body, headers });
    expect(again.body.id).toBe(first.body.id);
    const done = await finished(first.body.id as string);
    expect(done.status, JSON.stringify(done.failure)).toBe('completed');
    const result = done.result as { keyId: string; address: string; publicKey: string };
    keyId = result.keyId;
    address = result.address;
    const key = await call('GET', `/v1/keys/${keyId}`, { token: admin });
    expect(key.body).toMatchObject({ keyId, address, threshold: 2, label: 'treasury' });
    const list = await call('GET', '/v1/keys', { token: admin });
    expect((list.body.keys as unknown[]).length).toBe(1);
  }, 120_000);

  it('signs an Ethereum personal message that ethers verifies, streaming progress', async () => {
    const r = await call('POST', `/v1/keys/${keyId}/signatures`, {
      token: admin,
      body: { message: 'pay 1 ETH to bob', hashing: 'eth-personal' },
    });
    expect(r.status).toBe(202);
    const events = await fetch(`${api.url}/v1/sessions/${r.body.id as string}/events`, {
      headers: { authorization: `Bearer ${admin}` },
      signal: AbortSignal.timeout(60_000),
    });
    const text = await events.text(); // the stream ends at the terminal status
    expect(text).toContain('"status":"completed"');
    const done = await finished(r.body.id as string);
    const sig = done.result as { signature65: string };
    expect(verifyMessage('pay 1 ETH to bob', Signature.from('0x' + sig.signature65))).toBe(address);
  }, 60_000);

  it('keeps accounts apart and refuses the unauthenticated', async () => {
    expect((await call('GET', `/v1/keys/${keyId}`, { token: other })).status).toBe(404);
    expect((await call('GET', '/v1/keys', { token: other })).body.keys).toEqual([]);
    expect((await call('GET', '/v1/keys')).status).toBe(401);
    expect((await call('GET', '/v1/keys', { token: 'mpc_000000000000_nope' })).status).toBe(401);
    expect(
      (await call('POST', '/v1/nodes', { token: other, body: { peerId: 'x', name: 'y' } })).status
    ).toBe(403);
  });

  it.each([
    ['threshold above parties', '/v1/keys', { threshold: 4, parties: 3 }, 400, 'threshold'],
    ['threshold missing', '/v1/keys', { parties: 3 }, 400, 'threshold'],
    ['unknown field', '/v1/keys', { threshold: 2, parties: 3, treshold: 2 }, 400, 'treshold'],
    ['unknown node name', '/v1/keys', { threshold: 2, nodes: ['node-a', 'node-x'] }, 404, 'node'],
  ])('keygen: %s → a 4xx naming the field', async (_what, path, body, status, field) => {
    const r = await call('POST', path, { token: admin, body });
    expect(r.status).toBe(status);
    expect(
      (r.body.error as { field?: string }).field ?? (r.body.error as { message: string }).message
    ).toContain(field);
  });

  it('signatures: a digest of 31 bytes, an unknown key, a wrong content type, an oversized body', async () => {
    const short = await call('POST', `/v1/keys/${keyId}/signatures`, {
      token: admin,
      body: { digest: 'ab'.repeat(31) },
    });
    expect([short.status, (short.body.error as { field: string }).field]).toEqual([400, 'digest']);
    expect((short.body.error as { message: string }).message).toContain('32 bytes');
    const unknown = await call('POST', `/v1/keys/${'0'.repeat(32)}/signatures`, {
      token: admin,
      body: { digest: 'ab'.repeat(32) },
    });
    expect(unknown.status).toBe(404);
    const text = await call('POST', `/v1/keys/${keyId}/signatures`, {
      token: admin,
      raw: 'digest=ab',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    const big = await call('POST', `/v1/keys/${keyId}/signatures`, {
      token: admin,
      raw: JSON.stringify({ message: 'x'.repeat(100_000) }),
    });
    expect(big.status).toBe(413);
  });
});
