/**
 * A test driver that plays the coordinator's part of `/mpcd/control/1`, so daemon tests can
 * control every step (skip a start, act between ready and start) that coordinator-lite does not
 * expose: it holds a coordinator identity the daemons are configured with, signs invitations,
 * accepts join / ready / report, sends start, and collects the daemons' signed reports. It shares
 * the daemon's libp2p stack and message codec, so it exercises the real wire.
 */
import '../../daemon/polyfills.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PeerId, PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import {
  invitationSigningBytes,
  reportSigningBytes,
  signControl,
  verifyControl,
  type ControlRequest,
  type Invitation,
  type KeygenParams,
  type Report,
  type SignParams,
} from '../../protocol/control/messages.js';
import { ControlRefusal, sendControl, serveControl } from '../../daemon/control.js';
import { createLogger } from '../../daemon/log.js';
import { createNode, type MpcdNode } from '../../daemon/p2p/node.js';

/** A coordinator identity, made before the daemons so they can be configured with it. */
export async function coordinatorKey(): Promise<{ privateKey: PrivateKey; peerId: string }> {
  const privateKey = await generateKeyPair('Ed25519');
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() };
}

interface DriverSession {
  readonly id: string;
  readonly participants: readonly string[];
  readonly tokens: Map<string, string>;
  readonly joined: Set<string>;
  readonly ready: Set<string>;
  readonly reports: Map<string, Report>;
  readonly expiresAt: number;
  changed: () => void;
}

/** What a finished driver session returns. */
export interface SessionOutcome {
  readonly id: string;
  readonly reports: ReadonlyMap<string, Report>;
  /** Peers that never reported before the deadline. */
  readonly silent: readonly string[];
}

export interface RunOptions {
  /** Invitation lifetime (join deadline); default 60 s. */
  readonly expiresInMs?: number;
  /** How long to wait for every report; default 120 s. */
  readonly reportTimeoutMs?: number;
  /** Runs once everyone is ready, before start is sent. */
  readonly beforeStart?: (session: { id: string; nonce: Uint8Array }) => Promise<void> | void;
  /** Runs right after start was sent to everyone. */
  readonly afterStart?: (session: { id: string; nonce: Uint8Array }) => Promise<void> | void;
  /** Do not send start to these participants. */
  readonly skipStart?: readonly string[];
  /** Wait only for these participants' reports (default: everyone started). */
  readonly reportFrom?: readonly string[];
}

export class ControlDriver {
  readonly sessions = new Map<string, DriverSession>();
  /** Join requests refused (e.g. a token used twice), for assertions. */
  readonly refusals: string[] = [];

  private constructor(
    readonly node: MpcdNode,
    private readonly seed: Uint8Array
  ) {}

  get peerId(): PeerId {
    return this.node.peerId;
  }

  static async start(
    key: { privateKey: PrivateKey },
    daemons: readonly string[]
  ): Promise<ControlDriver> {
    const allowed = new Set(daemons);
    const node = await createNode({
      privateKey: key.privateKey,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: [],
      allow: (p) => allowed.has(p.toString()),
    });
    const driver = new ControlDriver(node, key.privateKey.raw.subarray(0, 32));
    await serveControl(
      node,
      { timeoutMs: 10_000, log: createLogger({ level: 'silent', name: 'driver' }) },
      (req, from) => driver.handle(req, from)
    );
    return driver;
  }

  private async handle(req: ControlRequest, from: PeerId): Promise<void> {
    const who = from.toString();
    const s =
      'sessionId' in req
        ? this.sessions.get(req.sessionId)
        : this.sessions.get(req.type === 'report' ? req.report.sessionId : '');
    if (!s) throw new ControlRefusal('unknown-session', 'no such session');
    if (!s.participants.includes(who))
      throw new ControlRefusal('not-participant', 'not a participant');
    switch (req.type) {
      case 'join': {
        if (Date.now() > s.expiresAt) {
          this.refusals.push(`${who}:expired`);
          throw new ControlRefusal('expired', 'the session expired');
        }
        if (s.tokens.get(who) !== req.joinToken || s.joined.has(who)) {
          this.refusals.push(`${who}:token`);
          throw new ControlRefusal('bad-token', 'join token unknown or already used');
        }
        s.joined.add(who);
        break;
      }
      case 'ready':
        if (!s.joined.has(who)) throw new ControlRefusal('not-joined', 'join first');
        s.ready.add(who);
        break;
      case 'report': {
        const pub = peerIdFromString(who).publicKey!.raw;
        if (
          req.report.party !== who ||
          !verifyControl(reportSigningBytes(req.report), req.signature, pub)
        ) {
          throw new ControlRefusal('bad-signature', 'report signature does not verify');
        }
        s.reports.set(who, req.report);
        break;
      }
      default:
        throw new ControlRefusal('unsupported', `the coordinator does not accept ${req.type}`);
    }
    s.changed();
  }

  /** Make sure the driver can reach a daemon at a known address. */
  async connect(addr: string): Promise<void> {
    await this.node.dial(multiaddr(addr), { signal: AbortSignal.timeout(10_000) });
  }

  /** Send one signed invitation (exposed for negative tests). */
  async invite(inv: Invitation, opts: { badSignature?: boolean } = {}) {
    let signature = signControl(invitationSigningBytes(inv), this.seed);
    if (opts.badSignature) signature = (signature[0] === '0' ? '1' : '0') + signature.slice(1);
    return sendControl(
      this.node,
      peerIdFromString(inv.recipient),
      { type: 'invite', invitation: inv, signature },
      10_000
    );
  }

  /** Build the invitation for one participant. */
  invitation(
    id: string,
    recipient: string,
    participants: readonly string[],
    params: KeygenParams | SignParams,
    nonce: Uint8Array,
    expiresAt: number,
    joinToken: string
  ): Invitation {
    return {
      v: 1,
      sessionId: id,
      coordinator: this.peerId.toString(),
      recipient,
      participants,
      params,
      nonce: Buffer.from(nonce).toString('hex'),
      expiresAt,
      joinToken,
    };
  }

  private async waitFor(s: DriverSession, cond: () => boolean, deadline: number): Promise<boolean> {
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        s.changed = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return true;
  }

  /**
   * Run one session end to end: invite, wait for join + ready, start, collect reports.
   * @throws if an invitation is refused or not everyone gets ready in time
   */
  async run(
    participants: readonly string[],
    params: KeygenParams | SignParams,
    opts: RunOptions = {}
  ): Promise<SessionOutcome> {
    const id = randomUUID();
    const nonce = randomBytes(32);
    const expiresAt = Date.now() + (opts.expiresInMs ?? 60_000);
    const s: DriverSession = {
      id,
      participants,
      tokens: new Map(participants.map((p) => [p, randomUUID()])),
      joined: new Set(),
      ready: new Set(),
      reports: new Map(),
      expiresAt,
      changed: () => undefined,
    };
    this.sessions.set(id, s);
    const answers = await Promise.all(
      participants.map((p) =>
        this.invite(
          this.invitation(id, p, participants, params, nonce, expiresAt, s.tokens.get(p)!)
        )
      )
    );
    answers.forEach((a, i) => {
      if (!a.ok)
        throw new Error(
          `invitation refused by ${participants[i]}: ${a.error.code}: ${a.error.message}`
        );
    });
    const allReady = await this.waitFor(
      s,
      () => s.ready.size === participants.length || s.reports.size > 0,
      expiresAt
    );
    if (!allReady || s.ready.size !== participants.length) {
      const missing = participants.filter((p) => !s.ready.has(p));
      throw Object.assign(new Error(`not ready: ${missing.join(', ')}`), { session: s });
    }
    await opts.beforeStart?.({ id, nonce });
    const skip = new Set(opts.skipStart ?? []);
    await Promise.all(
      participants
        .filter((p) => !skip.has(p))
        .map(async (p) => {
          const r = await sendControl(
            this.node,
            peerIdFromString(p),
            { type: 'start', sessionId: id },
            10_000
          );
          if (!r.ok) throw new Error(`start refused by ${p}: ${r.error.code}`);
        })
    );
    await opts.afterStart?.({ id, nonce });
    const expect = opts.reportFrom ?? participants.filter((p) => !skip.has(p));
    await this.waitFor(
      s,
      () => expect.every((p) => s.reports.has(p)),
      Date.now() + (opts.reportTimeoutMs ?? 120_000)
    );
    return { id, reports: s.reports, silent: expect.filter((p) => !s.reports.has(p)) };
  }

  /** Wait (bounded) for late reports of a session. */
  async reportsOf(
    id: string,
    peers: readonly string[],
    timeoutMs: number
  ): Promise<ReadonlyMap<string, Report>> {
    const s = this.sessions.get(id)!;
    await this.waitFor(s, () => peers.every((p) => s.reports.has(p)), Date.now() + timeoutMs);
    return s.reports;
  }

  async stop(): Promise<void> {
    await this.node.stop();
  }
}
