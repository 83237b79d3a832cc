/**
 * The party daemon: wires the keystore, the libp2p node, peer keeping, the prime pool, the engine
 * workers, the session manager, the control channel and the admin HTTP server together, and takes
 * them down in the reverse order (ARCHITECTURE.md "Observability and operations"): stop taking
 * sessions, drain the running ones (bounded), stop the network and the workers, and close the
 * keystore last so nothing is written after it closed.
 * @module
 */
import type { PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { MasterKeySource } from '../keystore/index.js';
import type { Keystore } from '../keystore/index.js';
import { startAdminServer, type AdminServer, type HealthReport } from './admin-http.js';
import { ConfigError, type DaemonConfig } from './config.js';
import { serveControl } from './control.js';
import { openNodeStore } from './init.js';
import { component, type Logger } from './log.js';
import { DURATION_BUCKETS, processMetrics, Registry } from './metrics.js';
import { createNode, type MpcdNode } from './p2p/node.js';
import { PeerKeeper } from './p2p/peers.js';
import { refusalLogger } from './p2p/refusal-log.js';
import { PrimePool } from './prime-pool.js';
import { EnginePool } from './session/engine-pool.js';
import { SessionManager, type SessionMetrics } from './session/manager.js';

/** How long a control stream may take end to end. */
const CONTROL_TIMEOUT_MS = 10_000;

export interface DaemonOptions {
  readonly config: DaemonConfig;
  readonly source: MasterKeySource;
  readonly log: Logger;
}

function sessionMetrics(reg: Registry): SessionMetrics {
  const sessions = reg.counter(
    'mpcd_sessions_total',
    'Sessions ended, by kind, outcome and reason.',
    ['kind', 'outcome', 'reason']
  );
  const started = reg.counter('mpcd_sessions_started_total', 'Sessions started, by kind.', [
    'kind',
  ]);
  const rounds = reg.histogram(
    'mpcd_round_duration_seconds',
    'Wall time of one protocol round (first message out to round complete).',
    DURATION_BUCKETS,
    ['kind']
  );
  const msgIn = reg.counter(
    'mpcd_messages_in_total',
    'Inbound session envelopes by path and result.',
    ['via', 'result']
  );
  const msgOut = reg.counter('mpcd_messages_out_total', 'Outbound session envelopes by path.', [
    'via',
  ]);
  const compute = reg.histogram(
    'mpcd_proof_verify_seconds',
    'Engine time per batch of inbound envelopes: dominated by zero-knowledge proof verification.',
    DURATION_BUCKETS,
    ['kind']
  );
  return {
    sessionStarted: (kind) => started.inc({ kind }),
    sessionEnded: (kind, outcome, reason) => sessions.inc({ kind, outcome, reason }),
    roundCompleted: (kind, s) => rounds.observe({ kind }, s),
    messageIn: (via, result) => msgIn.inc({ via, result }),
    messageOut: (via) => msgOut.inc({ via }),
    engineCompute: (kind, s) => compute.observe({ kind }, s),
  };
}

export class Daemon {
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly config: DaemonConfig,
    readonly peerId: PeerId,
    readonly node: MpcdNode,
    readonly admin: AdminServer,
    private readonly keystore: Keystore,
    private readonly manager: SessionManager,
    private readonly keeper: PeerKeeper,
    private readonly primes: PrimePool,
    private readonly engines: EnginePool,
    private readonly log: Logger
  ) {}

  /** Open the data dir and start every part. */
  static async start(opts: DaemonOptions): Promise<Daemon> {
    const { config, log } = opts;
    const { keystore, identity } = await openNodeStore({
      dataDir: config.dataDir,
      source: opts.source,
    });
    const cleanup: Array<() => Promise<void>> = [() => keystore.close()];
    try {
      const reg = new Registry();
      processMetrics(reg);
      const self = identity.peerId;
      if (config.peers.includes(self.toString())) {
        throw new ConfigError('peers', `peers: lists this daemon's own peer id ${self.toString()}`);
      }
      if (config.coordinator === self.toString()) {
        throw new ConfigError('coordinator', 'coordinator: is this daemon’s own peer id');
      }
      const coordinator = config.coordinator ? peerIdFromString(config.coordinator) : undefined;
      const allowed = new Set(config.peers);
      const admitted = new Set([
        ...config.peers,
        ...(config.coordinator ? [config.coordinator] : []),
      ]);
      const p2pLog = component(log, 'p2p');
      const logRefusal = refusalLogger(p2pLog, 'refused a peer that is not on the allow-list');
      const denied = reg.counter(
        'mpcd_peers_denied_total',
        'Connections refused by the allow-list.',
        ['where']
      );
      if (config.insecureTestPrimes) {
        log.warn(
          { file: config.insecureTestPrimes },
          'INSECURE TEST PRIMES: keys made by this daemon use public primes from the repository; never use it with real funds'
        );
      }
      const node = await createNode({
        privateKey: identity.privateKey,
        listen: config.listen,
        announce: config.announce,
        bootstrap: config.bootstrap,
        allow: (peer) => admitted.has(peer.toString()),
        onDenied: (peer, where) => {
          denied.inc({ where });
          logRefusal(peer, where);
        },
      });
      cleanup.unshift(async () => {
        await node.stop();
      });
      const watched = [...admitted].map((p) => peerIdFromString(p));
      const keeper = new PeerKeeper(node, watched, p2pLog);
      keeper.start();
      cleanup.unshift(async () => keeper.stop());
      const primeGauge = reg.gauge(
        'mpcd_prime_pool_ready',
        'Paillier prime pairs ready, by level.',
        ['level']
      );
      const primes = new PrimePool({
        keystore,
        size: config.primePool.size,
        levels: config.primePool.levels,
        log, // the pool names its own component
        ...(config.insecureTestPrimes ? { insecureTestPrimes: config.insecureTestPrimes } : {}),
        onLevel: (level, ready) => primeGauge.set({ level }, ready),
      });
      primes.start();
      cleanup.unshift(() => primes.stop());
      const engines = new EnginePool();
      cleanup.unshift(() => engines.close());
      const sessionLog = component(log, 'session');
      const manager = new SessionManager({
        node,
        self,
        envelopeSecretKey: identity.envelopeSecretKey,
        keystore,
        primes,
        engines,
        peers: keeper,
        coordinator,
        allowed,
        timeouts: config.timeouts,
        maxSessions: config.maxSessions,
        log: sessionLog,
        metrics: sessionMetrics(reg),
      });
      await manager.start();
      cleanup.unshift(async () => manager.close());
      await serveControl(
        node,
        { timeoutMs: CONTROL_TIMEOUT_MS, log: component(log, 'control') },
        (req, from) => manager.control(req, from)
      );
      reg
        .gauge(
          'mpcd_peers_connected',
          'Configured peers (parties and coordinator) with an open connection.'
        )
        .collect(() => keeper.connectedCount());
      reg
        .gauge('mpcd_sessions_active', 'Sessions not yet finished.')
        .collect(() => manager.active());
      // The status route needs the daemon object, which exists only once the server is up.
      const ref: { daemon?: Daemon } = {};
      const health = (): HealthReport => ({
        ok: node.status === 'started',
        checks: { libp2p: { ok: node.status === 'started', detail: node.status } },
      });
      const admin = await startAdminServer({
        host: config.admin.host,
        port: config.admin.port,
        log: component(log, 'admin'),
        routes: {
          health,
          ready: () => {
            const checks: HealthReport['checks'] = {
              libp2p: { ok: node.status === 'started', detail: node.status },
              coordinator: {
                ok: coordinator !== undefined,
                detail: coordinator ? coordinator.toString() : 'no coordinator configured',
              },
              draining: {
                ok: !manager.isDraining,
                ...(manager.isDraining ? { detail: 'shutting down' } : {}),
              },
              peers: { ok: true, detail: `${keeper.connectedCount()}/${watched.length} connected` },
            };
            return { ok: Object.values(checks).every((c) => c.ok), checks };
          },
          status: () => ref.daemon?.status() ?? {},
          metrics: () => reg.render(),
        },
      });
      cleanup.unshift(() => admin.close());
      const daemon = new Daemon(
        config,
        self,
        node,
        admin,
        keystore,
        manager,
        keeper,
        primes,
        engines,
        log
      );
      log.info(
        {
          peerId: self.toString(),
          listen: node.getMultiaddrs().map(String),
          admin: admin.url,
          peers: config.peers.length,
          coordinator: config.coordinator ?? null,
        },
        'mpcd started'
      );
      ref.daemon = daemon;
      return daemon;
    } catch (err) {
      for (const f of cleanup) await f().catch(() => undefined);
      throw err;
    }
  }

  /** Listen addresses with `/p2p/<peer id>`. */
  addresses(): string[] {
    return this.node.getMultiaddrs().map(String);
  }

  /** What `/v1/status` shows. */
  status(): unknown {
    return {
      peerId: this.peerId.toString(),
      addresses: this.addresses(),
      coordinator: this.config.coordinator ?? null,
      draining: this.manager.isDraining,
      peers: this.config.peers.map((p) => ({
        peerId: p,
        connected: this.keeper.connected(peerIdFromString(p)),
      })),
      engineWorkers: this.engines.load(),
      sessions: this.manager.status(),
    };
  }

  /**
   * Graceful stop: refuse new sessions, let running ones finish for at most `drainMs`, then stop
   * the network, the workers and the prime pool, and close the keystore last. Idempotent.
   */
  stop(drainMs = this.config.timeouts.drainMs): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info({ active: this.manager.active(), drainMs }, 'draining');
      await this.manager.drain(drainMs);
      this.manager.close();
      this.keeper.stop();
      await this.primes.stop();
      await this.node.stop();
      await this.engines.close();
      await this.admin.close();
      await this.keystore.close();
      this.log.info('mpcd stopped');
    })();
    return this.stopping;
  }
}
