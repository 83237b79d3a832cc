/**
 * Both ends of `/mpcd/control/1` (ARCHITECTURE.md "Session lifecycle"): one request frame, one
 * response frame per stream, decoded and validated by `protocol/control/messages.ts`. A handler
 * refuses a request by throwing a {@link ControlRefusal}, which becomes `{ ok: false, error }`.
 * The daemon serves invite/start/abort; the coordinator serves join/ready/report.
 * @module
 */
import type { PeerId } from '@libp2p/interface';
import {
  CONTROL_PROTOCOL,
  decodeControlRequest,
  decodeControlResponse,
  encodeControl,
  MAX_CONTROL_FRAME,
  type ControlRequest,
  type ControlResponse,
} from '../protocol/control/messages.js';
import type { Logger } from './log.js';
import type { MpcdNode } from './p2p/node.js';
import { handleFrames, request } from './p2p/streams.js';

/** A request refused with a stable code and a message naming what was wrong. */
export class ControlRefusal extends Error {
  override readonly name = 'ControlRefusal';
  constructor(
    readonly code: string,
    message: string
  ) {
    super(message);
  }
}

/** Serve control requests. */
export async function serveControl(
  node: MpcdNode,
  opts: { timeoutMs: number; log: Logger },
  handler: (req: ControlRequest, from: PeerId) => Promise<void>
): Promise<void> {
  await handleFrames(
    node,
    CONTROL_PROTOCOL,
    { maxBytes: MAX_CONTROL_FRAME, timeoutMs: opts.timeoutMs, maxInbound: 64 },
    async (frame, from) => {
      let res: ControlResponse;
      let decoded = false;
      try {
        const req = decodeControlRequest(frame);
        decoded = true;
        await handler(req, from);
        res = { ok: true };
      } catch (err) {
        const e = err as Error;
        // bad-request only for the request itself: a DecodeError from the handler (e.g. a
        // damaged stored key share) is our fault, not the sender's.
        const code =
          err instanceof ControlRefusal ? err.code : decoded ? 'internal' : 'bad-request';
        if (code === 'internal')
          opts.log.error({ err: e, from: from.toString() }, 'control request failed');
        else
          opts.log.warn(
            { from: from.toString(), code, reason: e.message },
            'control request refused'
          );
        res = {
          ok: false,
          error: {
            code,
            message: code === 'internal' ? 'internal error' : e.message.slice(0, 1000),
          },
        };
      }
      return encodeControl(res);
    },
    (err, from) =>
      opts.log.warn({ from: from.toString(), err: err.message }, 'control stream failed')
  );
}

/** Send one control request and return the peer's response. @throws on transport failure */
export async function sendControl(
  node: MpcdNode,
  peer: PeerId,
  req: ControlRequest,
  timeoutMs: number
): Promise<ControlResponse> {
  const reply = await request(node, peer, CONTROL_PROTOCOL, encodeControl(req), {
    timeoutMs,
    maxReply: MAX_CONTROL_FRAME,
  });
  return decodeControlResponse(reply!);
}
