/**
 * Runs this daemon's side of every session (ARCHITECTURE.md "Session lifecycle", steps 3–5):
 *
 *   invited ──join──▶ joining ──peers+topic──▶ ready ──start──▶ running ──▶ completed | failed
 *
 * - **invite** (from the coordinator only): checked by `planSession`; refused with a reason code.
 * - **joining**: join with the one-time token, take fresh primes (keygen), reach every other
 *   participant (DHT lookup when needed), subscribe to the session topic and wait until every
 *   participant is subscribed — then **ready**. Bounded by the invitation's expiry; `joinMs`
 *   bounds our own network steps, and a signing session's wait for the others. A keygen waits for
 *   the others until the expiry, since they may be generating primes.
 * - **start**: record the protocol sid (C12: a repeated sid is refused), build the engine in a
 *   worker, send round 1. Envelopes that arrived early are replayed.
 * - **running**: envelopes in → engine → envelopes out; a round that stalls for `pullMs` pulls the
 *   missing envelopes from their senders; a round that stalls for `roundMs`, or a session older
 *   than `sessionMs`, expires (abort without a culprit: nobody is provably slow).
 * - **end**: a key share is written to the keystore in one atomic write, only once the protocol
 *   finished (after the confirmation round) — a crash before leaves nothing that looks valid. The
 *   signed report goes to the coordinator with retries; sent envelopes stay available to pulls for
 *   a while so slower peers can still finish.
 * @module
 */
import type { PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { KeyShare } from '../../protocol/cggmp/key-share.js';
import { ethereumAddress } from '../../protocol/cggmp/key-share.js';
import { encodeKeyShare } from '../../protocol/cggmp/keygen/index.js';
import type { SignDigestResult } from '../../protocol/cggmp/sign/sign-digest.js';
import {
  reportSigningBytes,
  signControl,
  type ControlRequest,
  type Invitation,
  type KeygenOutput,
  type Report,
  type SignOutput,
} from '../../protocol/control/messages.js';
import type { Outgoing } from '../../protocol/round/engine.js';
import type { AbortInfo } from '../../protocol/round/types.js';
import { KeystoreError, type Keystore } from '../../keystore/index.js';
import { ControlRefusal, sendControl } from '../control.js';
import type { Logger } from '../log.js';
import type { MpcdNode } from '../p2p/node.js';
import type { PeerKeeper } from '../p2p/peers.js';
import type { EnginePool } from './engine-pool.js';
import type { EngineSpec, EngineStatus } from './engine-jobs.js';
import { planSession, type SessionPlan } from './invitation.js';
import { SessionTransport } from './transport.js';

/** Most envelopes buffered for a session that has not started yet. */
const MAX_EARLY = 256;
/** Most envelopes queued for a running session's engine. */
const MAX_QUEUE = 1024;
/** How long after an invitation's expiry a daemon gives up on it by itself. */
const JOIN_GRACE_MS = 2_000;
/** How long a finished session keeps answering pulls. */
const LINGER_MS = 60_000;
/** How long the daemon keeps retrying a report. */
const REPORT_RETRY_MS = 60 * 60_000;
/** How many finished sessions `status()` remembers. */
const MAX_FINISHED = 200;

/**
 * What a pull from the participant at roster index `requester` gets: what we sent from `round` on,
 * broadcast or addressed to it. Non-participants get nothing, and point-to-point envelopes only go
 * to their addressee: they travel in the clear inside Noise and may carry secret shares (keygen
 * round 2).
 */
export function pullable(
  sent: readonly Outgoing[],
  round: number,
  requester: number,
  parties: readonly number[]
): Uint8Array[] {
  if (requester < 0 || !parties.includes(requester)) return [];
  return sent
    .filter((o) => o.round >= round && (o.to === undefined || o.to === requester))
    .map((o) => o.bytes);
}

export type SessionPhase = 'joining' | 'ready' | 'running' | 'completed' | 'failed';

/** Session timing knobs (from the daemon config). */
export interface SessionTimeouts {
  readonly roundMs: number;
  readonly sessionMs: number;
  readonly joinMs: number;
  readonly pullMs: number;
}

/** What the manager reports to metrics. */
export interface SessionMetrics {
  sessionStarted(kind: string): void;
  sessionEnded(kind: string, outcome: 'completed' | 'failed', reason: string): void;
  roundCompleted(kind: string, seconds: number): void;
  messageIn(via: string, result: 'accepted' | 'rejected' | 'dropped'): void;
  messageOut(via: string): void;
  engineCompute(kind: string, seconds: number): void;
}

/** Where fresh primes come from (the prime pool). */
export interface PrimeSource {
  take(
    level: 'level112' | 'level128',
    hint: { nonce: Uint8Array; index: number }
  ): Promise<{ p: bigint; q: bigint; source: string }>;
  /** Pause background prime search while a keygen runs; returns the release function. */
  hold?(): () => void;
}

export interface ManagerDeps {
  readonly node: MpcdNode;
  readonly self: PeerId;
  readonly envelopeSecretKey: Uint8Array;
  readonly keystore: Keystore;
  readonly primes: PrimeSource;
  readonly engines: EnginePool;
  readonly peers: PeerKeeper;
  readonly coordinator: PeerId | undefined;
  readonly allowed: ReadonlySet<string>;
  readonly timeouts: SessionTimeouts;
  readonly maxSessions: number;
  readonly log: Logger;
  readonly metrics: SessionMetrics;
}

interface Session {
  readonly id: string;
  readonly plan: SessionPlan;
  readonly log: Logger;
  phase: SessionPhase;
  readonly createdAt: number;
  startedAt?: number;
  endedAt?: number;
  round: number;
  roundStartedAt: number;
  lastProgress: number;
  missing: readonly number[];
  primes?: { p: bigint; q: bigint };
  early: Uint8Array[];
  queue: Uint8Array[];
  busy: boolean;
  engine: boolean;
  sent: Outgoing[];
  timers: NodeJS.Timeout[];
  /** Invite → start, at the latest: the invitation's expiry (plus grace), capped by sessionMs. */
  joinBy: number;
  pulling: boolean;
  /** Releases the prime pool's hold (keygen only). */
  releasePrimes?: () => void;
  reason?: string;
  detail?: string;
  culprits?: Array<{ party: string; reason: string }>;
  output?: KeygenOutput | SignOutput;
}

/** A session as `/v1/status` shows it (public values only). */
export interface SessionView {
  readonly id: string;
  readonly kind: string;
  readonly phase: SessionPhase;
  readonly participants: readonly string[];
  readonly round: number;
  readonly createdAt: string;
  readonly ageMs: number;
  readonly reason?: string;
  readonly culprits?: ReadonlyArray<{ party: string; reason: string }>;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A protocol reason as a report code ([a-z0-9:._-], at most 100 characters). */
function reasonCode(reason: string): string {
  return (
    reason
      .toLowerCase()
      .replace(/[^a-z0-9:._-]+/g, '-')
      .slice(0, 100) || 'unknown'
  );
}

export class SessionManager {
  readonly transport: SessionTransport;
  private readonly sessions = new Map<string, Session>();
  private readonly finished: string[] = [];
  private draining = false;
  private closed = false;
  private readonly idle = new Set<() => void>();
  /** Checked key shares by key id (see `PlanContext.shareCache`). */
  private readonly shares = new Map<string, KeyShare>();
  /** Reports being delivered (a drain waits for them, bounded, so a clean stop loses none). */
  private readonly reporting = new Set<Promise<void>>();

  constructor(private readonly d: ManagerDeps) {
    this.transport = new SessionTransport(
      d.node,
      {
        envelope: (session, bytes, from, via) => this.onEnvelope(session, bytes, from, via),
        pull: (session, round, from) => this.onPull(session, round, from),
        dropped: (reason, from, via) => {
          d.metrics.messageIn(via, 'dropped');
          d.log.warn({ from: from?.toString(), via, reason }, 'dropped inbound message');
        },
      },
      Math.max(5_000, d.timeouts.pullMs * 4)
    );
  }

  async start(): Promise<void> {
    await this.transport.start();
  }

  /** Sessions not yet finished. */
  active(): number {
    let n = 0;
    for (const s of this.sessions.values())
      if (s.phase !== 'completed' && s.phase !== 'failed') n++;
    return n;
  }

  /** Public view of every known session, newest first. */
  status(): SessionView[] {
    const now = Date.now();
    return [...this.sessions.values()]
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((s) => ({
        id: s.id,
        kind: s.plan.kind,
        phase: s.phase,
        participants: s.plan.invitation.participants,
        round: s.round,
        createdAt: new Date(s.createdAt).toISOString(),
        ageMs: now - s.createdAt,
        ...(s.reason ? { reason: s.reason } : {}),
        ...(s.culprits && s.culprits.length > 0 ? { culprits: s.culprits } : {}),
      }));
  }

  // ---- control ---------------------------------------------------------------------------------

  /** Handle a control request from `from`. @throws ControlRefusal */
  async control(req: ControlRequest, from: PeerId): Promise<void> {
    if (!this.d.coordinator || !from.equals(this.d.coordinator)) {
      throw new ControlRefusal(
        'not-coordinator',
        'only the configured coordinator may send control requests'
      );
    }
    switch (req.type) {
      case 'invite':
        return this.onInvite(req.invitation, req.signature);
      case 'start':
        return this.onStart(req.sessionId);
      case 'abort':
        return this.onAbort(req.sessionId, req.reason);
      default:
        throw new ControlRefusal('unsupported', `a daemon does not accept ${req.type} requests`);
    }
  }

  private async onInvite(inv: Invitation, signature: string): Promise<void> {
    if (this.draining || this.closed)
      throw new ControlRefusal('shutting-down', 'this daemon is shutting down');
    if (this.sessions.has(inv.sessionId))
      throw new ControlRefusal('duplicate-session', `session ${inv.sessionId} is already known`);
    if (this.active() >= this.d.maxSessions) {
      throw new ControlRefusal(
        'busy',
        `this daemon already runs ${this.d.maxSessions} sessions (maxSessions)`
      );
    }
    const plan = await planSession(inv, signature, {
      self: this.d.self.toString(),
      coordinator: this.d.coordinator?.toString(),
      allowed: this.d.allowed,
      keystore: this.d.keystore,
      shareCache: this.shares,
      now: Date.now(),
    });
    if (await this.d.keystore.hasSessionId(plan.sid)) {
      throw new ControlRefusal(
        'session-id-reused',
        'this protocol session id was already used (C12)'
      );
    }
    if (this.sessions.has(inv.sessionId))
      throw new ControlRefusal('duplicate-session', `session ${inv.sessionId} is already known`);
    const now = Date.now();
    const s: Session = {
      id: inv.sessionId,
      plan,
      log: this.d.log.child({ session: inv.sessionId, kind: plan.kind }),
      phase: 'joining',
      createdAt: now,
      round: 0,
      roundStartedAt: now,
      lastProgress: now,
      missing: [],
      early: [],
      queue: [],
      busy: false,
      engine: false,
      sent: [],
      timers: [],
      joinBy: 0,
      pulling: false,
    };
    this.sessions.set(s.id, s);
    s.log.info(
      { participants: inv.participants.length, sid: hex(plan.sid).slice(0, 16) },
      'invited'
    );
    // The invitation's expiry bounds invite → start as a whole; `joinMs` bounds the network part
    // (join, peers, subscriptions). Generating primes for an empty pool is not counted in `joinMs`:
    // it legitimately takes tens of seconds at level128, and the coordinator's expiry bounds it.
    // A short grace after the expiry: the coordinator's own expiry (which names who was not ready)
    // and its abort normally arrive first.
    // Our own bound too (sessionMs), whatever expiry the coordinator chose.
    s.joinBy = Math.min(inv.expiresAt + JOIN_GRACE_MS, Date.now() + this.d.timeouts.sessionMs);
    this.armJoinTimer(s, s.joinBy);
    void this.join(s).catch((err) => this.fail(s, 'join-failed', (err as Error).message));
  }

  private armJoinTimer(s: Session, deadline: number): void {
    this.timer(s, deadline - Date.now(), () => {
      if (s.phase === 'joining' || s.phase === 'ready') {
        void this.fail(s, 'join-timeout', 'the session did not start before the join deadline');
      }
    });
  }

  private async join(s: Session): Promise<void> {
    const inv = s.plan.invitation;
    let deadline = Math.min(inv.expiresAt + JOIN_GRACE_MS, Date.now() + this.d.timeouts.joinMs);
    const res = await sendControl(
      this.d.node,
      this.d.coordinator!,
      { type: 'join', sessionId: s.id, joinToken: inv.joinToken },
      Math.max(1, deadline - Date.now())
    );
    if (!res.ok) return this.fail(s, 'join-refused', `${res.error.code}: ${res.error.message}`);
    if (s.phase !== 'joining') return;
    if (s.plan.kind === 'keygen') {
      const level = inv.params.kind === 'keygen' ? inv.params.level : 'level128';
      const t0 = Date.now();
      // Hold the pool's background refill first, so taking a pair does not start a search that
      // would compete with this keygen for the cores.
      s.releasePrimes = this.d.primes.hold?.();
      const pair = await this.d.primes.take(level, {
        nonce: Buffer.from(inv.nonce, 'hex'),
        index: s.plan.self,
      });
      s.log.info({ source: pair.source, ms: Date.now() - t0 }, 'primes ready');
      // The session may have ended while we waited (abort, timeout, shutdown): then the primes
      // must not stay on a finished session that status() still keeps.
      if (s.phase !== 'joining') return;
      s.primes = { p: pair.p, q: pair.q };
      deadline = Math.min(inv.expiresAt + JOIN_GRACE_MS, Date.now() + this.d.timeouts.joinMs);
      // No joinMs timer here: after our own primes, a keygen waits for the others' primes too
      // (their subscriptions, then the start), and a pool that is empty on one party takes tens
      // of seconds more than joinMs. The invitation's expiry (armed above) bounds that wait, and
      // the coordinator's expiry names whoever was not ready.
    } else {
      this.armJoinTimer(s, deadline);
    }
    const othersDeadline = s.plan.kind === 'keygen' ? s.joinBy : deadline;
    this.transport.subscribe(s.id);
    const others = this.others(s);
    const reached = await Promise.all(
      others.map((p) => this.d.peers.ensure(p, Math.max(1, deadline - Date.now())))
    );
    const unreachable = others.filter((_, i) => !reached[i]).map(String);
    if (unreachable.length > 0) {
      return this.fail(s, 'peers-unreachable', `cannot reach ${unreachable.join(', ')}`);
    }
    // Gossip reaches only subscribed peers: wait until every participant subscribed (STACK.md).
    while (s.phase === 'joining') {
      const subs = new Set(this.transport.subscribers(s.id).map(String));
      const waiting = others.filter((p) => !subs.has(p.toString()));
      if (waiting.length === 0) break;
      if (Date.now() > othersDeadline) {
        return this.fail(s, 'join-timeout', `participants never subscribed: ${waiting.join(', ')}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    if (s.phase !== 'joining') return;
    s.phase = 'ready';
    const ready = await sendControl(
      this.d.node,
      this.d.coordinator!,
      { type: 'ready', sessionId: s.id },
      Math.max(
        1,
        Math.min(inv.expiresAt + JOIN_GRACE_MS, Date.now() + this.d.timeouts.joinMs) - Date.now()
      )
    );
    if (!ready.ok)
      return this.fail(s, 'ready-refused', `${ready.error.code}: ${ready.error.message}`);
    s.log.info({ ms: Date.now() - s.createdAt }, 'ready');
  }

  private async onStart(id: string): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) throw new ControlRefusal('unknown-session', `session ${id} is not known here`);
    if (s.phase === 'running') return; // a retried start
    if (s.phase !== 'ready')
      throw new ControlRefusal('not-ready', `session ${id} is ${s.phase}, not ready`);
    s.phase = 'running';
    void this.run(s).catch((err) => this.fail(s, 'internal', (err as Error).message));
  }

  private async onAbort(id: string, reason: string): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) throw new ControlRefusal('unknown-session', `session ${id} is not known here`);
    if (s.phase === 'completed' || s.phase === 'failed') return;
    await this.fail(s, 'aborted-by-coordinator', reason);
  }

  // ---- running ---------------------------------------------------------------------------------

  private async run(s: Session): Promise<void> {
    const plan = s.plan;
    try {
      await this.d.keystore.recordSessionId(plan.sid);
    } catch (err) {
      if (err instanceof KeystoreError && err.code === 'SESSION_ID_REUSED') {
        return this.fail(s, 'session-id-reused', 'this protocol session id was already used (C12)');
      }
      throw err;
    }
    await this.journal(s, 'running');
    const spec: EngineSpec =
      plan.kind === 'keygen'
        ? {
            kind: 'keygen',
            level:
              plan.invitation.params.kind === 'keygen' ? plan.invitation.params.level : 'level128',
            roster: plan.roster,
            self: plan.self,
            t: plan.invitation.params.kind === 'keygen' ? plan.invitation.params.threshold : 0,
            sessionId: plan.sid,
            primes: s.primes!,
            secretKey: this.d.envelopeSecretKey,
          }
        : {
            kind: 'sign',
            keyShare: plan.keyShare,
            signers: plan.parties,
            digest: plan.digest,
            sessionId: plan.sid,
            secretKey: this.d.envelopeSecretKey,
          };
    s.primes = undefined; // the worker holds them now; drop our copy
    const now = Date.now();
    s.startedAt = now;
    s.roundStartedAt = now;
    s.lastProgress = now;
    this.d.metrics.sessionStarted(plan.kind);
    s.log.info('started');
    const st = await this.d.engines.create(s.id, spec);
    s.engine = true;
    this.timer(s, this.d.timeouts.sessionMs, () => void this.expire(s, 'session'));
    this.watch(s);
    await this.apply(s, st);
    s.queue.push(...s.early.splice(0));
    await this.pump(s);
  }

  private onEnvelope(
    session: string,
    bytes: Uint8Array,
    from: PeerId,
    via: 'gossip' | 'direct'
  ): void {
    const s = this.sessions.get(session);
    if (!s) {
      this.d.metrics.messageIn(via, 'dropped');
      this.d.log.warn(
        { from: from.toString(), via, session: session.slice(0, 64) },
        'dropped envelope for an unknown session'
      );
      return;
    }
    if (s.phase === 'joining' || s.phase === 'ready') {
      if (s.early.length >= MAX_EARLY) {
        this.d.metrics.messageIn(via, 'dropped');
        s.log.warn({ from: from.toString(), via }, 'dropped early envelope: buffer full');
        return;
      }
      s.early.push(bytes);
      s.log.debug({ from: from.toString(), via, held: s.early.length }, 'held early envelope');
      return;
    }
    if (s.phase !== 'running') {
      // Finished: late duplicates and pulled copies are normal; nothing here can change the outcome.
      s.log.debug({ from: from.toString(), via }, 'ignored envelope for a finished session');
      return;
    }
    if (s.queue.length >= MAX_QUEUE) {
      this.d.metrics.messageIn(via, 'dropped');
      s.log.warn({ from: from.toString(), via }, 'dropped envelope: queue full');
      return;
    }
    s.queue.push(bytes);
    void this.pump(s);
  }

  /** Feed queued envelopes to the engine, one request in flight per session. */
  private async pump(s: Session): Promise<void> {
    if (s.busy || !s.engine) return;
    s.busy = true;
    try {
      while (s.queue.length > 0 && s.phase === 'running') {
        const batch = s.queue.splice(0);
        const st = await this.d.engines.receive(s.id, batch);
        await this.apply(s, st, batch.length);
      }
    } catch (err) {
      await this.fail(s, 'internal', (err as Error).message);
    } finally {
      s.busy = false;
    }
  }

  private async apply(s: Session, st: EngineStatus, received = 0): Promise<void> {
    // Progress means a new round: duplicates pulled again must not keep a dead round alive.
    const kind = s.plan.kind;
    for (const r of st.rejected) {
      this.d.metrics.messageIn('any', 'rejected');
      s.log.warn({ reason: r.reason }, 'rejected envelope');
    }
    for (let i = st.rejected.length; i < received; i++) this.d.metrics.messageIn('any', 'accepted');
    if (st.busyMs > 1) this.d.metrics.engineCompute(kind, st.busyMs / 1000);
    const now = Date.now();
    if (st.round !== s.round) {
      if (s.round > 0) this.d.metrics.roundCompleted(kind, (now - s.roundStartedAt) / 1000);
      s.log.debug({ round: st.round, busyMs: Math.round(st.busyMs) }, 'round');
      s.round = st.round;
      s.roundStartedAt = now;
      s.lastProgress = now;
    }
    s.missing = st.missing;
    this.sendAll(s, st.outgoing);
    if (st.finished) await this.finish(s, st);
  }

  private sendAll(s: Session, out: readonly Outgoing[]): void {
    for (const o of out) {
      s.sent.push(o);
      if (o.to === undefined) {
        this.d.metrics.messageOut('gossip');
        this.transport.publish(s.id, o.bytes).catch((err) => {
          s.log.warn(
            { err: (err as Error).message, round: o.round },
            'gossip publish failed; peers will pull'
          );
        });
      } else {
        const peer = s.plan.peers[o.to];
        if (!peer) continue;
        this.d.metrics.messageOut('direct');
        this.transport.send(peerIdFromString(peer), s.id, o.bytes).catch((err) => {
          s.log.warn(
            { err: (err as Error).message, to: peer, round: o.round },
            'direct send failed; the peer will pull'
          );
        });
      }
    }
  }

  /** Pull stalled rounds and expire dead ones. */
  private watch(s: Session): void {
    const tick = () => {
      if (s.phase !== 'running') return;
      const now = Date.now();
      if (now - s.lastProgress >= this.d.timeouts.roundMs) {
        void this.expire(s, 'round');
        return;
      }
      if (
        !s.busy &&
        !s.pulling &&
        s.missing.length > 0 &&
        now - s.lastProgress >= this.d.timeouts.pullMs
      ) {
        void this.pullMissing(s);
      }
      this.timer(s, Math.min(this.d.timeouts.pullMs, 1_000), tick);
    };
    this.timer(s, Math.min(this.d.timeouts.pullMs, 1_000), tick);
  }

  private async pullMissing(s: Session): Promise<void> {
    s.pulling = true;
    try {
      const round = s.round;
      const results = await Promise.allSettled(
        s.missing.map(async (i) => {
          const peer = s.plan.peers[i];
          if (!peer) return [];
          s.log.debug({ peer, round }, 'pulling missing envelopes');
          return this.transport.pull(peerIdFromString(peer), s.id, round);
        })
      );
      for (const r of results) {
        if (r.status === 'fulfilled') s.queue.push(...r.value);
      }
      await this.pump(s);
    } finally {
      s.pulling = false;
    }
  }

  private onPull(session: string, round: number, from: PeerId): readonly Uint8Array[] {
    const s = this.sessions.get(session);
    if (!s) return [];
    return pullable(s.sent, round, s.plan.peers.indexOf(from.toString()), s.plan.parties);
  }

  private async expire(s: Session, what: 'round' | 'session'): Promise<void> {
    if (s.phase !== 'running' || !s.engine) return;
    s.log.warn(
      { round: s.round, missing: s.missing.map((i) => s.plan.peers[i]) },
      `${what} timed out`
    );
    s.reason = what === 'round' ? 'round-timeout' : 'session-timeout';
    const st = await this.d.engines.expire(s.id).catch(() => undefined);
    if (st) await this.apply(s, st);
    else await this.fail(s, s.reason, `${what} timed out`);
  }

  // ---- ending ----------------------------------------------------------------------------------

  private async finish(s: Session, st: EngineStatus): Promise<void> {
    if (s.phase !== 'running') return;
    if (st.result !== undefined) {
      try {
        s.output = await this.persist(s, st.result);
      } catch (err) {
        return this.fail(s, 'persist-failed', (err as Error).message);
      }
      s.phase = 'completed';
      s.endedAt = Date.now();
      s.log.info({ ms: s.endedAt - (s.startedAt ?? s.createdAt), ...s.output }, 'completed');
      this.d.metrics.sessionEnded(s.plan.kind, 'completed', 'ok');
      await this.journal(s, 'completed');
      this.end(s);
      return;
    }
    const abort = st.abort as AbortInfo;
    // The engine's own timeout abort (after `expire`) names no culprit: report which clock ran out.
    const reason = abort.reason.startsWith('timeout')
      ? (s.reason ?? 'round-timeout')
      : `protocol-abort:${reasonCode(abort.reason)}`;
    s.culprits = abort.culprits.map((c) => ({
      party: s.plan.peers[c.party] ?? `index-${c.party}`,
      reason: reasonCode(c.reason),
    }));
    await this.fail(s, reason, `${abort.protocol} round ${abort.round}: ${abort.reason}`);
  }

  /** Store the outcome; returns the public output. */
  private async persist(s: Session, result: unknown): Promise<KeygenOutput | SignOutput> {
    if (s.plan.kind === 'keygen') {
      const share = result as KeyShare;
      // One atomic, encrypted write of the complete share (keystore): never half a share.
      await this.d.keystore.putKeyShare({
        keyId: share.keyId,
        epoch: share.epoch,
        data: encodeKeyShare(share),
      });
      return {
        kind: 'keygen',
        keyId: share.keyId,
        publicKey: hex(share.publicKey),
        address: ethereumAddress(share.publicKey),
      };
    }
    const { signature: sig } = result as SignDigestResult;
    return {
      kind: 'sign',
      r: sig.r.toString(16).padStart(64, '0'),
      s: sig.s.toString(16).padStart(64, '0'),
      recid: sig.recid,
      signature65: hex(sig.signature65),
      der: hex(sig.der),
    };
  }

  private async fail(s: Session, reason: string, detail: string): Promise<void> {
    if (s.phase === 'completed' || s.phase === 'failed') return;
    const wasRunning = s.phase === 'running';
    s.phase = 'failed';
    s.endedAt = Date.now();
    s.reason = reason;
    s.detail = detail.slice(0, 1000);
    s.primes = undefined;
    s.log.warn({ reason, detail: s.detail, culprits: s.culprits }, 'failed');
    this.d.metrics.sessionEnded(s.plan.kind, 'failed', reason.split(':')[0]!);
    if (wasRunning) await this.journal(s, 'failed');
    this.end(s);
  }

  private end(s: Session): void {
    s.releasePrimes?.();
    s.releasePrimes = undefined;
    for (const t of s.timers) clearTimeout(t);
    s.timers = [];
    s.early = [];
    s.queue = [];
    if (s.engine) void this.d.engines.dispose(s.id);
    s.engine = false;
    const reporting = this.report(s);
    this.reporting.add(reporting);
    void reporting.finally(() => this.reporting.delete(reporting));
    // Keep answering pulls for a while, then forget the session's envelopes.
    const t = setTimeout(() => {
      this.transport.unsubscribe(s.id);
      s.sent = [];
    }, LINGER_MS);
    t.unref();
    this.finished.push(s.id);
    while (this.finished.length > MAX_FINISHED) this.sessions.delete(this.finished.shift()!);
    for (const f of this.idle) f();
  }

  private async report(s: Session): Promise<void> {
    const report: Report =
      s.phase === 'completed'
        ? {
            v: 1,
            sessionId: s.id,
            party: this.d.self.toString(),
            outcome: 'completed',
            output: s.output!,
          }
        : {
            v: 1,
            sessionId: s.id,
            party: this.d.self.toString(),
            outcome: 'failed',
            reason: s.reason!,
            detail: s.detail ?? '',
            culprits: s.culprits ?? [],
          };
    const signature = signControl(reportSigningBytes(report), this.d.envelopeSecretKey);
    const deadline = Date.now() + REPORT_RETRY_MS;
    let wait = 500;
    while (!this.closed && Date.now() < deadline && this.d.coordinator) {
      try {
        const res = await sendControl(
          this.d.node,
          this.d.coordinator,
          { type: 'report', report, signature },
          10_000
        );
        if (res.ok) {
          s.log.debug('report delivered');
          return;
        }
        s.log.warn(
          { code: res.error.code, message: res.error.message },
          'report refused by the coordinator'
        );
        return;
      } catch (err) {
        s.log.debug(
          { err: (err as Error).message, retryInMs: wait },
          'report not delivered; retrying'
        );
      }
      await new Promise((r) => setTimeout(r, wait).unref());
      wait = Math.min(wait * 2, 10_000);
    }
  }

  private async journal(s: Session, state: string): Promise<void> {
    try {
      await this.d.keystore.putJournal({
        sid: hex(s.plan.sid),
        protocol: s.plan.kind,
        state,
        updatedAt: new Date().toISOString(),
        detail: JSON.stringify({
          session: s.id,
          ...(s.reason ? { reason: s.reason } : {}),
          ...(s.output ? { output: s.output } : {}),
          ...(s.culprits ? { culprits: s.culprits } : {}),
        }).slice(0, 4096),
      });
    } catch (err) {
      s.log.error({ err: (err as Error).message }, 'journal write failed');
    }
  }

  private timer(s: Session, ms: number, fn: () => void): void {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    s.timers.push(t);
  }

  private others(s: Session): PeerId[] {
    const self = this.d.self.toString();
    return s.plan.invitation.participants.filter((p) => p !== self).map((p) => peerIdFromString(p));
  }

  // ---- shutdown --------------------------------------------------------------------------------

  /**
   * Stop taking invitations and wait (at most `timeoutMs`) for running sessions to end; sessions
   * still open then fail with reason `shutdown`.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    const deadline = Date.now() + timeoutMs;
    while (this.active() > 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.idle.delete(done);
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(done, Math.max(1, Math.min(250, deadline - Date.now())));
        this.idle.add(done);
      });
    }
    for (const s of this.sessions.values()) {
      if (s.phase !== 'completed' && s.phase !== 'failed')
        await this.fail(s, 'shutdown', 'the daemon is shutting down');
    }
    const left = Math.max(1_000, deadline - Date.now());
    await Promise.race([
      Promise.allSettled([...this.reporting]),
      new Promise((r) => setTimeout(r, left).unref()),
    ]);
  }

  /** Stop retrying reports and drop every session. */
  close(): void {
    this.closed = true;
    for (const s of this.sessions.values()) for (const t of s.timers) clearTimeout(t);
  }

  /** Whether a new invitation would be refused because the daemon drains. */
  get isDraining(): boolean {
    return this.draining;
  }
}
