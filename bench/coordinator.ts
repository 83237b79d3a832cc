/**
 * Coordinator benchmarks (issue 6, "Benchmarks"): a coordinator and three mpcd daemons on
 * 127.0.0.1 started by scripts/devnet.ts (`startDevnet`, fixture primes), driven through the
 * coordinator's HTTP API and the real `mpc` CLI, as a user of `npm run devnet` would.
 *
 * Figures:
 * - `coordinator.keygen`: keygen 2-of-3 (level128) wall time through the API, POST /v1/keys, then
 *   GET /v1/sessions/{id} every {@link POLL_MS} ms until `completed` (so up to one poll interval
 *   of the time is the poll's granularity). The daemons take the public fixture primes: the
 *   daemon figures (`only=daemon`) already cover prime generation, this one times the coordinator
 *   path plus the protocol.
 * - `coordinator.mpc-sign`: wall time from spawning `mpc sign --key <id> --message <m> --json`
 *   (`node --import tsx cli/mpc.ts`, env MPC_URL / MPC_TOKEN) to its signature verified with
 *   @noble over ethers' `hashMessage(m)` (the eth-personal digest the coordinator signs by
 *   default). This includes the CLI's process start-up, so `cliStartMs` (the median of
 *   `mpc --help`, which only loads and exits) is reported next to it, and `sessionMs`, the
 *   coordinator's own createdAt → updatedAt of each sign session.
 * - `coordinator.status-latency`: {@link CONCURRENT_POLLS} concurrent GET /v1/sessions/{id}
 *   (fetch, whose undici agent keeps connections alive), repeated {@link POLL_ROUNDS} times, on the
 *   completed keygen session; p50 / p95 / max of each request's latency. One untimed round first
 *   opens the connections.
 *
 * The devnet lives in a fresh temporary directory, removed afterwards. The processes run from the
 * TypeScript sources through tsx, so start-up includes tsx's loader. Machine: every process of the
 * devnet shares the host's cores with the benchmark itself; run it otherwise idle.
 * @module
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashMessage } from 'ethers';
import { startDevnet, type Devnet } from '../scripts/devnet.js';
import { nobleVerify } from '../tests/helpers/verify.js';
import { note, QUICK, report, round } from './harness.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const LEVEL = 'level128' as const;
/** Status poll interval while waiting for a keygen session. */
const POLL_MS = 50;
/** A keygen with fixture primes takes seconds; this only bounds a hung run. */
const KEYGEN_LIMIT_MS = 180_000;
/** Bound of one `mpc` process (the CLI's own --timeout is 300 s). */
const CLI_LIMIT_MS = 120_000;
const CONCURRENT_POLLS = 50;
const POLL_ROUNDS = 20;

/** A session as GET /v1/sessions/{id} shows it (the fields used here). */
interface SessionView {
  id: string;
  status: string;
  createdAt: string;
  updatedAt: string;
  result?: { kind: string; keyId?: string; publicKey?: string };
  failure?: { reason: string; detail: string };
}

async function api<T>(
  net: Devnet,
  path: string,
  body?: unknown
): Promise<{ status: number; body: T }> {
  const r = await fetch(net.url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${net.token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: r.status, body: (await r.json()) as T };
}

/** Keygen 2-of-3 through the API; resolves with the completed session (throws if it failed). */
async function keygen(net: Devnet): Promise<SessionView> {
  const created = await api<SessionView>(net, '/v1/keys', {
    threshold: 2,
    parties: 3,
    level: LEVEL,
  });
  if (created.status !== 202)
    throw new Error(`POST /v1/keys: ${created.status} ${JSON.stringify(created.body)}`);
  const deadline = Date.now() + KEYGEN_LIMIT_MS;
  for (;;) {
    const s = (await api<SessionView>(net, `/v1/sessions/${created.body.id}`)).body;
    if (s.status === 'completed') return s;
    if (s.status === 'failed' || s.status === 'expired')
      throw new Error(`keygen ${s.id} ${s.status}: ${JSON.stringify(s.failure)}`);
    if (Date.now() > deadline)
      throw new Error(`keygen ${s.id} still ${s.status} after ${KEYGEN_LIMIT_MS} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Run `mpc <args>` from the sources; resolves with stdout (throws on a non-zero exit). */
function mpc(net: Devnet, args: readonly string[], configHome: string): Promise<string> {
  return new Promise((res, rej) => {
    const c = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'cli/mpc.ts'), ...args], {
      cwd: REPO,
      // A private config dir, so a user's ~/.config/mpc cannot change what runs.
      env: { ...process.env, MPC_URL: net.url, MPC_TOKEN: net.token, XDG_CONFIG_HOME: configHome },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => c.kill('SIGKILL'), CLI_LIMIT_MS);
    c.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) res(out);
      else rej(new Error(`mpc ${args[0]} exited ${code ?? signal}: ${err || out}`));
    });
  });
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Nearest-rank percentile `p` (0–100) of `xs`. */
function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function stats(ms: readonly number[]) {
  return {
    runs: ms.length,
    medianMs: round(median(ms), 0),
    minMs: round(Math.min(...ms), 0),
    maxMs: round(Math.max(...ms), 0),
  };
}

async function benchKeygen(net: Devnet): Promise<SessionView> {
  note('coordinator keygen 2-of-3 through the API (fixture primes)');
  const times: number[] = [];
  const sessionMs: number[] = [];
  let last: SessionView | undefined;
  for (let i = 0; i < (QUICK ? 1 : 3); i++) {
    const { ms, value } = await timed(() => keygen(net));
    times.push(ms);
    sessionMs.push(Date.parse(value.updatedAt) - Date.parse(value.createdAt));
    last = value;
    note(`  run ${i + 1}: ${round(ms / 1000, 2)} s (session ${sessionMs[i]} ms)`);
  }
  report({
    bench: 'coordinator.keygen',
    level: LEVEL,
    primes: 'fixture',
    shape: '2-of-3',
    ...stats(times),
    // The coordinator's createdAt → updatedAt (completed) of each session.
    sessionMs,
    pollMs: POLL_MS,
  });
  return last!;
}

async function benchMpcSign(net: Devnet, key: SessionView, configHome: string): Promise<void> {
  const keyId = key.result?.keyId;
  const publicKey = key.result?.publicKey;
  if (!keyId || !publicKey) throw new Error(`keygen ${key.id} has no key in its result`);
  const pk = Buffer.from(publicKey, 'hex');
  const n = QUICK ? 3 : 10;

  note(`mpc --help start-up (${n} runs)`);
  const startup: number[] = [];
  for (let i = 0; i < n; i++) {
    const { ms, value } = await timed(() => mpc(net, ['--help'], configHome));
    if (!value.includes('sign')) throw new Error(`mpc --help does not list sign: ${value}`);
    startup.push(ms);
  }

  note(`mpc sign --message (${n} runs)`);
  const times: number[] = [];
  const sessionMs: number[] = [];
  for (let i = 0; i < n; i++) {
    const message = `mpcd bench ${randomBytes(8).toString('hex')}`;
    const { ms, value } = await timed(async () => {
      const out = JSON.parse(
        await mpc(net, ['sign', '--key', keyId, '--message', message, '--json'], configHome)
      ) as { sessionId: string; r: string; s: string };
      const digest = Buffer.from(hashMessage(message).slice(2), 'hex');
      if (!nobleVerify(pk, digest, BigInt(out.r), BigInt(out.s)))
        throw new Error(`@noble rejects the signature of session ${out.sessionId}`);
      return out.sessionId;
    });
    times.push(ms);
    const s = (await api<SessionView>(net, `/v1/sessions/${value}`)).body;
    sessionMs.push(Date.parse(s.updatedAt) - Date.parse(s.createdAt));
  }
  report({
    bench: 'coordinator.mpc-sign',
    level: LEVEL,
    shape: '2-of-3',
    hashing: 'eth-personal',
    ...stats(times),
    firstMs: round(times[0]!, 0),
    // `mpc --help`: node + tsx + the CLI's imports, no request; part of every sign above.
    cliStartMs: round(median(startup), 0),
    cliStartMaxMs: round(Math.max(...startup), 0),
    // The coordinator's createdAt → updatedAt (completed) of each sign session.
    sessionMedianMs: median(sessionMs),
  });
}

async function benchStatusLatency(net: Devnet, session: SessionView): Promise<void> {
  note(`${CONCURRENT_POLLS} concurrent status polls x ${POLL_ROUNDS}`);
  const path = `/v1/sessions/${session.id}`;
  const poll = async (): Promise<number> => {
    const t0 = performance.now();
    const r = await api<SessionView>(net, path);
    const ms = performance.now() - t0;
    if (r.status !== 200 || r.body.id !== session.id)
      throw new Error(`GET ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return ms;
  };
  const batch = () => Promise.all(Array.from({ length: CONCURRENT_POLLS }, poll));
  await batch(); // opens the keep-alive connections
  const all: number[] = [];
  const rounds: number[] = [];
  for (let i = 0; i < POLL_ROUNDS; i++) {
    const { ms, value } = await timed(batch);
    rounds.push(ms);
    all.push(...value);
  }
  report({
    bench: 'coordinator.status-latency',
    concurrent: CONCURRENT_POLLS,
    rounds: POLL_ROUNDS,
    requests: all.length,
    sessionStatus: session.status,
    p50Ms: round(percentile(all, 50), 1),
    p95Ms: round(percentile(all, 95), 1),
    maxMs: round(Math.max(...all), 1),
    // Wall time of one round of concurrent polls, and the request rate it implies.
    roundMedianMs: round(median(rounds), 1),
    requestsPerSecond: round((CONCURRENT_POLLS / median(rounds)) * 1000, 0),
  });
}

/** All coordinator figures on one devnet: keygen, `mpc sign`, status latency. */
export async function benchCoordinator(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mpcd-bench-coordinator-'));
  try {
    note('starting a devnet: coordinator + 3 daemons (fixture primes)');
    const { ms, value: net } = await timed(() =>
      startDevnet({ dir: join(dir, 'devnet'), fixtures: true, say: note })
    );
    note(`  devnet up in ${round(ms / 1000, 1)} s`);
    try {
      const key = await benchKeygen(net);
      await benchMpcSign(net, key, join(dir, 'config'));
      await benchStatusLatency(net, key);
    } finally {
      await net.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
