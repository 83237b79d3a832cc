/**
 * coordinator-lite as one process: its LevelDB store, accounts, node registry, the libp2p control
 * node, the session service and the HTTP API — started in that order and stopped in reverse.
 *
 * Identity: the coordinator's Ed25519 key (its peer id, which signs invitations) lives in
 * `<dataDir>/identity.key`, mode 0600, like a TLS or SSH host key. It is not a custody secret: who
 * holds it can invite daemons to sessions — what a compromised coordinator can do anyway
 * (docs/threat-model.md) — but never obtain a share or make an honest daemon sign something other
 * than what its invitation says.
 * @module
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import type { Logger } from '../daemon/log.js';
import { component } from '../daemon/log.js';
import { processMetrics, Registry } from '../daemon/metrics.js';
import { writePrivateFile } from '../daemon/private-file.js';
import type { MpcdNode } from '../daemon/p2p/node.js';
import { Accounts, type Account } from './accounts.js';
import { apiRoutes } from './api.js';
import { startControlNode } from './control-node.js';
import { createApiServer, type ApiServer } from './http/server.js';
import { openApiDocument } from './openapi.js';
import { NodeRegistry } from './registry.js';
import { SessionService, type SessionEvent } from './sessions.js';
import { Store } from './store.js';

export interface CoordinatorConfig {
  readonly dataDir: string;
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly tls?: { readonly cert: string; readonly key: string };
  };
  /** libp2p listen multiaddrs (daemons dial these to join and report). */
  readonly p2pListen: readonly string[];
  /** Invite → start lifetime of keygen sessions (primes may be generated then). */
  readonly keygenJoinMs: number;
  readonly signJoinMs: number;
}

const IDENTITY_FILE = 'identity.key';

/** Load the coordinator's identity key, creating it (0600) on first start. */
export async function loadIdentity(dataDir: string): Promise<PrivateKey> {
  const file = join(dataDir, IDENTITY_FILE);
  try {
    const st = await stat(file);
    if ((st.mode & 0o077) !== 0) {
      throw new Error(`${file} is readable by group or others: chmod 600 it`);
    }
    return privateKeyFromProtobuf(await readFile(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = await generateKeyPair('Ed25519');
  // link, not rename: two first starts at once must not each keep a key; the loser reads the
  // winner's. A crash leaves no temp file behind that would block the next start.
  if (!(await writePrivateFile(file, privateKeyToProtobuf(key), { replace: false }))) {
    return privateKeyFromProtobuf(await readFile(file));
  }
  return key;
}

export class Coordinator {
  private readonly stops: Array<() => Promise<void>> = [];
  peerId = '';
  api: ApiServer | undefined;
  node: MpcdNode | undefined;
  /** The one-time setup token, when no account exists yet (print it once, never log it). */
  setupToken: string | undefined;

  private constructor(private readonly log: Logger) {}

  static async start(cfg: CoordinatorConfig, log: Logger): Promise<Coordinator> {
    const c = new Coordinator(log);
    try {
      await c.init(cfg);
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  private async init(cfg: CoordinatorConfig): Promise<void> {
    const store = await Store.open(join(cfg.dataDir, 'store'));
    this.stops.unshift(() => store.close());
    const key = await loadIdentity(cfg.dataDir);
    this.peerId = peerIdFromPrivateKey(key).toString();
    const metrics = new Registry();
    processMetrics(metrics);
    const sessionsTotal = metrics.counter('mpc_sessions_total', 'Sessions entering each status.', [
      'status',
    ]);
    const listeners = new Set<(e: SessionEvent) => void>();
    const ref: { node?: MpcdNode; sessions?: SessionService } = {};
    const online = (p: string) =>
      (ref.node?.getConnections(peerIdFromString(p)) ?? []).some((x) => x.status === 'open');
    const registry = new NodeRegistry(store, online, async (p) => {
      await ref.node?.hangUp(peerIdFromString(p)).catch(() => undefined);
    });
    await registry.load();
    const control = await startControlNode({
      privateKey: key,
      listen: cfg.p2pListen,
      isNode: (p) => registry.has(p.toString()),
      log: component(this.log, 'control'),
      handle: (req, from) => ref.sessions!.control(req, from),
    });
    this.node = ref.node = control.node;
    this.stops.unshift(async () => {
      await control.node.stop();
    });
    const sessions = new SessionService({
      store,
      link: control.link,
      self: this.peerId,
      secretKey: key.raw.subarray(0, 32),
      log: component(this.log, 'sessions'),
      onEvent: (e) => {
        sessionsTotal.inc({ status: e.status });
        for (const f of listeners) f(e);
      },
    });
    ref.sessions = sessions;
    this.stops.unshift(async () => sessions.close());
    await sessions.resume();
    metrics
      .gauge('mpc_nodes_online', 'Registered daemons with an open connection.')
      .collect(() => registry.list().filter((n) => n.online).length);
    // Keep a connection to every registered daemon (its addresses are in the registry).
    const keep = setInterval(() => {
      for (const n of registry.list()) {
        if (n.online || n.addresses.length === 0) continue;
        void control.node
          .dial(multiaddr(n.addresses[0]!), { signal: AbortSignal.timeout(5_000) })
          .catch(() => undefined);
      }
    }, 2_000);
    keep.unref();
    this.stops.unshift(async () => clearInterval(keep));
    const accounts = new Accounts(store, this.log); // names its own component
    this.setupToken = await accounts.ensureSetupToken();
    const routes = apiRoutes({
      accounts,
      registry,
      sessions,
      store,
      subscribe: (f) => {
        listeners.add(f);
        return () => listeners.delete(f);
      },
      keygenJoinMs: cfg.keygenJoinMs,
      signJoinMs: cfg.signJoinMs,
    });
    this.api = await createApiServer<Account>({
      host: cfg.http.host,
      port: cfg.http.port,
      ...(cfg.http.tls ? { tls: cfg.http.tls } : {}),
      log: component(this.log, 'http'),
      routes: [
        ...routes,
        {
          method: 'GET',
          path: '/healthz',
          auth: false,
          handler: (ctx) =>
            ctx.reply(200, { ok: true, peerId: this.peerId, nodes: registry.list().length }),
        },
        {
          method: 'GET',
          path: '/metrics',
          auth: false,
          handler: (ctx) => {
            ctx.res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
            ctx.res.end(metrics.render());
          },
        },
      ],
      authenticate: (bearer) => accounts.authenticate(bearer).catch(() => undefined),
      openapi: openApiDocument(),
    });
    const api = this.api;
    this.stops.unshift(() => api.close());
    this.log.info(
      {
        peerId: this.peerId,
        api: api.url,
        p2p: control.node.getMultiaddrs().map(String),
        nodes: registry.list().length,
      },
      'mpc-coordinator started'
    );
  }

  /** Stop the API, the sessions, the network and the store, in that order. Idempotent. */
  async stop(): Promise<void> {
    for (const f of this.stops.splice(0)) await f().catch(() => undefined);
  }
}
