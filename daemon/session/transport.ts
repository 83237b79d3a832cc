/**
 * How session envelopes move between daemons (ARCHITECTURE.md step 4): broadcast envelopes on the
 * session's gossipsub topic, point-to-point envelopes and pulls on direct `/mpcd/tss/1` streams.
 *
 * Nothing here trusts what it carries: the transport only bounds sizes, parses the frame and hands
 * `(session, envelope bytes, from)` to the session manager; the round engine then checks the
 * envelope (signature under the roster key, session id, round, sender in the session) before the
 * protocol ever sees it. Who relayed a message does not matter — the signature does — so a gossip
 * message forwarded by a third participant is as good as one from its author.
 *
 * Frame of `/mpcd/tss/1` (canonical encoding E(·)): tag, kind (1 = envelope, 2 = pull), the
 * coordinator session id, then the envelope bytes or the round pulled. A pull is answered with one
 * frame listing the envelopes the peer sent us (or broadcast) in that session from that round on.
 * @module
 */
import type { PeerId } from '@libp2p/interface';
import { decodeAll, encode } from '../../protocol/hash/encoding.js';
import { MAX_PAYLOAD_BYTES } from '../../protocol/round/envelope.js';
import type { MpcdNode } from '../p2p/node.js';
import { handleFrames, request } from '../p2p/streams.js';

export const TSS_PROTOCOL = '/mpcd/tss/1';
const FRAME_TAG = 'mpcd/tss/v1/frame';
const PULL_REPLY_TAG = 'mpcd/tss/v1/pull-reply';
/** Largest envelope frame: the envelope bound plus framing. */
export const MAX_ENVELOPE_FRAME = MAX_PAYLOAD_BYTES + 8192;
/** Largest pull reply (every envelope a peer sent us in one session). */
export const MAX_PULL_REPLY = 32 << 20;
const MAX_PULL_ENVELOPES = 64;

/** The gossipsub topic of a session. */
export function sessionTopic(session: string): string {
  return `/mpcd/session/1/${session}`;
}

export type Frame =
  | { kind: 'envelope'; session: string; envelope: Uint8Array }
  | { kind: 'pull'; session: string; round: number };

export function encodeFrame(f: Frame): Uint8Array {
  return encode((e) => {
    e.tag(FRAME_TAG);
    if (f.kind === 'envelope') e.u8(1).str(f.session).bytes(f.envelope);
    else e.u8(2).str(f.session).u32(f.round);
  });
}

function decodeFrame(bytes: Uint8Array): Frame {
  return decodeAll(
    bytes,
    (d) => {
      d.expectTag(FRAME_TAG);
      const kind = d.u8('kind');
      const session = d.str('session', 64);
      if (kind === 1)
        return { kind: 'envelope', session, envelope: d.bytes('envelope', MAX_ENVELOPE_FRAME) };
      if (kind === 2) return { kind: 'pull', session, round: d.u32('round') };
      throw new Error(`unknown frame kind ${kind}`);
    },
    { maxFieldBytes: MAX_ENVELOPE_FRAME }
  );
}

/** Where inbound traffic goes (the session manager). */
export interface TransportSink {
  /** An envelope for `session` arrived (not yet verified). */
  envelope(session: string, bytes: Uint8Array, from: PeerId, via: 'gossip' | 'direct'): void;
  /** `from` asks again for what we sent it in `session` from `round` on. */
  pull(session: string, round: number, from: PeerId): readonly Uint8Array[];
  /** A frame or gossip message could not even be parsed (logged and counted by the caller). */
  dropped(reason: string, from: PeerId | undefined, via: 'gossip' | 'direct'): void;
}

export class SessionTransport {
  private readonly topics = new Set<string>();

  constructor(
    private readonly node: MpcdNode,
    private readonly sink: TransportSink,
    private readonly timeoutMs: number
  ) {}

  async start(): Promise<void> {
    await handleFrames(
      this.node,
      TSS_PROTOCOL,
      { maxBytes: MAX_ENVELOPE_FRAME, timeoutMs: this.timeoutMs, maxInbound: 512 },
      async (bytes, from) => {
        let frame: Frame;
        try {
          frame = decodeFrame(bytes);
        } catch (err) {
          this.sink.dropped(`garbage frame: ${(err as Error).message}`, from, 'direct');
          return undefined;
        }
        if (frame.kind === 'envelope') {
          this.sink.envelope(frame.session, frame.envelope, from, 'direct');
          return undefined;
        }
        const list = this.sink.pull(frame.session, frame.round, from).slice(0, MAX_PULL_ENVELOPES);
        return encode((e) => e.tag(PULL_REPLY_TAG).list(list, (x, b) => x.bytes(b)));
      },
      (err, from) => this.sink.dropped(`stream error: ${err.message}`, from, 'direct')
    );
    this.node.services.pubsub.addEventListener('message', (evt) => {
      const msg = evt.detail;
      if (!this.topics.has(msg.topic)) return;
      const session = msg.topic.slice(sessionTopic('').length);
      const from = msg.type === 'signed' ? msg.from : undefined;
      if (!from) {
        this.sink.dropped('unsigned gossip message', undefined, 'gossip');
        return;
      }
      if (msg.data.length > MAX_ENVELOPE_FRAME) {
        this.sink.dropped(`oversized gossip message (${msg.data.length} bytes)`, from, 'gossip');
        return;
      }
      this.sink.envelope(session, msg.data, from, 'gossip');
    });
  }

  subscribe(session: string): void {
    const topic = sessionTopic(session);
    this.topics.add(topic);
    this.node.services.pubsub.subscribe(topic);
  }

  unsubscribe(session: string): void {
    const topic = sessionTopic(session);
    if (!this.topics.delete(topic)) return;
    this.node.services.pubsub.unsubscribe(topic);
  }

  /** Peers currently subscribed to the session's topic. */
  subscribers(session: string): PeerId[] {
    return this.node.services.pubsub.getSubscribers(sessionTopic(session));
  }

  /** Broadcast an envelope to the session's participants. */
  async publish(session: string, envelope: Uint8Array): Promise<void> {
    await this.node.services.pubsub.publish(sessionTopic(session), envelope);
  }

  /** Send an envelope to one peer over a direct stream. */
  async send(peer: PeerId, session: string, envelope: Uint8Array): Promise<void> {
    await request(
      this.node,
      peer,
      TSS_PROTOCOL,
      encodeFrame({ kind: 'envelope', session, envelope }),
      {
        timeoutMs: this.timeoutMs,
      }
    );
  }

  /** Ask `peer` again for its envelopes of `session` from `round` on. */
  async pull(peer: PeerId, session: string, round: number): Promise<Uint8Array[]> {
    const reply = await request(
      this.node,
      peer,
      TSS_PROTOCOL,
      encodeFrame({ kind: 'pull', session, round }),
      {
        timeoutMs: this.timeoutMs,
        maxReply: MAX_PULL_REPLY,
      }
    );
    if (!reply) return [];
    return decodeAll(
      reply,
      (d) => {
        d.expectTag(PULL_REPLY_TAG);
        return d.list('envelopes', (x) => x.bytes('envelope', MAX_ENVELOPE_FRAME));
      },
      { maxFieldBytes: MAX_ENVELOPE_FRAME, maxList: MAX_PULL_ENVELOPES }
    );
  }
}
