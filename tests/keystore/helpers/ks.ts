/**
 * Shared harness of the keystore tests: temp dirs and stores that are always closed and removed,
 * master-key sources, error assertions (code + what the message names), raw LevelDB access for
 * tampering, and a populated store with one record of every kind.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, expect } from 'vitest';
import { deriveStoreKeys } from '../../../keystore/encryption.js';
import { KeystoreError, type KeystoreErrorCode } from '../../../keystore/errors.js';
import { Keystore, type KeystoreOptions, type Sub } from '../../../keystore/keystore.js';
import {
  masterKeyFromPassphrase,
  type MasterKey,
  type MasterKeySource,
} from '../../../keystore/master-key.js';
import type { JournalRecord, RecordKind } from '../../../keystore/records.js';

/** Cheap scrypt parameters for passphrase stores (the lowest the keystore accepts). */
export const FAST_SCRYPT = { logN: 14, r: 8, p: 1 } as const;

/** A raw master-key source of 32 random bytes. */
export function randomKey(): MasterKeySource & { kind: 'key' } {
  return { kind: 'key', key: { bytes: new Uint8Array(randomBytes(32)) } };
}

/** A raw master-key source of 32 copies of `b`. */
export function fixedKey(b: number): MasterKeySource & { kind: 'key' } {
  return { kind: 'key', key: { bytes: new Uint8Array(32).fill(b) } };
}

/** A passphrase source. */
export function pass(passphrase: string): MasterKeySource & { kind: 'passphrase' } {
  return { kind: 'passphrase', passphrase };
}

/** A random passphrase of 24 characters. */
export function randomPassphrase(): string {
  return `pp-${randomBytes(16).toString('base64url')}`;
}

/** Every text form a secret byte string could leak as. */
export function secretForms(bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes);
  return [
    b.toString('hex'),
    b.toString('hex').toUpperCase(),
    b.toString('base64'),
    b.toString('base64url'),
    // a long enough piece of each form, so a partial echo is caught too
    b.toString('hex').slice(0, 24),
    b.toString('base64').slice(0, 16),
  ];
}

/** Assert that no secret text appears in an error's message, details, stack or string form. */
export function expectNoSecrets(err: unknown, secrets: readonly string[]): void {
  expect(err).toBeInstanceOf(Error);
  const e = err as KeystoreError;
  const surfaces = [
    e.message,
    String(e),
    e.stack ?? '',
    JSON.stringify(e.details ?? {}),
    JSON.stringify(e),
  ];
  for (const s of secrets) {
    expect(s.length, 'secret forms must be long enough to be meaningful').toBeGreaterThanOrEqual(8);
    for (const surface of surfaces) expect(surface).not.toContain(s);
  }
}

/** Await `p`, expect a KeystoreError with `code` whose message contains/matches every `mention`. */
export async function rejectsWith(
  p: Promise<unknown>,
  code: KeystoreErrorCode,
  ...mentions: Array<string | RegExp>
): Promise<KeystoreError> {
  let caught: unknown;
  let resolved = false;
  try {
    await p;
    resolved = true;
  } catch (err) {
    caught = err;
  }
  expect(resolved, `expected a rejection with ${code}, but the call succeeded`).toBe(false);
  return checkError(caught, code, mentions);
}

/** Run `fn`, expect it to throw a KeystoreError with `code` (synchronously). */
export function throwsWith(
  fn: () => unknown,
  code: KeystoreErrorCode,
  ...mentions: Array<string | RegExp>
): KeystoreError {
  let caught: unknown;
  let returned = false;
  try {
    fn();
    returned = true;
  } catch (err) {
    caught = err;
  }
  expect(returned, `expected a throw with ${code}, but the call returned`).toBe(false);
  return checkError(caught, code, mentions);
}

function checkError(
  caught: unknown,
  code: KeystoreErrorCode,
  mentions: Array<string | RegExp>
): KeystoreError {
  if (!(caught instanceof KeystoreError)) {
    expect.fail(`expected KeystoreError ${code}, got ${String(caught)}`);
  }
  expect(caught.code, caught.message).toBe(code);
  expect(caught.name).toBe('KeystoreError');
  for (const m of mentions) {
    if (typeof m === 'string') expect(caught.message).toContain(m);
    else expect(caught.message).toMatch(m);
  }
  return caught;
}

/** Temp dirs and open stores of one test file, closed and removed after each test. */
export interface Harness {
  /** A fresh temp dir (`mpcd-ks-…`), removed after the test. */
  dir(): string;
  /** A path inside a fresh temp dir that does not exist yet. */
  missingDir(): string;
  /** `Keystore.open`, the store closed after the test. */
  open(opts: KeystoreOptions): Promise<Keystore>;
  /** Create a store in a fresh dir. */
  create(
    source?: MasterKeySource,
    partyId?: string
  ): Promise<{ ks: Keystore; dir: string; source: MasterKeySource }>;
  /** Register something to close after the test. */
  track<T extends { close(): Promise<unknown> }>(x: T): T;
}

/** Register afterEach cleanup and return the harness of a test file. */
export function useHarness(): Harness {
  const dirs: string[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const h: Harness = {
    dir() {
      const d = mkdtempSync(join(tmpdir(), 'mpcd-ks-'));
      dirs.push(d);
      return d;
    },
    missingDir() {
      return join(h.dir(), 'not', 'there');
    },
    track(x) {
      closers.push(() => x.close());
      return x;
    },
    async open(opts) {
      return h.track(await Keystore.open(opts));
    },
    async create(source = randomKey(), partyId = 'party-A') {
      const dir = h.dir();
      const ks = await h.open({
        dir,
        source,
        create: true,
        partyId,
        ...(source.kind === 'passphrase' ? { scrypt: FAST_SCRYPT } : {}),
      });
      return { ks, dir, source };
    },
  };
  return h;
}

/** Raw access to a (closed) store's LevelDB: sublevels named after the record kinds and `meta`. */
export interface Raw {
  readonly db: Level<string, Uint8Array>;
  sub(name: RecordKind | 'meta'): Sub;
  /** The stored bytes of `name/key` (fails the test when absent). */
  get(name: RecordKind | 'meta', key: string): Promise<Buffer>;
  put(name: RecordKind | 'meta', key: string, value: Uint8Array): Promise<void>;
  del(name: RecordKind | 'meta', key: string): Promise<void>;
  /** Every (key, value) of a sublevel. */
  entries(name: RecordKind | 'meta'): Promise<Array<[string, Buffer]>>;
  /** The plaintext JSON `meta/store`. */
  storeMeta(): Promise<{ format: number; partyId: string; salt: string; kdf?: unknown }>;
}

/** Open the LevelDB of a closed store directly, run `fn`, close it. */
export async function withRaw<T>(dir: string, fn: (raw: Raw) => Promise<T>): Promise<T> {
  const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.open();
  const sub = (name: string): Sub =>
    db.sublevel<string, Uint8Array>(name, { valueEncoding: 'view' });
  const raw: Raw = {
    db,
    sub,
    async get(name, key) {
      const v = await sub(name).get(key);
      expect(v, `raw ${name}/${key}`).toBeDefined();
      return Buffer.from(v!);
    },
    async put(name, key, value) {
      await sub(name).put(key, value);
    },
    async del(name, key) {
      await sub(name).del(key);
    },
    async entries(name) {
      const out: Array<[string, Buffer]> = [];
      for await (const [k, v] of sub(name).iterator()) out.push([k, Buffer.from(v)]);
      return out;
    },
    async storeMeta() {
      return JSON.parse(Buffer.from(await raw.get('meta', 'store')).toString('utf8')) as {
        format: number;
        partyId: string;
        salt: string;
        kdf?: unknown;
      };
    },
  };
  try {
    return await fn(raw);
  } finally {
    await db.close();
  }
}

/** The master key a source resolves to in a store with the given meta `kdf`. */
export async function masterOf(
  source: MasterKeySource,
  kdf: { logN: number; r: number; p: number; salt: string } | undefined
): Promise<MasterKey> {
  if (source.kind === 'key') return source.key;
  if (!kdf) throw new Error('a passphrase needs the scrypt parameters');
  return masterKeyFromPassphrase(source.passphrase, {
    ...kdf,
    salt: Buffer.from(kdf.salt, 'base64'),
  });
}

/** The 8-byte key fingerprint (hex) of `master` in a store with base64 salt `salt`. */
export function fingerprintHex(master: MasterKey, saltB64: string): string {
  return deriveStoreKeys(master, Buffer.from(saltB64, 'base64')).fingerprint.toString('hex');
}

/** A copy of `v` with byte `i` xor-ed with `mask`. */
export function flip(v: Uint8Array, i: number, mask = 0x01): Buffer {
  const out = Buffer.from(v);
  const at = i < 0 ? out.length + i : i;
  out[at] = out[at]! ^ mask;
  return out;
}

/** LevelDB key of an epoch record. */
export function epochKey(id: string, epoch: number): string {
  return `${id}@${String(epoch).padStart(10, '0')}`;
}

/** A 32-byte session id filled with `b`. */
export function sid(b: number): Uint8Array {
  return new Uint8Array(32).fill(b);
}

/** What {@link populate} wrote, for read-back checks and secret scans. */
export interface Populated {
  keyShares: Array<{ keyId: string; epoch: number; data: Uint8Array }>;
  aux: Array<{ auxId: string; epoch: number; data: Uint8Array }>;
  presigs: Array<{ presigId: string; keyId: string; epoch: number; data: Uint8Array }>;
  identity: Uint8Array;
  journal: JournalRecord[];
  sids: Uint8Array[];
  /** Every secret byte string written. */
  secrets: Uint8Array[];
}

/** Number of records {@link populate} writes (all kinds together). */
export const POPULATED_RECORDS = 10;

/** Write a known set of records of every kind (random secret payloads). */
export async function populate(ks: Keystore): Promise<Populated> {
  const r = (n = 48) => new Uint8Array(randomBytes(n));
  const p: Populated = {
    keyShares: [
      { keyId: 'k1', epoch: 0, data: r() },
      { keyId: 'k1', epoch: 1, data: r() },
      { keyId: 'k2', epoch: 7, data: r() },
    ],
    aux: [{ auxId: 'aux-1', epoch: 0, data: r(200) }],
    presigs: [
      { presigId: 'p1', keyId: 'k1', epoch: 1, data: r() },
      { presigId: 'p2', keyId: 'k1', epoch: 1, data: r() },
    ],
    identity: r(68),
    journal: [
      {
        sid: Buffer.from(sid(0xa1)).toString('hex'),
        protocol: 'sign',
        state: 'done',
        updatedAt: '2026-01-01T00:00:00.000Z',
        detail: 'ok',
      },
    ],
    sids: [sid(0xa1), sid(0xa2)],
    secrets: [],
  };
  for (const s of p.keyShares) await ks.putKeyShare(s);
  for (const a of p.aux) await ks.putAuxInfo(a);
  for (const x of p.presigs) await ks.putPresignature(x);
  await ks.putIdentity(p.identity);
  for (const j of p.journal) await ks.putJournal(j);
  for (const s of p.sids) await ks.recordSessionId(s);
  p.secrets = [
    ...p.keyShares.map((s) => s.data),
    ...p.aux.map((a) => a.data),
    ...p.presigs.map((x) => x.data),
    p.identity,
  ];
  return p;
}

/** Assert that every record of `p` reads back (presignatures: fresh ones consumable later). */
export async function expectPopulated(
  ks: Keystore,
  p: Populated,
  opts: { presigs?: 'fresh' | 'absent' } = {}
): Promise<void> {
  for (const s of p.keyShares) expect(await ks.getKeyShare(s.keyId, s.epoch)).toEqual(s);
  expect(await ks.getKeyShare('k1')).toEqual(p.keyShares[1]);
  expect(await ks.listKeyShares()).toEqual(
    p.keyShares.map((s) => ({ keyId: s.keyId, epoch: s.epoch }))
  );
  for (const a of p.aux) {
    expect(await ks.getAuxInfo(a.auxId, a.epoch)).toEqual(a);
    expect(await ks.getAuxInfo(a.auxId)).toEqual(a);
  }
  expect(await ks.getIdentity()).toEqual(p.identity);
  for (const j of p.journal) expect(await ks.getJournal(j.sid)).toEqual(j);
  for (const s of p.sids) expect(await ks.hasSessionId(s)).toBe(true);
  if ((opts.presigs ?? 'fresh') === 'fresh') {
    expect((await ks.listFreshPresignatures('k1')).sort()).toEqual(
      p.presigs.map((x) => x.presigId).sort()
    );
  } else {
    expect(await ks.listFreshPresignatures('k1')).toEqual([]);
    expect(await ks.sublevel('presig').keys().all()).toEqual([]);
  }
}
