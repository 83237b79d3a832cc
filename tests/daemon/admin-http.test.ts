/**
 * The admin HTTP server, started for real on 127.0.0.1 port 0 and driven with `fetch` (and raw
 * sockets where fetch hides the wire): every route and status, content types, HEAD, 404 and 405,
 * a throwing route (500, logged, not echoed), the request log, body limits, timeouts, prompt
 * close() of open connections, the non-loopback warning, and input validation.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MAX_BODY_BYTES,
  isLoopback,
  startAdminServer,
  type AdminRoutes,
  type AdminServer,
  type AdminServerOptions,
  type HealthReport,
} from '../../daemon/admin-http.js';
import { createLogger } from '../../daemon/log.js';

const OK: HealthReport = { ok: true, checks: { keystore: { ok: true } } };
const DOWN: HealthReport = { ok: false, checks: { libp2p: { ok: false, detail: 'no peers' } } };
const METRICS = '# HELP up Up.\n# TYPE up gauge\nup 1\n';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'debug',
    name: 'test',
    destination: { write: (s: string) => void lines.push(JSON.parse(s)) },
  });
  return { log, lines };
}

function routes(over: Partial<AdminRoutes> = {}): AdminRoutes {
  return {
    health: () => OK,
    ready: () => OK,
    status: () => ({ peers: 2, sessions: [] }),
    metrics: () => METRICS,
    ...over,
  };
}

const servers: AdminServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(over: Partial<AdminServerOptions> = {}) {
  const { log, lines } = capture();
  const server = await startAdminServer({
    host: '127.0.0.1',
    port: 0,
    routes: routes(),
    log,
    ...over,
  });
  servers.push(server);
  return { server, lines };
}

/**
 * Open a raw TCP connection to `server`, write `data`, and resolve with everything received
 * once the server closes it (or reject after `limitMs`).
 */
function raw(
  server: AdminServer,
  data: string | Buffer,
  limitMs = 3_000
): { closed: Promise<{ text: string; ms: number }>; written: Promise<void> } {
  const socket = connect(server.port, '127.0.0.1');
  const t0 = Date.now();
  let text = '';
  socket.on('data', (d) => (text += d.toString('latin1')));
  socket.on('error', () => {}); // a reset is an expected way for the server to end it
  const written = new Promise<void>((resolve) => socket.write(data, () => resolve()));
  const closed = new Promise<{ text: string; ms: number }>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`socket still open after ${limitMs} ms`));
    }, limitMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, ms: Date.now() - t0 });
    });
  });
  return { closed, written };
}

describe('routes', () => {
  it('GET /healthz and /readyz answer 200 with the report JSON', async () => {
    const { server } = await start();
    for (const path of ['/healthz', '/readyz']) {
      const res = await fetch(server.url + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toEqual(OK);
    }
  });

  it('answers 503 with the report when a probe is not ok, independently per route', async () => {
    const { server } = await start({ routes: routes({ ready: () => DOWN }) });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual(DOWN);
    const { server: s2 } = await start({ routes: routes({ health: () => DOWN }) });
    expect((await fetch(`${s2.url}/healthz`)).status).toBe(503);
    expect((await fetch(`${s2.url}/readyz`)).status).toBe(200);
  });

  it('GET /metrics answers the Prometheus text with its content type', async () => {
    const { server } = await start();
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await res.text()).toBe(METRICS);
  });

  it('GET /v1/status answers the status JSON, bigints as decimal strings', async () => {
    const { server } = await start({
      routes: routes({ status: () => ({ epoch: 2n ** 70n, peers: ['a'], note: 'é' }) }),
    });
    const res = await fetch(`${server.url}/v1/status`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.json()).toEqual({ epoch: '1180591620717411303424', peers: ['a'], note: 'é' });
  });

  it('ignores the query string', async () => {
    const { server } = await start();
    expect((await fetch(`${server.url}/healthz?verbose=1`)).status).toBe(200);
  });

  it('HEAD answers the GET status and headers with an empty body', async () => {
    const { server } = await start({ routes: routes({ ready: () => DOWN }) });
    for (const [path, status] of [
      ['/healthz', 200],
      ['/readyz', 503],
      ['/metrics', 200],
      ['/v1/status', 200],
    ] as const) {
      const get = await fetch(server.url + path);
      const getBody = await get.arrayBuffer();
      const head = await fetch(server.url + path, { method: 'HEAD' });
      expect(head.status, path).toBe(status);
      expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
      expect(head.headers.get('content-length')).toBe(String(getBody.byteLength));
      expect((await head.arrayBuffer()).byteLength).toBe(0);
    }
  });

  it('answers an unknown path with a JSON 404', async () => {
    const { server } = await start();
    for (const path of ['/', '/healthz/', '/v1/status/x', '/HEALTHZ']) {
      const res = await fetch(server.url + path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await res.json()).toEqual({
        error: { code: 'NOT_FOUND', message: `no such path: ${path}` },
      });
    }
    const post = await fetch(`${server.url}/nope`, { method: 'POST' });
    expect(post.status).toBe(404);
  });

  it('answers other methods with a JSON 405 and an Allow header', async () => {
    const { server } = await start();
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const res = await fetch(`${server.url}/healthz`, { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      expect(await res.json()).toEqual({
        error: { code: 'METHOD_NOT_ALLOWED', message: `${method} not allowed` },
      });
    }
  });

  it('answers a throwing route with a generic 500 and logs the error instead', async () => {
    const boom = (): never => {
      throw Object.assign(new Error('keystore closed: detail-xyz'), { code: 'STORE_CLOSED' });
    };
    const { server, lines } = await start({
      routes: routes({ health: boom, ready: boom, status: boom, metrics: boom }),
    });
    for (const path of ['/healthz', '/readyz', '/metrics', '/v1/status']) {
      const res = await fetch(server.url + path);
      expect(res.status, path).toBe(500);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
      expect(text).not.toContain('detail-xyz');
    }
    const errors = lines.filter((l) => l.msg === 'admin route failed');
    expect(errors.map((l) => l.path)).toEqual(['/healthz', '/readyz', '/metrics', '/v1/status']);
    expect(errors[0]).toMatchObject({
      level: 50,
      err: { message: 'keystore closed: detail-xyz', code: 'STORE_CLOSED' },
    });
  });

  it('answers null for an undefined status and 500 for a non-string metrics body', async () => {
    const { server } = await start({
      routes: routes({ status: () => undefined, metrics: () => 42 as unknown as string }),
    });
    const status = await fetch(`${server.url}/v1/status`);
    expect(status.status).toBe(200);
    expect(await status.text()).toBe('null');
    expect((await fetch(`${server.url}/metrics`)).status).toBe(500);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('answers 500 when the status is not serializable', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const { server, lines } = await start({ routes: routes({ status: () => cyclic }) });
    expect((await fetch(`${server.url}/v1/status`)).status).toBe(500);
    expect(lines.some((l) => l.msg === 'admin route failed')).toBe(true);
  });
});

describe('request log', () => {
  it('logs one debug line per request with method, path, status, ms — no headers, no query', async () => {
    const { server, lines } = await start({ routes: routes({ ready: () => DOWN }) });
    await (
      await fetch(`${server.url}/healthz?token=abc123`, {
        headers: { authorization: 'Bearer hunter2', 'x-custom': 'zzz' },
      })
    ).text();
    await (await fetch(`${server.url}/readyz`, { method: 'HEAD' })).text();
    await (await fetch(`${server.url}/missing`)).text();
    const reqs = lines.filter((l) => l.msg === 'admin request');
    expect(reqs.map((l) => [l.level, l.method, l.path, l.status])).toEqual([
      [20, 'GET', '/healthz', 200],
      [20, 'HEAD', '/readyz', 503],
      [20, 'GET', '/missing', 404],
    ]);
    for (const l of reqs) expect(typeof l.ms).toBe('number');
    const all = JSON.stringify(lines);
    expect(all).not.toMatch(/hunter2|abc123|zzz|x-custom|headers/);
  });
});

describe('request bodies', () => {
  it('ignores a small body', async () => {
    const { server } = await start();
    const body = 'a'.repeat(MAX_BODY_BYTES);
    const { closed } = raw(
      server,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`
    );
    const { text } = await closed;
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });

  it('answers a declared body over 1 KiB with 413 and closes the connection', async () => {
    const { server } = await start();
    const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${server.url}/healthz`, {
        method: 'GET',
        headers: { 'content-length': MAX_BODY_BYTES + 1 },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end('x'.repeat(MAX_BODY_BYTES + 1));
    });
    expect(status.status).toBe(413);
    expect(JSON.parse(status.body).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('destroys the socket when a streamed body exceeds 1 KiB', async () => {
    const { server } = await start({ timeouts: { requestMs: 10_000 } });
    const chunk = 'y'.repeat(MAX_BODY_BYTES + 10);
    // Chunked and never terminated: only the byte limit can end this connection quickly.
    const head = 'GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n';
    const { closed } = raw(server, `${head}${chunk.length.toString(16)}\r\n${chunk}\r\n`, 2_000);
    const { ms } = await closed;
    expect(ms).toBeLessThan(2_000);
  });
});

describe('timeouts and close', () => {
  it('closes a connection whose headers never complete, after headersMs', async () => {
    const { server } = await start({ timeouts: { headersMs: 200, requestMs: 400 } });
    const { closed } = raw(server, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 3_000);
    const { text, ms } = await closed;
    expect(ms).toBeGreaterThanOrEqual(150);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('close() promptly ends a half-sent request and an idle keep-alive connection', async () => {
    // Long timeouts: without closeAllConnections these sockets would outlive close() by seconds.
    const { server } = await start({
      timeouts: { headersMs: 20_000, requestMs: 30_000, keepAliveMs: 30_000 },
    });
    const keepAlive = raw(server, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 5_000);
    const partial = raw(server, 'GET /readyz HTTP/1.1\r\nHost: x\r\n', 5_000);
    await Promise.all([keepAlive.written, partial.written]);
    // Let the keep-alive request be answered so its socket is idle.
    const alive = await fetch(`${server.url}/healthz`); // undici keeps this one alive too
    await alive.text();
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await server.close();
    const elapsed = Date.now() - t0;
    const [k, p] = await Promise.all([keepAlive.closed, partial.closed]);
    expect(elapsed).toBeLessThan(1_000);
    expect(k.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(k.text).toMatch(/keep-alive/i);
    expect(p.text).toBe('');
    expect(Date.now() - t0).toBeLessThan(1_000);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    await server.close(); // idempotent
  });
});

describe('binding', () => {
  it('reports the bound port and URL for port 0', async () => {
    const { server } = await start();
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('brackets an IPv6 host in the URL and does not warn for ::1', async () => {
    let started: { server: AdminServer; lines: Record<string, unknown>[] };
    try {
      started = await start({ host: '::1' });
    } catch (err) {
      // Only a host without IPv6 loopback may skip this check.
      expect(String((err as Error).cause)).toMatch(/EADDRNOTAVAIL|EAFNOSUPPORT/);
      return;
    }
    expect(started.server.url).toBe(`http://[::1]:${started.server.port}`);
    expect((await fetch(`${started.server.url}/healthz`)).status).toBe(200);
    expect(started.lines.filter((l) => l.level === 40)).toEqual([]);
  });

  it('warns (not errors) when bound to a non-loopback address', async () => {
    const { lines } = await start({ host: '0.0.0.0' });
    const warn = lines.filter((l) => l.level === 40);
    expect(warn).toHaveLength(1);
    expect(warn[0]).toMatchObject({ host: '0.0.0.0' });
    expect(String(warn[0]!.msg)).toMatch(/non-loopback/);
    expect(lines.some((l) => (l.level as number) >= 50)).toBe(false);
    const local = await start();
    expect(local.lines.filter((l) => l.level === 40)).toEqual([]);
  });

  it('isLoopback recognises loopback addresses only', () => {
    for (const h of [
      '127.0.0.1',
      '127.8.9.10',
      '::1',
      'localhost',
      'LOCALHOST',
      '::ffff:127.0.0.1',
    ]) {
      expect(isLoopback(h), h).toBe(true);
    }
    for (const h of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '192.168.1.2',
      '::ffff:10.0.0.1',
      'example.com',
    ]) {
      expect(isLoopback(h), h).toBe(false);
    }
  });

  it('rejects a bad port or host, naming the field', async () => {
    const { log } = capture();
    const base = { host: '127.0.0.1', port: 0, routes: routes(), log };
    await expect(startAdminServer({ ...base, port: 70000 })).rejects.toThrow(/admin port.*70000/);
    await expect(startAdminServer({ ...base, port: 1.5 })).rejects.toThrow(/admin port/);
    await expect(startAdminServer({ ...base, host: '' })).rejects.toThrow(/admin host/);
    await expect(
      startAdminServer({ ...base, timeouts: { headersMs: 5_000, requestMs: 1_000 } })
    ).rejects.toThrow(/timeouts.headersMs/);
  });

  it('fails to start on a port in use, naming host and port', async () => {
    const { server } = await start();
    const { log } = capture();
    await expect(
      startAdminServer({ host: '127.0.0.1', port: server.port, routes: routes(), log })
    ).rejects.toThrow(`admin server cannot listen on 127.0.0.1:${server.port}`);
  });
});
