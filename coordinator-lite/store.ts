/**
 * The coordinator's storage: one LevelDB (`level`, the embedded default — issue 6 "Storage") with
 * one sublevel per {@link Collection} and JSON values.
 *
 * Guarantees the rest of the coordinator relies on:
 * - every write (single or batch) is synced before it resolves, so a crash or power loss never
 *   loses an acknowledged account, token or session (a restarted coordinator must finish the
 *   sessions it had, issue 6 "Tests");
 * - a batch is one LevelDB write across collections: all of it lands or none of it does, and every
 *   op is validated before anything is written;
 * - only one process opens a store (LevelDB's lock → `STORE_LOCKED`);
 * - keys are 1..256 characters without NUL, values at most {@link MAX_VALUE_BYTES} of JSON, so a
 *   client can never make one record unbounded;
 * - {@link Store.withLock} serializes read-modify-write sequences on one key within this process
 *   (LevelDB has no transactions; the coordinator is a single process, so an in-process lock is
 *   sufficient).
 *
 * The store holds no secret in clear: callers store hashes of tokens, codes and passwords
 * (see `secrets.ts`), so the files need no at-rest encryption.
 * @module
 */
import { mkdirSync } from 'node:fs';
import type { AbstractSublevel } from 'abstract-level';
import { Level } from 'level';

/** The record families of the coordinator; each is one sublevel. */
export type Collection =
  | 'meta'
  | 'accounts'
  | 'accountNames'
  | 'tokens'
  | 'recovery'
  | 'nodes'
  | 'sessions'
  | 'results'
  | 'idempotency';

/** Every {@link Collection}, in a fixed order. */
export const COLLECTIONS: readonly Collection[] = Object.freeze([
  'meta',
  'accounts',
  'accountNames',
  'tokens',
  'recovery',
  'nodes',
  'sessions',
  'results',
  'idempotency',
]);

/** Largest JSON encoding (UTF-8 bytes) of one value. */
export const MAX_VALUE_BYTES = 1024 * 1024;

/** Longest key, in UTF-16 code units. */
export const MAX_KEY_LENGTH = 256;

/** Every way a store operation can fail. */
export type StoreErrorCode =
  /** Another process (or another handle in this one) holds the LevelDB lock. */
  | 'STORE_LOCKED'
  /** The directory cannot be created or the database cannot be opened. */
  | 'STORE_OPEN_FAILED'
  /** The store was closed. */
  | 'STORE_CLOSED'
  /** A collection name, key, value or option is malformed. */
  | 'INVALID_ARGUMENT'
  /** A value's JSON encoding exceeds {@link MAX_VALUE_BYTES}. */
  | 'VALUE_TOO_LARGE'
  /** A stored value is not valid JSON. */
  | 'RECORD_CORRUPT';

/** A store failure. `code` is stable; the message names the collection, key or directory. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string
  ) {
    super(message);
  }
}

/** One op of {@link Store.batch}. */
export type BatchOp =
  | { type: 'put'; c: Collection; key: string; value: unknown }
  | { type: 'del'; c: Collection; key: string };

/** A sublevel with string keys and JSON text values (parsed here, so the size bound applies). */
type Sub = AbstractSublevel<Level<string, string>, string | Buffer | Uint8Array, string, string>;

/**
 * A typed wrapper over the coordinator's LevelDB.
 * @example
 * const store = await Store.open('/var/lib/mpc-coordinator/db');
 * await store.put('nodes', peerId, { name: 'alpha' });
 * const node = await store.get<{ name: string }>('nodes', peerId);
 * await store.close();
 */
export class Store {
  private closed = false;
  /** Tail of the queue of lock holders per key; removed when the queue drains. */
  private readonly locks = new Map<string, Promise<void>>();

  private constructor(
    private readonly db: Level<string, string>,
    private readonly subs: Readonly<Record<Collection, Sub>>,
    private readonly dir: string
  ) {}

  /**
   * Open (creating if missing) the store in `dir`.
   * @param dir - database directory; created owner-only (0700) when missing
   * @returns the open store
   * @throws StoreError `STORE_LOCKED` when another process holds it, `STORE_OPEN_FAILED` otherwise
   * @example const store = await Store.open(join(dataDir, 'db'));
   */
  static async open(dir: string): Promise<Store> {
    if (typeof dir !== 'string' || dir.length === 0) {
      throw new StoreError('INVALID_ARGUMENT', 'dir: expected a non-empty path');
    }
    try {
      // Owner-only: the records are hashes and metadata, but nobody else has business reading them.
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new StoreError(
        'STORE_OPEN_FAILED',
        `the store ${dir} cannot be created: ${(err as Error).message}`
      );
    }
    const db = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    try {
      await db.open();
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      if (cause?.code === 'LEVEL_LOCKED') {
        throw new StoreError('STORE_LOCKED', `the store ${dir} is in use by another process`);
      }
      throw new StoreError(
        'STORE_OPEN_FAILED',
        `the store ${dir} cannot be opened: ${cause?.message ?? (err as Error).message}`
      );
    }
    const subs = Object.fromEntries(
      COLLECTIONS.map((c) => [c, db.sublevel<string, string>(c, { valueEncoding: 'utf8' })])
    ) as unknown as Record<Collection, Sub>;
    return new Store(db, subs, dir);
  }

  /**
   * Read one value.
   * @returns the parsed JSON value, or `undefined` when the key is absent
   * @throws StoreError `INVALID_ARGUMENT` (bad collection/key), `RECORD_CORRUPT`, `STORE_CLOSED`
   */
  async get<T>(c: Collection, key: string): Promise<T | undefined> {
    const sub = this.sub(c);
    assertKey(key);
    const text = await sub.get(key);
    return text === undefined ? undefined : parse<T>(c, key, text);
  }

  /**
   * Write one value (synced).
   * @throws StoreError `VALUE_TOO_LARGE`, `INVALID_ARGUMENT`, `STORE_CLOSED`
   */
  async put(c: Collection, key: string, value: unknown): Promise<void> {
    await this.batch([{ type: 'put', c, key, value }]);
  }

  /** Delete one key (synced); deleting an absent key is not an error. */
  async del(c: Collection, key: string): Promise<void> {
    await this.batch([{ type: 'del', c, key }]);
  }

  /**
   * Apply `ops` atomically and synced: every op is validated first, then all are written in one
   * LevelDB batch, so either all take effect or none does.
   * @throws StoreError naming the index of the first bad op; nothing is written in that case
   * @example
   * await store.batch([
   *   { type: 'put', c: 'accounts', key: id, value: account },
   *   { type: 'put', c: 'accountNames', key: name, value: id },
   * ]);
   */
  async batch(ops: readonly BatchOp[]): Promise<void> {
    if (!Array.isArray(ops)) throw new StoreError('INVALID_ARGUMENT', 'ops: expected an array');
    const prepared = ops.map((op, i) => {
      const sub = this.sub(op.c, `ops[${i}].c`);
      assertKey(op.key, `ops[${i}].key`);
      if (op.type === 'put') {
        return { type: 'put' as const, sublevel: sub, key: op.key, value: encode(op, i) };
      }
      if (op.type === 'del') return { type: 'del' as const, sublevel: sub, key: op.key };
      throw new StoreError('INVALID_ARGUMENT', `ops[${i}].type: expected 'put' or 'del'`);
    });
    if (prepared.length === 0) return;
    await this.db.batch(prepared, { sync: true });
  }

  /**
   * Iterate a collection in key order (UTF-8 byte order).
   * @param opts.prefix - only keys starting with this string
   * @param opts.limit - at most this many entries (positive integer)
   * @example for await (const [id, node] of store.list<NodeRecord>('nodes')) …
   */
  async *list<T>(
    c: Collection,
    opts: { prefix?: string; limit?: number } = {}
  ): AsyncGenerator<[string, T]> {
    const sub = this.sub(c);
    const { prefix = '', limit } = opts;
    if (typeof prefix !== 'string' || prefix.length > MAX_KEY_LENGTH || prefix.includes('\0')) {
      throw new StoreError('INVALID_ARGUMENT', 'prefix: expected a key prefix');
    }
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
      throw new StoreError('INVALID_ARGUMENT', 'limit: expected a positive integer');
    }
    // Start at the prefix and stop at the first key without it: exact for any key content,
    // unlike an upper bound built from a "largest" character.
    const it = sub.iterator(prefix === '' ? {} : { gte: prefix });
    let n = 0;
    try {
      for await (const [key, text] of it) {
        if (!key.startsWith(prefix)) break;
        yield [key, parse<T>(c, key, text)];
        if (limit !== undefined && ++n >= limit) break;
      }
    } finally {
      await it.close();
    }
  }

  /**
   * Run `fn` while holding the in-process lock for `key`: callers of one key run one at a time,
   * in call order; different keys do not wait for each other. The lock is released when `fn`
   * settles, also when it throws.
   * @returns what `fn` returns
   * @example
   * await store.withLock(`account:${id}`, async () => {
   *   const a = await store.get<Account>('accounts', id);
   *   await store.put('accounts', id, { ...a, admin: true });
   * });
   */
  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = prev.then(() => mine);
    this.locks.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(key) === tail) this.locks.delete(key);
    }
  }

  /** Close the database; later calls fail with `STORE_CLOSED`. Closing twice is harmless. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }

  /** The sublevel of `c`, after checking the store is open and `c` is a collection. */
  private sub(c: Collection, field = 'collection'): Sub {
    if (this.closed) throw new StoreError('STORE_CLOSED', `the store ${this.dir} is closed`);
    if (!(COLLECTIONS as readonly string[]).includes(c)) {
      throw new StoreError('INVALID_ARGUMENT', `${field}: unknown collection`);
    }
    return this.subs[c];
  }
}

/** Check a key: a string of 1..256 characters without NUL. Never echoes the key (it may be long). */
function assertKey(key: unknown, field = 'key'): asserts key is string {
  if (
    typeof key !== 'string' ||
    key.length === 0 ||
    key.length > MAX_KEY_LENGTH ||
    key.includes('\0')
  ) {
    throw new StoreError(
      'INVALID_ARGUMENT',
      `${field}: expected a string of 1..${MAX_KEY_LENGTH} characters without NUL`
    );
  }
}

/** JSON text of a put op's value, bounded. */
function encode(op: { c: Collection; key: string; value: unknown }, i: number): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(op.value);
  } catch (err) {
    throw new StoreError(
      'INVALID_ARGUMENT',
      `ops[${i}].value (${op.c}/${op.key}): not JSON-serializable: ${(err as Error).message}`
    );
  }
  if (text === undefined) {
    throw new StoreError('INVALID_ARGUMENT', `ops[${i}].value (${op.c}/${op.key}): undefined`);
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_VALUE_BYTES) {
    throw new StoreError(
      'VALUE_TOO_LARGE',
      `ops[${i}].value (${op.c}/${op.key}): ${bytes} bytes of JSON, at most ${MAX_VALUE_BYTES}`
    );
  }
  return text;
}

function parse<T>(c: Collection, key: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new StoreError('RECORD_CORRUPT', `${c}/${key} is not valid JSON`);
  }
}
