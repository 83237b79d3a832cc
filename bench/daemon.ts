/**
 * Daemon benchmarks (issue 5, level128): three real `mpcd` processes on 127.0.0.1, driven over
 * `/mpcd/control/1` by the test coordinator (tests/helpers/control-driver.ts) exactly as
 * tests/daemon/network.test.ts drives them. Every time is wall time of `driver.run`, from the
 * invitations to the last report, so it includes the control round trips, joining, the protocol
 * and the reports.
 *
 * Figures:
 * - `daemon.keygen.empty-pool`: keygen 2-of-3 with no prime pool, each daemon generating its two
 *   1536-bit safe primes on demand (aim: median ≤ 30 s);
 * - `daemon.prime-pool.fill`: how long a pool of one pair per daemon takes to fill;
 * - `daemon.keygen.warm-pool`: keygen with every pool full (aim ≤ 10 s), waiting for the refill
 *   before the next run;
 * - `daemon.sign`: presign + sign as one session, 2 signers (aim ≤ 1 s);
 * - `daemon.sign.concurrent20`: 20 sign sessions at once on one key and signer pair; throughput,
 *   and each daemon's RSS (aims: peak ≤ 400 MB, idle ≤ 150 MB).
 *
 * RSS comes from `/proc/<pid>/status` of each daemon's process (engine workers are threads of it):
 * VmRSS for idle, and for the peak the larger of VmRSS polled every 200 ms and VmHWM after the run,
 * VmHWM having been reset through `/proc/<pid>/clear_refs` just before it (Linux only).
 * The daemons run from the TypeScript sources through tsx, as in the tests: tsx's loader in the
 * main thread and in every engine worker makes the RSS larger than a built daemon's. To bench the
 * compiled daemon: `npm run build`, then `MPCD_TEST_BIN=dist/cli/mpcd.js npm run bench -- only=daemon`
 * (tests/helpers/daemons.ts); every figure names what ran in `daemon`.
 *
 * Keygen runs raise the join timeout (default 30 s) and the invitation lifetime so an on-demand
 * prime search longer than that is measured rather than failed; `primeWaitMs` (the slowest
 * party's "primes ready" log line) shows how close it came. Signing uses the public fixture
 * primes for its one keygen: only signing is measured there.
 *
 * Breakdowns come from the daemons' own log lines (same clock): `protocolMs` is "started" to
 * "completed" of the slowest party, so wall − protocol is the control path (invitation checks,
 * join, prime wait, reports). Machine: run it otherwise idle; three daemons share its cores.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { KeygenOutput, Report, SignOutput } from '../protocol/control/messages.js';
import { ControlDriver, coordinatorKey, type RunOptions } from '../tests/helpers/control-driver.js';
import {
  Cluster,
  FIXTURE_PRIMES,
  type DaemonProcess,
  type LogLine,
} from '../tests/helpers/daemons.js';
import { nobleVerify } from '../tests/helpers/verify.js';
import { note, QUICK, report, round } from './harness.js';

const LEVEL = 'level128' as const;
const POOL_FILL_LIMIT_MS = 10 * 60_000;
/** Invitation lifetime for keygens: a daemon waits for the others' primes until it expires. */
const KEYGEN_EXPIRY_MS = 600_000;
const CONCURRENT = 20;
/** Pause before the idle RSS read, so the last session's garbage may be collected. */
const IDLE_SETTLE_MS = 2_000;
const MB = 1024 * 1024;
/** What the daemons run from (tests/helpers/daemons.ts reads the same variable). */
const DAEMON = process.env.MPCD_TEST_BIN ?? 'tsx cli/mpcd.ts';

/** Three started daemons (A bootstrapping B and C) and a connected driver. */
interface Net {
  cluster: Cluster;
  daemons: DaemonProcess[];
  driver: ControlDriver;
  /** `Date.now()` when each daemon logged "mpcd started". */
  startedAt: number[];
}

async function startNet(tag: string, extra: readonly string[]): Promise<Net> {
  const coordinator = await coordinatorKey();
  const cluster = await Cluster.create(['A', 'B', 'C'].map((n) => `${tag}-${n}`));
  try {
    const daemons = cluster.daemons;
    const [A, B, C] = daemons as [DaemonProcess, DaemonProcess, DaemonProcess];
    const others = (self: DaemonProcess) => daemons.filter((d) => d !== self).map((d) => d.peerId);
    const flags = (self: DaemonProcess, bootstrap: readonly DaemonProcess[]): string[] => [
      ...['--peers', others(self).join(','), '--coordinator', coordinator.peerId],
      ...['--bootstrap', bootstrap.map((d) => d.address).join(',')],
      ...['--round-timeout-ms', '120000', '--log-level', 'info'],
      ...extra,
    ];
    const startedAt: number[] = [];
    await A.start(flags(A, []));
    startedAt[0] = Date.now();
    await Promise.all(
      [B, C].map(async (d, i) => {
        await d.start(flags(d, [A]));
        startedAt[i + 1] = Date.now();
      })
    );
    const driver = await ControlDriver.start(coordinator, [A.peerId, B.peerId, C.peerId]);
    await Promise.all(daemons.map((d) => driver.connect(d.address)));
    // B and C know only A: wait for DHT discovery so the first run does not time it.
    await Promise.all(daemons.map((d) => poll(d, 'all peers connected', 60_000, connected)));
    return { cluster, daemons, driver, startedAt };
  } catch (err) {
    await cluster.cleanup();
    throw err;
  }
}

async function stopNet(net: Net): Promise<void> {
  try {
    await net.driver.stop();
  } finally {
    await net.cluster.cleanup();
  }
}

async function connected(d: DaemonProcess): Promise<boolean> {
  const st = JSON.parse((await d.get('/v1/status')).body) as { peers: { connected: boolean }[] };
  return st.peers.every((p) => p.connected);
}

async function poolReady(d: DaemonProcess): Promise<boolean> {
  const m = /^mpcd_prime_pool_ready\{level="level128"\} (\d+)$/m.exec(
    (await d.get('/metrics')).body
  );
  return Number(m?.[1] ?? 0) >= 1;
}

/** Poll `pred` every 250 ms until true; throws after `limitMs`. Returns the ms waited. */
async function poll(
  d: DaemonProcess,
  what: string,
  limitMs: number,
  pred: (d: DaemonProcess) => Promise<boolean>
): Promise<number> {
  const start = Date.now();
  while (!(await pred(d))) {
    if (Date.now() - start > limitMs) throw new Error(`${d.name}: no ${what} within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return Date.now() - start;
}

/** The outputs of a session in which every one of `peers` must have completed (else throws). */
function outputs(what: string, reports: ReadonlyMap<string, Report>, peers: DaemonProcess[]) {
  return peers.map((p) => {
    const r = reports.get(p.peerId);
    if (r?.outcome !== 'completed')
      throw new Error(`${what}: ${p.name} ${r ? `failed: ${r.reason} ${r.detail}` : 'silent'}`);
    return r.output!;
  });
}

async function keygen(net: Net, opts: RunOptions = {}): Promise<KeygenOutput> {
  const out = await net.driver.run(
    net.daemons.map((d) => d.peerId),
    { kind: 'keygen', threshold: 2, level: LEVEL },
    opts
  );
  const keys = outputs('keygen', out.reports, net.daemons) as KeygenOutput[];
  if (keys.some((k) => k.publicKey !== keys[0]!.publicKey))
    throw new Error('keygen: parties report different keys');
  return keys[0]!;
}

/**
 * One signing session by A and B; the signature is checked with @noble (throws if bad).
 * @returns the session id
 */
async function sign(net: Net, key: KeygenOutput): Promise<string> {
  const signers = net.daemons.slice(0, 2);
  const digest = randomBytes(32);
  const out = await net.driver.run(
    signers.map((s) => s.peerId),
    { kind: 'sign', keyId: key.keyId, digest: digest.toString('hex'), hashing: 'none' },
    { reportTimeoutMs: 300_000 }
  );
  const [sig] = outputs('sign', out.reports, signers) as SignOutput[];
  const pk = Buffer.from(key.publicKey, 'hex');
  if (!nobleVerify(pk, digest, BigInt('0x' + sig!.r), BigInt('0x' + sig!.s)))
    throw new Error(`sign: @noble rejects signature ${sig!.signature65} of session ${out.id}`);
  return out.id;
}

/**
 * From the signers' logs of one session: when the last of them logged "started" and
 * "completed" (epoch ms), and the longest protocol time ("completed" carries it).
 */
async function signSpan(net: Net, id: string) {
  const lines = (msg: string) =>
    Promise.all(
      net.daemons.slice(0, 2).map((d) => d.waitLog((l) => l.session === id && l.msg === msg))
    );
  const at = (ls: LogLine[]) => Math.max(...ls.map((l) => Date.parse(String(l.time))));
  const [started, completed] = [await lines('started'), await lines('completed')];
  return {
    startedAt: at(started),
    completedAt: at(completed),
    protocolMs: Math.max(...completed.map((l) => Number(l.ms))),
  };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  return {
    runs: s.length,
    medianMs: round(s[Math.floor(s.length / 2)]!, 0),
    minMs: round(s[0]!, 0),
    maxMs: round(s[s.length - 1]!, 0),
  };
}

/**
 * From the daemons' logs of the last keygen: the slowest party's wait for primes ("primes
 * ready"), where each party's primes came from, and the slowest party's protocol time ("started"
 * to "completed"), which tells the prime wait apart from the protocol's own work.
 */
function keygenLog(net: Net): { primeMs: number; sources: string[]; protocolMs: number } {
  const last = (d: DaemonProcess, msg: string) =>
    d.lines.filter((l) => l.msg === msg && l.kind === 'keygen').at(-1);
  const primes = net.daemons.map((d) => last(d, 'primes ready'));
  const done = net.daemons.map((d) => last(d, 'completed'));
  return {
    primeMs: Math.max(...primes.map((l) => Number(l?.ms ?? NaN))),
    sources: primes.map((l) => String(l?.source)),
    protocolMs: Math.max(...done.map((l) => Number(l?.ms ?? NaN))),
  };
}

function procStatus(d: DaemonProcess, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${d.child!.pid}/status`, 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)![1]) * 1024;
}

/** Keygen runs with their log breakdown; `between` runs after each (not timed). */
async function keygenRuns(net: Net, between?: () => Promise<number>) {
  const r = { times: [] as number[], primeMs: [] as number[], protocolMs: [] as number[] };
  const sources: string[] = [];
  const after: number[] = [];
  for (let i = 0; i < (QUICK ? 1 : 3); i++) {
    r.times.push(await timed(() => keygen(net, { expiresInMs: KEYGEN_EXPIRY_MS })));
    const log = keygenLog(net);
    r.primeMs.push(log.primeMs);
    r.protocolMs.push(log.protocolMs);
    sources.push(...log.sources);
    if (between) after.push(await between());
    note(
      `  run ${i + 1}: ${round(r.times[i]! / 1000, 1)} s (primes ${log.primeMs} ms, ` +
        `protocol ${log.protocolMs} ms, from ${log.sources.join('/')})` +
        (between ? `; refilled in ${after[i]} ms` : '')
    );
  }
  return { ...r, sources, after };
}

async function benchKeygenEmptyPool(): Promise<void> {
  note('daemon keygen, empty pool (safe primes generated on demand)');
  const net = await startNet('empty', ['--prime-pool-size', '0']);
  try {
    const r = await keygenRuns(net);
    const st = stats(r.times);
    report({
      bench: 'daemon.keygen.empty-pool',
      level: LEVEL,
      daemon: DAEMON,
      shape: '2-of-3',
      ...st,
      // Per run, slowest party: waiting for primes (before ready) and protocol (start to result).
      primeWaitMs: r.primeMs,
      protocolMs: r.protocolMs,
      aimMs: 30_000,
      withinAim: st.medianMs <= 30_000,
    });
  } finally {
    await stopNet(net);
  }
}

async function benchKeygenWarmPool(): Promise<void> {
  note('daemon keygen, warm pool (one pair per daemon)');
  const net = await startNet('warm', [...['--prime-pool-size', '1', '--prime-pool-levels', LEVEL]]);
  try {
    /** Wait until every pool holds its pair; returns `Date.now()` at which each was seen. */
    const full = () =>
      Promise.all(
        net.daemons.map(async (d) => {
          await poll(d, 'full prime pool', POOL_FILL_LIMIT_MS, poolReady);
          return Date.now();
        })
      );
    // Each pool starts filling when its daemon starts (the three fill at the same time).
    const filled = (await full()).map((t, i) => t - net.startedAt[i]!);
    report({
      bench: 'daemon.prime-pool.fill',
      level: LEVEL,
      daemon: DAEMON,
      pairsPerDaemon: 1,
      daemons: 3,
      maxMs: Math.max(...filled),
      perDaemonMs: filled,
    });
    const refill = async () => {
      const t0 = Date.now();
      return Math.max(...(await full())) - t0;
    };
    const r = await keygenRuns(net, refill);
    if (r.sources.some((s) => s !== 'pool'))
      throw new Error(`warm-pool keygen did not take pooled primes: ${r.sources.join(', ')}`);
    const st = stats(r.times);
    report({
      bench: 'daemon.keygen.warm-pool',
      level: LEVEL,
      daemon: DAEMON,
      shape: '2-of-3',
      ...st,
      primeWaitMs: r.primeMs,
      protocolMs: r.protocolMs,
      // After each keygen, until every pool showed its pair again (refill starts at the take).
      refillAfterMs: r.after,
      aimMs: 10_000,
      withinAim: st.medianMs <= 10_000,
    });
  } finally {
    await stopNet(net);
  }
}

async function benchSign(): Promise<void> {
  note('daemon sign (fixture-prime keygen first)');
  const net = await startNet('sign', [
    ...['--prime-pool-size', '0', '--insecure-test-primes', FIXTURE_PRIMES],
  ]);
  try {
    const startRss = net.daemons.map((d) => procStatus(d, 'VmRSS'));
    const key = await keygen(net);
    const times: number[] = [];
    const protocol: number[] = [];
    for (let i = 0; i < (QUICK ? 3 : 10); i++) {
      let id = '';
      times.push(await timed(async () => (id = await sign(net, key))));
      protocol.push((await signSpan(net, id)).protocolMs);
    }
    const st = stats(times);
    report({
      bench: 'daemon.sign',
      level: LEVEL,
      daemon: DAEMON,
      shape: '2-of-3',
      ...st,
      firstMs: round(times[0]!, 0),
      // "started" to "completed" in the daemons; the rest is invitation, join and reports.
      protocolMedianMs: stats(protocol).medianMs,
      aimMs: 1_000,
      withinAim: st.medianMs <= 1_000,
    });

    note(`daemon sign, ${CONCURRENT} sessions at once`);
    await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
    const idle = net.daemons.map((d) => procStatus(d, 'VmRSS'));
    for (const d of net.daemons) writeFileSync(`/proc/${d.child!.pid}/clear_refs`, '5');
    const peak = [...idle];
    const sampler = setInterval(() => {
      net.daemons.forEach((d, i) => (peak[i] = Math.max(peak[i]!, procStatus(d, 'VmRSS'))));
    }, 200);
    let wall: number;
    let ids: string[];
    const launchedAt = Date.now();
    try {
      // allSettled, so a failure reports every failed session, not just the first.
      const t0 = performance.now();
      const settled = await Promise.allSettled(
        Array.from({ length: CONCURRENT }, () => sign(net, key))
      );
      wall = performance.now() - t0;
      const failed = settled.filter((r) => r.status === 'rejected');
      if (failed.length > 0) {
        const why = failed.map((r) => String((r as PromiseRejectedResult).reason));
        throw new Error(
          `${failed.length}/${CONCURRENT} concurrent signs failed:\n${why.join('\n')}`
        );
      }
      ids = settled.map((r) => (r as PromiseFulfilledResult<string>).value);
    } finally {
      clearInterval(sampler);
    }
    net.daemons.forEach((d, i) => (peak[i] = Math.max(peak[i]!, procStatus(d, 'VmHWM'))));
    const spans = await Promise.all(ids.map((id) => signSpan(net, id)));
    const mb = (b: number) => round(b / MB, 1);
    report({
      bench: 'daemon.sign.concurrent20',
      level: LEVEL,
      daemon: DAEMON,
      sessions: CONCURRENT,
      signers: 'A,B (C idle)',
      wallMs: round(wall, 0),
      signaturesPerSecond: round(CONCURRENT / (wall / 1000), 2),
      // Launch to the last session's start (invitations, joins), then first start to last result.
      lastStartedAfterMs: Math.max(...spans.map((x) => x.startedAt)) - launchedAt,
      protocolSpanMs:
        Math.max(...spans.map((x) => x.completedAt)) - Math.min(...spans.map((x) => x.startedAt)),
      rssSource: '/proc/<pid>/status (VmRSS polled 200 ms, VmHWM after clear_refs)',
      // Right after start and peer discovery, before any session.
      afterStartRssMB: Object.fromEntries(net.daemons.map((d, i) => [d.name, mb(startRss[i]!)])),
      idleRssMB: Object.fromEntries(net.daemons.map((d, i) => [d.name, mb(idle[i]!)])),
      peakRssMB: Object.fromEntries(net.daemons.map((d, i) => [d.name, mb(peak[i]!)])),
      aimPeakMB: 400,
      aimIdleMB: 150,
      withinAim: peak.every((b) => b <= 400 * MB) && idle.every((b) => b <= 150 * MB),
    });
  } finally {
    await stopNet(net);
  }
}

/** All daemon figures, in order: empty-pool keygen, pool fill + warm keygen, sign, concurrency. */
export async function benchDaemon(): Promise<void> {
  await benchKeygenEmptyPool();
  await benchKeygenWarmPool();
  await benchSign();
}
