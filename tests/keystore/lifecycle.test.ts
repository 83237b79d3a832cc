/**
 * Store lifecycle: the one-process lock (in this process and from a second Node process), a real
 * crash (SIGKILL) during rotation, closed and missing stores, party ids, and format versions of
 * the store and of record plaintexts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  exportBackup,
  importBackup,
  rotateMasterKey,
  STORE_FORMAT,
  type Keystore,
} from '../../keystore/index.js';
import { jsonBytes } from '../../keystore/keystore.js';
import {
  POPULATED_RECORDS,
  epochKey,
  expectPopulated,
  fingerprintHex,
  populate,
  randomKey,
  rejectsWith,
  sid,
  useHarness,
  withRaw,
} from './helpers/ks.js';

const h = useHarness();
const HELPER = fileURLToPath(new URL('./helpers/open-store.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Run the helper in a second Node process. */
function child(args: string[], keyHex: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', HELPER, ...args], {
    cwd: ROOT,
    env: { ...process.env, MPCD_TEST_MASTER_KEY: keyHex },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('one process per store', () => {
  it('a second open in this process → STORE_LOCKED naming the dir; the first keeps working', async () => {
    const { ks, dir, source } = await h.create();
    await ks.putIdentity(new Uint8Array([1]));
    const err = await rejectsWith(
      h.open({ dir, source }),
      'STORE_LOCKED',
      `the store ${dir} is in use by another process`
    );
    expect(err.details).toEqual({ dir });
    // also with another key or with create: the lock is checked first
    await rejectsWith(h.open({ dir, source: randomKey() }), 'STORE_LOCKED');
    await rejectsWith(h.open({ dir, source, create: true, partyId: 'party-A' }), 'STORE_LOCKED');
    expect(await ks.getIdentity()).toEqual(new Uint8Array([1]));
    await ks.close();
    const again = await h.open({ dir, source });
    expect(await again.getIdentity()).toEqual(new Uint8Array([1]));
  });

  it('a second Node process gets a clear STORE_LOCKED while the store is open, and opens it after close', async () => {
    const source = randomKey();
    const { ks, dir } = await h.create(source);
    const hex = Buffer.from(source.key.bytes).toString('hex');
    const locked = child(['open', dir], hex);
    expect(locked.error).toBeUndefined();
    expect(locked.status, locked.stderr).toBe(3);
    expect(locked.stderr).toContain(`STORE_LOCKED: the store ${dir} is in use by another process`);
    expect(locked.stdout).not.toContain('opened');
    expect(locked.stderr + locked.stdout).not.toContain(hex);
    await ks.close();
    const free = child(['open', dir], hex);
    expect(free.status, free.stderr).toBe(0);
    expect(free.stdout).toContain('opened');
  });

  it('a process killed (SIGKILL) in the middle of a rotation leaves a store that resumes', async () => {
    const from = randomKey();
    const to = randomKey();
    const { ks, dir } = await h.create(from);
    const p = await populate(ks);
    await ks.close();
    const salt = ks.meta.salt;
    const hex = (k: typeof from) => Buffer.from(k.key.bytes).toString('hex');
    const crashed = child(['rotate-and-die', dir, '4', hex(to)], hex(from));
    expect(crashed.signal, crashed.stderr + crashed.stdout).toBe('SIGKILL');
    // the OS released the dead process's lock; the store is half rotated
    await rejectsWith(h.open({ dir, source: from }), 'ROTATION_IN_PROGRESS');
    await rejectsWith(h.open({ dir, source: to }), 'ROTATION_IN_PROGRESS');
    expect(await rotateMasterKey({ dir, from, to })).toEqual({
      resealed: POPULATED_RECORDS - 4,
      alreadyComplete: false,
      resumed: true,
      fingerprint: fingerprintHex(to.key, salt),
    });
    await expectPopulated(await h.open({ dir, source: to }), p);
  });
});

describe('closed stores', () => {
  it('every operation after close() → STORE_CLOSED; close is idempotent', async () => {
    const { ks, source } = await h.create();
    await populate(ks);
    const archive = await exportBackup(ks, source);
    await ks.close();
    await ks.close();
    const d = new Uint8Array([1]);
    const ops: Array<[string, () => Promise<unknown>]> = [
      ['putKeyShare', () => ks.putKeyShare({ keyId: 'k9', epoch: 0, data: d })],
      ['getKeyShare', () => ks.getKeyShare('k1')],
      ['getKeyShare@epoch', () => ks.getKeyShare('k1', 0)],
      ['listKeyShares', () => ks.listKeyShares()],
      ['deleteKeyShare', () => ks.deleteKeyShare('k1', 0)],
      ['putAuxInfo', () => ks.putAuxInfo({ auxId: 'a9', epoch: 0, data: d })],
      ['getAuxInfo', () => ks.getAuxInfo('aux-1')],
      [
        'putPresignature',
        () => ks.putPresignature({ presigId: 'p9', keyId: 'k1', epoch: 0, data: d }),
      ],
      ['consumePresignature', () => ks.consumePresignature('p1')],
      ['listFreshPresignatures', () => ks.listFreshPresignatures('k1')],
      ['putIdentity', () => ks.putIdentity(d)],
      ['getIdentity', () => ks.getIdentity()],
      [
        'putJournal',
        () => ks.putJournal({ sid: '00'.repeat(32), protocol: 'x', state: 'y', updatedAt: 'z' }),
      ],
      ['getJournal', () => ks.getJournal('00'.repeat(32))],
      ['hasSessionId', () => ks.hasSessionId(sid(1))],
      ['exportBackup', () => exportBackup(ks, source)],
      ['importBackup', () => importBackup(ks, archive, source)],
    ];
    for (const [name, op] of ops) {
      const err = await rejectsWith(op(), 'STORE_CLOSED', 'the keystore is closed').catch(
        (e: unknown) => {
          throw new Error(`${name}: ${String(e)}`, { cause: e });
        }
      );
      expect(err.code, name).toBe('STORE_CLOSED');
    }
  });

  it('recordSessionId after close() → STORE_CLOSED (not a raw LevelDB error)', async () => {
    const { ks } = await h.create();
    await ks.close();
    await rejectsWith(ks.recordSessionId(sid(1)), 'STORE_CLOSED', 'the keystore is closed');
  });
});

describe('opening and creating', () => {
  it('a missing store without `create` → STORE_MISSING naming the dir', async () => {
    const dir = h.missingDir();
    await rejectsWith(h.open({ dir, source: randomKey() }), 'STORE_MISSING', dir);
    // an existing but empty directory is not a store either
    await rejectsWith(h.open({ dir: h.dir(), source: randomKey() }), 'STORE_MISSING', 'initialise');
  });

  it('a missing store without `create` is not created as a side effect', async () => {
    // A mistyped data dir must not leave an empty LevelDB behind (classic-level's default is
    // createIfMissing: true, and it mkdirs the whole path).
    const dir = h.missingDir();
    await rejectsWith(h.open({ dir, source: randomKey() }), 'STORE_MISSING');
    expect(existsSync(dir)).toBe(false);
  });

  it('a damaged store whose path happens to contain "lock" is not reported as locked', async () => {
    // e.g. /srv/blockchain/mpcd: LevelDB fails for another reason (here: CURRENT names a missing
    // MANIFEST) and the error text carries the path.
    const dir = join(h.dir(), 'blocked');
    mkdirSync(dir);
    writeFileSync(join(dir, 'CURRENT'), 'MANIFEST-000001\n');
    const err = await rejectsWith(h.open({ dir, source: randomKey() }), 'STORE_MISSING', dir);
    expect(err.message).not.toContain('in use by another process');
  });

  it('create on a path that is a regular file → a KeystoreError, not a raw fs error', async () => {
    const dir = join(h.dir(), 'a-file');
    writeFileSync(dir, 'not a directory');
    await rejectsWith(h.open({ dir, source: randomKey() }), 'STORE_MISSING', dir);
    await rejectsWith(
      h.open({ dir, source: randomKey(), create: true, partyId: 'party-A' }),
      'STORE_MISSING',
      dir
    );
  });

  it('create without a party id, or with a malformed one → INVALID_RECORD; nothing initialised', async () => {
    const dir = h.dir();
    await rejectsWith(
      h.open({ dir, source: randomKey(), create: true }),
      'INVALID_RECORD',
      'partyId is required'
    );
    for (const bad of ['', 'a b', 'x'.repeat(129), 'p/q']) {
      await rejectsWith(
        h.open({ dir, source: randomKey(), create: true, partyId: bad }),
        'INVALID_RECORD',
        'partyId must be'
      );
    }
    await rejectsWith(h.open({ dir, source: randomKey() }), 'STORE_MISSING');
  });

  it('opening with another party id → INVALID_RECORD; without one → the stored id', async () => {
    const { ks, dir, source } = await h.create(randomKey(), 'peer-12D3KooW');
    await ks.close();
    await rejectsWith(
      h.open({ dir, source, partyId: 'peer-other' }),
      'INVALID_RECORD',
      'another party id'
    );
    await rejectsWith(
      h.open({ dir, source, create: true, partyId: 'peer-other' }),
      'INVALID_RECORD',
      'another party id'
    );
    const again = await h.open({ dir, source });
    expect(again.partyId).toBe('peer-12D3KooW');
    expect(again.meta).toMatchObject({ format: STORE_FORMAT, partyId: 'peer-12D3KooW' });
  });

  it('`create` on an existing store opens it and keeps its data', async () => {
    const { ks, dir, source } = await h.create();
    const p = await populate(ks);
    const salt = ks.meta.salt;
    await ks.close();
    const again = await h.open({ dir, source, create: true, partyId: 'party-A' });
    expect(again.meta.salt).toBe(salt);
    await expectPopulated(again, p);
  });

  it('a newer store format in meta/store → UNSUPPORTED_VERSION', async () => {
    const { ks, dir, source } = await h.create();
    await ks.close();
    await withRaw(dir, async (raw) => {
      const meta = await raw.storeMeta();
      await raw.put('meta', 'store', jsonBytes({ ...meta, format: STORE_FORMAT + 1 }));
    });
    await rejectsWith(
      h.open({ dir, source }),
      'UNSUPPORTED_VERSION',
      `store format ${STORE_FORMAT + 1}`
    );
  });
});

describe('record codec versions', () => {
  /** Write `plaintext` as keyshare k1@0 sealed with codec version `version` in its AAD. */
  async function plant(ks: Keystore, version: number, plaintext: string): Promise<void> {
    const key = epochKey('k1', 0);
    const value = ks.sealPlaintext('keyshare', key, 0, version, Buffer.from(plaintext, 'utf8'));
    await ks.write([{ type: 'put', kind: 'keyshare', key, value }]);
  }
  const b64 = Buffer.from([1, 2, 3]).toString('base64');

  it('a record written by a newer mpcd (codec version 2 in AAD and body) → UNSUPPORTED_VERSION', async () => {
    const { ks } = await h.create();
    await plant(ks, 2, `{"v":2,"keyId":"k1","epoch":0,"data":{"b64":"${b64}"}}`);
    await rejectsWith(ks.getKeyShare('k1'), 'UNSUPPORTED_VERSION', `keyshare/${epochKey('k1', 0)}`);
  });

  it('a body claiming version 2 under a version-1 AAD → UNSUPPORTED_VERSION', async () => {
    const { ks } = await h.create();
    await plant(ks, 1, `{"v":2,"keyId":"k1","epoch":0,"data":{"b64":"${b64}"}}`);
    await rejectsWith(
      ks.getKeyShare('k1', 0),
      'UNSUPPORTED_VERSION',
      'version 2 is newer',
      `keyshare/${epochKey('k1', 0)}`
    );
  });

  it('the codec itself reads a version-1 plaintext written by hand', async () => {
    const { ks, dir, source } = await h.create();
    await plant(ks, 1, `{"v":1,"keyId":"k1","epoch":0,"data":{"b64":"${b64}"}}`);
    await ks.close();
    const again = await h.open({ dir, source });
    expect(await again.getKeyShare('k1')).toEqual({
      keyId: 'k1',
      epoch: 0,
      data: new Uint8Array([1, 2, 3]),
    });
  });

  it.each([
    ['not JSON', '{"v":1,', /not valid JSON/],
    ['no version', `{"keyId":"k1","epoch":0,"data":{"b64":"${b64}"}}`, /no version/],
    ['a string version', `{"v":"1","keyId":"k1"}`, /no version/],
    ['no data field', '{"v":1,"keyId":"k1","epoch":0}', /field data missing/],
    ['data not bytes', '{"v":1,"keyId":"k1","epoch":0,"data":"AQID"}', /field data missing/],
    ['no keyId field', `{"v":1,"epoch":0,"data":{"b64":"${b64}"}}`, /field keyId missing/],
    ['a JSON array', '[1,2,3]', /no version/],
  ])(
    'an authentic but malformed plaintext (%s) → RECORD_CORRUPT naming the record',
    async (_n, pt, msg) => {
      const { ks } = await h.create();
      await plant(ks, 1, pt);
      await rejectsWith(
        ks.getKeyShare('k1'),
        'RECORD_CORRUPT',
        `keyshare/${epochKey('k1', 0)}`,
        msg
      );
    }
  );
});
