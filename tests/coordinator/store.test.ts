/**
 * The coordinator's LevelDB wrapper: JSON round trips per collection, persistence across a
 * reopen, the single-process lock, atomic (all-or-nothing) batches, prefix/limit listing, the
 * per-key in-process lock, and the bounds on keys and values. Every test uses its own temp dir.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  COLLECTIONS,
  MAX_KEY_LENGTH,
  MAX_VALUE_BYTES,
  Store,
  StoreError,
  type Collection,
} from '../../coordinator-lite/store.js';

let root: string;
const open: Store[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mpcd-store-'));
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  await rm(root, { recursive: true, force: true });
});

async function openStore(dir = join(root, 'db')): Promise<Store> {
  const s = await Store.open(dir);
  open.push(s);
  return s;
}

/** Await `p` and return its StoreError (fails the test if it resolves or throws something else). */
async function storeError(p: Promise<unknown>): Promise<StoreError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(StoreError);
  return err as StoreError;
}

async function collect<T>(it: AsyncIterable<[string, T]>): Promise<Array<[string, T]>> {
  const out: Array<[string, T]> = [];
  for await (const e of it) out.push(e);
  return out;
}

describe('Store basics', () => {
  it('creates a missing directory owner-only and round-trips JSON values', async () => {
    const dir = join(root, 'nested', 'db');
    const s = await openStore(dir);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const value = { a: 1, b: ['x', null, true], c: { d: 'é✓' } };
    await s.put('nodes', 'peer-1', value);
    expect(await s.get('nodes', 'peer-1')).toEqual(value);
    expect(await s.get('nodes', 'peer-2')).toBeUndefined();
    await s.del('nodes', 'peer-1');
    expect(await s.get('nodes', 'peer-1')).toBeUndefined();
    await s.del('nodes', 'never-there'); // absent key: not an error
  });

  it('keeps collections apart: the same key in each holds its own value', async () => {
    const s = await openStore();
    for (const c of COLLECTIONS) await s.put(c, 'k', { c });
    for (const c of COLLECTIONS) expect(await s.get(c, 'k')).toEqual({ c });
    await s.del('accounts', 'k');
    expect(await s.get('accounts', 'k')).toBeUndefined();
    expect(await s.get('accountNames', 'k')).toEqual({ c: 'accountNames' });
  });

  it('persists across close and reopen', async () => {
    const dir = join(root, 'db');
    const s1 = await Store.open(dir);
    await s1.put('sessions', 's1', { status: 'running', round: 3 });
    await s1.batch([{ type: 'put', c: 'results', key: 's1', value: { r: '0x01' } }]);
    await s1.close();
    const s2 = await openStore(dir);
    expect(await s2.get('sessions', 's1')).toEqual({ status: 'running', round: 3 });
    expect(await s2.get('results', 's1')).toEqual({ r: '0x01' });
  });

  it('refuses a second open of the same directory with STORE_LOCKED; the first keeps working', async () => {
    const dir = join(root, 'db');
    const s1 = await openStore(dir);
    const err = await storeError(Store.open(dir));
    expect(err.code).toBe('STORE_LOCKED');
    expect(err.message).toContain(dir);
    await s1.put('meta', 'x', 1);
    expect(await s1.get('meta', 'x')).toBe(1);
  });

  it('fails with STORE_CLOSED after close, and closing twice is harmless', async () => {
    const s = await Store.open(join(root, 'db'));
    await s.close();
    await s.close();
    expect((await storeError(s.get('meta', 'x'))).code).toBe('STORE_CLOSED');
    expect((await storeError(s.put('meta', 'x', 1))).code).toBe('STORE_CLOSED');
  });
});

describe('Store validation', () => {
  it('accepts keys of 1..256 characters and refuses empty, longer, NUL and non-string keys', async () => {
    const s = await openStore();
    const longest = 'k'.repeat(MAX_KEY_LENGTH);
    await s.put('meta', longest, 1);
    expect(await s.get('meta', longest)).toBe(1);
    for (const key of ['', 'k'.repeat(MAX_KEY_LENGTH + 1), 'a\u0000b', 42 as unknown as string]) {
      const err = await storeError(s.put('meta', key, 1));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(/key/);
      expect((await storeError(s.get('meta', key))).code).toBe('INVALID_ARGUMENT');
    }
  });

  it('refuses an unknown collection', async () => {
    const s = await openStore();
    const err = await storeError(s.put('secrets' as Collection, 'k', 1));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(/collection/);
  });

  it('stores a value of exactly 1 MiB of JSON and refuses one byte more with VALUE_TOO_LARGE', async () => {
    const s = await openStore();
    const fits = 'a'.repeat(MAX_VALUE_BYTES - 2); // plus the two quotes of the JSON string
    await s.put('results', 'big', fits);
    expect(await s.get('results', 'big')).toBe(fits);
    const err = await storeError(s.put('results', 'bigger', fits + 'a'));
    expect(err.code).toBe('VALUE_TOO_LARGE');
    expect(err.message).toContain('results/bigger');
    expect(err.message).toContain(String(MAX_VALUE_BYTES));
    expect(await s.get('results', 'bigger')).toBeUndefined();
    // Multi-byte characters count as their UTF-8 bytes, not as UTF-16 units.
    const wide = 'é'.repeat(MAX_VALUE_BYTES / 2); // 1 MiB of characters, 2 MiB of bytes
    expect((await storeError(s.put('results', 'wide', wide))).code).toBe('VALUE_TOO_LARGE');
  });

  it('refuses values that are not JSON-serializable', async () => {
    const s = await openStore();
    for (const value of [undefined, 1n, (() => {}) as unknown]) {
      expect((await storeError(s.put('meta', 'v', value))).code).toBe('INVALID_ARGUMENT');
    }
    expect(await s.get('meta', 'v')).toBeUndefined();
  });
});

describe('Store.batch', () => {
  it('applies puts and deletes across collections together', async () => {
    const s = await openStore();
    await s.put('accountNames', 'old', 'id-0');
    await s.batch([
      { type: 'put', c: 'accounts', key: 'id-1', value: { name: 'alice' } },
      { type: 'put', c: 'accountNames', key: 'alice', value: 'id-1' },
      { type: 'del', c: 'accountNames', key: 'old' },
    ]);
    expect(await s.get('accounts', 'id-1')).toEqual({ name: 'alice' });
    expect(await s.get('accountNames', 'alice')).toBe('id-1');
    expect(await s.get('accountNames', 'old')).toBeUndefined();
  });

  it('writes nothing when any op is bad, and names the bad op', async () => {
    const s = await openStore();
    await s.put('accountNames', 'keep', 'id-0');
    const tooBig = 'x'.repeat(MAX_VALUE_BYTES);
    const err = await storeError(
      s.batch([
        { type: 'put', c: 'accounts', key: 'id-1', value: { name: 'alice' } },
        { type: 'del', c: 'accountNames', key: 'keep' },
        { type: 'put', c: 'tokens', key: 't', value: tooBig },
      ])
    );
    expect(err.code).toBe('VALUE_TOO_LARGE');
    expect(err.message).toContain('ops[2]');
    expect(await s.get('accounts', 'id-1')).toBeUndefined();
    expect(await s.get('accountNames', 'keep')).toBe('id-0');

    const err2 = await storeError(
      s.batch([
        { type: 'put', c: 'accounts', key: 'id-2', value: 1 },
        { type: 'put', c: 'accounts', key: '', value: 2 },
      ])
    );
    expect(err2.code).toBe('INVALID_ARGUMENT');
    expect(err2.message).toContain('ops[1].key');
    expect(await s.get('accounts', 'id-2')).toBeUndefined();
  });
});

describe('Store.list', () => {
  it('lists in key order, filtered by prefix and cut by limit', async () => {
    const s = await openStore();
    const keys = ['b/2', 'a/1', 'b/1', 'b', 'c', 'b/10', 'ba'];
    await s.batch(
      keys.map((key) => ({ type: 'put' as const, c: 'sessions' as const, key, value: key }))
    );
    await s.put('results', 'b/9', 'other collection');
    const all = await collect(s.list<string>('sessions'));
    expect(all.map(([k]) => k)).toEqual(['a/1', 'b', 'b/1', 'b/10', 'b/2', 'ba', 'c']);
    expect(all.every(([k, v]) => k === v)).toBe(true);
    const b = await collect(s.list<string>('sessions', { prefix: 'b/' }));
    expect(b.map(([k]) => k)).toEqual(['b/1', 'b/10', 'b/2']);
    const two = await collect(s.list('sessions', { prefix: 'b', limit: 2 }));
    expect(two.map(([k]) => k)).toEqual(['b', 'b/1']);
    expect(await collect(s.list('sessions', { prefix: 'zz' }))).toEqual([]);
    expect(await collect(s.list('nodes'))).toEqual([]);
  });

  it('refuses a bad limit', async () => {
    const s = await openStore();
    for (const limit of [0, -1, 1.5]) {
      const err = await storeError(collect(s.list('sessions', { limit })));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(/limit/);
    }
  });
});

describe('Store.withLock', () => {
  it('serializes read-modify-write on one key: no update is lost', async () => {
    const s = await openStore();
    await s.put('meta', 'counter', 0);
    const bump = (): Promise<void> =>
      s.withLock('counter', async () => {
        const n = (await s.get<number>('meta', 'counter'))!;
        await new Promise((r) => setImmediate(r)); // give a racer the chance to interleave
        await s.put('meta', 'counter', n + 1);
      });
    await Promise.all(Array.from({ length: 20 }, bump));
    expect(await s.get('meta', 'counter')).toBe(20);
  });

  it('without the lock the same sequence does lose updates (the test above can fail)', async () => {
    const s = await openStore();
    await s.put('meta', 'counter', 0);
    const bump = async (): Promise<void> => {
      const n = (await s.get<number>('meta', 'counter'))!;
      await new Promise((r) => setImmediate(r));
      await s.put('meta', 'counter', n + 1);
    };
    await Promise.all(Array.from({ length: 20 }, bump));
    expect(await s.get<number>('meta', 'counter')).toBeLessThan(20);
  });

  it('runs holders of one key in call order, never overlapping; other keys do not wait', async () => {
    const s = await openStore();
    const events: string[] = [];
    let releaseFirst!: () => void;
    const gate = new Promise<void>((r) => (releaseFirst = r));
    const first = s.withLock('k', async () => {
      events.push('1 start');
      await gate;
      events.push('1 end');
      return 1;
    });
    const second = s.withLock('k', async () => {
      events.push('2 start');
      events.push('2 end');
      return 2;
    });
    // A different key runs while 'k' is held.
    expect(await s.withLock('other', async () => 'free')).toBe('free');
    expect(events).toEqual(['1 start']);
    releaseFirst();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(events).toEqual(['1 start', '1 end', '2 start', '2 end']);
  });

  it('releases the lock when the holder throws', async () => {
    const s = await openStore();
    await expect(
      s.withLock('k', async () => {
        throw new Error('boom');
      })
    ).rejects.toThrow('boom');
    await expect(s.withLock('k', async () => 'next')).resolves.toBe('next');
  });
});
