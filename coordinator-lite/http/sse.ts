/**
 * Server-sent events for the coordinator-lite API (issue 6: session "status and progress
 * (`GET /v1/sessions/{id}`, and a server-sent-events stream)"), per the WHATWG HTML "Server-sent
 * events" section: `text/event-stream`, one `event:` line and one `data:` line per event, a blank
 * line after each.
 *
 * - data is always JSON (one line: `JSON.stringify` without indentation never emits a newline),
 *   so a client parses every event the same way;
 * - a `: keep-alive` comment every 15 s stops proxies and load balancers from timing the stream
 *   out as idle, and makes a vanished client show up as a write error;
 * - `Cache-Control: no-cache` and `X-Accel-Buffering: no` keep intermediaries from buffering;
 * - when the client disconnects, the server closes, or the route calls `close()`, the timer is
 *   cleared and `onClose` runs exactly once — that is where a route unsubscribes from session
 *   updates, so a dropped client leaks nothing.
 * @module
 */
import type { RequestContext } from './server.js';

/** An open event stream. */
export interface SseStream {
  /**
   * Send one event. Ignored once the stream is closed.
   * @param event - event name, `^[A-Za-z0-9._-]{1,64}$`
   * @param data - any JSON-serializable value (bigints as decimal strings)
   * @throws TypeError on a malformed event name (a programming error)
   */
  send(event: string, data: unknown): void;
  /** End the stream (idempotent); runs `onClose`. */
  close(): void;
  /** Whether the stream has ended. */
  readonly closed: boolean;
}

/** Options of {@link startSse}. */
export interface SseOptions {
  /** Interval of the `: keep-alive` comment (default 15 s). */
  keepAliveMs?: number;
  /** Called once when the stream ends, whoever ended it. */
  onClose?: () => void;
}

/** Default keep-alive comment interval. */
export const SSE_KEEP_ALIVE_MS = 15_000;

const EVENT_RE = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Turn the request's response into an event stream (status 200).
 * @param ctx - the request context of a GET route
 * @param opts - keep-alive interval, close callback
 * @returns the stream
 * @throws Error when the response was already started
 * @example
 * handler: (ctx) => {
 *   const sse = startSse(ctx, { onClose: () => unsubscribe() });
 *   const unsubscribe = sessions.watch(id, (s) => sse.send('status', s));
 * }
 */
export function startSse(ctx: RequestContext<unknown>, opts: SseOptions = {}): SseStream {
  const { res, signal } = ctx;
  if (res.headersSent) throw new Error('startSse: a response was already sent for this request');
  const keepAliveMs = opts.keepAliveMs ?? SSE_KEEP_ALIVE_MS;
  if (!Number.isInteger(keepAliveMs) || keepAliveMs <= 0) {
    throw new TypeError('startSse keepAliveMs: expected ms > 0');
  }
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
    'X-Content-Type-Options': 'nosniff',
  });
  // Send the headers now, so the client sees the stream open before the first event.
  res.flushHeaders();

  let closed = false;
  const timer = setInterval(() => write(': keep-alive\n\n'), keepAliveMs);
  timer.unref();

  const finish = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    signal.removeEventListener('abort', finish);
    res.off('close', finish);
    if (!res.writableEnded) res.end();
    opts.onClose?.();
  };
  // `signal` aborts when the client disconnects or the server closes.
  signal.addEventListener('abort', finish, { once: true });
  res.once('close', finish);
  if (signal.aborted || res.destroyed) finish();

  function write(chunk: string): void {
    if (!closed && !res.writableEnded) res.write(chunk);
  }

  return {
    send(event: string, data: unknown): void {
      if (!EVENT_RE.test(event)) throw new TypeError('sse event: expected ^[A-Za-z0-9._-]{1,64}$');
      const json: string | undefined = JSON.stringify(data, (_k, v: unknown) =>
        typeof v === 'bigint' ? v.toString() : v
      );
      write(`event: ${event}\ndata: ${json ?? 'null'}\n\n`);
    },
    close: finish,
    get closed(): boolean {
      return closed;
    },
  };
}
