/**
 * The coordinator's side of a session (ARCHITECTURE.md "Session lifecycle", steps 2–5): create a
 * session with a fresh nonce and per-participant one-time join tokens, invite every participant
 * over `/mpcd/control/1`, accept join (token checked and burnt) and ready, send start when all are
 * ready, and collect the daemons' signed reports.
 *
 * Outcome rules (issue 6): a session completes when every participant reported `completed` with
 * the same output; it fails only when a participant reported a failure (its reason and culprits
 * are kept) or the reports disagree; it **expires** when not everyone was ready by the invitation's
 * expiry. Every state change is written to the store before it is acted on, so a coordinator that
 * restarts mid-session loses nothing: the daemons retry their reports and the session completes.
 *
 * The coordinator never sees a share, a nonce of the protocol or any other secret: it sees peer
 * ids, public parameters and public outputs.
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import {
  invitationSigningBytes,
  reportSigningBytes,
  signControl,
  verifyControl,
  type ControlRequest,
  type ControlResponse,
  type Invitation,
  type KeygenOutput,
  type KeygenParams,
  type Report,
  type SignOutput,
  type SignParams,
} from '../protocol/control/messages.js';
import type { Logger } from '../daemon/log.js';
import { hashSecret, safeEqualHex } from './secrets.js';

/** What the service needs to reach daemons (the libp2p control client). */
export interface ControlLink {
  send(peer: PeerId, req: ControlRequest, timeoutMs: number): Promise<ControlResponse>;
}

/** The persistence the service needs (coordinator-lite/store.ts). */
export interface SessionStore {
  get<T>(c: 'sessions' | 'results', key: string): Promise<T | undefined>;
  put(c: 'sessions', key: string, value: unknown): Promise<void>;
  batch(
    ops: ReadonlyArray<{ type: 'put'; c: 'sessions' | 'results'; key: string; value: unknown }>
  ): Promise<void>;
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
  list<T>(c: 'sessions', opts?: { prefix?: string; limit?: number }): AsyncIterable<[string, T]>;
}

export type SessionStatus = 'inviting' | 'joining' | 'running' | 'completed' | 'failed' | 'expired';

/** A session as stored (public values and hashes only). */
export interface SessionRecord {
  readonly id: string;
  readonly accountId: string;
  readonly kind: 'keygen' | 'sign';
  status: SessionStatus;
  readonly createdAt: string;
  updatedAt: string;
  /** Invite → start deadline (ms since epoch). */
  readonly expiresAt: number;
  readonly participants: readonly string[];
  readonly params: KeygenParams | SignParams;
  readonly nonce: string;
  /** SHA-256 of each participant's join token (the token itself is only in its invitation). */
  readonly tokenHashes: Readonly<Record<string, string>>;
  joined: string[];
  ready: string[];
  started: string[];
  reports: Record<string, Report>;
  result?: KeygenOutput | SignOutput;
  failure?: { reason: string; detail: string; culprits: Array<{ party: string; reason: string }> };
  readonly label?: string;
}

/** A key made by a completed keygen (public values; `participants` = the roster's peer ids). */
export interface KeyRecord {
  readonly keyId: string;
  readonly accountId: string;
  readonly publicKey: string;
  readonly address: string;
  readonly participants: readonly string[];
  readonly threshold: number;
  readonly level: string;
  readonly createdAt: string;
  readonly sessionId: string;
  readonly label?: string;
}

/** A status change, for progress streams. */
export interface SessionEvent {
  readonly id: string;
  readonly status: SessionStatus;
  readonly detail: string;
}

/**
 * Failures a daemon reports before start because *someone else* is not there: the expiry decides
 * the session and names who was not ready; these reports are kept and quoted in its detail.
 */
const PRE_START_CONSEQUENCES = new Set(['join-timeout', 'peers-unreachable']);

/** A refusal returned to a daemon. */
export class SessionRefusal extends Error {
  override readonly name = 'SessionRefusal';
  constructor(
    readonly code: string,
    message: string
  ) {
    super(message);
  }
}

export interface SessionServiceOptions {
  readonly store: SessionStore;
  readonly link: ControlLink;
  /** The coordinator's peer id and Ed25519 seed (signs invitations). */
  readonly self: string;
  readonly secretKey: Uint8Array;
  readonly log: Logger;
  /** Invite → start lifetime (default 60 s; keygen with empty prime pools needs more). */
  readonly joinMs?: number;
  readonly onEvent?: (e: SessionEvent) => void;
  readonly now?: () => number;
}

export class SessionService {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly now: () => number;

  constructor(private readonly o: SessionServiceOptions) {
    this.now = o.now ?? Date.now;
  }

  /**
   * Create a session and invite its participants (returns once every invitation was answered).
   * A refused invitation fails the session with the daemon's reason.
   */
  async create(input: {
    accountId: string;
    participants: readonly string[];
    params: KeygenParams | SignParams;
    label?: string;
    joinMs?: number;
  }): Promise<SessionRecord> {
    const id = randomUUID();
    const tokens = new Map(input.participants.map((p) => [p, randomUUID()]));
    const now = this.now();
    const rec: SessionRecord = {
      id,
      accountId: input.accountId,
      kind: input.params.kind,
      status: 'inviting',
      createdAt: new Date(now).toISOString(),
      updatedAt: new Date(now).toISOString(),
      expiresAt: now + (input.joinMs ?? this.o.joinMs ?? 60_000),
      participants: [...input.participants],
      params: input.params,
      nonce: randomBytes(32).toString('hex'),
      tokenHashes: Object.fromEntries([...tokens].map(([p, t]) => [p, hashSecret(t)])),
      joined: [],
      ready: [],
      started: [],
      reports: {},
      ...(input.label ? { label: input.label } : {}),
    };
    await this.o.store.put('sessions', id, rec);
    this.armExpiry(rec);
    const invite = async (p: string) => {
      const inv: Invitation = {
        v: 1,
        sessionId: id,
        coordinator: this.o.self,
        recipient: p,
        participants: rec.participants,
        params: rec.params,
        nonce: rec.nonce,
        expiresAt: rec.expiresAt,
        joinToken: tokens.get(p)!,
      };
      const signature = signControl(invitationSigningBytes(inv), this.o.secretKey);
      try {
        return await this.o.link.send(
          peerIdFromString(p),
          { type: 'invite', invitation: inv, signature },
          10_000
        );
      } catch (err) {
        return {
          ok: false as const,
          error: { code: 'unreachable', message: (err as Error).message },
        };
      }
    };
    const answers = await Promise.all(rec.participants.map(invite));
    // A daemon that answered with a refusal really refused (its reason is kept); one that could not
    // be reached has not failed: it is invited again until the session expires, which then names
    // it as not ready (issue 6: a session ends failed only when a participant really failed).
    const refused = answers
      .map((a, i) => ({ a, p: rec.participants[i]! }))
      .filter((x) => !x.a.ok && x.a.error.code !== 'unreachable');
    const unreachable = answers
      .map((a, i) => ({ a, p: rec.participants[i]! }))
      .filter((x) => !x.a.ok && x.a.error.code === 'unreachable')
      .map((x) => x.p);
    const result = await this.update(id, (r) => {
      if (refused.length > 0) {
        this.finish(r, 'failed', {
          reason: 'invitation-refused',
          detail: refused
            .map((x) => `${x.p}: ${x.a.ok ? '' : `${x.a.error.code}: ${x.a.error.message}`}`)
            .join('; '),
          culprits: [],
        });
      } else if (r.status === 'inviting') {
        r.status = 'joining';
      }
    });
    if (result.status === 'joining') {
      for (const p of unreachable) void this.reinvite(id, p, () => invite(p));
    }
    return result;
  }

  /** Invite an unreachable participant again every 2 s while the session still waits for it. */
  private async reinvite(
    id: string,
    peer: string,
    invite: () => Promise<ControlResponse>
  ): Promise<void> {
    for (;;) {
      await new Promise((r) => setTimeout(r, 2_000).unref());
      const r = await this.get(id).catch(() => undefined);
      if (!r || r.status !== 'joining' || r.joined.includes(peer) || this.now() >= r.expiresAt) {
        return;
      }
      const answer = await invite();
      if (answer.ok) return;
      if (answer.error.code !== 'unreachable') {
        await this.update(id, (x) => {
          if (x.status !== 'joining') return;
          this.finish(x, 'failed', {
            reason: 'invitation-refused',
            detail: `${peer}: ${answer.error.code}: ${answer.error.message}`,
            culprits: [],
          });
        }).catch(() => undefined);
        return;
      }
    }
  }

  /** A key of `accountId` (undefined for another account's key: no existence oracle). */
  async key(accountId: string, keyId: string): Promise<KeyRecord | undefined> {
    const k = await this.o.store.get<KeyRecord>('results', `key:${keyId}`);
    return k?.accountId === accountId ? k : undefined;
  }

  /** A session by id (any account: callers check ownership). */
  get(id: string): Promise<SessionRecord | undefined> {
    return this.o.store.get<SessionRecord>('sessions', id);
  }

  /** Handle join / ready / report from a daemon. @throws SessionRefusal */
  async control(req: ControlRequest, from: PeerId): Promise<void> {
    const who = from.toString();
    switch (req.type) {
      case 'join':
        await this.update(req.sessionId, (r) => {
          this.assertParticipant(r, who);
          if (r.status !== 'joining' && r.status !== 'inviting') {
            throw new SessionRefusal('not-joinable', `session ${r.id} is ${r.status}`);
          }
          if (this.now() > r.expiresAt) throw new SessionRefusal('expired', 'the session expired');
          if (r.joined.includes(who))
            throw new SessionRefusal('token-used', 'the join token was already used');
          if (!safeEqualHex(hashSecret(req.joinToken), r.tokenHashes[who] ?? '')) {
            throw new SessionRefusal(
              'bad-token',
              'the join token is not valid for this participant'
            );
          }
          r.joined.push(who);
        });
        return;
      case 'ready': {
        const rec = await this.update(req.sessionId, (r) => {
          this.assertParticipant(r, who);
          if (!r.joined.includes(who)) throw new SessionRefusal('not-joined', 'join before ready');
          // 'inviting' too: create() waits for every invite's answer, and a daemon that was
          // invited early may join and get ready before a slower answer arrives.
          if (r.status !== 'joining' && r.status !== 'inviting')
            throw new SessionRefusal('not-joinable', `session ${r.id} is ${r.status}`);
          if (!r.ready.includes(who)) r.ready.push(who);
          if (r.ready.length === r.participants.length) r.status = 'running';
        });
        if (rec.status === 'running' && rec.started.length === 0) void this.start(rec.id);
        return;
      }
      case 'report': {
        const report = req.report;
        if (report.party !== who)
          throw new SessionRefusal('wrong-party', 'a daemon reports for itself only');
        const key = from.publicKey?.raw;
        if (!key || !verifyControl(reportSigningBytes(report), req.signature, key)) {
          throw new SessionRefusal('bad-signature', 'the report signature does not verify');
        }
        await this.update(report.sessionId, (r) => {
          this.assertParticipant(r, who);
          r.reports[who] = report;
          this.decide(r);
        });
        return;
      }
      default:
        throw new SessionRefusal('unsupported', `the coordinator does not accept ${req.type}`);
    }
  }

  private assertParticipant(r: SessionRecord, who: string): void {
    if (!r.participants.includes(who))
      throw new SessionRefusal('not-participant', 'not a participant of this session');
  }

  /** Send start to every participant (retried per daemon until it answers or the session ends). */
  private async start(id: string): Promise<void> {
    const rec = await this.get(id);
    if (!rec) return;
    this.clearExpiry(id);
    // Not an event: the joining → running change was one already (update() sends it).
    this.o.log.info({ session: id, kind: rec.kind }, 'all participants ready: starting');
    await Promise.all(
      rec.participants.map(async (p) => {
        for (let attempt = 0; attempt < 5; attempt++) {
          try {
            const res = await this.o.link.send(
              peerIdFromString(p),
              { type: 'start', sessionId: id },
              10_000
            );
            if (res.ok) {
              await this.update(id, (r) => {
                if (!r.started.includes(p)) r.started.push(p);
              });
              return;
            }
            this.o.log.warn({ session: id, peer: p, code: res.error.code }, 'start refused');
            return;
          } catch (err) {
            this.o.log.debug(
              { session: id, peer: p, err: (err as Error).message },
              'start not delivered; retrying'
            );
            await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
          }
        }
      })
    );
  }

  /** Completed, failed or still waiting, from the reports so far. */
  private decide(r: SessionRecord): void {
    if (r.status === 'completed' || r.status === 'failed' || r.status === 'expired') return;
    const reports = Object.values(r.reports);
    // Before start, a daemon that gave up waiting is a consequence of someone else not being
    // ready: the expiry decides, and names who it was.
    const decisive = (x: Report) =>
      r.status === 'running' || !PRE_START_CONSEQUENCES.has(x.reason ?? '');
    const failed = reports.filter((x) => x.outcome === 'failed' && decisive(x));
    if (failed.length > 0) {
      const first = failed[0]!;
      const culprits = new Map<string, string>();
      for (const f of failed) for (const c of f.culprits ?? []) culprits.set(c.party, c.reason);
      this.finish(r, 'failed', {
        reason: first.reason ?? 'failed',
        detail: failed
          .map((f) => `${f.party}: ${f.reason}${f.detail ? ` (${f.detail})` : ''}`)
          .join('; '),
        culprits: [...culprits].map(([party, reason]) => ({ party, reason })),
      });
      return;
    }
    if (reports.length < r.participants.length) return;
    const outputs = reports.map((x) => JSON.stringify(x.output));
    if (outputs.some((o) => o !== outputs[0])) {
      this.finish(r, 'failed', {
        reason: 'reports-disagree',
        detail: 'participants reported different outputs',
        culprits: [],
      });
      return;
    }
    r.result = reports[0]!.output;
    this.finish(r, 'completed');
  }

  private finish(
    r: SessionRecord,
    status: 'completed' | 'failed' | 'expired',
    failure?: SessionRecord['failure']
  ): void {
    r.status = status;
    if (failure) r.failure = failure;
    this.clearExpiry(r.id);
  }

  /** Read-modify-write one session under its lock; emits an event on a status change. */
  private async update(id: string, fn: (r: SessionRecord) => void): Promise<SessionRecord> {
    return this.o.store.withLock(`session:${id}`, async () => {
      const r = await this.get(id);
      if (!r) throw new SessionRefusal('unknown-session', `session ${id} is not known`);
      const before = r.status;
      fn(r);
      r.updatedAt = new Date(this.now()).toISOString();
      if (r.status === 'completed' && before !== 'completed' && r.result?.kind === 'keygen') {
        // The key becomes usable in the same atomic write that completes its session.
        const k = r.result;
        const params = r.params as KeygenParams;
        const key: KeyRecord = {
          keyId: k.keyId,
          accountId: r.accountId,
          publicKey: k.publicKey,
          address: k.address,
          participants: [...r.participants],
          threshold: params.threshold,
          level: params.level,
          createdAt: r.updatedAt,
          sessionId: r.id,
          ...(r.label ? { label: r.label } : {}),
        };
        await this.o.store.batch([
          { type: 'put', c: 'sessions', key: id, value: r },
          { type: 'put', c: 'results', key: `key:${k.keyId}`, value: key },
        ]);
      } else {
        await this.o.store.put('sessions', id, r);
      }
      if (r.status !== before) this.event(r, r.failure?.reason ?? r.status);
      return r;
    });
  }

  private event(r: SessionRecord, detail: string): void {
    this.o.log.info({ session: r.id, kind: r.kind, status: r.status, detail }, 'session');
    this.o.onEvent?.({ id: r.id, status: r.status, detail });
  }

  private armExpiry(r: SessionRecord): void {
    const t = setTimeout(() => void this.expire(r.id), Math.max(0, r.expiresAt - this.now()));
    t.unref();
    this.timers.set(r.id, t);
  }

  private clearExpiry(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  /** Not everyone was ready in time: the session expires, naming who was missing. */
  private async expire(id: string): Promise<void> {
    const rec = await this.update(id, (r) => {
      if (r.status !== 'inviting' && r.status !== 'joining') return;
      // Who never joined is the likely cause; who joined but was not ready waited for them.
      const absent = r.participants.filter((p) => !r.joined.includes(p));
      const waiting = r.participants.filter((p) => r.joined.includes(p) && !r.ready.includes(p));
      const missing = [
        ...(absent.length > 0 ? [`never joined: ${absent.join(', ')}`] : []),
        ...(waiting.length > 0 ? [`joined but not ready: ${waiting.join(', ')}`] : []),
      ];
      const said = Object.values(r.reports)
        .filter((x) => x.outcome === 'failed')
        .map((x) => `; ${x.party} reported ${x.reason}${x.detail ? ` (${x.detail})` : ''}`)
        .join('');
      this.finish(r, 'expired', {
        reason: 'not-ready',
        detail: `not ready before the deadline (${missing.join('; ')})${said}`.slice(0, 2000),
        culprits: [],
      });
    }).catch(() => undefined);
    if (rec?.status !== 'expired') return;
    await Promise.all(
      rec.participants.map((p) =>
        this.o.link
          .send(peerIdFromString(p), { type: 'abort', sessionId: id, reason: 'expired' }, 5_000)
          .catch(() => undefined)
      )
    );
  }

  /** After a restart: re-arm the expiry of sessions still waiting for participants. */
  async resume(): Promise<number> {
    let n = 0;
    for await (const [, r] of this.o.store.list<SessionRecord>('sessions')) {
      if (r.status === 'inviting' || r.status === 'joining') {
        this.armExpiry(r);
        n++;
      }
      if (r.status === 'running' && r.started.length < r.participants.length) {
        void this.start(r.id);
        n++;
      }
    }
    return n;
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
