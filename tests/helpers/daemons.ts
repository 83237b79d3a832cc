/**
 * Runs real `mpcd` daemons as separate processes on 127.0.0.1 for the integration tests: init a
 * data dir, start (`node --import tsx cli/mpcd.ts start`), read the JSON log, stop with a signal
 * or kill. Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MPCD_ARGS, REPO, runNode, type Run } from './run.js';

export { REPO };
export const FIXTURE_PRIMES = join(REPO, 'tests/fixtures/primes.json');

/**
 * A free TCP port on 127.0.0.1 for a process that will bind it a moment later.
 *
 * Not `listen(0)`: that hands out a port from the kernel's ephemeral range, the same range every
 * outgoing connection takes its source port from, so between "released" and "bound by the daemon"
 * a dial from another daemon (or another test file) could take it, and the daemon then dies with
 * EADDRINUSE. We draw below the ephemeral range instead, from a slice of 1,500 ports per vitest
 * worker so that test files running at once never draw the same port, and check it binds.
 */
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  const slices = Math.max(1, Math.floor((low - 10_000) / 1_500));
  const pool = Number(process.env.VITEST_POOL_ID ?? process.pid) % slices;
  const base = 10_000 + pool * 1_500;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = base + Math.floor(Math.random() * 1_500);
    if (handedOut.has(port) || !(await binds(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port in ${base}..${base + 1_499} after 200 tries`);
}

/** The low end of the kernel's ephemeral port range (Linux), or the IANA default elsewhere. */
function ephemeralLow(): number {
  try {
    const low = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]
    );
    if (Number.isInteger(low) && low > 12_000) return low;
  } catch {
    // not Linux
  }
  return 32_768;
}

function binds(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Run `mpcd <args>` to completion (bounded). */
export function mpcd(
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs = 30_000
): Promise<Run> {
  return runNode([...MPCD_ARGS, ...args], env, timeoutMs);
}

export interface LogLine {
  level: number;
  msg: string;
  component?: string;
  [k: string]: unknown;
}

/** One daemon process with its data dir. */
export class DaemonProcess {
  child: ChildProcess | undefined;
  readonly lines: LogLine[] = [];
  /** Every line of every run (lines is reset at each start). */
  readonly allLines: LogLine[] = [];
  stderr = '';
  peerId = '';
  adminUrl = '';
  private waiters = new Set<() => void>();

  constructor(
    readonly name: string,
    readonly dataDir: string,
    readonly port: number,
    readonly env: Record<string, string>
  ) {}

  get address(): string {
    return `/ip4/127.0.0.1/tcp/${this.port}/p2p/${this.peerId}`;
  }

  /** `mpcd init`; returns the peer id. */
  async init(): Promise<string> {
    const r = await mpcd(
      [
        '--data-dir',
        this.dataDir,
        'init',
        '--listen',
        `/ip4/127.0.0.1/tcp/${this.port}`,
        '--admin-port',
        '0',
      ],
      this.env
    );
    if (r.code !== 0) throw new Error(`mpcd init failed (${r.code}): ${r.stderr}`);
    const id = await mpcd(['--data-dir', this.dataDir, 'id', '--json'], this.env);
    this.peerId = (JSON.parse(id.stdout) as { peerId: string }).peerId;
    return this.peerId;
  }

  /** Start the daemon; resolves once it logged "mpcd started". */
  async start(flags: readonly string[], timeoutMs = 30_000): Promise<void> {
    this.lines.length = 0;
    this.stderr = '';
    const child = spawn(
      process.execPath,
      [...MPCD_ARGS, '--data-dir', this.dataDir, 'start', ...flags],
      {
        cwd: REPO,
        env: { ...process.env, ...this.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      }
    );
    this.child = child;
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const parsed = JSON.parse(line) as LogLine;
          this.lines.push(parsed);
          this.allLines.push(parsed);
        } catch {
          this.lines.push({ level: 50, msg: `unparsable log line: ${line}` });
        }
        for (const w of this.waiters) w();
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    child.on('exit', () => {
      for (const w of this.waiters) w();
    });
    const started = await this.waitLog((l) => l.msg === 'mpcd started', timeoutMs);
    this.adminUrl = started.admin as string;
  }

  /** Wait for a log line matching `pred` (bounded). */
  async waitLog(pred: (l: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit) return hit;
      const c = this.child;
      if (c && (c.exitCode !== null || c.signalCode !== null)) {
        throw new Error(
          `${this.name} exited (${c.exitCode ?? c.signalCode}): ${this.stderr.slice(-2000)}`
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no matching log line within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.min(left, 500));
        const waiters = this.waiters;
        function done() {
          clearTimeout(t);
          waiters.delete(done);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  /** Graceful stop (SIGTERM), bounded; returns the exit code. */
  async stop(timeoutMs = 30_000): Promise<number | null> {
    return this.signal('SIGTERM', timeoutMs);
  }

  /** Kill -9: a crash. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL', 10_000);
  }

  private async signal(sig: NodeJS.Signals, timeoutMs: number): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null)
      return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code))
    );
    child.kill(sig);
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(t);
    return code;
  }

  async get(path: string): Promise<{ status: number; body: string }> {
    const r = await fetch(this.adminUrl + path, { signal: AbortSignal.timeout(5_000) });
    return { status: r.status, body: await r.text() };
  }
}

/** A temp root holding several daemons' data dirs; `cleanup()` stops everything and removes it. */
export class Cluster {
  readonly daemons: DaemonProcess[] = [];

  private constructor(readonly root: string) {}

  static async create(names: readonly string[]): Promise<Cluster> {
    const c = new Cluster(await mkdtemp(join(tmpdir(), 'mpcd-it-')));
    for (const name of names) {
      const env = { MPCD_MASTER_KEY: randomBytes(32).toString('hex') };
      c.daemons.push(new DaemonProcess(name, join(c.root, name), await freePort(), env));
    }
    await Promise.all(c.daemons.map((d) => d.init()));
    return c;
  }

  /**
   * `mpcd start` flags for one member: every other member as a peer, `coordinator`, the given
   * bootstrap members, the public TEST fixture primes with no pool, then `extra`.
   */
  flags(
    self: DaemonProcess,
    coordinator: string,
    bootstrap: readonly DaemonProcess[],
    extra: readonly string[] = []
  ): string[] {
    return [
      '--peers',
      this.daemons
        .filter((d) => d !== self)
        .map((d) => d.peerId)
        .join(','),
      '--coordinator',
      coordinator,
      '--bootstrap',
      bootstrap.map((d) => d.address).join(','),
      '--insecure-test-primes',
      FIXTURE_PRIMES,
      '--prime-pool-size',
      '0',
      ...extra,
    ];
  }

  /** Start the first member, then the others knowing only its address (DHT discovery). */
  async startAll(coordinator: string, extra: readonly string[] = []): Promise<void> {
    const [first, ...rest] = this.daemons;
    await first!.start(this.flags(first!, coordinator, [], extra));
    await Promise.all(rest.map((d) => d.start(this.flags(d, coordinator, [first!], extra))));
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.daemons.map((d) => d.kill().catch(() => undefined)));
    // MPCD_TEST_LOGS=<dir> keeps every daemon's JSON log for a post-mortem.
    const keep = process.env.MPCD_TEST_LOGS;
    if (keep) {
      await mkdir(keep, { recursive: true });
      for (const d of this.daemons) {
        await writeFile(
          join(keep, `${d.name}.log`),
          d.allLines.map((l) => JSON.stringify(l)).join('\n') + '\n'
        );
      }
    }
    await rm(this.root, { recursive: true, force: true });
  }
}
