/**
 * The transport-agnostic round engine: drives one party's {@link Protocol} from signed envelopes
 * in to signed envelopes out (CGGMP.md §6 steps 1–2 and 7).
 *
 * For every incoming envelope it checks signature, session id, sender and recipient
 * (`openEnvelope`); drops exact duplicates; treats a second, different envelope from the same
 * sender for the same round and channel as provable equivocation (abort, both envelopes as
 * evidence); buffers early messages for later rounds (bounded) and ignores stale ones; and
 * finalizes a round as soon as its inbox is complete.
 *
 * **Echo broadcast (C8).** After a round whose spec says `echo`, every message of the next round
 * carries the hashes of the broadcast payloads its sender received. A mismatch starts a dispute
 * round in which everyone broadcasts the signed originals it holds; a sender with two different
 * signed payloads is named (equivocation), and otherwise a party whose echo matches no signed
 * original is named (false echo).
 *
 * All state is plain data ({@link EngineSnapshot}), so a daemon can persist it between rounds.
 * @module
 */
import { InvalidArgs } from '../errors.js';
import { decodeAll, encode } from '../hash/encoding.js';
import { hashTagged } from '../hash/transcript.js';
import { bytesEqual } from '../math/bytes.js';
import {
  decodeEnvelope,
  EnvelopeError,
  openEnvelope,
  signEnvelope,
  type Envelope,
  type EnvelopeRejection,
} from './envelope.js';
import type {
  AbortInfo,
  Culprit,
  Inbox,
  Msg,
  OutMsg,
  PartyIndex,
  Protocol,
  SessionInfo,
  Step,
} from './types.js';

const MSG_TAG = 'mpcd/cggmp21/v1/msg';
const ECHO_TAG = 'mpcd/cggmp21/v1/echo';
const DISPUTE_TAG = 'mpcd/cggmp21/v1/dispute';
/** Round numbers at and above this are dispute rounds (dispute of round r = DISPUTE_BASE + r). */
export const DISPUTE_BASE = 1000;
/** Most rounds ahead an early message may be for. */
const MAX_ROUNDS_AHEAD = 2;

/** Static configuration of one party's engine. */
export interface EngineConfig {
  readonly sessionId: Uint8Array;
  readonly self: PartyIndex;
  /** Session participants (sorted roster indices), including self. */
  readonly parties: readonly PartyIndex[];
  /** Ed25519 public keys of the whole roster, by index. */
  readonly rosterKeys: readonly Uint8Array[];
  /** This party's Ed25519 secret key (32-byte seed). */
  readonly secretKey: Uint8Array;
}

/** A signed envelope to send; `to` absent = to every other participant. */
export interface Outgoing {
  readonly to?: PartyIndex;
  readonly round: number;
  readonly bytes: Uint8Array;
}

/** What happened to one incoming envelope. */
export type ReceiveResult =
  | { readonly accepted: true; readonly duplicate?: boolean }
  | {
      readonly accepted: false;
      readonly rejection: EnvelopeRejection | 'stale' | 'too-early' | 'finished';
    };

type Status<R> =
  | { readonly kind: 'running' }
  | { readonly kind: 'done'; readonly result: R }
  | { readonly kind: 'aborted'; readonly abort: AbortInfo };

/** Plain-data snapshot of an engine (see `state-codec.ts` to serialize it). */
export interface EngineSnapshot<S, R> {
  readonly state: S | undefined;
  readonly status: Status<R>;
  /** Every envelope received and accepted, in arrival order. */
  readonly received: readonly Uint8Array[];
  /** Every envelope sent (kept for the session's lifetime so peers can pull them again). */
  readonly sent: readonly Outgoing[];
  /** Echo view of the last echo round: [round, hash per party in `parties` order]. */
  readonly echo?: { readonly round: number; readonly hashes: readonly Uint8Array[] };
  /** Dispute in progress: the disputed round. */
  readonly dispute?: number;
  /** Own broadcast payload of the current round (for the echo view). */
  readonly ownBroadcast?: Uint8Array;
}

function echoHash(round: number, from: PartyIndex, payload: Uint8Array): Uint8Array {
  return hashTagged(ECHO_TAG, (e) => e.u32(round).u32(from).bytes(payload));
}

/** Wrap a protocol body with the echo view (exported for the simulator's tamper hook). */
export function wrapBody(echo: readonly Uint8Array[] | undefined, body: Uint8Array): Uint8Array {
  return encode((e) =>
    e
      .tag(MSG_TAG)
      .option(echo, (x, hs) => x.list(hs, (y, h) => y.bytes(h)))
      .bytes(body)
  );
}

/** Unwrap an envelope payload into echo view and protocol body. @throws DecodeError */
export function unwrapBody(
  payload: Uint8Array,
  n?: number
): { echo?: Uint8Array[]; body: Uint8Array } {
  return decodeAll(
    payload,
    (d) => {
      d.expectTag(MSG_TAG);
      const echo = d.option('echo', (x) => x.list('echo', (y) => y.bytes('echo.hash', 32), n));
      const body = d.bytes('body', 4 << 20);
      return echo ? { echo, body } : { body };
    },
    { maxFieldBytes: 4 << 20 }
  );
}

/** One party's engine for one protocol session. */
export class RoundEngine<S, R> {
  private state: S | undefined;
  private status: Status<R> = { kind: 'running' };
  private readonly received: Uint8Array[] = [];
  private readonly sent: Outgoing[] = [];
  private readonly pending: Outgoing[] = [];
  private echo: { round: number; hashes: Uint8Array[] } | undefined;
  private dispute: number | undefined;
  private ownBroadcast: Uint8Array | undefined;
  /** round → channel → sender → message */
  private readonly inbox = new Map<
    number,
    { broadcast: Map<PartyIndex, Msg>; p2p: Map<PartyIndex, Msg> }
  >();
  private readonly info: SessionInfo;

  /**
   * @param first the protocol's start step (round 1 state and messages)
   * @throws InvalidArgs if self is not a participant or the parties are not sorted and distinct
   */
  constructor(
    private readonly protocol: Protocol<S, R>,
    private readonly cfg: EngineConfig,
    first: Step<S, R>
  ) {
    const p = cfg.parties;
    if (!p.includes(cfg.self)) throw new InvalidArgs('self', 'must be a session participant');
    for (let i = 1; i < p.length; i++) {
      if (p[i]! <= p[i - 1]!) throw new InvalidArgs('parties', 'must be sorted and distinct');
    }
    if (p.some((i) => cfg.rosterKeys[i] === undefined))
      throw new InvalidArgs('rosterKeys', 'missing a participant key');
    this.info = { sessionId: cfg.sessionId, self: cfg.self, parties: p };
    this.apply(first, 0);
  }

  /** Rebuild an engine from a snapshot (after a restart). */
  static restore<S, R>(
    protocol: Protocol<S, R>,
    cfg: EngineConfig,
    snap: EngineSnapshot<S, R>
  ): RoundEngine<S, R> {
    const e = Object.create(RoundEngine.prototype) as RoundEngine<S, R>;
    Object.assign(e, {
      protocol,
      cfg,
      info: { sessionId: cfg.sessionId, self: cfg.self, parties: cfg.parties },
      state: snap.state,
      status: snap.status,
      received: [] as Uint8Array[],
      sent: [...snap.sent],
      pending: [] as Outgoing[],
      echo: snap.echo && { round: snap.echo.round, hashes: [...snap.echo.hashes] },
      dispute: snap.dispute,
      ownBroadcast: snap.ownBroadcast,
      inbox: new Map(),
    });
    for (const bytes of snap.received) {
      e.store(bytes);
      e.received.push(bytes);
    }
    return e;
  }

  /** A plain-data snapshot. */
  snapshot(): EngineSnapshot<S, R> {
    return {
      state: this.state,
      status: this.status,
      received: [...this.received],
      sent: [...this.sent],
      ...(this.echo ? { echo: this.echo } : {}),
      ...(this.dispute !== undefined ? { dispute: this.dispute } : {}),
      ...(this.ownBroadcast ? { ownBroadcast: this.ownBroadcast } : {}),
    };
  }

  /** Take the envelopes produced since the last call. */
  drain(): Outgoing[] {
    return this.pending.splice(0);
  }

  /** Every envelope sent so far (a peer that missed one pulls it again). */
  sentEnvelopes(): readonly Outgoing[] {
    return this.sent;
  }

  /** The current round (dispute rounds are DISPUTE_BASE + r). */
  get round(): number {
    if (this.dispute !== undefined) return DISPUTE_BASE + this.dispute;
    return this.state === undefined ? 0 : this.protocol.round(this.state);
  }

  /** The result, once done. */
  get result(): R | undefined {
    return this.status.kind === 'done' ? this.status.result : undefined;
  }

  /** The abort, once aborted. */
  get aborted(): AbortInfo | undefined {
    return this.status.kind === 'aborted' ? this.status.abort : undefined;
  }

  /** Whether the session ended (done or aborted). */
  get finished(): boolean {
    return this.status.kind !== 'running';
  }

  /** Senders the current round still waits for, per channel (for timeouts and re-requests). */
  missing(): { broadcast: PartyIndex[]; p2p: PartyIndex[] } {
    if (this.finished || this.state === undefined) return { broadcast: [], p2p: [] };
    const others = this.cfg.parties.filter((p) => p !== this.cfg.self);
    const box = this.inbox.get(this.round);
    if (this.dispute !== undefined)
      return { broadcast: others.filter((p) => !box?.broadcast.has(p)), p2p: [] };
    const spec = this.protocol.spec(this.state);
    return {
      broadcast: spec.broadcast ? others.filter((p) => !box?.broadcast.has(p)) : [],
      p2p: spec.p2p ? others.filter((p) => !box?.p2p.has(p)) : [],
    };
  }

  /**
   * Take one envelope from the transport.
   * Rejections are never attributed (an unverifiable envelope proves nothing about anyone).
   */
  receive(bytes: Uint8Array): ReceiveResult {
    if (this.finished) return this.receiveAfterFinish(bytes);
    const env = this.verify(bytes);
    if (typeof env === 'string') return { accepted: false, rejection: env };
    if (env.from === this.cfg.self) return { accepted: false, rejection: 'not-for-me' };
    const current = this.round;
    const isDispute = env.round >= DISPUTE_BASE;
    if (!isDispute && env.round < current && this.dispute === undefined)
      return { accepted: false, rejection: 'stale' };
    if (!isDispute && env.round > current + MAX_ROUNDS_AHEAD)
      return { accepted: false, rejection: 'too-early' };
    // Someone disputes an echo round we already accepted: join, so the dispute can complete.
    if (isDispute && this.dispute === undefined) {
      const r = env.round - DISPUTE_BASE;
      if (r < current - 2 || r > current) return { accepted: false, rejection: 'stale' };
      this.startDispute(r);
    }
    const stored = this.store(bytes);
    if (stored === 'duplicate') return { accepted: true, duplicate: true };
    if (stored !== 'ok') {
      this.status = { kind: 'aborted', abort: stored };
      return { accepted: true };
    }
    this.received.push(bytes);
    this.progress();
    return { accepted: true };
  }

  /** Verify an envelope for this session and party (CGGMP.md §6 steps 1–2). */
  private verify(bytes: Uint8Array): Envelope | EnvelopeRejection {
    try {
      return openEnvelope(bytes, {
        sessionId: this.cfg.sessionId,
        rosterKeys: this.cfg.rosterKeys,
        parties: this.cfg.parties,
        self: this.cfg.self,
      });
    } catch (err) {
      if (err instanceof EnvelopeError) return err.code;
      throw err;
    }
  }

  /**
   * A finished party still answers an echo dispute (with the originals it holds) so the disputing
   * parties are not left waiting; its own outcome does not change.
   */
  private receiveAfterFinish(bytes: Uint8Array): ReceiveResult {
    const env = this.verify(bytes);
    if (typeof env === 'string') return { accepted: false, rejection: env };
    const r = env.round - DISPUTE_BASE;
    if (r > 0 && this.dispute === undefined && this.inbox.has(r)) {
      this.dispute = r;
      this.sendDisputeMessage(r);
      return { accepted: true };
    }
    return { accepted: false, rejection: 'finished' };
  }

  /**
   * The session's time is up (the caller's timer: `protocol/` keeps no clocks). A pending echo
   * dispute is decided with the originals at hand; otherwise the session aborts without a culprit —
   * nobody can be blamed for being slow without a synchrony assumption (SECURITY.md §3).
   */
  expire(): void {
    if (this.finished) return;
    if (this.dispute !== undefined) {
      this.status = { kind: 'aborted', abort: this.resolveDispute(this.dispute) };
      return;
    }
    const m = this.missing();
    this.status = {
      kind: 'aborted',
      abort: this.abortInfo(
        this.round,
        `timeout: waiting for ${[...new Set([...m.broadcast, ...m.p2p])].join(', ')}`,
        []
      ),
    };
  }

  /** File an (already verified) envelope in the inbox; detect duplicates and equivocation. */
  private store(bytes: Uint8Array): 'ok' | 'duplicate' | AbortInfo {
    const env = decodeEnvelope(bytes);
    let box = this.inbox.get(env.round);
    if (!box) {
      box = { broadcast: new Map(), p2p: new Map() };
      this.inbox.set(env.round, box);
    }
    const channel = env.to === undefined ? box.broadcast : box.p2p;
    const prev = channel.get(env.from);
    if (prev) {
      if (bytesEqual(prev.envelope, bytes)) return 'duplicate';
      return this.abortInfo(env.round, 'equivocation', [
        { party: env.from, reason: 'equivocation', evidence: [prev.envelope, bytes] },
      ]);
    }
    channel.set(env.from, {
      from: env.from,
      round: env.round,
      ...(env.to === undefined ? {} : { to: env.to }),
      payload: env.payload,
      envelope: bytes,
    });
    return 'ok';
  }

  private abortInfo(round: number, reason: string, culprits: Culprit[]): AbortInfo {
    return { protocol: this.protocol.name, round, reason, culprits };
  }

  /** Finalize as many rounds as have complete inboxes. */
  private progress(): void {
    while (!this.finished && this.state !== undefined) {
      const m = this.missing();
      if (m.broadcast.length > 0 || m.p2p.length > 0) return;
      if (this.dispute !== undefined) {
        this.status = { kind: 'aborted', abort: this.resolveDispute(this.dispute) };
        return;
      }
      const round = this.round;
      const spec = this.protocol.spec(this.state);
      const raw = this.inbox.get(round) ?? { broadcast: new Map(), p2p: new Map() };
      // Unwrap: a malformed wrapper is the (signed) sender's fault.
      const inbox: { broadcast: Map<PartyIndex, Msg>; p2p: Map<PartyIndex, Msg> } = {
        broadcast: new Map(),
        p2p: new Map(),
      };
      const echoes: Array<Uint8Array[] | undefined> = [];
      const bad: Culprit[] = [];
      for (const [name, chan] of [
        ['broadcast', raw.broadcast],
        ['p2p', raw.p2p],
      ] as const) {
        for (const [from, msg] of chan) {
          try {
            const { echo, body } = unwrapBody(msg.payload, this.cfg.parties.length);
            inbox[name].set(from, { ...msg, payload: body });
            echoes.push(echo);
          } catch {
            bad.push({ party: from, reason: 'decode', evidence: [msg.envelope] });
          }
        }
      }
      if (bad.length > 0) {
        this.status = { kind: 'aborted', abort: this.abortInfo(round, 'decode', bad) };
        return;
      }
      if (this.echo && this.echo.round === round - 1 && !this.echoConsistent(echoes)) {
        this.startDispute(round - 1);
        continue;
      }
      // This round's broadcast view, for the echo carried by the next round.
      const view =
        spec.echo && spec.broadcast
          ? {
              round,
              hashes: this.cfg.parties.map((p) =>
                p === this.cfg.self
                  ? echoHash(round, p, this.ownBroadcast ?? new Uint8Array(0))
                  : echoHash(round, p, inbox.broadcast.get(p)!.payload)
              ),
            }
          : undefined;
      const step = this.protocol.finalize(this.info, this.state, inbox as Inbox);
      this.echo = view;
      this.apply(step, round);
    }
  }

  /** Every message of the round after an echo round must echo exactly our view of it. */
  private echoConsistent(echoes: ReadonlyArray<Uint8Array[] | undefined>): boolean {
    const mine = this.echo!.hashes;
    return echoes.every(
      (echo) =>
        echo !== undefined &&
        echo.length === mine.length &&
        echo.every((h, i) => bytesEqual(h, mine[i]!))
    );
  }

  /** Broadcast every signed original of round r's broadcasts we hold, then wait for everyone's. */
  private startDispute(r: number): void {
    this.dispute = r;
    this.sendDisputeMessage(r);
  }

  private sendDisputeMessage(r: number): void {
    const held = [...(this.inbox.get(r)?.broadcast.values() ?? [])].map((m) => m.envelope);
    const own = this.sent.filter((o) => o.round === r && o.to === undefined).map((o) => o.bytes);
    const body = encode((e) => e.tag(DISPUTE_TAG).list([...own, ...held], (x, b) => x.bytes(b)));
    this.send(DISPUTE_BASE + r, undefined, body);
  }

  /** Decide culprits of an echo dispute about round r (see the module doc). */
  private resolveDispute(r: number): AbortInfo {
    const round = DISPUTE_BASE + r;
    const byFrom = new Map<PartyIndex, Map<string, Uint8Array>>();
    const note = (bytes: Uint8Array): void => {
      try {
        const env = openEnvelope(bytes, {
          sessionId: this.cfg.sessionId,
          rosterKeys: this.cfg.rosterKeys,
          parties: this.cfg.parties,
        });
        if (env.round !== r || env.to !== undefined) return;
        const { body } = unwrapBody(env.payload, this.cfg.parties.length);
        const key = Buffer.from(echoHash(r, env.from, body)).toString('hex');
        let m = byFrom.get(env.from);
        if (!m) byFrom.set(env.from, (m = new Map()));
        if (!m.has(key)) m.set(key, bytes);
      } catch {
        // not a valid signed original: proves nothing
      }
    };
    for (const o of this.sent) if (o.round === r && o.to === undefined) note(o.bytes);
    for (const m of this.inbox.get(r)?.broadcast.values() ?? []) note(m.envelope);
    const disputeMsgs = this.inbox.get(round)?.broadcast ?? new Map<PartyIndex, Msg>();
    for (const msg of disputeMsgs.values()) {
      try {
        const list = decodeAll(
          msg.payload,
          (d) => {
            d.expectTag(DISPUTE_TAG);
            return d.list('envelopes', (x) => x.bytes('envelope', 4 << 20));
          },
          { maxFieldBytes: 4 << 20 }
        );
        list.forEach(note);
      } catch {
        // a malformed dispute message is ignored; its sender's echo is judged below
      }
    }
    const culprits: Culprit[] = [];
    for (const [from, versions] of byFrom) {
      if (versions.size > 1) {
        culprits.push({
          party: from,
          reason: 'equivocation',
          evidence: [...versions.values()].slice(0, 2),
        });
      }
    }
    if (culprits.length === 0) {
      // Nobody equivocated: whoever echoed a hash that matches no signed original lied.
      const next = this.inbox.get(r + 1);
      for (const chan of [next?.broadcast, next?.p2p]) {
        for (const [from, msg] of chan ?? []) {
          if (culprits.some((c) => c.party === from)) continue;
          try {
            const { echo } = unwrapBody(msg.payload, this.cfg.parties.length);
            const lied =
              !echo ||
              this.cfg.parties.some((p, i) => {
                const versions = byFrom.get(p);
                return !versions || !versions.has(Buffer.from(echo[i]!).toString('hex'));
              });
            if (lied)
              culprits.push({ party: from, reason: 'false-echo', evidence: [msg.envelope] });
          } catch {
            culprits.push({ party: from, reason: 'decode', evidence: [msg.envelope] });
          }
        }
      }
    }
    return this.abortInfo(r, 'echo-mismatch', culprits);
  }

  private apply(step: Step<S, R>, round: number): void {
    if (step.kind === 'abort') {
      this.status = { kind: 'aborted', abort: step.abort };
      return;
    }
    const nextRound = step.kind === 'next' ? this.protocol.round(step.state) : round + 1;
    const echo = this.echo && this.echo.round === nextRound - 1 ? this.echo.hashes : undefined;
    this.ownBroadcast = undefined;
    for (const out of step.outgoing) this.sendWrapped(nextRound, out, echo);
    if (step.kind === 'next') {
      this.state = step.state;
    } else {
      this.status = { kind: 'done', result: step.result };
    }
  }

  private sendWrapped(round: number, out: OutMsg, echo: Uint8Array[] | undefined): void {
    if (out.to === undefined) this.ownBroadcast = out.payload;
    if (out.to !== undefined && (!this.cfg.parties.includes(out.to) || out.to === this.cfg.self)) {
      throw new InvalidArgs('to', 'point-to-point message to a non-participant');
    }
    this.send(round, out.to, wrapBody(echo, out.payload));
  }

  private send(round: number, to: PartyIndex | undefined, payload: Uint8Array): void {
    const bytes = signEnvelope(
      {
        sessionId: this.cfg.sessionId,
        round,
        from: this.cfg.self,
        ...(to === undefined ? {} : { to }),
        payload,
      },
      this.cfg.secretKey
    );
    const o: Outgoing = { round, bytes, ...(to === undefined ? {} : { to }) };
    this.sent.push(o);
    this.pending.push(o);
  }
}
