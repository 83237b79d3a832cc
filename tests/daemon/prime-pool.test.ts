/**
 * The daemon's prime pool (daemon/prime-pool.ts, ARCHITECTURE.md "Primes"): it fills the encrypted
 * keystore to `size` pairs per level, survives a restart, hands each pair out once (removed from
 * the store first), refills, backs off after failures, discards what arrives after stop(), never
 * pools a bad pair, and in test-fixture mode warns loudly and gives the parties of one keygen
 * distinct pairs. No safe prime is generated here: a fake generator replays the fixture primes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../daemon/log.js';
import {
  backoffDelay,
  DEFAULT_BACKOFF,
  fixtureIndex,
  INSECURE_TEST_PRIMES,
  PrimePool,
  PrimePoolError,
  type PrimePoolOptions,
} from '../../daemon/prime-pool.js';
import { Keystore } from '../../keystore/index.js';
import { resolveMasterKeySource, type MasterKeySource } from '../../keystore/master-key.js';
import { paillierKeyFromPrimes } from '../../protocol/paillier/paillier.js';
import { LEVEL112, LEVEL128, type SecurityLevel } from '../../protocol/params.js';
import { fixtureCount, fixturePrimes } from '../helpers/fixtures.js';

const FIXTURE_FILE = fileURLToPath(new URL('../fixtures/primes.json', import.meta.url));
/** Bound of every wait in this file. */
const WAIT_MS = 10_000;

// ---- harness ----------------------------------------------------------------------------------

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mpcd-pool-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A master-key source as the daemon builds it from MPCD_MASTER_KEY (test material only). */
async function envKey(): Promise<MasterKeySource> {
  return resolveMasterKeySource({ envValue: randomBytes(32).toString('hex') });
}

async function openStore(dir: string, source: MasterKeySource): Promise<Keystore> {
  const ks = await Keystore.open({ dir, source, create: true, partyId: 'party-A' });
  cleanups.push(() => ks.close());
  return ks;
}

/** A debug-level logger capturing parsed JSON lines (through daemon/log.ts: redaction on). */
function capture() {
  const lines: Array<Record<string, unknown> & { level: number; msg: string }> = [];
  const raw: string[] = [];
  const log = createLogger({
    level: 'debug',
    name: 'mpcd-test',
    destination: {
      write: (s: string) => {
        raw.push(s);
        lines.push(JSON.parse(s) as (typeof lines)[number]);
      },
    },
  });
  return { log, lines, raw };
}

const WARN = 40;

/** Poll `cond` every 5 ms until it holds; fail after WAIT_MS. */
async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Every fixture pair of a level. */
function fixturePairs(level: SecurityLevel): Array<{ p: bigint; q: bigint }> {
  return Array.from({ length: fixtureCount(level) }, (_, i) => fixturePrimes(level, i));
}

/**
 * Fake safe-prime generator: replays the fixture primes of one level in order (p₀, q₀, p₁, q₁, …),
 * so pair k of a single worker is fixture pair k. It can be paused, made to fail, or to return a
 * bad prime (p + 2 ≡ 1 mod 4, refused by the key check).
 */
class FakePrimes {
  private readonly primes: bigint[];
  private next = 0;
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  /** Calls so far, with their start time and requested size. */
  readonly calls: Array<{ at: number; bits: number }> = [];
  /** Calls blocked on the gate now. */
  waiting = 0;
  /** Calls not yet returned. */
  active = 0;
  /** The next `failures` calls reject. */
  failures = 0;
  /** The next `bad` primes handed out are not safe primes. */
  bad = 0;

  constructor(level: SecurityLevel) {
    this.primes = fixturePairs(level).flatMap(({ p, q }) => [p, q]);
  }

  pause(): void {
    this.gate = new Promise<void>((r) => (this.open = r));
  }

  resume(): void {
    this.gate = undefined;
    this.open?.();
  }

  readonly generate = async (bits: number): Promise<bigint> => {
    this.active++;
    try {
      return await this.produce(bits);
    } finally {
      this.active--;
    }
  };

  private async produce(bits: number): Promise<bigint> {
    this.calls.push({ at: performance.now(), bits });
    if (this.gate) {
      this.waiting++;
      await this.gate;
      this.waiting--;
    }
    if (this.failures > 0) {
      this.failures--;
      throw new Error('simulated generator failure');
    }
    if (this.next >= this.primes.length)
      throw new Error('fake generator ran out of fixture primes');
    const x = this.primes[this.next++]!;
    if (this.bad > 0) {
      this.bad--;
      return x + 2n;
    }
    return x;
  }
}

/** A pool under test, stopped after the test (before its keystore closes). */
function pool(opts: PrimePoolOptions): PrimePool {
  const p = new PrimePool(opts);
  cleanups.push(() => p.stop());
  return p;
}

/** Text forms of a prime that must never appear in a log line or on disk. */
function forms(x: bigint): string[] {
  const hex = x.toString(16);
  return [hex, hex.toUpperCase(), hex.slice(0, 32), x.toString(10).slice(0, 40)];
}

const key = (x: { p: bigint; q: bigint }) => `${x.p.toString(16)}:${x.q.toString(16)}`;

// ---- tests ------------------------------------------------------------------------------------

describe('background filling', () => {
  it('fills to size (no more), persisted encrypted, and survives reopening the keystore', async () => {
    const dir = tempDir();
    const source = await envKey();
    const ks = await openStore(dir, source);
    const gen = new FakePrimes(LEVEL112);
    const { log, raw } = capture();
    const gauge: number[] = [];
    const gaugeLevels = new Set<string>();
    const p = pool({
      keystore: ks,
      size: 3,
      levels: ['level112'],
      log,
      generate: gen.generate,
      onLevel: (level, ready) => {
        gaugeLevels.add(level);
        gauge.push(ready);
      },
    });
    p.start();
    await until('3 ready pairs', async () => (await p.ready('level112')) === 3);
    await until('the gauge at 3', () => gauge.at(-1) === 3);
    expect(gauge).toContain(1);
    expect(gauge).toContain(2);
    expect([...gaugeLevels]).toEqual(['level112']);
    // one worker, two primes per pair, exactly three pairs: nothing beyond `size` was started
    await until('the worker to go idle', () => gen.calls.length === 6);
    expect(gen.calls.every((c) => c.bits === LEVEL112.primeBits)).toBe(true);
    expect(await ks.countPrimePairs('level112')).toBe(3);
    expect(await ks.countPrimePairs('level128')).toBe(0);
    await p.stop();
    await ks.close();

    // encrypted at rest: no LevelDB file holds a prime, as hex text or as raw bytes
    const pooled = fixturePairs(LEVEL112).slice(0, 3);
    const files = readdirSync(dir).map((f) => readFileSync(join(dir, f)));
    expect(files.length).toBeGreaterThan(0);
    for (const pair of pooled) {
      for (const x of [pair.p, pair.q]) {
        const hex = x.toString(16);
        for (const f of files) {
          expect(f.includes(Buffer.from(hex, 'latin1'))).toBe(false);
          expect(f.includes(Buffer.from(hex, 'hex'))).toBe(false);
        }
        for (const line of raw) for (const s of forms(x)) expect(line).not.toContain(s);
      }
    }

    // a restarted daemon finds the pool full and does not generate
    const again = await openStore(dir, source);
    const idle = new FakePrimes(LEVEL112);
    const q = pool({
      keystore: again,
      size: 3,
      levels: ['level112'],
      log: capture().log,
      generate: idle.generate,
    });
    idle.pause();
    q.start();
    expect(await q.ready('level112')).toBe(3);
    const taken = await q.take('level112');
    expect(taken.source).toBe('pool');
    expect(pooled.map(key)).toContain(key(taken));
    expect(await again.countPrimePairs('level112')).toBe(2);
  });

  it('counts pairs in generation: two workers never overfill a pool of one', async () => {
    const ks = await openStore(tempDir(), await envKey());
    const gen = new FakePrimes(LEVEL112);
    gen.pause();
    const p = pool({
      keystore: ks,
      size: 1,
      levels: ['level112'],
      log: capture().log,
      generate: gen.generate,
      concurrency: 4, // two pair workers
    });
    p.start();
    await until('the first worker to generate', () => gen.waiting >= 2);
    gen.resume();
    await until('the pair stored and the generator idle', async () => {
      return (await ks.countPrimePairs('level112')) >= 1 && gen.active === 0;
    });
    expect(gen.calls).toHaveLength(2);
    expect(await ks.countPrimePairs('level112')).toBe(1);
  });

  it('fills every listed level; an unlisted level is generated on demand', async () => {
    const ks = await openStore(tempDir(), await envKey());
    const gen112 = new FakePrimes(LEVEL112);
    const gen128 = new FakePrimes(LEVEL128);
    const p = pool({
      keystore: ks,
      size: 1,
      levels: ['level112', 'level128'],
      log: capture().log,
      generate: (bits) =>
        bits === LEVEL112.primeBits ? gen112.generate(bits) : gen128.generate(bits),
    });
    p.start();
    await until('one pair per level', async () => {
      return (await p.ready('level112')) === 1 && (await p.ready('level128')) === 1;
    });
    const a = await p.take('level128');
    expect(a).toEqual({ ...fixturePrimes(LEVEL128, 0), source: 'pool' });
    await until('level128 refilled', async () => (await p.ready('level128')) === 1);

    const only112 = pool({
      keystore: await openStore(tempDir(), await envKey()),
      size: 0,
      levels: ['level112'],
      log: capture().log,
      generate: gen128.generate,
    });
    only112.start();
    const b = await only112.take('level128');
    expect(b.source).toBe('generated');
    expect(() => paillierKeyFromPrimes(b.p, b.q, LEVEL128)).not.toThrow();
  });
});

describe('take', () => {
  it('removes the pair before returning it, empties the pool, generates when empty, refills', async () => {
    const ks = await openStore(tempDir(), await envKey());
    const gen = new FakePrimes(LEVEL112);
    const { log, lines } = capture();
    const p = pool({
      keystore: ks,
      size: 2,
      levels: ['level112'],
      log,
      generate: gen.generate,
      progressMs: 20,
    });
    p.start();
    await until('2 ready pairs', async () => (await p.ready('level112')) === 2);
    gen.pause(); // the refill (and the on-demand generation) now waits for us

    const first = await p.take('level112');
    expect(await ks.countPrimePairs('level112')).toBe(1); // gone from the store already
    const second = await p.take('level112');
    expect([first.source, second.source]).toEqual(['pool', 'pool']);
    expect(new Set([key(first), key(second)])).toEqual(
      new Set(fixturePairs(LEVEL112).slice(0, 2).map(key))
    );
    expect(await p.ready('level112')).toBe(0);

    // empty pool: this take generates now, logging progress while it waits
    const third = p.take('level112');
    await until('a progress line', () =>
      lines.some((l) => l.msg === 'still generating a prime pair for keygen')
    );
    gen.resume();
    const t = await third;
    expect(t.source).toBe('generated');
    expect([key(first), key(second)]).not.toContain(key(t));

    await until('the pool refilled to 2', async () => (await p.ready('level112')) === 2);
    const later = [await p.take('level112'), await p.take('level112')];
    const all = [first, second, t, ...later].map(key);
    expect(new Set(all).size).toBe(5); // never the same primes twice
    for (const x of [first, second, t, ...later]) {
      expect(() => paillierKeyFromPrimes(x.p, x.q, LEVEL112)).not.toThrow();
    }
  });

  it('hold(): a take under a hold starts no background search until the hold is released', async () => {
    const ks = await openStore(tempDir(), await envKey());
    const gen = new FakePrimes(LEVEL112);
    const p = pool({
      keystore: ks,
      size: 1,
      levels: ['level112'],
      log: capture().log,
      generate: gen.generate,
    });
    p.start();
    await until('1 ready pair', async () => (await p.ready('level112')) === 1);
    const release = p.hold();
    const calls = gen.calls.length;
    expect((await p.take('level112')).source).toBe('pool');
    await new Promise((r) => setTimeout(r, 100));
    expect(gen.calls.length).toBe(calls); // the refill waits for the keygen
    release();
    release(); // idempotent
    await until('the refill after release', async () => (await p.ready('level112')) === 1);
    expect(gen.calls.length).toBe(calls + 2);
  });

  it('concurrent takes get distinct pairs (pooled first, then generated)', async () => {
    const ks = await openStore(tempDir(), await envKey());
    const gen = new FakePrimes(LEVEL112);
    const p = pool({
      keystore: ks,
      size: 4,
      levels: ['level112'],
      log: capture().log,
      generate: gen.generate,
    });
    p.start();
    await until('4 ready pairs', async () => (await p.ready('level112')) === 4);
    const got = await Promise.all(Array.from({ length: 6 }, () => p.take('level112')));
    expect(got.filter((g) => g.source === 'pool')).toHaveLength(4);
    expect(got.filter((g) => g.source === 'generated')).toHaveLength(2);
    expect(new Set(got.map(key)).size).toBe(6);
    expect(new Set(got.map((g) => g.p)).size).toBe(6);
  });

  it('refuses an unknown level and works no more after stop()', async () => {
    const ks = await openStore(tempDir(), await envKey());
    const p = pool({ keystore: ks, size: 0, levels: [], log: capture().log });
    await expect(p.take('level80' as 'level112')).rejects.toMatchObject({
      name: 'PrimePoolError',
      code: 'INVALID_OPTIONS',
    });
    await p.stop();
    await p.stop(); // idempotent
    await expect(p.take('level112')).rejects.toMatchObject({ code: 'POOL_STOPPED' });
  });
});

describe('failures', () => {
  it('backoffDelay: 1 s doubling to 60 s by default', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => backoffDelay(n))).toEqual([
      1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000,
    ]);
    expect(DEFAULT_BACKOFF).toEqual({ initialMs: 1000, maxMs: 60000 });
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, { initialMs: 5, maxMs: 20 }))).toEqual([
      5, 10, 20, 20,
    ]);
  });

  it('a failing generator is retried after growing pauses, then the pool fills', async () => {
    const ks = await openStore(tempDir(), await envKey());
    const gen = new FakePrimes(LEVEL112);
    gen.failures = 8; // four pair attempts (two primes each) fail
    const { log, lines } = capture();
    const p = pool({
      keystore: ks,
      size: 1,
      levels: ['level112'],
      log,
      generate: gen.generate,
      backoff: { initialMs: 5, maxMs: 20 },
    });
    p.start();
    await until('1 ready pair', async () => (await p.ready('level112')) === 1);
    const warns = lines.filter((l) => l.level === WARN);
    expect(warns.map((l) => l.retryInMs)).toEqual([5, 10, 20, 20]);
    expect(warns.map((l) => l.failures)).toEqual([1, 2, 3, 4]);
    expect(warns[0]).toMatchObject({
      level: WARN,
      err: { message: 'simulated generator failure' },
    });
    // attempt k+1 started no earlier than the pause after attempt k
    const starts = gen.calls.filter((_, i) => i % 2 === 0).map((c) => c.at);
    expect(starts).toHaveLength(5);
    for (let k = 0; k < 4; k++) {
      expect(starts[k + 1]! - starts[k]!).toBeGreaterThanOrEqual([5, 10, 20, 20][k]! - 1);
    }
    expect(await p.take('level112')).toEqual({ ...fixturePrimes(LEVEL112, 0), source: 'pool' });
  });

  it('a pair that fails the Paillier key check is never pooled (and never logged)', async () => {
    const ks = await openStore(tempDir(), await envKey());
    const gen = new FakePrimes(LEVEL112);
    gen.bad = 1; // pair 0's p comes out as p + 2: not a safe prime
    const { log, lines, raw } = capture();
    const p = pool({
      keystore: ks,
      size: 2,
      levels: ['level112'],
      log,
      generate: gen.generate,
      backoff: { initialMs: 1, maxMs: 1 },
    });
    p.start();
    await until('2 ready pairs', async () => (await p.ready('level112')) === 2);
    const warn = lines.find((l) => l.level === WARN);
    expect(warn?.msg).toMatch(/generation failed/);
    expect((warn?.err as { message: string }).message).toMatch(/≡ 3 \(mod 4\)/);
    const got = [await p.take('level112'), await p.take('level112')];
    expect(got.map(key).sort()).toEqual(fixturePairs(LEVEL112).slice(1, 3).map(key).sort());
    const bad = fixturePrimes(LEVEL112, 0).p + 2n;
    for (const line of raw) {
      for (const x of [bad, ...got.flatMap((g) => [g.p, g.q])]) {
        for (const s of forms(x)) expect(line).not.toContain(s);
      }
    }
  });
});

describe('stop', () => {
  it('returns at once, and discards pairs that arrive afterwards', async () => {
    const ks = await openStore(tempDir(), await envKey());
    const gen = new FakePrimes(LEVEL112);
    gen.pause();
    const { log, lines } = capture();
    const p = new PrimePool({
      keystore: ks,
      size: 2,
      levels: ['level112'],
      log,
      generate: gen.generate,
    });
    p.start();
    await until('two primes in generation', () => gen.waiting === 2);
    const t0 = performance.now();
    await p.stop();
    expect(performance.now() - t0).toBeLessThan(1_000);
    gen.resume();
    await until('the late pair to be discarded', () =>
      lines.some((l) => l.msg === 'discarding a prime pair generated after stop')
    );
    expect(await ks.countPrimePairs('level112')).toBe(0);
    expect(gen.calls).toHaveLength(2); // and nothing new was started
    await p.stop(); // again: still fine
  });
});

describe('test-fixture mode (INSECURE)', () => {
  it('warns at construction and on every take, never generates, gives one session distinct pairs', async () => {
    const ks = await openStore(tempDir(), await envKey());
    const { log, lines } = capture();
    let generated = 0;
    const p = pool({
      keystore: ks,
      size: 3,
      levels: ['level112', 'level128'],
      log,
      generate: async () => {
        generated++;
        throw new Error('must not generate in fixture mode');
      },
      insecureTestPrimes: FIXTURE_FILE,
    });
    const warnings = () =>
      lines.filter((l) => l.level === WARN && l.msg.includes(INSECURE_TEST_PRIMES));
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatchObject({ file: FIXTURE_FILE });
    p.start();

    for (const level of [LEVEL112, LEVEL128]) {
      const count = fixtureCount(level);
      expect(await p.ready(level.name)).toBe(count);
      const nonce = new Uint8Array(randomBytes(32));
      const before = warnings().length;
      const got = [];
      for (let i = 0; i < count; i++) got.push(await p.take(level.name, { nonce, index: i }));
      expect(warnings()).toHaveLength(before + count);
      expect(got.every((g) => g.source === 'test-fixture')).toBe(true);
      expect(new Set(got.map(key)).size).toBe(count); // indices 0..n-1: all distinct
      // the documented rule, computed independently: (u32be(SHA-256(nonce)[0..4]) + i) mod count
      const base = createHash('sha256').update(nonce).digest().readUInt32BE(0);
      for (let i = 0; i < count; i++) {
        expect(key(got[i]!)).toBe(key(fixturePrimes(level, (base + i) % count)));
        expect(fixtureIndex(nonce, i, count)).toBe((base + i) % count);
      }
      // the same session and index always gets the same pair (every party derives the same)
      expect(key(await p.take(level.name, { nonce, index: 1 }))).toBe(key(got[1]!));
      // no hint: some fixture pair
      const any = await p.take(level.name);
      expect(fixturePairs(level).map(key)).toContain(key(any));
    }
    expect(generated).toBe(0);
    expect(await ks.countPrimePairs('level112')).toBe(0);
    expect(await ks.countPrimePairs('level128')).toBe(0);
    await expect(p.take('level112', { nonce: new Uint8Array(0), index: 0 })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      message: /hint.nonce/,
    });
    await expect(p.take('level112', { nonce: new Uint8Array(4), index: -1 })).rejects.toMatchObject(
      { code: 'INVALID_OPTIONS', message: /hint.index/ }
    );
  });

  it('refuses a malformed fixture file with an error naming the file and the field', async () => {
    const ks = await openStore(tempDir(), await envKey());
    const dir = tempDir();
    const cases: Array<[string, string | undefined, RegExp]> = [
      ['missing.json', undefined, /cannot be read/],
      ['not-json.json', '{ level112: ', /not valid JSON/],
      ['array.json', '[]', /expected an object/],
      ['empty.json', '{}', /holds neither level112 nor level128/],
      ['no-pairs.json', '{"level112": []}', /level112 must be a non-empty array/],
      ['not-pair.json', '{"level128": [3]}', /level128\[0\] must be \{p, q\}/],
      [
        'bad-hex.json',
        '{"level112": [{"p": "0x12", "q": "ab"}]}',
        /level112\[0\]\.p must be a hex/,
      ],
      ['no-q.json', '{"level112": [{"p": "ab"}]}', /level112\[0\]\.q must be a hex/],
    ];
    for (const [name, text, why] of cases) {
      const file = join(dir, name);
      if (text !== undefined) writeFileSync(file, text);
      let caught: unknown;
      try {
        new PrimePool({
          keystore: ks,
          size: 0,
          levels: ['level112'],
          log: capture().log,
          insecureTestPrimes: file,
        });
      } catch (err) {
        caught = err;
      }
      expect(caught, name).toBeInstanceOf(PrimePoolError);
      const e = caught as PrimePoolError;
      expect(e.code).toBe('TEST_PRIMES_INVALID');
      expect(e.message).toContain(file);
      expect(e.message).toMatch(why);
    }
    // a file without the asked level serves the other one and refuses this one by name
    const only112 = join(dir, 'only112.json');
    const { p: p0, q: q0 } = fixturePrimes(LEVEL112, 0);
    writeFileSync(
      only112,
      JSON.stringify({ level112: [{ p: p0.toString(16), q: q0.toString(16) }] })
    );
    const p = pool({
      keystore: ks,
      size: 0,
      levels: ['level112'],
      log: capture().log,
      insecureTestPrimes: only112,
    });
    expect(await p.take('level112')).toEqual({ p: p0, q: q0, source: 'test-fixture' });
    await expect(p.take('level128')).rejects.toMatchObject({
      code: 'TEST_PRIMES_INVALID',
      message: expect.stringContaining(`${only112}: no level128 pairs`),
    });
  });
});

describe('options', () => {
  it('refuses bad size, concurrency, levels and back-off, naming the option', async () => {
    const ks = await openStore(tempDir(), await envKey());
    const base: PrimePoolOptions = {
      keystore: ks,
      size: 1,
      levels: ['level112'],
      log: capture().log,
    };
    const bad: Array<[Partial<PrimePoolOptions>, RegExp]> = [
      [{ size: -1 }, /size/],
      [{ size: 1.5 }, /size/],
      [{ concurrency: 0 }, /concurrency/],
      [{ levels: ['level80' as 'level112'] }, /unknown security level/],
      [{ levels: ['toString' as 'level112'] }, /unknown security level/],
      [{ backoff: { initialMs: 0, maxMs: 10 } }, /backoff/],
      [{ backoff: { initialMs: 10, maxMs: 5 } }, /backoff/],
      [{ progressMs: 0 }, /progressMs/],
    ];
    for (const [patch, why] of bad) {
      expect(() => new PrimePool({ ...base, ...patch }), why.source).toThrow(why);
    }
  });
});
