/**
 * The daemon's encrypted prime pool (ARCHITECTURE.md "Primes"): pairs of safe primes for future
 * Paillier keys, generated in the background and kept sealed in the keystore, so a keygen does not
 * wait seconds (level128: 1536-bit safe primes, 3–5 s each with a tail past 10 s, STACK.md) for them.
 *
 * Rules, and why:
 * - **Checked before pooled.** Every generated pair passes `paillierKeyFromPrimes` (safe, Blum,
 *   sizes, p ≠ q) before it is written; a bad pair is a generation failure, never a pool entry.
 * - **Written before counted.** A pair counts as ready only once the keystore's synced write
 *   resolved, so a crash loses at most work in progress, never hands out half-stored primes.
 * - **Removed before returned.** `take()` deletes the pair in the store (`takePrimePair`: one
 *   synced write, serialized per level) before the caller sees it: a crash after `take` can never
 *   give the same primes to a second keygen. The keystore also keeps pooled primes out of backups.
 * - **Failures back off.** A failed pair (generator error, bad pair, store error) is logged and
 *   retried after 1 s, doubling to 60 s, so a persistent fault does not spin a core or flood logs.
 * - **Stop means stop.** OpenSSL's prime search cannot be cancelled; a pair that arrives after
 *   `stop()` is discarded, never written (the keystore may already be closing).
 * - **Test primes are loud.** With `insecureTestPrimes`, pairs come from the repository's public
 *   fixture file (any key built from them is compromised): a `warn` line saying `INSECURE TEST
 *   PRIMES` at construction and on every take, and nothing is generated or stored. The parties of
 *   one keygen get distinct pairs: index = (u32be(SHA-256(nonce)[0..4]) + roster index) mod count.
 *
 * p and q never appear in a log line or an error message (daemon/log.ts also redacts `p`, `q`).
 * Log lines name the level `securityLevel`: pino's own `level` field would be overwritten.
 * @module
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Keystore } from '../keystore/keystore.js';
import { bitLength } from '../protocol/math/bytes.js';
import { generateSafePrime, type PrimePair } from '../protocol/math/primes.js';
import { paillierKeyFromPrimes } from '../protocol/paillier/paillier.js';
import {
  levelByName,
  LEVELS,
  type SecurityLevel,
  type SecurityLevelName,
} from '../protocol/params.js';

/** Marker every test-fixture log line carries (operators grep for it). */
export const INSECURE_TEST_PRIMES = 'INSECURE TEST PRIMES';

/** Retry delays after failed generation: 1 s, doubling, at most 60 s. */
export const DEFAULT_BACKOFF: Readonly<Backoff> = Object.freeze({
  initialMs: 1_000,
  maxMs: 60_000,
});

/** How often a keygen that waits for freshly generated primes logs progress. */
export const DEFAULT_PROGRESS_MS = 5_000;

/** How long `stop()` waits for a keystore write already under way. */
export const STOP_WAIT_MS = 100;

/** Attempts at a pair whose product has exactly 8κ bits before one generation counts as failed. */
const MAX_PAIR_ATTEMPTS = 16;

/** Longest hex string accepted for one fixture prime (4096 bits, the keystore's bound). */
const MAX_FIXTURE_HEX = 1024;

/** Retry delays of the background filler. */
export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** Options of {@link PrimePool}. */
export interface PrimePoolOptions {
  keystore: Keystore;
  /** Pairs to keep ready per level listed in `levels` (0 disables background filling). */
  size: number;
  levels: readonly SecurityLevelName[];
  log: Logger;
  /** Safe-prime generator; default: protocol/math/primes.ts generateSafePrime (async, libuv threads). */
  generate?: (bits: number) => Promise<bigint>;
  /** How many primes to generate at once (default 2). */
  concurrency?: number;
  /** TEST ONLY: path of a fixture file; when set, take() serves fixture pairs and nothing is generated. */
  insecureTestPrimes?: string;
  /** Called on every change of the pool size (for a metrics gauge). */
  onLevel?: (level: SecurityLevelName, ready: number) => void;
  /** Retry delays after a failed generation (default {@link DEFAULT_BACKOFF}; tests shorten it). */
  backoff?: Backoff;
  /** Interval of progress lines while `take()` generates (default {@link DEFAULT_PROGRESS_MS}). */
  progressMs?: number;
}

/** A pair handed to one keygen, and where it came from. */
export interface TakenPair {
  readonly p: bigint;
  readonly q: bigint;
  readonly source: 'pool' | 'generated' | 'test-fixture';
}

/** Which pool rule failed. */
export type PrimePoolErrorCode =
  /** An option is out of range (size, levels, concurrency, backoff, hint). */
  | 'INVALID_OPTIONS'
  /** The test-primes file is unreadable or malformed. */
  | 'TEST_PRIMES_INVALID'
  /** `take()` after `stop()`. */
  | 'POOL_STOPPED'
  /** No pair with an 8κ-bit product came out of the generator. */
  | 'GENERATION_FAILED';

/** A prime-pool failure; the message names the option, file or field, never a prime. */
export class PrimePoolError extends Error {
  override readonly name = 'PrimePoolError';
  constructor(
    readonly code: PrimePoolErrorCode,
    message: string
  ) {
    super(message);
  }
}

/** Thrown inside the filler when `stop()` ran while a prime was queued; never escapes. */
class Stopped extends Error {}

/**
 * The retry delay after `failures` consecutive failures (1 → initialMs, doubling, capped at maxMs).
 * @example backoffDelay(3, DEFAULT_BACKOFF) // 4000
 */
export function backoffDelay(failures: number, b: Backoff = DEFAULT_BACKOFF): number {
  const exp = Math.min(Math.max(failures - 1, 0), 30);
  return Math.min(b.initialMs * 2 ** exp, b.maxMs);
}

/**
 * The fixture index of party `index` in the keygen whose session nonce is `nonce`:
 * (first 4 bytes of SHA-256(nonce) as a big-endian u32 + index) mod count. Consecutive roster
 * indices of one session get consecutive (so, for n ≤ count, distinct) pairs.
 */
export function fixtureIndex(nonce: Uint8Array, index: number, count: number): number {
  const h = createHash('sha256').update(nonce).digest();
  return (h.readUInt32BE(0) + index) % count;
}

/**
 * Read and check a test-primes file: `{ level112: [{p, q}], level128: [{p, q}] }`, hex strings
 * (other top-level keys are ignored). Levels absent from the file are simply not served.
 * @throws PrimePoolError TEST_PRIMES_INVALID naming the file and the bad field
 */
export function loadTestPrimes(path: string): Map<SecurityLevelName, PrimePair[]> {
  const bad = (what: string): PrimePoolError =>
    new PrimePoolError('TEST_PRIMES_INVALID', `insecure test primes file ${path}: ${what}`);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const why = err instanceof SyntaxError ? 'not valid JSON' : (err as Error).message;
    throw bad(`cannot be read (${why})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw bad('expected an object { level112: [{p, q}], level128: [{p, q}] }');
  }
  const out = new Map<SecurityLevelName, PrimePair[]>();
  for (const level of Object.keys(LEVELS) as SecurityLevelName[]) {
    if (!Object.hasOwn(doc, level)) continue;
    const list = (doc as Record<string, unknown>)[level];
    if (!Array.isArray(list) || list.length === 0) throw bad(`${level} must be a non-empty array`);
    out.set(
      level,
      list.map((entry: unknown, i) => {
        const e = entry as Record<string, unknown> | null;
        if (typeof e !== 'object' || e === null) throw bad(`${level}[${i}] must be {p, q}`);
        const hex = (f: 'p' | 'q'): bigint => {
          const v = e[f];
          if (typeof v !== 'string' || !/^[0-9a-fA-F]+$/.test(v) || v.length > MAX_FIXTURE_HEX) {
            throw bad(
              `${level}[${i}].${f} must be a hex string of at most ${MAX_FIXTURE_HEX} digits`
            );
          }
          return BigInt('0x' + v);
        };
        return { p: hex('p'), q: hex('q') };
      })
    );
  }
  if (out.size === 0) throw bad('holds neither level112 nor level128');
  return out;
}

/**
 * Pairs of distinct primes of the level's size whose product has exactly 8κ bits, ordered p < q:
 * the rule of protocol/math/primes.ts `generatePrimePair`, over an injectable generator.
 */
async function generatePair(
  level: SecurityLevel,
  generate: (bits: number) => Promise<bigint>
): Promise<PrimePair> {
  for (let i = 0; i < MAX_PAIR_ATTEMPTS; i++) {
    const [a, b] = await Promise.all([generate(level.primeBits), generate(level.primeBits)]);
    if (a !== b && bitLength(a * b) === level.modulusBits) {
      return a < b ? { p: a, q: b } : { p: b, q: a };
    }
  }
  throw new PrimePoolError(
    'GENERATION_FAILED',
    `no ${level.name} prime pair with a ${level.modulusBits}-bit product after ${MAX_PAIR_ATTEMPTS} attempts`
  );
}

/** A counting semaphore bounding the primes generated at once. */
class Semaphore {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(permits: number) {
    this.free = permits;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/**
 * Keeps `size` prime pairs ready per level in the keystore and hands them to keygens.
 *
 * @example
 * const pool = new PrimePool({ keystore, size: 2, levels: ['level128'], log });
 * pool.start();
 * const { p, q, source } = await pool.take('level128', { nonce: sessionNonce, index: myIndex });
 * await pool.stop();
 */
export class PrimePool {
  private readonly ks: Keystore;
  private readonly size: number;
  private readonly levels: readonly SecurityLevelName[];
  private readonly log: Logger;
  private readonly generate: (bits: number) => Promise<bigint>;
  private readonly concurrency: number;
  private readonly backoff: Backoff;
  private readonly progressMs: number;
  private readonly onLevel: ((level: SecurityLevelName, ready: number) => void) | undefined;
  private readonly fixtures: Map<SecurityLevelName, PrimePair[]> | undefined;
  private readonly fixtureFile: string | undefined;
  private readonly sem: Semaphore;

  private started = false;
  private stopped = false;
  /** Ends of the back-off pauses under way (`stop()` cuts them short). */
  private readonly sleepers = new Set<() => void>();
  /** Resolves on the next poke (take, stop): an idle worker re-checks the levels. */
  private wakeSignal!: Promise<void>;
  private wake!: () => void;
  /** Serializes "which level needs a pair" against "a finished pair is stored". */
  private critical: Promise<unknown> = Promise.resolve();
  /** Pairs being generated per level (counted with the stored ones, so workers do not overfill). */
  private readonly inFlight = new Map<SecurityLevelName, number>();
  /** Keystore writes under way, which `stop()` waits for (bounded). */
  private readonly writes = new Set<Promise<unknown>>();

  private holds = 0;
  private readonly unheld: Array<() => void> = [];

  constructor(opts: PrimePoolOptions) {
    const invalid = (what: string) => new PrimePoolError('INVALID_OPTIONS', `prime pool: ${what}`);
    if (!Number.isInteger(opts.size) || opts.size < 0) throw invalid('size must be an integer ≥ 0');
    const concurrency = opts.concurrency ?? 2;
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw invalid('concurrency must be an integer ≥ 1');
    if (!Array.isArray(opts.levels)) throw invalid('levels must be an array of level names');
    for (const l of opts.levels) {
      if (typeof l !== 'string' || !Object.hasOwn(LEVELS, l)) {
        throw invalid(`levels: unknown security level ${JSON.stringify(String(l)).slice(0, 40)}`);
      }
    }
    const backoff = opts.backoff ?? DEFAULT_BACKOFF;
    if (!(backoff.initialMs > 0 && backoff.maxMs >= backoff.initialMs))
      throw invalid('backoff must have 0 < initialMs ≤ maxMs');
    const progressMs = opts.progressMs ?? DEFAULT_PROGRESS_MS;
    if (!(progressMs > 0)) throw invalid('progressMs must be > 0');

    this.ks = opts.keystore;
    this.size = opts.size;
    this.levels = [...new Set(opts.levels)];
    this.log = opts.log.child({ component: 'prime-pool' });
    this.generate = opts.generate ?? generateSafePrime;
    this.concurrency = concurrency;
    this.backoff = backoff;
    this.progressMs = progressMs;
    this.onLevel = opts.onLevel;
    this.sem = new Semaphore(concurrency);
    this.resetWake();
    this.fixtureFile = opts.insecureTestPrimes;
    if (opts.insecureTestPrimes !== undefined) {
      this.fixtures = loadTestPrimes(opts.insecureTestPrimes);
      this.log.warn(
        {
          file: opts.insecureTestPrimes,
          levels: Object.fromEntries([...this.fixtures].map(([l, list]) => [l, list.length])),
        },
        `${INSECURE_TEST_PRIMES}: keygen takes PUBLIC fixture primes; every key made here is compromised — tests only`
      );
    }
  }

  /** Begin background filling (returns at once; idempotent). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    if (this.fixtures) {
      // Nothing to fill: report the fixture counts once for the gauge.
      for (const level of this.levels) this.report(level, this.fixtures.get(level)?.length ?? 0);
      return;
    }
    for (const level of this.levels) void this.refreshGauge(level);
    if (this.size === 0 || this.levels.length === 0) return;
    // ⌈c/2⌉ pair workers, each asking for two primes at once: the semaphore keeps c in flight.
    const workers = Math.ceil(this.concurrency / 2);
    for (let i = 0; i < workers; i++) void this.worker(i);
    this.log.info(
      { size: this.size, levels: this.levels, concurrency: this.concurrency },
      'prime pool filling started'
    );
  }

  /**
   * A fresh pair for one keygen: from the pool, else generated now (logging progress every 5 s).
   * In test-fixture mode, a fixture pair chosen from `hint` (session nonce, own roster index).
   * @throws PrimePoolError POOL_STOPPED, INVALID_OPTIONS (level/hint), TEST_PRIMES_INVALID (level
   *   missing from the file), GENERATION_FAILED; or what the generator / key check throws
   */
  async take(
    level: SecurityLevelName,
    hint?: { nonce: Uint8Array; index: number }
  ): Promise<TakenPair> {
    if (this.stopped) throw new PrimePoolError('POOL_STOPPED', 'the prime pool is stopped');
    const lvl = this.level(level);
    if (this.fixtures) return this.takeFixture(lvl, hint);

    let pooled: { id: string; p: bigint; q: bigint } | undefined;
    try {
      pooled = await this.ks.takePrimePair(lvl.name);
    } catch (err) {
      // A damaged pool record must not block keygen: generate instead, and say so loudly.
      this.log.error(
        { err, securityLevel: lvl.name },
        'cannot take a pooled prime pair; generating one'
      );
    }
    this.poke();
    if (pooled) {
      this.log.info({ securityLevel: lvl.name, id: pooled.id }, 'prime pair taken from the pool');
      void this.refreshGauge(lvl.name);
      return { p: pooled.p, q: pooled.q, source: 'pool' };
    }
    return { ...(await this.generateNow(lvl)), source: 'generated' };
  }

  /** Pairs ready at `level` (test-fixture mode: the fixture pairs of that level). */
  async ready(level: SecurityLevelName): Promise<number> {
    const lvl = this.level(level);
    if (this.fixtures) return this.fixtures.get(lvl.name)?.length ?? 0;
    return this.ks.countPrimePairs(lvl.name);
  }

  /**
   * Stop filling: no new prime is started, pairs that arrive later are discarded. Waits at most
   * {@link STOP_WAIT_MS} for a keystore write already under way, for nothing else. Never throws.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const wakeUp of [...this.sleepers]) wakeUp();
    for (const f of this.unheld.splice(0)) f();
    this.poke();
    try {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, STOP_WAIT_MS);
        timer.unref();
      });
      await Promise.race([Promise.allSettled([...this.writes]), bound]);
      clearTimeout(timer);
    } catch {
      // never throws
    }
    this.log.info('prime pool stopped');
  }

  // ---- internals ------------------------------------------------------------------------------

  private level(name: SecurityLevelName): SecurityLevel {
    try {
      return levelByName(name);
    } catch {
      throw new PrimePoolError('INVALID_OPTIONS', 'level must be level112 or level128');
    }
  }

  private takeFixture(
    lvl: SecurityLevel,
    hint: { nonce: Uint8Array; index: number } | undefined
  ): TakenPair {
    const list = this.fixtures!.get(lvl.name);
    if (!list) {
      throw new PrimePoolError(
        'TEST_PRIMES_INVALID',
        `insecure test primes file ${this.fixtureFile}: no ${lvl.name} pairs`
      );
    }
    let index: number;
    if (hint === undefined) {
      index = randomInt(list.length);
    } else {
      if (!(hint.nonce instanceof Uint8Array) || hint.nonce.length === 0) {
        throw new PrimePoolError('INVALID_OPTIONS', 'hint.nonce must be a non-empty Uint8Array');
      }
      if (!Number.isSafeInteger(hint.index) || hint.index < 0) {
        throw new PrimePoolError('INVALID_OPTIONS', 'hint.index must be an integer ≥ 0');
      }
      index = fixtureIndex(hint.nonce, hint.index, list.length);
    }
    this.log.warn(
      { securityLevel: lvl.name, fixtureIndex: index },
      `${INSECURE_TEST_PRIMES}: keygen uses a PUBLIC fixture prime pair — this key is compromised`
    );
    const { p, q } = list[index]!;
    return { p, q, source: 'test-fixture' };
  }

  /** Generate a pair for a waiting keygen, logging progress; checked like a pooled pair. */
  private async generateNow(lvl: SecurityLevel): Promise<PrimePair> {
    const started = Date.now();
    this.log.info(
      { securityLevel: lvl.name },
      'prime pool empty: generating a prime pair for keygen'
    );
    const progress = setInterval(() => {
      this.log.info(
        { securityLevel: lvl.name, elapsedMs: Date.now() - started },
        'still generating a prime pair for keygen'
      );
    }, this.progressMs);
    progress.unref();
    try {
      // Not checked here: the keygen checks the pair itself (paillierKeyFromPrimes in the
      // worker), and a keygen is waiting for it.
      const pair = await generatePair(lvl, this.generate);
      this.log.info(
        { securityLevel: lvl.name, elapsedMs: Date.now() - started },
        'prime pair generated for keygen'
      );
      return pair;
    } catch (err) {
      this.log.error({ err, securityLevel: lvl.name }, 'generating a prime pair for keygen failed');
      throw err;
    } finally {
      clearInterval(progress);
    }
  }

  /** One background worker: pick a level short of pairs, generate, check, store; repeat. */
  private async worker(n: number): Promise<void> {
    let failures = 0;
    const pause = async (err: unknown, level: SecurityLevelName | undefined, what: string) => {
      failures++;
      const retryInMs = backoffDelay(failures, this.backoff);
      this.log.warn(
        { err, securityLevel: level, failures, retryInMs },
        `${what}; retrying after a pause`
      );
      await this.sleep(retryInMs);
    };
    while (!this.stopped) {
      const woke = this.wakeSignal; // taken before the check, so a poke in between is not lost
      let level: SecurityLevelName | undefined;
      try {
        level = await this.serial(() => this.claimLevel());
      } catch (err) {
        if (this.stopped) break;
        await pause(err, undefined, 'cannot count the prime pool');
        continue;
      }
      if (level === undefined) {
        if (!this.stopped) await woke;
        continue;
      }
      const lvl = LEVELS[level];
      const started = Date.now();
      let stored = false;
      try {
        const pair = await generatePair(lvl, (bits) => this.generateBounded(bits));
        if (this.stopped) {
          this.log.debug({ securityLevel: level }, 'discarding a prime pair generated after stop');
          break;
        }
        paillierKeyFromPrimes(pair.p, pair.q, lvl); // never pool a bad pair
        stored = await this.serial(() => this.store(level, pair));
        if (!stored) {
          this.log.debug({ securityLevel: level }, 'discarding a prime pair generated after stop');
          break;
        }
        failures = 0;
        this.log.info(
          { securityLevel: level, elapsedMs: Date.now() - started, worker: n },
          'prime pair added to the pool'
        );
        void this.refreshGauge(level);
      } catch (err) {
        if (err instanceof Stopped || this.stopped) break;
        await pause(err, level, 'prime pair generation failed');
      } finally {
        if (!stored) this.inFlight.set(level, (this.inFlight.get(level) ?? 1) - 1);
      }
    }
  }

  /** The first level whose stored + in-flight pairs are below `size`; claims one slot of it. */
  private async claimLevel(): Promise<SecurityLevelName | undefined> {
    for (const level of this.levels) {
      if (this.stopped) return undefined;
      const ready = await this.ks.countPrimePairs(level);
      const busy = this.inFlight.get(level) ?? 0;
      if (ready + busy < this.size) {
        this.inFlight.set(level, busy + 1);
        return level;
      }
    }
    return undefined;
  }

  /**
   * Write a checked pair, then release its in-flight slot (both inside the critical section, so
   * a concurrent claim sees it either in flight or stored, never in neither). False after stop.
   */
  private async store(level: SecurityLevelName, pair: PrimePair): Promise<boolean> {
    if (this.stopped) return false;
    const id = `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}`;
    const write = this.ks.putPrimePair({ id, level, p: pair.p, q: pair.q });
    this.writes.add(write);
    try {
      await write;
    } finally {
      this.writes.delete(write);
    }
    this.inFlight.set(level, (this.inFlight.get(level) ?? 1) - 1);
    return true;
  }

  /**
   * Hold background filling while a keygen runs: on a small machine the refill's safe-prime
   * search competes with the keygen's proofs for the same cores (measured on 2 cores: a warm-pool
   * keygen took 14.5–18.5 s of protocol time instead of 7.4 s). Primes already being searched for
   * finish; no new search starts until every hold is released. Idempotent release.
   * @returns the release function
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      if (this.holds === 0) for (const f of this.unheld.splice(0)) f();
    };
  }

  /** One prime through the concurrency bound; refuses to start one after stop or while held. */
  private async generateBounded(bits: number): Promise<bigint> {
    while (this.holds > 0 && !this.stopped) {
      await new Promise<void>((resolve) => this.unheld.push(resolve));
    }
    await this.sem.acquire();
    try {
      if (this.stopped) throw new Stopped();
      return await this.generate(bits);
    } finally {
      this.sem.release();
    }
  }

  /** Run `fn` after every earlier critical section (a promise-chain mutex). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.critical.then(fn, fn);
    this.critical = run.catch(() => undefined);
    return run;
  }

  /** A back-off pause that `stop()` ends early. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.sleepers.add(done);
    });
  }

  private resetWake(): void {
    this.wakeSignal = new Promise<void>((resolve) => (this.wake = resolve));
  }

  /** Wake idle workers to re-check the levels (after a take). */
  private poke(): void {
    const wake = this.wake;
    this.resetWake();
    wake();
  }

  private async refreshGauge(level: SecurityLevelName): Promise<void> {
    if (!this.onLevel || this.stopped) return;
    try {
      this.report(level, await this.ks.countPrimePairs(level));
    } catch (err) {
      this.log.debug({ err, securityLevel: level }, 'cannot count the pool for the gauge');
    }
  }

  private report(level: SecurityLevelName, ready: number): void {
    try {
      this.onLevel?.(level, ready);
    } catch (err) {
      this.log.warn({ err, securityLevel: level }, 'onLevel callback threw');
    }
  }
}
