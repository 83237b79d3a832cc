/**
 * The `mpc` CLI's HTTP client for the coordinator's `/v1` API (issue 6, "mpc CLI"), and the one
 * place that turns HTTP outcomes into exit codes ({@link ./exit-codes.ts}):
 *
 * - 401 → AUTH; 400/404/409/413/415 (any other 4xx too) → USAGE with the server's message, which
 *   already starts with the field (`threshold: must be at most parties (3)`); 5xx → FAILURE;
 *   connection refused, DNS failure, reset → UNAVAILABLE; a request that runs out of time → TIMEOUT.
 * - Every request is bounded (10 s by default). A POST that carries an `Idempotency-Key` is retried
 *   on a network error with the *same* key, so the coordinator answers the retry with the session
 *   the first attempt created instead of starting a second one (issue 6: "Idempotency keys so a
 *   retried POST does not create a second session"); GETs are retried the same way.
 * - {@link ApiClient.followSession} follows a session to its end over the server-sent-events
 *   stream, falling back to polling `GET /v1/sessions/{id}` every 500 ms when the stream breaks,
 *   all bounded by one deadline (`--timeout`).
 *
 * The token goes only into the `Authorization` header; no message built here contains it.
 * @module
 */
import { CliError } from './exit-codes.js';

/** Session statuses after which nothing changes (coordinator-lite/sessions.ts). */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'expired']);

/** A session as `GET /v1/sessions/{id}` shows it (coordinator-lite/api.ts `sessionView`). */
export interface SessionView {
  readonly id: string;
  readonly kind: 'keygen' | 'sign';
  readonly status: string;
  readonly participants: readonly string[];
  readonly joined: number;
  readonly ready: number;
  readonly reported: number;
  readonly expiresAt: string;
  readonly keyId?: string;
  readonly digest?: string;
  readonly label?: string;
  readonly result?: Record<string, unknown>;
  readonly failure?: {
    readonly reason: string;
    readonly detail: string;
    readonly culprits: ReadonlyArray<{ readonly party: string; readonly reason: string }>;
  };
}

/** Options of {@link ApiClient}. */
export interface ApiClientOptions {
  /** Coordinator base URL without a trailing slash (validated by the config layer). */
  readonly url: string;
  /** API token; requests that need it fail with AUTH when it is missing. */
  readonly token?: string | undefined;
  /** Per-request bound in ms (default 10 000). */
  readonly requestTimeoutMs?: number;
  /** Network-error retries for GETs and idempotent POSTs (default 2). */
  readonly retries?: number;
}

/** Options of one {@link ApiClient.request}. */
export interface RequestOptions {
  /** JSON body. */
  readonly body?: unknown;
  /** Send the bearer token (default true). */
  readonly auth?: boolean;
  /** `Idempotency-Key` header: makes a POST safe to retry. */
  readonly idempotencyKey?: string;
}

/** Options of {@link ApiClient.followSession}. */
export interface FollowOptions {
  /** Absolute deadline (ms since epoch): past it, TIMEOUT. */
  readonly deadline: number;
  /** Called with every new state seen (progress lines). */
  readonly onUpdate?: (s: SessionView) => void;
  /** Poll interval after the stream broke (default 500 ms). */
  readonly pollMs?: number;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** The error code of a failed `fetch` (`TypeError: fetch failed` with a `cause`). */
function causeCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'ABORT_ERR') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

/**
 * Map an HTTP error answer to a {@link CliError}.
 * @param status - the HTTP status (≥ 400)
 * @param body - the parsed body (`{ error: { code, message, field? } }` from coordinator-lite)
 * @param what - `METHOD path`, for answers without a message
 * @example
 * httpError(400, { error: { message: 'threshold: must be at most parties (3)' } }, 'POST /v1/keys')
 * // CliError USAGE "threshold: must be at most parties (3)"
 */
export function httpError(status: number, body: unknown, what: string): CliError {
  const err = (body as { error?: { message?: unknown; field?: unknown } } | undefined)?.error;
  const serverMessage = typeof err?.message === 'string' ? err.message : undefined;
  const field = typeof err?.field === 'string' ? err.field : undefined;
  // badRequest() messages already start with "<field>: "; others (404 "no such key") may not.
  const message =
    serverMessage === undefined
      ? `${what}: HTTP ${status}`
      : field && !serverMessage.startsWith(`${field}:`) && !serverMessage.includes(field)
        ? `${field}: ${serverMessage}`
        : serverMessage;
  if (status === 401) return new CliError('AUTH', `${message} (log in again: mpc login)`);
  if (status === 403) return new CliError('AUTH', message);
  if (status >= 500) return new CliError('FAILURE', `coordinator error: ${message}`);
  return new CliError('USAGE', message);
}

/**
 * A client of one coordinator.
 * @example
 * const api = new ApiClient({ url: 'http://127.0.0.1:8080', token });
 * const { nodes } = await api.request<{ nodes: unknown[] }>('GET', '/v1/nodes');
 */
export class ApiClient {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly retries: number;

  constructor(opts: ApiClientOptions) {
    this.url = opts.url;
    this.token = opts.token;
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.retries = opts.retries ?? 2;
  }

  private headers(opts: RequestOptions, json: boolean): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json' };
    if (json) h['content-type'] = 'application/json';
    if (opts.idempotencyKey) h['idempotency-key'] = opts.idempotencyKey;
    if (opts.auth !== false) {
      if (this.token === undefined) {
        throw new CliError('AUTH', 'no API token: run mpc login, set MPC_TOKEN, or pass --token');
      }
      h.authorization = `Bearer ${this.token}`;
    }
    return h;
  }

  /**
   * One API call, bounded and mapped to exit codes.
   * @param method - HTTP method
   * @param path - path under the base URL, e.g. `/v1/keys`
   * @returns the parsed JSON body (`undefined` for 204)
   * @throws CliError AUTH, USAGE, FAILURE, UNAVAILABLE or TIMEOUT (see the module doc)
   */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const hasBody = opts.body !== undefined;
    const headers = this.headers(opts, hasBody);
    const what = `${method} ${path}`;
    const retryable = method === 'GET' || opts.idempotencyKey !== undefined;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      let text: string;
      try {
        res = await fetch(this.url + path, {
          method,
          headers,
          ...(hasBody ? { body: JSON.stringify(opts.body) } : {}),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        text = await res.text();
      } catch (err) {
        const failure = this.networkError(err, what);
        if (retryable && attempt < this.retries && failure.code === 'UNAVAILABLE') {
          await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
          continue;
        }
        throw failure;
      }
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        if (res.ok) throw new CliError('FAILURE', `${what}: the answer is not JSON`);
      }
      if (!res.ok) throw httpError(res.status, body, what);
      return body as T;
    }
  }

  private networkError(err: unknown, what: string): CliError {
    if (isTimeout(err)) {
      return new CliError(
        'TIMEOUT',
        `${what}: no answer from ${this.url} within ${this.timeoutMs} ms`
      );
    }
    const code = causeCode(err);
    if (code === undefined || NETWORK_CODES.has(code) || err instanceof TypeError) {
      return new CliError(
        'UNAVAILABLE',
        `cannot reach the coordinator at ${this.url}${code ? ` (${code})` : ''}`
      );
    }
    return new CliError('FAILURE', `${what}: ${code}`);
  }

  /**
   * Follow a session until it ends: the event stream first, polling once it breaks.
   * @param id - session id
   * @returns the final session state when it `completed`
   * @throws CliError SESSION_FAILED (reason and culprits), TIMEOUT (`expired` or past the
   *   deadline), or a request error
   */
  async followSession(id: string, opts: FollowOptions): Promise<SessionView> {
    const path = `/v1/sessions/${encodeURIComponent(id)}`;
    let last: SessionView | undefined;
    const seen = (s: SessionView): void => {
      last = s;
      opts.onUpdate?.(s);
    };
    try {
      await this.stream(`${path}/events`, opts.deadline, seen);
    } catch (err) {
      // Errors that polling would only repeat end the follow; a broken stream does not.
      if (err instanceof CliError && (err.code === 'AUTH' || err.code === 'USAGE')) throw err;
    }
    while (!last || !TERMINAL_STATUSES.has(last.status)) {
      const left = opts.deadline - Date.now();
      if (left <= 0) break;
      if (last) await new Promise((r) => setTimeout(r, Math.min(opts.pollMs ?? 500, left)));
      try {
        seen(await this.request<SessionView>('GET', path));
      } catch (err) {
        // A blip while polling is retried until the deadline; a refusal is final.
        if (!(err instanceof CliError) || !['UNAVAILABLE', 'TIMEOUT'].includes(err.code)) {
          throw err;
        }
        if (Date.now() >= opts.deadline) throw err;
      }
    }
    return settle(id, last);
  }

  /** Read the SSE stream, handing each `status` event to `seen`, until it ends or the deadline. */
  private async stream(
    path: string,
    deadline: number,
    seen: (s: SessionView) => void
  ): Promise<void> {
    const left = deadline - Date.now();
    if (left <= 0) return;
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), left);
    // The answer's headers must come within the per-request bound; the body may last until then.
    const headersTimer = setTimeout(() => ctrl.abort(), Math.min(this.timeoutMs, left));
    try {
      const res = await fetch(this.url + path, {
        headers: { ...this.headers({}, false), accept: 'text/event-stream' },
        signal: ctrl.signal,
      });
      clearTimeout(headersTimer);
      if (!res.ok) {
        const text = await res.text();
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        throw httpError(res.status, body, `GET ${path}`);
      }
      if (!res.body) return;
      const decoder = new TextDecoder();
      let buf = '';
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const event = parseEvent(buf.slice(0, end));
          buf = buf.slice(end + 2);
          if (event?.event === 'status') {
            const s = event.data as SessionView;
            seen(s);
            if (TERMINAL_STATUSES.has(s.status)) return;
          }
        }
      }
    } finally {
      clearTimeout(timer);
      clearTimeout(headersTimer);
      ctrl.abort();
    }
  }
}

/** One SSE event block (`event:` and `data:` lines; comments ignored), data parsed as JSON. */
function parseEvent(block: string): { event: string; data: unknown } | undefined {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return undefined;
  try {
    return { event, data: JSON.parse(data.join('\n')) };
  } catch {
    return undefined;
  }
}

/** Turn the last state seen into the result or the matching error. */
function settle(id: string, last: SessionView | undefined): SessionView {
  if (last?.status === 'completed') return last;
  if (last?.status === 'failed') {
    const f = last.failure;
    const culprits = f?.culprits.length
      ? `; culprits: ${f.culprits.map((c) => `${c.party} (${c.reason})`).join(', ')}`
      : '';
    throw new CliError(
      'SESSION_FAILED',
      `session ${id} failed: ${f?.reason ?? 'no reason given'}${f?.detail ? ` (${f.detail})` : ''}${culprits}`
    );
  }
  if (last?.status === 'expired') {
    throw new CliError(
      'TIMEOUT',
      `session ${id} expired: not every participant joined and got ready in time (${last.ready}/${last.participants.length} ready)`
    );
  }
  throw new CliError(
    'TIMEOUT',
    `session ${id} did not finish within --timeout (last status: ${last?.status ?? 'unknown'}); see: mpc session ${id}`
  );
}
