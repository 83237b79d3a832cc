/**
 * The admin HTTP server of an mpcd process: `/healthz` (liveness), `/readyz` (readiness),
 * `/metrics` (Prometheus text 0.0.4) and `/v1/status` (JSON), bound to localhost by default
 * (ARCHITECTURE.md "Observability and operations"). It is read-only and knows nothing of what it
 * reports: the caller supplies {@link AdminRoutes}, so the coordinator can reuse it.
 *
 * Hardening, because the port may end up reachable from a monitoring network:
 * - only `GET`/`HEAD` on four fixed paths; everything else is a JSON 404 or 405;
 * - request bodies are never read: up to 1 KiB is drained and ignored, a declared larger body
 *   gets 413, and a socket that streams more is destroyed;
 * - every wait is bounded (`headersTimeout`, `requestTimeout`, `keepAliveTimeout`) and `close()`
 *   drops open connections, so shutdown is prompt;
 * - a route that throws answers a generic 500; the error goes to the log, never to the client;
 * - the per-request debug log has method, path (query string removed), status and time — never
 *   headers, which may carry credentials.
 * @module
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from './log.js';

/** Result of a health or readiness probe: overall verdict and the named checks behind it. */
export interface HealthReport {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/** What the server reports; each function is called once per request, synchronously. */
export interface AdminRoutes {
  /** Liveness: is the process able to work at all (`/healthz`)? */
  health(): HealthReport;
  /** Readiness: should it receive work now (`/readyz`)? */
  ready(): HealthReport;
  /** Any JSON-serializable status (`/v1/status`); bigints are written as decimal strings. */
  status(): unknown;
  /** Prometheus text exposition (`/metrics`), e.g. `Registry.render()`. */
  metrics(): string;
}

/** Bounds on how long a client may hold a connection (milliseconds). */
export interface AdminTimeouts {
  /** Time to receive the request headers (default 5 s). */
  headersMs?: number;
  /** Time to receive the whole request (default 10 s). */
  requestMs?: number;
  /** Idle time before a keep-alive connection is closed (default 5 s). */
  keepAliveMs?: number;
}

/** Options of {@link startAdminServer}. */
export interface AdminServerOptions {
  /** Address to bind, e.g. `127.0.0.1` (default in config), `::1`, or `0.0.0.0` (warned about). */
  host: string;
  /** TCP port; 0 picks a free one (see {@link AdminServer.port}). */
  port: number;
  /** What to serve. */
  routes: AdminRoutes;
  /** The server's logger; pass a component child (e.g. `component(root, 'admin-http')`). */
  log: Logger;
  /** Connection time bounds; defaults suit a local scraper. */
  timeouts?: AdminTimeouts;
}

/** A running admin server. */
export interface AdminServer {
  /** Base URL, e.g. `http://127.0.0.1:9464` or `http://[::1]:9464`. */
  url: string;
  /** The bound port (the ephemeral one when 0 was asked). */
  port: number;
  /** Stop listening and drop every connection; resolves when the server is closed. Idempotent. */
  close(): Promise<void>;
}

/** Largest request body drained and ignored; more is refused. */
export const MAX_BODY_BYTES = 1024;

const DEFAULT_TIMEOUTS: Required<AdminTimeouts> = {
  headersMs: 5_000,
  requestMs: 10_000,
  keepAliveMs: 5_000,
};

const JSON_TYPE = 'application/json; charset=utf-8';
const METRICS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const ALLOW = 'GET, HEAD';

type Handler = (routes: AdminRoutes) => { status: number; type: string; body: string };

const health =
  (pick: (r: AdminRoutes) => HealthReport): Handler =>
  (routes) => {
    const report = pick(routes);
    return { status: report.ok ? 200 : 503, type: JSON_TYPE, body: toJson(report) };
  };

/** The fixed route table: path → handler. */
const ROUTES: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['/healthz', health((r) => r.health())],
  ['/readyz', health((r) => r.ready())],
  ['/metrics', (r) => ({ status: 200, type: METRICS_TYPE, body: r.metrics() })],
  ['/v1/status', (r) => ({ status: 200, type: JSON_TYPE, body: toJson(r.status()) })],
]);

/**
 * Start the admin server and wait until it listens.
 * @param opts - bind address, port, routes, logger, optional timeouts
 * @returns the running server with its URL and bound port
 * @throws TypeError on a bad `host` or `port`; Error (with `cause`) when listening fails
 * @example
 * const admin = await startAdminServer({ host: '127.0.0.1', port: 9464, routes, log });
 * // ... on shutdown: await admin.close();
 */
export async function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const { host, port, routes, log } = opts;
  if (typeof host !== 'string' || host.length === 0) {
    throw new TypeError('admin host: expected a non-empty address');
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`admin port: expected an integer in 0..65535, got ${String(port)}`);
  }
  const t: Required<AdminTimeouts> = {
    headersMs: opts.timeouts?.headersMs ?? DEFAULT_TIMEOUTS.headersMs,
    requestMs: opts.timeouts?.requestMs ?? DEFAULT_TIMEOUTS.requestMs,
    keepAliveMs: opts.timeouts?.keepAliveMs ?? DEFAULT_TIMEOUTS.keepAliveMs,
  };
  for (const [k, v] of Object.entries(t)) {
    if (!Number.isInteger(v) || v <= 0) throw new TypeError(`admin timeouts.${k}: expected ms > 0`);
  }
  if (t.headersMs > t.requestMs) {
    throw new TypeError('admin timeouts.headersMs: must not exceed timeouts.requestMs');
  }

  const server = createServer(
    {
      headersTimeout: t.headersMs,
      requestTimeout: t.requestMs,
      keepAliveTimeout: t.keepAliveMs,
      // How often Node checks the two timeouts above; the default (30 s) would stretch them.
      connectionsCheckingInterval: Math.min(1_000, Math.max(10, Math.floor(t.headersMs / 4))),
    },
    (req, res) => handle(req, res, routes, log)
  );

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(
        new Error(`admin server cannot listen on ${host}:${port}: ${err.message}`, { cause: err })
      );
    };
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'admin server error'));

  const address = server.address() as AddressInfo;
  const url = `http://${isIP(address.address) === 6 ? `[${address.address}]` : address.address}:${address.port}`;
  if (!isLoopback(host)) {
    log.warn(
      { host, port: address.port },
      'admin server listens on a non-loopback address: expose it only to a private monitoring network'
    );
  }
  log.info({ url }, 'admin server listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // close() only stops accepting and ends idle keep-alive sockets; drop the rest (half-sent
        // requests, slow readers) too, or shutdown would wait for their timeouts.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Answer one request. Synchronous: the routes are synchronous and bodies are not read. */
function handle(req: IncomingMessage, res: ServerResponse, routes: AdminRoutes, log: Logger): void {
  const started = process.hrtime.bigint();
  // The query string is dropped everywhere, including the log: it is the one place a client
  // could put a credential into a URL.
  const path = (req.url ?? '/').split('?', 1)[0]!;
  res.on('finish', () => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    log.debug(
      { method: req.method, path, status: res.statusCode, ms: Math.round(ms * 1000) / 1000 },
      'admin request'
    );
  });

  if (!drainBody(req, res)) return;

  const handler = ROUTES.get(path);
  if (!handler) {
    sendError(req, res, 404, 'NOT_FOUND', `no such path: ${truncate(path)}`);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', ALLOW);
    sendError(req, res, 405, 'METHOD_NOT_ALLOWED', `${truncate(req.method ?? '')} not allowed`);
    return;
  }
  let out: ReturnType<Handler>;
  try {
    out = handler(routes);
    if (typeof out.body !== 'string') throw new TypeError(`route ${path}: body is not a string`);
  } catch (err) {
    log.error({ err, path }, 'admin route failed');
    sendError(req, res, 500, 'INTERNAL', 'internal error');
    return;
  }
  send(req, res, out.status, out.type, out.body);
}

/**
 * Ignore the request body, allowing at most {@link MAX_BODY_BYTES}: a declared larger body is
 * answered 413 (and the connection closed); a stream that exceeds the limit loses its socket.
 * Returns false when the request has been answered here.
 */
function drainBody(req: IncomingMessage, res: ServerResponse): boolean {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    // `Connection: close` makes Node end the socket once the answer is flushed, unread body and all.
    res.setHeader('Connection', 'close');
    sendError(
      req,
      res,
      413,
      'PAYLOAD_TOO_LARGE',
      `bodies are ignored (max ${MAX_BODY_BYTES} bytes)`
    );
    return false;
  }
  let received = 0;
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > MAX_BODY_BYTES) req.socket.destroy();
  });
  return true;
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  type: string,
  body: string
): void {
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': bytes.length,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  // HEAD gets the GET headers (including Content-Length) and no body.
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message: string
): void {
  send(req, res, status, JSON_TYPE, JSON.stringify({ error: { code, message } }));
}

/** JSON with bigints as decimal strings (protocol values and counters are often bigint). */
function toJson(value: unknown): string {
  const text: string | undefined = JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'bigint' ? v.toString() : v
  );
  return text ?? 'null'; // `undefined` (or a function) has no JSON form
}

/** Echo at most 64 characters of client input in an error message. */
function truncate(s: string): string {
  return s.length <= 64 ? s : `${s.slice(0, 64)}…`;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** Whether `host` is a loopback address (or the name `localhost`). Other names count as remote. */
export function isLoopback(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const family = isIP(host);
  if (family === 0) return false;
  return LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}
