/**
 * The HTTP(S) framework of the coordinator-lite API (issue 6, "HTTP/JSON API, versioned (`/v1`)
 * … consistent error shape; request ids; pino logs … TLS when given a certificate and key").
 * It knows no route of the real API: callers pass a table of {@link Route}s and get a listening
 * server. Built on `node:http`/`node:https` only.
 *
 * What every request gets, in this order:
 * 1. a **request id** — the client's `X-Request-Id` when it matches `^[A-Za-z0-9._-]{1,64}$`,
 *    else a fresh UUID — echoed in the `X-Request-Id` response header and in every error body;
 * 2. **routing** on path templates (`/v1/keys/:id/signatures`): unknown path → 404, a known path
 *    with another method → 405 with `Allow`; `HEAD` is served by the `GET` route without a body;
 * 3. **authentication** for `auth: true` routes: `Authorization: Bearer <token>` handed to the
 *    injected `authenticate`; missing or refused → 401 with `WWW-Authenticate: Bearer`. It runs
 *    before the body is read, so an anonymous client cannot make the server buffer anything;
 * 4. the **body**, for POST/PUT/PATCH only: `Content-Type: application/json` (415 otherwise),
 *    at most `maxBodyBytes` (413: a declared larger body is refused unread, a streamed one is
 *    cut off at the limit, and the connection is closed), valid UTF-8 JSON (400, field `body`);
 * 5. the **handler**: an {@link ApiError} it throws becomes its status and code; anything else is
 *    a 500 `internal` with a generic message, the error itself going to the log only.
 *
 * One log line per request: method, path template (never the concrete path, which holds ids, nor
 * the query string, headers or body — they may carry credentials), status, milliseconds and the
 * request id. Every wait is bounded (headers 10 s, whole request 30 s, keep-alive idle 5 s) and
 * `close()` ends idle keep-alive connections at once and the rest after a short grace, as
 * `daemon/admin-http.ts` does for the admin port.
 *
 * {@link idempotent} implements `Idempotency-Key` (issue 6: "a retried POST does not create a
 * second session") over any get/put store.
 * @module
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../../daemon/log.js';
import {
  ApiError,
  badRequest,
  internalError,
  payloadTooLarge,
  unauthorized,
  unsupportedMediaType,
} from './errors.js';

/** Methods a route may declare (`HEAD` is derived from `GET`). */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

const METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

/** Everything a handler sees about one request. `P` is the principal type `authenticate` returns. */
export interface RequestContext<P = unknown> {
  req: IncomingMessage;
  /** The raw response; use {@link RequestContext.reply}, or hand it to `startSse`. */
  res: ServerResponse;
  /** The request method as received (`HEAD` for a HEAD on a GET route). */
  method: string;
  /** The concrete path, without the query string. */
  path: string;
  /** The matched route's template, e.g. `/v1/keys/:id`. */
  route: string;
  /** Decoded path parameters, e.g. `{ id: '…' }`. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body; `undefined` when the request had none (always for GET/DELETE). */
  body: unknown;
  requestId: string;
  headers: IncomingHttpHeaders;
  /** The authenticated principal on `auth: true` routes, else `undefined`. */
  principal: P | undefined;
  /** A child logger carrying `requestId`. */
  log: Logger;
  /** Aborted when the client disconnects or the server is closing. */
  signal: AbortSignal;
  /**
   * Send a JSON response (bigints as decimal strings). Status 204/304 send no body.
   * @throws Error when a response was already started
   */
  reply(status: number, body?: unknown, headers?: Record<string, string>): void;
}

/** One entry of the route table. */
export interface Route<P = unknown> {
  method: HttpMethod;
  /** `/`-separated literals and `:name` parameters, e.g. `/v1/keys/:id/signatures`. */
  path: string;
  /** Require a bearer token (then `ctx.principal` is set). */
  auth: boolean;
  /** Must reply (or start an SSE stream) before its promise settles, or throw. */
  handler(ctx: RequestContext<P>): void | Promise<void>;
}

/** Connection time bounds in milliseconds. */
export interface ApiTimeouts {
  /** Time to receive the request headers (default 10 s). */
  headersMs?: number;
  /** Time to receive the whole request, body included (default 30 s). */
  requestMs?: number;
  /** Idle time before a keep-alive connection is closed (default 5 s). */
  keepAliveMs?: number;
  /** How long `close()` lets in-flight requests finish before dropping them (default 1 s). */
  closeGraceMs?: number;
}

/** Options of {@link createApiServer}. */
export interface ApiServerOptions<P = unknown> {
  /** Address to bind, e.g. `127.0.0.1` or `0.0.0.0`. */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** PEM certificate chain and private key: serve HTTPS instead of HTTP. */
  tls?: { cert: string; key: string };
  log: Logger;
  /** Largest accepted request body in bytes (default 64 KiB). */
  maxBodyBytes?: number;
  routes: readonly Route<P>[];
  /**
   * Resolve a bearer token to its principal. Resolve `undefined` (or reject with an
   * {@link ApiError}) for a bad token; any other rejection is a 500, since it means the check
   * itself failed — a storage error must not look like a wrong password.
   */
  authenticate?: (bearer: string) => Promise<P | undefined>;
  /** The OpenAPI document served, unauthenticated, at `GET /v1/openapi.json`. */
  openapi?: object;
  timeouts?: ApiTimeouts;
}

/** A listening API server. */
export interface ApiServer {
  /** Base URL, e.g. `https://127.0.0.1:8443`. */
  url: string;
  port: number;
  /** Stop accepting, end connections (see {@link ApiTimeouts.closeGraceMs}); idempotent. */
  close(): Promise<void>;
}

/** A response as {@link idempotent} stores and replays it. */
export interface StoredResponse {
  /** SHA-256 of method, path and canonical body: what "the same request" means. */
  fingerprint: string;
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** The store {@link idempotent} needs; expiry of old keys is the store's business. */
export interface IdempotencyStore {
  get(key: string): Promise<StoredResponse | undefined> | StoredResponse | undefined;
  put(key: string, value: StoredResponse): Promise<void> | void;
}

/** What a function wrapped by {@link idempotent} returns instead of replying itself. */
export interface JsonReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Default body limit: 64 KiB, far above any request of this API. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
/** Path of the built-in OpenAPI route. */
export const OPENAPI_PATH = '/v1/openapi.json';

const DEFAULT_TIMEOUTS: Required<ApiTimeouts> = {
  headersMs: 10_000,
  requestMs: 30_000,
  keepAliveMs: 5_000,
  closeGraceMs: 1_000,
};
const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;
const IDEMPOTENCY_KEY_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const PARAM_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** RFC 6750 §2.1 b64token, bounded. */
const BEARER_RE = /^Bearer +([A-Za-z0-9\-._~+/]{1,512}=*)$/i;
const JSON_TYPE = 'application/json; charset=utf-8';

/** Routes sharing one template, by method. */
interface Template<P> {
  template: string;
  /** Literal segment or `null` for a parameter (named in `names`). */
  segments: (string | null)[];
  names: string[];
  methods: Map<string, Route<P>>;
}

/**
 * Build the server and wait until it listens.
 * @param opts - see {@link ApiServerOptions}
 * @returns the listening server
 * @throws TypeError on a bad option or route table (duplicate route, malformed template, an
 *   `auth` route without `authenticate`); Error (with `cause`) when listening fails
 * @example
 * const api = await createApiServer({
 *   host: '127.0.0.1', port: 8080, log, authenticate: (t) => accounts.lookup(t),
 *   routes: [{ method: 'GET', path: '/v1/keys/:id', auth: true,
 *              handler: async (ctx) => ctx.reply(200, await keys.get(ctx.params.id!)) }],
 * });
 */
export async function createApiServer<P = unknown>(opts: ApiServerOptions<P>): Promise<ApiServer> {
  const { host, port, log } = opts;
  if (typeof host !== 'string' || host.length === 0) {
    throw new TypeError('api host: expected a non-empty address');
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`api port: expected an integer in 0..65535, got ${String(port)}`);
  }
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new TypeError('api maxBodyBytes: expected a positive integer');
  }
  const t = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  for (const [k, v] of Object.entries(t)) {
    if (!Number.isInteger(v) || v <= 0) throw new TypeError(`api timeouts.${k}: expected ms > 0`);
  }
  if (t.headersMs > t.requestMs) {
    throw new TypeError('api timeouts.headersMs: must not exceed timeouts.requestMs');
  }

  const routes = [...opts.routes];
  if (opts.openapi !== undefined) {
    const doc = opts.openapi;
    routes.push({
      method: 'GET',
      path: OPENAPI_PATH,
      auth: false,
      handler: (c) => c.reply(200, doc),
    });
  }
  const table = compileRoutes(routes, opts.authenticate !== undefined);

  const active = new Set<AbortController>();
  let closing = false;
  const deps: Deps<P> = {
    table,
    log,
    maxBodyBytes,
    authenticate: opts.authenticate,
    active,
    isClosing: () => closing,
  };
  const serverOpts = {
    headersTimeout: t.headersMs,
    requestTimeout: t.requestMs,
    keepAliveTimeout: t.keepAliveMs,
    // How often Node enforces the two timeouts above; its 30 s default would stretch them.
    connectionsCheckingInterval: Math.min(1_000, Math.max(10, Math.floor(t.headersMs / 4))),
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    void handle(req, res, deps);
  };
  const server: Server = opts.tls
    ? createHttpsServer({ ...serverOpts, cert: opts.tls.cert, key: opts.tls.key }, onRequest)
    : createHttpServer(serverOpts, onRequest);

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(
        new Error(`api server cannot listen on ${host}:${port}: ${err.message}`, { cause: err })
      );
    };
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'api server error'));
  // Node's headersTimeout starts with the first byte of a request, so a connection that never
  // sends one would be kept forever: an inactivity bound on every socket closes it (SSE streams
  // stay active through their keep-alive comments, which must be more frequent than this).
  server.timeout = t.requestMs;
  // Connections that have not sent a request yet (pre-opened by some clients) are not "idle" to
  // closeIdleConnections(); close() drops them itself.
  const fresh = new Set<Socket>();
  server.on(opts.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    fresh.add(socket);
    socket.once('close', () => fresh.delete(socket));
  });
  server.on('request', (req: IncomingMessage) => fresh.delete(req.socket));
  // A TLS handshake failure is the client's problem; note it without a stack per probe.
  server.on('tlsClientError', (err: Error) =>
    log.debug({ reason: err.message }, 'tls handshake failed')
  );

  const address = server.address() as AddressInfo;
  const shown = isIP(address.address) === 6 ? `[${address.address}]` : address.address;
  const url = `${opts.tls ? 'https' : 'http'}://${shown}:${address.port}`;
  log.info({ url }, 'api server listening');

  let closed: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        const grace = setTimeout(() => server.closeAllConnections(), t.closeGraceMs);
        server.close(() => {
          clearTimeout(grace);
          resolve();
        });
        // Long-lived responses (SSE) end on their signal; idle keep-alive sockets end now.
        for (const ac of active) ac.abort();
        server.closeIdleConnections();
        for (const socket of fresh) socket.destroy();
      });
      return closed;
    },
  };
}

interface Deps<P> {
  table: Template<P>[];
  log: Logger;
  maxBodyBytes: number;
  authenticate: ((bearer: string) => Promise<P | undefined>) | undefined;
  active: Set<AbortController>;
  isClosing(): boolean;
}

/** Thrown by the body reader when the client went away: nothing to answer. */
class ClientGone extends Error {}

async function handle<P>(req: IncomingMessage, res: ServerResponse, deps: Deps<P>): Promise<void> {
  const started = performance.now();
  const requestId = pickRequestId(req.headers['x-request-id']);
  const log = deps.log.child({ requestId });
  res.setHeader('X-Request-Id', requestId);
  let routeName: string | null = null;

  const ac = new AbortController();
  deps.active.add(ac);
  res.once('close', () => {
    deps.active.delete(ac);
    ac.abort();
    const ms = Math.round((performance.now() - started) * 1000) / 1000;
    const line = { method: req.method, route: routeName, status: res.statusCode, ms, requestId };
    if (res.writableFinished) {
      deps.log.info(line, 'api request');
    } else {
      deps.log.info({ ...line, aborted: true }, 'api request');
      // The client left mid-response (e.g. an SSE reader): Node may keep the half-closed socket
      // open, which would hold `close()` for its whole grace period.
      req.socket.destroy();
    }
  });

  try {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      throw badRequest('path', 'is not a valid request target');
    }
    const found = match(deps.table, url.pathname);
    if (!found) throw new ApiError(404, 'not-found', 'no such path');
    const { tpl, params } = found;
    routeName = tpl.template;
    const method = req.method ?? '';
    const route =
      tpl.methods.get(method) ?? (method === 'HEAD' ? tpl.methods.get('GET') : undefined);
    if (!route) {
      const allow = [...tpl.methods.keys()];
      if (allow.includes('GET')) allow.push('HEAD');
      throw new ApiError(
        405,
        'method-not-allowed',
        `${truncate(method)} is not allowed here`,
        undefined,
        {
          Allow: allow.join(', '),
        }
      );
    }

    let principal: P | undefined;
    if (route.auth) principal = await authenticate(req, deps, log);

    let body: unknown;
    if (BODY_METHODS.has(method) && hasBody(req)) {
      if (!isJsonType(req.headers['content-type'])) throw unsupportedMediaType();
      body = parseJson(await readBody(req, deps.maxBodyBytes));
    }

    const ctx: RequestContext<P> = {
      req,
      res,
      method,
      path: url.pathname,
      route: tpl.template,
      params,
      query: url.searchParams,
      body,
      requestId,
      headers: req.headers,
      principal,
      log,
      signal: ac.signal,
      reply: (status, b, headers) => sendJson(req, res, deps, status, b, headers),
    };
    await route.handler(ctx);
    if (!res.headersSent) {
      throw new Error(`route ${route.method} ${route.path} returned without replying`);
    }
  } catch (err) {
    if (err instanceof ClientGone) return;
    if (res.headersSent) {
      // Too late for a status (a stream was started): log and cut the response short.
      log.error({ err, route: routeName }, 'api handler failed after replying');
      res.destroy();
      return;
    }
    let apiErr: ApiError;
    if (err instanceof ApiError) {
      apiErr = err;
    } else {
      log.error({ err, route: routeName }, 'api handler failed');
      apiErr = internalError();
    }
    // A body we did not read in full must not be parsed as the next request: close.
    if (hasBody(req) && !req.readableEnded) res.setHeader('Connection', 'close');
    sendJson(req, res, deps, apiErr.status, apiErr.toBody(requestId), apiErr.headers);
  }
}

/** Check the bearer token; 401 unless `authenticate` names a principal. */
async function authenticate<P>(req: IncomingMessage, deps: Deps<P>, log: Logger): Promise<P> {
  const header = req.headers.authorization;
  const m = typeof header === 'string' ? BEARER_RE.exec(header.trim()) : null;
  if (!m) throw unauthorized();
  // compileRoutes refused auth routes without authenticate.
  const principal = await deps.authenticate!(m[1]!);
  if (principal === undefined || principal === null) {
    log.debug('bearer token refused');
    throw unauthorized();
  }
  return principal;
}

function sendJson<P>(
  req: IncomingMessage,
  res: ServerResponse,
  deps: Deps<P>,
  status: number,
  body: unknown,
  headers: Record<string, string> = {}
): void {
  if (res.headersSent) throw new Error('a response was already sent for this request');
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new TypeError(`reply status: expected an integer in 100..599, got ${status}`);
  }
  const empty = status === 204 || status === 304;
  const bytes = empty ? undefined : Buffer.from(toJson(body), 'utf8');
  res.writeHead(status, {
    ...headers,
    ...(bytes ? { 'Content-Type': JSON_TYPE, 'Content-Length': bytes.length } : {}),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...(deps.isClosing() ? { Connection: 'close' } : {}),
  });
  // HEAD gets the GET headers, Content-Length included, and no body.
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

/**
 * Read the request body up to `max` bytes. A declared larger body is refused before reading; a
 * body that streams past the limit stops being read (the caller's 413 carries
 * `Connection: close`, so the rest is never parsed).
 */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) return Promise.reject(payloadTooLarge(max));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        cleanup();
        req.pause();
        reject(payloadTooLarge(max));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onGone = (): void => {
      cleanup();
      reject(new ClientGone('client closed the connection during the body'));
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onGone);
    req.once('close', onGone);
  });
}

/** Decode a body as UTF-8 JSON; an empty body is `undefined`. */
function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw badRequest('body', 'is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The parser's message quotes the input, which may hold a secret: say only that it failed.
    throw badRequest('body', 'is not valid JSON');
  }
}

/** `application/json`, optionally with `charset=utf-8` (JSON is UTF-8: RFC 8259 §8.1). */
function isJsonType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type, ...params] = header.split(';').map((s) => s.trim().toLowerCase());
  if (type !== 'application/json') return false;
  return params.every((p) => p === '' || p === 'charset=utf-8' || p === 'charset="utf-8"');
}

function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
}

function pickRequestId(header: string | string[] | undefined): string {
  return typeof header === 'string' && REQUEST_ID_RE.test(header) ? header : randomUUID();
}

/** Validate and group the route table; templates are matched most-literal-first. */
function compileRoutes<P>(routes: readonly Route<P>[], canAuth: boolean): Template<P>[] {
  const byTemplate = new Map<string, Template<P>>();
  for (const r of routes) {
    const where = `route ${String(r.method)} ${String(r.path)}`;
    if (!METHODS.includes(r.method)) throw new TypeError(`${where}: unsupported method`);
    if (typeof r.path !== 'string' || !r.path.startsWith('/')) {
      throw new TypeError(`${where}: path must start with /`);
    }
    if (typeof r.handler !== 'function') throw new TypeError(`${where}: handler is not a function`);
    if (r.auth && !canAuth) throw new TypeError(`${where}: auth route but no authenticate option`);
    const names: string[] = [];
    const segments = r.path
      .slice(1)
      .split('/')
      .map((s) => {
        if (!s.startsWith(':')) {
          if (s === '') throw new TypeError(`${where}: empty path segment`);
          return s;
        }
        const name = s.slice(1);
        if (!PARAM_RE.test(name) || names.includes(name)) {
          throw new TypeError(`${where}: bad or repeated parameter name`);
        }
        names.push(name);
        return null;
      });
    // `/a/:id` and `/a/:key` are the same template: key them by shape.
    const key = segments.map((s) => (s === null ? ':' : `=${s}`)).join('/');
    let tpl = byTemplate.get(key);
    if (!tpl) {
      tpl = { template: r.path, segments, names, methods: new Map() };
      byTemplate.set(key, tpl);
    } else if (tpl.names.join() !== names.join()) {
      throw new TypeError(`${where}: same shape as ${tpl.template} with other parameter names`);
    }
    if (tpl.methods.has(r.method)) throw new TypeError(`${where}: duplicate route`);
    tpl.methods.set(r.method, r);
  }
  return [...byTemplate.values()].sort((a, b) => specificity(b, a));
}

/** Compare templates segment by segment: a literal beats a parameter. */
function specificity<P>(a: Template<P>, b: Template<P>): number {
  for (let i = 0; i < Math.min(a.segments.length, b.segments.length); i++) {
    const la = a.segments[i] !== null;
    const lb = b.segments[i] !== null;
    if (la !== lb) return la ? 1 : -1;
  }
  return 0;
}

function match<P>(
  table: Template<P>[],
  pathname: string
): { tpl: Template<P>; params: Record<string, string> } | undefined {
  const parts = pathname.slice(1).split('/');
  for (const tpl of table) {
    if (tpl.segments.length !== parts.length) continue;
    const values: string[] = [];
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const seg = tpl.segments[i];
      const part = parts[i]!;
      if (seg === null) {
        if (part === '') ok = false;
        else values.push(part);
      } else if (seg !== part) {
        ok = false;
      }
    }
    if (!ok) continue;
    const params: Record<string, string> = Object.create(null) as Record<string, string>;
    tpl.names.forEach((name, i) => {
      try {
        params[name] = decodeURIComponent(values[i]!);
      } catch {
        throw badRequest(name, 'is not a valid percent-encoded path segment');
      }
    });
    return { tpl, params };
  }
  return undefined;
}

/**
 * Run `fn` at most once per `Idempotency-Key` (issue 6: "a retried POST does not create a second
 * session"). Keys are scoped to `principalId`; the request is identified by method, path and
 * canonical JSON body. Without the header, `fn` simply runs.
 *
 * - first use: `fn()` runs, its reply is stored, then sent;
 * - same key, same request: the stored reply is sent again (status and body), with
 *   `Idempotent-Replayed: true`, and `fn` is not called;
 * - same key, different request: 409 `idempotency-key-reused`.
 *
 * Concurrent requests with one key run one after another in this process, so the second waits and
 * replays instead of racing. A thrown error is not stored: the client may retry after fixing it.
 * @param ctx - the request context
 * @param store - where replies are kept (e.g. a LevelDB collection)
 * @param principalId - the caller's account id
 * @param fn - does the work and returns the reply
 * @throws ApiError 400 for a malformed key, 409 for a reused one; whatever `fn` throws
 * @example
 * handler: (ctx) => idempotent(ctx, store, ctx.principal!.id, async () =>
 *   ({ status: 201, body: await sessions.create(...) }))
 */
export async function idempotent(
  ctx: RequestContext<unknown>,
  store: IdempotencyStore,
  principalId: string,
  fn: () => Promise<JsonReply>
): Promise<void> {
  const key = ctx.headers['idempotency-key'];
  if (key === undefined) {
    const r = await fn();
    ctx.reply(r.status, r.body, r.headers);
    return;
  }
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY_RE.test(key)) {
    throw badRequest('Idempotency-Key', 'must be 1..128 characters of A-Z a-z 0-9 . _ : -');
  }
  const storeKey = `${sha256(principalId)}:${key}`;
  const fingerprint = sha256(`${ctx.method}\n${ctx.path}\n${canonicalJson(ctx.body)}`);

  let locks = LOCKS.get(store);
  if (!locks) LOCKS.set(store, (locks = new Map()));
  const prev = locks.get(storeKey) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const tail = prev.then(() => mine);
  locks.set(storeKey, tail);
  await prev;
  try {
    const seen = await store.get(storeKey);
    if (seen) {
      if (seen.fingerprint !== fingerprint) {
        throw new ApiError(
          409,
          'idempotency-key-reused',
          'this Idempotency-Key was already used for a different request',
          'Idempotency-Key'
        );
      }
      ctx.reply(seen.status, seen.body, { ...seen.headers, 'Idempotent-Replayed': 'true' });
      return;
    }
    const r = await fn();
    // Store exactly what is sent (bigints already turned into strings) so a replay is identical.
    const body = r.body === undefined ? undefined : (JSON.parse(toJson(r.body)) as unknown);
    const record: StoredResponse = { fingerprint, status: r.status, body };
    if (r.headers) record.headers = r.headers;
    await store.put(storeKey, record);
    ctx.reply(r.status, body, r.headers);
  } finally {
    release();
    if (locks.get(storeKey) === tail) locks.delete(storeKey);
  }
}

/** Per-store chains of in-flight idempotent requests, by store key. */
const LOCKS = new WeakMap<IdempotencyStore, Map<string, Promise<void>>>();

function sha256(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/** JSON with object keys sorted, so key order does not make two bodies differ. */
function canonicalJson(v: unknown): string {
  if (v === undefined) return '';
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return x.toString();
    if (x && typeof x === 'object' && !Array.isArray(x)) {
      const o = x as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, o[k]])
      );
    }
    return x;
  });
}

/** JSON with bigints as decimal strings (protocol values are often bigint). */
function toJson(value: unknown): string {
  const text: string | undefined = JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'bigint' ? v.toString() : v
  );
  return text ?? 'null';
}

/** Echo at most 32 characters of client input in a message. */
function truncate(s: string): string {
  return s.length <= 32 ? s : `${s.slice(0, 32)}…`;
}
