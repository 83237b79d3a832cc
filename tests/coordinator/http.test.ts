/**
 * The coordinator-lite HTTP framework (issue 6, "HTTP/JSON API … consistent error shape; request
 * ids … TLS"): real servers on 127.0.0.1:0 driven by `fetch`, raw sockets (to show a 413 comes
 * before the body is sent) and `node:https` (with the self-signed certificate as its only CA).
 *
 * Covered: 404/405 (+`Allow`)/HEAD, request-id echo and replacement, one log line per request
 * without headers or bodies, 415/413/invalid JSON, the body validator's messages (unknown field by
 * name, hex length, paths into arrays and objects), ApiError vs. unexpected errors (500 with the
 * cause only in the log), bearer auth (401 + `WWW-Authenticate`, principal passed through, a
 * failing check is a 500), idempotency (replay, reuse conflict, per-principal scope, concurrent
 * retries), the OpenAPI route, SSE (two events, keep-alive comments, client disconnect noticed,
 * server close ends the stream), HTTPS, the header timeout, and a prompt `close()`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../daemon/log.js';
import { ApiError, conflict, notFound } from '../../coordinator-lite/http/errors.js';
import {
  createApiServer,
  idempotent,
  type ApiServer,
  type ApiServerOptions,
  type IdempotencyStore,
  type Route,
  type StoredResponse,
} from '../../coordinator-lite/http/server.js';
import { startSse, type SseStream } from '../../coordinator-lite/http/sse.js';
import { readBody } from '../../coordinator-lite/http/validate.js';

interface Principal {
  id: string;
}

const TOKENS: Record<string, Principal> = {
  'tok-alice': { id: 'alice' },
  'tok-bob': { id: 'bob' },
};

let servers: ApiServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** Start a server with a captured log; the lines are parsed JSON objects. */
async function start(
  routes: Route<Principal>[],
  extra: Partial<ApiServerOptions<Principal>> = {}
): Promise<{ api: ApiServer; lines: Record<string, unknown>[] }> {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'debug',
    name: 'test',
    destination: { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) },
  });
  const api = await createApiServer<Principal>({
    host: '127.0.0.1',
    port: 0,
    log,
    routes,
    authenticate: async (t) => TOKENS[t],
    ...extra,
  });
  servers.push(api);
  return { api, lines };
}

async function json(
  res: Response
): Promise<{ error?: Record<string, unknown> } & Record<string, unknown>> {
  return (await res.json()) as { error?: Record<string, unknown> } & Record<string, unknown>;
}

const post = (url: string, body: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/json', ...headers } });

/** Send raw bytes on a fresh socket; resolve with everything received until the server closes. */
function raw(port: number, data: string, opts: { timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`socket still open after ${opts.timeoutMs ?? 2000} ms; got ${got}`));
    }, opts.timeoutMs ?? 2000);
    sock.on('data', (d) => (got += d.toString('utf8')));
    sock.on('error', () => undefined); // a reset after the answer is fine
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    sock.write(data);
  });
}

const echo: Route<Principal> = {
  method: 'GET',
  path: '/v1/keys/:id/signatures/:sig',
  auth: false,
  handler: (ctx) => ctx.reply(200, { params: ctx.params, q: ctx.query.get('q'), route: ctx.route }),
};

describe('routing', () => {
  it('matches templates, decodes params, serves HEAD from GET, and answers 404/405', async () => {
    const { api } = await start([
      echo,
      { method: 'POST', path: '/v1/keys', auth: false, handler: (c) => c.reply(201, { ok: 1 }) },
      { method: 'GET', path: '/v1/keys/mine', auth: false, handler: (c) => c.reply(200, 'mine') },
      { method: 'GET', path: '/v1/keys/:id', auth: false, handler: (c) => c.reply(200, c.params) },
    ]);
    const ok = await fetch(`${api.url}/v1/keys/k%2F1/signatures/s1?q=7`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await ok.json()).toEqual({
      params: { id: 'k/1', sig: 's1' },
      q: '7',
      route: '/v1/keys/:id/signatures/:sig',
    });
    // A literal segment wins over a parameter, whatever the table order.
    expect(await (await fetch(`${api.url}/v1/keys/mine`)).json()).toBe('mine');
    expect(await (await fetch(`${api.url}/v1/keys/other`)).json()).toEqual({ id: 'other' });

    const head = await fetch(`${api.url}/v1/keys/a/signatures/b`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(10);
    expect(await head.text()).toBe('');

    const missing = await fetch(`${api.url}/v1/nothing`);
    expect(missing.status).toBe(404);
    const body = await json(missing);
    expect(body.error).toMatchObject({
      code: 'not-found',
      requestId: missing.headers.get('x-request-id'),
    });
    // An empty parameter segment is not a match.
    expect((await fetch(`${api.url}/v1/keys//signatures/x`)).status).toBe(404);

    const wrong = await fetch(`${api.url}/v1/keys/a/signatures/b`, { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
    expect((await json(wrong)).error?.code).toBe('method-not-allowed');
    const wrong2 = await fetch(`${api.url}/v1/keys`, { method: 'GET' });
    expect(wrong2.status).toBe(405);
    expect(wrong2.headers.get('allow')).toBe('POST');
  });

  it('refuses a bad route table', async () => {
    const h = (): void => undefined;
    const base = { host: '127.0.0.1', port: 0, log: createLogger({ level: 'silent', name: 't' }) };
    await expect(
      createApiServer({
        ...base,
        routes: [
          { method: 'GET', path: '/a/:id', auth: false, handler: h },
          { method: 'GET', path: '/a/:key', auth: false, handler: h },
        ],
      })
    ).rejects.toThrow(/same shape/);
    await expect(
      createApiServer({ ...base, routes: [{ method: 'GET', path: '/a', auth: true, handler: h }] })
    ).rejects.toThrow(/no authenticate/);
    await expect(
      createApiServer({
        ...base,
        routes: [
          { method: 'GET', path: '/a', auth: false, handler: h },
          { method: 'GET', path: '/a', auth: false, handler: h },
        ],
      })
    ).rejects.toThrow(/duplicate route/);
  });
});

describe('request ids and logs', () => {
  it('echoes a well-formed X-Request-Id, replaces a bad one, and logs one line per request', async () => {
    const { api, lines } = await start([echo]);
    const a = await fetch(`${api.url}/v1/keys/a/signatures/b`, {
      headers: { 'X-Request-Id': 'client.req-1_A', Authorization: 'Bearer tok-alice' },
    });
    expect(a.headers.get('x-request-id')).toBe('client.req-1_A');

    const b = await fetch(`${api.url}/v1/none`, {
      headers: { 'X-Request-Id': 'bad id with spaces' },
    });
    const id = b.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect((await json(b)).error?.requestId).toBe(id);

    const c = await fetch(`${api.url}/v1/none`, { headers: { 'X-Request-Id': 'x'.repeat(65) } });
    expect(c.headers.get('x-request-id')).not.toBe('x'.repeat(65));

    await new Promise((r) => setTimeout(r, 20)); // the line is written on the response's close
    const reqLines = lines.filter((l) => l.msg === 'api request');
    expect(reqLines).toHaveLength(3);
    expect(reqLines[0]).toMatchObject({
      method: 'GET',
      route: '/v1/keys/:id/signatures/:sig',
      status: 200,
      requestId: 'client.req-1_A',
    });
    expect(typeof reqLines[0]!.ms).toBe('number');
    expect(reqLines[1]).toMatchObject({ route: null, status: 404, requestId: id });
    const all = JSON.stringify(lines);
    expect(all).not.toContain('tok-alice');
    expect(all).not.toContain('/v1/keys/a/signatures/b');
  });
});

describe('request bodies', () => {
  const bodyRoute: Route<Principal> = {
    method: 'POST',
    path: '/v1/keys',
    auth: false,
    handler: (ctx) => {
      const b = readBody(ctx.body);
      const threshold = b.int('threshold', { min: 1, max: 16 });
      const digest = b.hex('digest', { bytes: 32, optional: true });
      const label = b.string('label', { max: 8, optional: true });
      b.done();
      ctx.reply(201, { threshold, label, digestBytes: digest?.length });
    },
  };

  it('accepts JSON (charset optional) and parses it', async () => {
    const { api } = await start([bodyRoute]);
    const r = await post(
      `${api.url}/v1/keys`,
      JSON.stringify({ threshold: 2, digest: '0x' + 'ab'.repeat(32) })
    );
    expect(r.status).toBe(201);
    expect(await r.json()).toEqual({ threshold: 2, digestBytes: 32 });
    const r2 = await post(`${api.url}/v1/keys`, '{"threshold":3}', {
      'Content-Type': 'Application/JSON; charset=UTF-8',
    });
    expect(r2.status).toBe(201);
  });

  it('415 for another content type, 400 (field body) for invalid JSON', async () => {
    const { api } = await start([bodyRoute]);
    const r = await post(`${api.url}/v1/keys`, '{"threshold":2}', { 'Content-Type': 'text/plain' });
    expect(r.status).toBe(415);
    expect((await json(r)).error).toMatchObject({ code: 'unsupported-media-type' });
    const latin = await post(`${api.url}/v1/keys`, '{}', {
      'Content-Type': 'application/json; charset=latin1',
    });
    expect(latin.status).toBe(415);

    const bad = await post(`${api.url}/v1/keys`, '{"threshold": 2, "secret-ish": hunter2}');
    expect(bad.status).toBe(400);
    const err = (await json(bad)).error!;
    expect(err).toMatchObject({ code: 'bad-request', field: 'body' });
    expect(JSON.stringify(err)).not.toContain('hunter2');
  });

  it('names unknown fields, and says how long a hex value was', async () => {
    const { api } = await start([bodyRoute]);
    const unknown = await post(`${api.url}/v1/keys`, JSON.stringify({ threshold: 2, treshold: 2 }));
    expect(unknown.status).toBe(400);
    expect((await json(unknown)).error).toMatchObject({
      field: 'treshold',
      message: 'treshold: unknown field',
    });

    const short = await post(
      `${api.url}/v1/keys`,
      JSON.stringify({ threshold: 2, digest: 'ab'.repeat(31) })
    );
    expect(short.status).toBe(400);
    expect((await json(short)).error).toMatchObject({
      field: 'digest',
      message: 'digest: must be 32 bytes of hex (got 31)',
    });

    const range = await post(`${api.url}/v1/keys`, JSON.stringify({ threshold: 17 }));
    expect((await json(range)).error?.message).toBe(
      'threshold: must be an integer in 1..16 (got 17)'
    );
    const missing = await post(`${api.url}/v1/keys`, '{}');
    expect((await json(missing)).error).toMatchObject({
      field: 'threshold',
      message: 'threshold: is required',
    });
    const notObject = await post(`${api.url}/v1/keys`, '[1]');
    expect((await json(notObject)).error).toMatchObject({ field: 'body' });
  });

  it('413 for a declared oversized body without reading it, then closes the connection', async () => {
    const { api } = await start([bodyRoute], { maxBodyBytes: 1024 });
    // Declare 10 MB but send only 10 bytes: the answer must come anyway, and the socket close.
    const answer = await raw(
      api.port,
      'POST /v1/keys HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        'Content-Length: 10000000\r\n\r\n{"a":12345'
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(answer).toContain('"code":"payload-too-large"');
    expect(answer).toContain('1024 bytes');
  });

  it('413 for a chunked body that streams past the limit', async () => {
    const { api } = await start([bodyRoute], { maxBodyBytes: 1024 });
    const chunk = 'x'.repeat(800);
    const size = chunk.length.toString(16);
    // Two chunks (1600 bytes) and no terminating chunk: the server must not wait for more.
    const answer = await raw(
      api.port,
      'POST /v1/keys HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        `Transfer-Encoding: chunked\r\n\r\n${size}\r\n${chunk}\r\n${size}\r\n${chunk}\r\n`
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('a POST without a body has body undefined', async () => {
    const { api } = await start([
      {
        method: 'POST',
        path: '/v1/x',
        auth: false,
        handler: (c) => c.reply(200, { none: c.body === undefined }),
      },
    ]);
    const r = await fetch(`${api.url}/v1/x`, { method: 'POST' });
    expect(await r.json()).toEqual({ none: true });
  });
});

describe('handler errors', () => {
  it('an ApiError keeps its status and code; anything else is a generic 500, logged', async () => {
    const { api, lines } = await start([
      { method: 'GET', path: '/v1/a', auth: false, handler: () => Promise.reject(notFound('key')) },
      {
        method: 'GET',
        path: '/v1/b',
        auth: false,
        handler: () => {
          throw conflict('already started');
        },
      },
      {
        method: 'GET',
        path: '/v1/c',
        auth: false,
        handler: () => {
          throw new Error('db path /secret/place exploded');
        },
      },
      { method: 'GET', path: '/v1/d', auth: false, handler: () => undefined },
    ]);
    const a = await fetch(`${api.url}/v1/a`);
    expect(a.status).toBe(404);
    expect((await json(a)).error).toMatchObject({ code: 'not-found', message: 'no such key' });
    const b = await fetch(`${api.url}/v1/b`);
    expect(b.status).toBe(409);
    expect((await json(b)).error?.code).toBe('conflict');

    const c = await fetch(`${api.url}/v1/c`);
    expect(c.status).toBe(500);
    const text = await c.text();
    expect(JSON.parse(text)).toMatchObject({
      error: { code: 'internal', message: 'internal error' },
    });
    expect(text).not.toContain('exploded');
    const logged = lines.find((l) => l.msg === 'api handler failed');
    expect(JSON.stringify(logged)).toContain('exploded');
    expect(logged?.requestId).toBe(c.headers.get('x-request-id'));

    // A handler that forgets to reply is a bug: 500, not a hung request.
    expect((await fetch(`${api.url}/v1/d`)).status).toBe(500);
  });

  it('ApiError refuses a non-error status', () => {
    expect(() => new ApiError(200, 'ok', 'x')).toThrow(/400\.\.599/);
  });
});

describe('authentication', () => {
  const whoami: Route<Principal> = {
    method: 'GET',
    path: '/v1/me',
    auth: true,
    handler: (c) => c.reply(200, c.principal),
  };

  it('401 with WWW-Authenticate when the token is missing, malformed or unknown', async () => {
    const { api } = await start([whoami]);
    for (const headers of [
      {},
      { Authorization: 'Basic dXNlcjpwYXNz' },
      { Authorization: 'Bearer nope' },
    ]) {
      const r = await fetch(`${api.url}/v1/me`, { headers });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
      expect((await json(r)).error?.code).toBe('unauthorized');
    }
    const ok = await fetch(`${api.url}/v1/me`, { headers: { Authorization: 'bearer tok-bob' } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ id: 'bob' });
  });

  it('a failing authenticate (not a refusal) is a 500', async () => {
    const { api } = await start([whoami], {
      authenticate: () => Promise.reject(new Error('store closed')),
    });
    const r = await fetch(`${api.url}/v1/me`, { headers: { Authorization: 'Bearer tok-bob' } });
    expect(r.status).toBe(500);
  });

  it('authenticates before reading the body', async () => {
    const { api } = await start([{ ...whoami, method: 'POST' }]);
    const r = await post(`${api.url}/v1/me`, 'not json at all');
    expect(r.status).toBe(401);
  });
});

describe('idempotency keys', () => {
  function memoryStore(): IdempotencyStore & { map: Map<string, StoredResponse> } {
    const map = new Map<string, StoredResponse>();
    return {
      map,
      get: async (k) => map.get(k),
      put: async (k, v) => void map.set(k, v),
    };
  }

  async function setup(): Promise<{ api: ApiServer; calls: () => number }> {
    const store = memoryStore();
    let n = 0;
    const { api } = await start([
      {
        method: 'POST',
        path: '/v1/keys',
        auth: true,
        handler: (ctx) =>
          idempotent(ctx, store, ctx.principal!.id, async () => {
            n += 1;
            await new Promise((r) => setTimeout(r, 20)); // widen the race window
            return { status: 201, body: { session: n, big: 5n } };
          }),
      },
    ]);
    return { api, calls: () => n };
  }
  const send = (
    api: ApiServer,
    body: unknown,
    key: string | undefined,
    token = 'tok-alice'
  ): Promise<Response> =>
    post(`${api.url}/v1/keys`, JSON.stringify(body), {
      Authorization: `Bearer ${token}`,
      ...(key === undefined ? {} : { 'Idempotency-Key': key }),
    });

  it('replays the first response for the same key and body, 409 for another body', async () => {
    const { api, calls } = await setup();
    const first = await send(api, { threshold: 2, parties: ['a', 'b'] }, 'key-1');
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual({ session: 1, big: '5' });

    // Same request with keys in another order: still the same request.
    const again = await send(api, { parties: ['a', 'b'], threshold: 2 }, 'key-1');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual({ session: 1, big: '5' });
    expect(calls()).toBe(1);

    const reused = await send(api, { threshold: 3, parties: ['a', 'b'] }, 'key-1');
    expect(reused.status).toBe(409);
    expect((await json(reused)).error).toMatchObject({
      code: 'idempotency-key-reused',
      field: 'Idempotency-Key',
    });
    expect(calls()).toBe(1);

    // Another principal's key space is separate.
    const bob = await send(api, { threshold: 2, parties: ['a', 'b'] }, 'key-1', 'tok-bob');
    expect(await bob.json()).toEqual({ session: 2, big: '5' });
    // No key: no deduplication.
    await send(api, { threshold: 2 }, undefined);
    await send(api, { threshold: 2 }, undefined);
    expect(calls()).toBe(4);
  });

  it('concurrent retries with one key run the work once', async () => {
    const { api, calls } = await setup();
    const rs = await Promise.all([1, 2, 3].map(() => send(api, { threshold: 2 }, 'same:key.1')));
    const bodies = await Promise.all(rs.map((r) => r.json()));
    expect(bodies).toEqual([1, 2, 3].map(() => ({ session: 1, big: '5' })));
    expect(calls()).toBe(1);
  });

  it('refuses a malformed key', async () => {
    const { api, calls } = await setup();
    const r = await send(api, { threshold: 2 }, 'has space');
    expect(r.status).toBe(400);
    expect((await json(r)).error?.field).toBe('Idempotency-Key');
    expect((await send(api, {}, 'k'.repeat(129))).status).toBe(400);
    expect(calls()).toBe(0);
  });
});

describe('openapi', () => {
  it('serves the document at /v1/openapi.json without auth', async () => {
    const doc = { openapi: '3.1.0', info: { title: 'mpcd coordinator', version: '1' } };
    const { api } = await start([], { openapi: doc });
    const r = await fetch(`${api.url}/v1/openapi.json`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual(doc);
  });
});

describe('server-sent events', () => {
  /** A route that opens a stream, sends two events, and records when it closes. */
  function sseRoute(
    state: { closed: number; stream?: SseStream },
    keepAliveMs?: number
  ): Route<Principal> {
    return {
      method: 'GET',
      path: '/v1/events',
      auth: false,
      handler: (ctx) => {
        const s = startSse(ctx, { keepAliveMs, onClose: () => (state.closed += 1) });
        state.stream = s;
        s.send('status', { state: 'joining' });
        s.send('progress', { round: 2, total: 5n });
      },
    };
  }

  async function readUntil(
    reader: ReadableStreamDefaultReader<Uint8Array>,
    pred: (s: string) => boolean
  ): Promise<string> {
    const dec = new TextDecoder();
    let text = '';
    const deadline = Date.now() + 3000;
    while (!pred(text)) {
      if (Date.now() > deadline) throw new Error(`timed out; got ${text}`);
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
    }
    return text;
  }

  async function until(cond: () => boolean): Promise<void> {
    const deadline = Date.now() + 3000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error('condition not met within 3 s');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('streams two events with keep-alive comments and notices the client leaving', async () => {
    const state = { closed: 0 } as { closed: number; stream?: SseStream };
    // A short request timeout: a stream must outlive it (it bounds receiving the request only).
    const { api } = await start([sseRoute(state, 50)], {
      timeouts: { headersMs: 100, requestMs: 150 },
    });
    const ac = new AbortController();
    const res = await fetch(`${api.url}/v1/events`, { signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const reader = res.body!.getReader();
    const text = await readUntil(
      reader,
      (s) => s.includes('event: progress') && s.includes(': keep-alive')
    );
    expect(text).toContain('event: status\ndata: {"state":"joining"}\n\n');
    expect(text).toContain('event: progress\ndata: {"round":2,"total":"5"}\n\n');

    await new Promise((r) => setTimeout(r, 300)); // past requestMs
    expect(state.closed).toBe(0);
    state.stream!.send('status', { state: 'done' });
    expect(await readUntil(reader, (s) => s.includes('"done"'))).toContain('"done"');

    ac.abort();
    await until(() => state.closed === 1);
    expect(state.stream!.closed).toBe(true);
    state.stream!.send('status', {}); // ignored, no throw
  });

  it('server close ends open streams promptly', async () => {
    const state = { closed: 0 } as { closed: number; stream?: SseStream };
    const { api } = await start([sseRoute(state)], { timeouts: { closeGraceMs: 10_000 } });
    const res = await fetch(`${api.url}/v1/events`);
    const reader = res.body!.getReader();
    await readUntil(reader, (s) => s.includes('event: progress'));
    const t0 = Date.now();
    await api.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(state.closed).toBe(1);
  });
});

describe('connections', () => {
  it('close() ends idle keep-alive connections at once', async () => {
    const { api } = await start([echo], {
      timeouts: { closeGraceMs: 10_000, keepAliveMs: 10_000 },
    });
    const agent = new Agent({ keepAlive: true });
    const status = await new Promise<number>((resolve, reject) => {
      httpRequest(`${api.url}/v1/keys/a/signatures/b`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(200);
    const t0 = Date.now();
    await api.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    agent.destroy();
  });

  it('drops a client that does not finish its headers in time', async () => {
    const { api } = await start([echo], { timeouts: { headersMs: 100, requestMs: 200 } });
    const t0 = Date.now();
    const answer = await raw(api.port, 'GET /v1/keys/a/signatures/b HTTP/1.1\r\nHost: x\r\n', {
      timeoutMs: 3000,
    });
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(answer === '' || /^HTTP\/1\.1 408 /.test(answer)).toBe(true);
  });
  it('drops a connection that never sends a request, and close() does not wait for one', async () => {
    const { api } = await start([echo], { timeouts: { headersMs: 100, requestMs: 200 } });
    const t0 = Date.now();
    expect(await raw(api.port, '', { timeoutMs: 3000 })).toMatch(/^(|HTTP\/1\.1 408 [^]*)$/);
    expect(Date.now() - t0).toBeLessThan(2500);

    const { api: api2 } = await start([echo], { timeouts: { closeGraceMs: 10_000 } });
    const silent = raw(api2.port, '', { timeoutMs: 3000 });
    await new Promise((r) => setTimeout(r, 50)); // let the connection be accepted
    const t1 = Date.now();
    await api2.close();
    expect(Date.now() - t1).toBeLessThan(1000);
    expect(await silent).toBe('');
  });
});

describe('https', () => {
  it('serves TLS with a PEM certificate and key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpcd-http-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost,IP:127.0.0.1',
          '-days',
          '1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' }
      );
      const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      const key = readFileSync(join(dir, 'key.pem'), 'utf8');
      const { api } = await start([echo], { tls: { cert, key } });
      expect(api.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const { status, body } = await new Promise<{ status: number; body: string }>(
        (resolve, reject) => {
          httpsRequest(`${api.url}/v1/keys/a/signatures/b`, { ca: cert }, (res) => {
            let b = '';
            res.on('data', (d: Buffer) => (b += d.toString('utf8')));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
          })
            .on('error', reject)
            .end();
        }
      );
      expect(status).toBe(200);
      expect(JSON.parse(body)).toMatchObject({ params: { id: 'a', sig: 'b' } });
      // Without the CA the self-signed certificate is refused: TLS is really in use.
      await expect(
        new Promise((resolve, reject) => {
          httpsRequest(`${api.url}/v1/keys/a/signatures/b`, (res) => resolve(res.statusCode))
            .on('error', reject)
            .end();
        })
      ).rejects.toThrow(/self[- ]signed/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('readBody (unit)', () => {
  it('names paths into arrays and nested objects', () => {
    const b = readBody({
      parties: ['a', 'b', 'a'],
      opts: { hashing: 'sha3', extra: 1 },
      ok: 'yes',
    });
    expect(() => b.stringArray('parties', { unique: true })).toThrow('parties[2]: is a duplicate');
    const o = b.object('opts');
    expect(() => o.enum('hashing', ['none', 'eth-personal'] as const)).toThrow(
      'opts.hashing: must be one of none, eth-personal (got another string)'
    );
    expect(() => o.done()).toThrow('opts.extra: unknown field');
    expect(() => b.bool('ok')).toThrow('ok: must be true or false (got a string)');
    expect(() => readBody({ n: 1.5 }).int('n')).toThrow(
      'n: must be an integer (got a fractional number)'
    );
    expect(() => readBody({ h: '0xabc' }).hex('h', { bytes: 2 })).toThrow(/odd number/);
    expect(() =>
      readBody({ s: 'ABC' }).string('s', { pattern: /^[a-z]+$/, patternHint: 'lower-case letters' })
    ).toThrow('s: must be lower-case letters');
    expect(() => readBody({ s: null }).string('s', { optional: true })).toThrow(
      's: must not be null'
    );
    expect(readBody({}).string('s', { optional: true })).toBeUndefined();
    expect(readBody({ h: '0XABCD' }).hex('h', { bytes: 2 })).toEqual(new Uint8Array([0xab, 0xcd]));
    expect(() => readBody({ a: 1, b: 2, c: 3 }).done()).toThrow('a: unknown field (and 2 more)');
  });
});
