/**
 * One-frame request/response over libp2p streams, bounded in size and time (brief: "bound every
 * size and every wait"). A stream carries one length-prefixed request frame and, optionally, one
 * response frame; oversized frames abort the stream before they are buffered.
 * @module
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import type { MpcdNode } from './node.js';

/** Read one frame from a stream (at most `maxBytes`, within `timeoutMs`). */
export async function readFrame(
  stream: Stream,
  maxBytes: number,
  timeoutMs: number
): Promise<Uint8Array> {
  const lp = lpStream(stream, { maxDataLength: maxBytes });
  const data = await lp.read({ signal: AbortSignal.timeout(timeoutMs) });
  return data.subarray();
}

/** Write one frame to a stream (within `timeoutMs`). */
export async function writeFrame(
  stream: Stream,
  bytes: Uint8Array,
  timeoutMs: number
): Promise<void> {
  const lp = lpStream(stream);
  await lp.write(bytes, { signal: AbortSignal.timeout(timeoutMs) });
}

/** Open a stream to `peer`, send one frame and, if `maxReply` is given, read one reply frame. */
export async function request(
  node: MpcdNode,
  peer: PeerId,
  protocol: string,
  bytes: Uint8Array,
  opts: { timeoutMs: number; maxReply?: number }
): Promise<Uint8Array | undefined> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  const stream = await node.dialProtocol(peer, protocol, { signal });
  try {
    const lp = lpStream(stream, { maxDataLength: opts.maxReply ?? 0 });
    await lp.write(bytes, { signal });
    if (opts.maxReply === undefined) {
      await stream.close({ signal });
      return undefined;
    }
    const reply = (await lp.read({ signal })).subarray();
    await stream.close({ signal }).catch(() => undefined);
    return reply;
  } catch (err) {
    stream.abort(err as Error);
    throw err;
  }
}

/** A handler for one inbound frame; the return value (if any) is sent back as the reply frame. */
export type FrameHandler = (
  frame: Uint8Array,
  from: PeerId,
  connection: Connection
) => Promise<Uint8Array | undefined>;

/**
 * Register a one-frame protocol handler. Frame errors (oversized, garbage length prefix, timeout)
 * abort the stream and are passed to `onError` for the log.
 */
export async function handleFrames(
  node: MpcdNode,
  protocol: string,
  opts: { maxBytes: number; timeoutMs: number; maxInbound?: number },
  handler: FrameHandler,
  onError: (err: Error, from: PeerId) => void
): Promise<void> {
  await node.handle(
    protocol,
    async (stream, connection) => {
      const from = connection.remotePeer;
      try {
        const lp = lpStream(stream, { maxDataLength: opts.maxBytes });
        const frame = (await lp.read({ signal: AbortSignal.timeout(opts.timeoutMs) })).subarray();
        const reply = await handler(frame, from, connection);
        if (reply) await lp.write(reply, { signal: AbortSignal.timeout(opts.timeoutMs) });
        await stream.close({ signal: AbortSignal.timeout(opts.timeoutMs) }).catch(() => undefined);
      } catch (err) {
        stream.abort(err as Error);
        onError(err as Error, from);
      }
    },
    { maxInboundStreams: opts.maxInbound ?? 256, runOnLimitedConnection: false }
  );
}
