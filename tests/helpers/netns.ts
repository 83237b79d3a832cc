/**
 * A throw-away network of Linux network namespaces for multi-host tests that need no Docker
 * engine (issue 7): one "switch" namespace holding a Linux bridge, and one namespace per host,
 * each joined to the bridge by a veth pair (host side `eth0` with `10.x.y.N/24`, `lo` up). The
 * addresses exist only inside those namespaces; the test process stays in the root namespace and
 * reaches the hosts by running commands in them (`ip netns exec`).
 *
 * A cable pull is `cut(host)`: the switch-side end of the host's veth goes down, so the host
 * keeps its address and its processes but no frame crosses; `restore(host)` plugs it back in.
 *
 * Namespaces are kernel state that outlives a crashed test, so cleanup is layered:
 * - {@link Network.destroy} kills every process still inside (`ip netns pids`) and deletes the
 *   namespaces; it is idempotent and synchronous (every `ip` call takes milliseconds), so it also
 *   runs from `process.on('exit')` and from SIGINT/SIGTERM handlers registered while a network
 *   exists;
 * - names are `mpcdt-<creator pid>-<random>-<host>`, so {@link removeStaleNamespaces} can delete
 *   what an earlier run left behind when it was killed outright (its creator pid is dead).
 *
 * Requires Linux, root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2's `ip`;
 * {@link whyCannotRun} says what is missing.
 * @module
 */
import { execFileSync, spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';

/** Every namespace this module makes starts with this (and only those are ever removed). */
export const NETNS_PREFIX = 'mpcdt-';

/** `mpcdt-<pid>-<hex>-<host>`: the creator's pid is what tells a stale namespace from a live one. */
const NAME_RE = /^mpcdt-(\d+)-([0-9a-f]+)-([a-z0-9]+)$/;

/** Host names become part of interface names (`v-<host>`, at most 15 bytes): keep them short. */
const HOST_RE = /^[a-z][a-z0-9]{0,7}$/;

/** One `ip` call never legitimately takes long; a hung one must not hang the test. */
const IP_TIMEOUT_MS = 10_000;

let ipBinary: string | undefined;

/** The `ip` executable: on PATH, or where Debian-likes keep it when /usr/sbin is not on PATH. */
function ipPath(): string {
  if (ipBinary) return ipBinary;
  for (const p of ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip']) {
    if (existsSync(p)) return (ipBinary = p);
  }
  return (ipBinary = 'ip');
}

/** Run `ip <args>` synchronously; throws with the command and its stderr when it fails. */
function ip(args: readonly string[]): string {
  try {
    return execFileSync(ipPath(), args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: IP_TIMEOUT_MS,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${(e.stderr || e.message).trim()}`, { cause: err });
  }
}

/** `ip <args>`, ignoring failure (cleanup paths: the thing may already be gone). */
function ipQuiet(args: readonly string[]): string {
  try {
    return ip(args);
  } catch {
    return '';
  }
}

/** The namespaces `ip netns list` shows (first word of each line; it may add `(id: N)`). */
function listNamespaces(): string[] {
  return ipQuiet(['netns', 'list'])
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

/** Kill (SIGKILL) every process inside namespace `ns`, then delete it. Never throws. */
function killAndDelete(ns: string): void {
  const pids = ipQuiet(['netns', 'pids', ns])
    .split(/\s+/)
    .filter((p) => /^\d+$/.test(p))
    .map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  // Deleting with processes still inside is fine: the namespace lives on until they exit.
  ipQuiet(['netns', 'del', ns]);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but is not ours (we are root, so this is unlikely); keep its namespaces.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Why this machine cannot run namespace tests, or `undefined` when it can. The last check really
 * creates a namespace with a bridge and a veth pair and deletes it again, since root with `ip`
 * can still lack the kernel features (a container without CAP_SYS_ADMIN, no bridge module).
 * @returns a one-line reason to print (skip) or to fail with (CI)
 * @example
 * const why = whyCannotRun();
 * if (why) console.warn(`skipped: ${why}`);
 */
export function whyCannotRun(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (platform ${process.platform})`;
  const uid = process.getuid?.();
  if (uid !== 0) return `not root (uid ${uid}): network namespaces need CAP_SYS_ADMIN`;
  try {
    execFileSync(ipPath(), ['-V'], { stdio: 'ignore', timeout: IP_TIMEOUT_MS });
  } catch {
    return 'no `ip` command (iproute2) found on PATH or in /usr/sbin, /sbin';
  }
  const probe = `${NETNS_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}-probe`;
  try {
    ip(['netns', 'add', probe]);
    ip(['-n', probe, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', probe, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
    ip(['-n', probe, 'link', 'set', 'v0', 'master', 'br0']);
    return undefined;
  } catch (err) {
    return `cannot build a namespace with a bridge and a veth pair: ${(err as Error).message}`;
  } finally {
    ipQuiet(['netns', 'del', probe]);
  }
}

/**
 * Delete the namespaces of earlier runs that died without cleaning up: every `mpcdt-<pid>-…`
 * namespace whose creator pid is no longer alive, with any process still inside it.
 * @returns the names removed
 * @example
 * removeStaleNamespaces(); // ['mpcdt-4242-a1b2c3-h1', …] after a run was SIGKILLed
 */
export function removeStaleNamespaces(): string[] {
  const removed: string[] = [];
  for (const ns of listNamespaces()) {
    const m = NAME_RE.exec(ns);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    killAndDelete(ns);
    removed.push(ns);
  }
  return removed;
}

/** The result of {@link Network.exec}. */
export interface ExecResult {
  /** Exit code, or `null` when a signal ended it. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link Network.exec} and {@link Network.spawn}. */
export interface RunOptions {
  /** Working directory (the filesystem is shared with the root namespace). */
  readonly cwd?: string;
  /** Added to (and overriding) this process's environment; `undefined` removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * A long-running process inside a namespace, with its stdout kept as lines so a test can wait for
 * a log line. Every wait is bounded.
 */
export class NsProcess {
  /** Every complete stdout line so far. */
  readonly lines: string[] = [];
  /** Everything written to stderr so far. */
  stderr = '';
  /** Resolves with the exit code (`null` after a signal) once the process ended. */
  readonly exited: Promise<number | null>;
  private readonly waiters = new Set<() => void>();
  private ended = false;
  private exitCode: number | null = null;

  constructor(
    /** Which host it runs on (for error messages). */
    readonly host: string,
    readonly child: ChildProcess
  ) {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        this.lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
      this.wake();
    });
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      this.wake();
    });
    // `close` (not `exit`): it comes after stdout ended, so the last line is in `lines` by then.
    this.exited = new Promise((resolve) => {
      child.on('close', (code) => {
        if (buf) this.lines.push(buf);
        buf = '';
        this.ended = true;
        this.exitCode = code;
        this.wake();
        resolve(code);
      });
      // A spawn error (no such binary) ends the process too; `exit` may never come.
      child.on('error', (err) => {
        this.stderr += `spawn error: ${err.message}\n`;
        this.ended = true;
        this.wake();
        resolve(null);
      });
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** True once the process has exited. */
  get done(): boolean {
    return this.ended;
  }

  /**
   * Wait for the first stdout line (already seen or still to come) matching `pred`.
   * @param what - names the awaited line in the error
   * @throws when the process exits first or nothing matches within `timeoutMs`
   */
  async waitLine(
    pred: (line: string) => boolean,
    what: string,
    timeoutMs: number
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit !== undefined) return hit;
      if (this.ended) {
        throw new Error(
          `${this.host}: exited (${this.exitCode}) before ${what}; stderr: ${this.stderr.slice(-2000)}`
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.host}: no ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(t);
          this.waiters.delete(done);
          resolve();
        };
        const t = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
  }

  /**
   * Stop it: `signal` (default SIGTERM) then SIGKILL after `graceMs`.
   * @returns the exit code, `null` after a signal
   */
  async stop(graceMs = 10_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.ended) return this.exitCode;
    this.child.kill(signal);
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}

/** Networks not yet destroyed; the exit and signal handlers clean them up. */
const live = new Set<Network>();
let handlersOn = false;

function onExit(): void {
  for (const n of [...live]) n.destroy();
}

function onSignal(sig: NodeJS.Signals): void {
  onExit();
  removeHandlers();
  // Re-raise so the process ends the way it would have without us.
  process.kill(process.pid, sig);
}

function addHandlers(): void {
  if (handlersOn) return;
  handlersOn = true;
  process.on('exit', onExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function removeHandlers(): void {
  if (!handlersOn) return;
  handlersOn = false;
  process.off('exit', onExit);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

/**
 * The hosts of a network: name → last octet of its address (`{ c: 1, h1: 11 }` gives `c`
 * 10.x.y.1 and `h1` 10.x.y.11).
 */
export type HostPlan = Readonly<Record<string, number>>;

/**
 * A switch namespace with a bridge and one namespace per host. Make one with
 * {@link createNetwork}.
 */
export class Network {
  /** `<creator pid>-<random hex>`: in every namespace name of this network. */
  readonly runId: string;
  /** The first three octets of every host address, e.g. `10.23.117`. */
  readonly subnet: string;
  /** The switch namespace (holds `br0` and the switch-side veth ends `v-<host>`). */
  readonly switchNs: string;
  private readonly hosts: Map<string, { ns: string; octet: number }>;
  private destroyed = false;

  /** @internal use {@link createNetwork} */
  constructor(plan: HostPlan) {
    this.runId = `${process.pid}-${randomBytes(3).toString('hex')}`;
    // The addresses exist only in this run's namespaces, so concurrent runs could even share a
    // subnet; a random one per run just keeps their logs and addresses tellable apart.
    this.subnet = `10.${randomInt(1, 255)}.${randomInt(0, 256)}`;
    this.switchNs = this.nsName('sw');
    this.hosts = new Map(
      Object.entries(plan).map(([h, octet]) => [h, { ns: this.nsName(h), octet }])
    );
  }

  private nsName(host: string): string {
    return `${NETNS_PREFIX}${this.runId}-${host}`;
  }

  private host(host: string): { ns: string; octet: number } {
    const h = this.hosts.get(host);
    if (!h) throw new Error(`host: no host ${JSON.stringify(host)} in this network`);
    return h;
  }

  /** Build it (called by {@link createNetwork}); on any failure what was made is removed. */
  build(): void {
    live.add(this);
    addHandlers();
    try {
      ip(['netns', 'add', this.switchNs]);
      ip(['-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
      ip(['-n', this.switchNs, 'link', 'set', 'br0', 'up']);
      for (const [name, h] of this.hosts) {
        ip(['netns', 'add', h.ns]);
        // Created straight into their namespaces: nothing ever appears in the root namespace.
        const veth = ['type', 'veth', 'peer', 'name', 'eth0', 'netns', h.ns];
        ip(['-n', this.switchNs, 'link', 'add', `v-${name}`, ...veth]);
        ip(['-n', this.switchNs, 'link', 'set', `v-${name}`, 'master', 'br0', 'up']);
        ip(['-n', h.ns, 'addr', 'add', `${this.address(name)}/24`, 'dev', 'eth0']);
        ip(['-n', h.ns, 'link', 'set', 'eth0', 'up']);
        ip(['-n', h.ns, 'link', 'set', 'lo', 'up']);
      }
    } catch (err) {
      this.destroy();
      throw err;
    }
  }

  /** The host names, in plan order. */
  get hostNames(): string[] {
    return [...this.hosts.keys()];
  }

  /** The namespace of `host` (for `ip netns exec` by hand when debugging). */
  ns(host: string): string {
    return this.host(host).ns;
  }

  /** The IPv4 address of `host`'s `eth0`, e.g. `10.23.117.11`. */
  address(host: string): string {
    return `${this.subnet}.${this.host(host).octet}`;
  }

  /** Pull `host`'s cable: its switch-side veth end goes down. */
  cut(host: string): void {
    this.host(host);
    ip(['-n', this.switchNs, 'link', 'set', `v-${host}`, 'down']);
  }

  /** Plug `host`'s cable back in. */
  restore(host: string): void {
    this.host(host);
    ip(['-n', this.switchNs, 'link', 'set', `v-${host}`, 'up']);
  }

  /** True when `host`'s cable is plugged in (the switch-side end is up). */
  linked(host: string): boolean {
    this.host(host);
    return /[<,]UP[,>]/.test(ip(['-n', this.switchNs, '-o', 'link', 'show', `v-${host}`]));
  }

  private argv(host: string, argv: readonly string[]): string[] {
    if (argv.length === 0) throw new Error('argv: give the command to run');
    return ['netns', 'exec', this.host(host).ns, ...argv];
  }

  /**
   * Run `argv` inside `host`'s namespace to completion (`ip netns exec <ns> …`), bounded.
   * @throws when it runs longer than `timeoutMs` (it is killed first)
   * @example
   * const r = await net.exec('h1', ['ip', '-4', 'addr'], {}, 5_000);
   */
  exec(
    host: string,
    argv: readonly string[],
    opts: RunOptions = {},
    timeoutMs = 60_000
  ): Promise<ExecResult> {
    const p = this.spawn(host, argv, opts);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        p.child.kill('SIGKILL');
        reject(
          new Error(
            `${host}: ${argv.join(' ')} ran longer than ${timeoutMs} ms; stderr: ${p.stderr.slice(-2000)}`
          )
        );
      }, timeoutMs);
      void p.exited.then((code) => {
        clearTimeout(t);
        resolve({ code, stdout: p.lines.map((l) => l + '\n').join(''), stderr: p.stderr });
      });
    });
  }

  /**
   * Start `argv` inside `host`'s namespace. `ip netns exec` execs the command in place, so the
   * returned process *is* the command: signals reach it directly.
   */
  spawn(host: string, argv: readonly string[], opts: RunOptions = {}): NsProcess {
    if (this.destroyed) throw new Error('spawn: the network was destroyed');
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const child = spawnChild(ipPath(), this.argv(host, argv), {
      cwd: opts.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new NsProcess(host, child);
  }

  /**
   * Kill every process left in the namespaces and delete them. Idempotent, synchronous, never
   * throws (safe in `afterAll`, in `process.on('exit')` and after a failed {@link build}).
   */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const h of this.hosts.values()) killAndDelete(h.ns);
    killAndDelete(this.switchNs);
    live.delete(this);
    if (live.size === 0) removeHandlers();
  }
}

/**
 * Create a network: a switch namespace with bridge `br0` and, for every host of `plan`, a
 * namespace whose `eth0` (address `10.x.y.<octet>/24`) is cabled to the bridge, plus `lo` up.
 * Cleanup on exit and on SIGINT/SIGTERM is registered until {@link Network.destroy}.
 * @param plan - host name (`/^[a-z][a-z0-9]{0,7}$/`) → last address octet (1..254, distinct)
 * @throws when a host name or octet is bad, or an `ip` command fails (then nothing is left)
 * @example
 * const net = createNetwork({ c: 1, h1: 11, h2: 12 });
 * try { net.cut('h2'); … } finally { net.destroy(); }
 */
export function createNetwork(plan: HostPlan): Network {
  const octets = new Set<number>();
  for (const [h, octet] of Object.entries(plan)) {
    if (!HOST_RE.test(h) || h === 'sw') {
      throw new Error(`plan: host name ${JSON.stringify(h)} must match ${HOST_RE} and not be sw`);
    }
    if (!Number.isInteger(octet) || octet < 1 || octet > 254 || octets.has(octet)) {
      throw new Error(`plan.${h}: octet must be a distinct integer in [1, 254], got ${octet}`);
    }
    octets.add(octet);
  }
  if (octets.size === 0) throw new Error('plan: give at least one host');
  const net = new Network(plan);
  net.build();
  return net;
}
