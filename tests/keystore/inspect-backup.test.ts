/**
 * `inspectBackup`: an archive opened without a store (what `mpcd restore` needs before it creates
 * one, and what `mpcd backup` reads back). Party id, date and counts per kind with the right key
 * (master key, backup passphrase, a passphrase node's own passphrase); the wrong or a missing key
 * refused with BACKUP_WRONG_KEY naming the key the archive needs; damaged and malformed archives
 * refused with the same codes as `importBackup` (one implementation of the format), nothing secret
 * in any message.
 */
import { describe, expect, it } from 'vitest';
import {
  exportBackup,
  importBackup,
  inspectBackup,
  type InspectKeying,
  type Keystore,
  type MasterKeySource,
} from '../../keystore/index.js';
import { KeystoreError } from '../../keystore/errors.js';
import { OFF, archiveKey, openBody, plaintextB64, withBody } from './helpers/archive.js';
import {
  epochKey,
  expectNoSecrets,
  flip,
  pass,
  populate,
  randomKey,
  randomPassphrase,
  rejectsWith,
  secretForms,
  useHarness,
  type Populated,
} from './helpers/ks.js';

const h = useHarness();
const BACKUP_PASS = 'inspect backup passphrase';
/** What populate() writes that a backup carries: everything but the two presignatures. */
const POPULATED_COUNTS = {
  identity: 1,
  keyshare: 3,
  aux: 1,
  presig: 0,
  journal: 1,
  sid: 2,
  prime: 0,
};

/** A populated store of party-A under `source` (closed afterwards by the harness). */
async function original(source: MasterKeySource): Promise<{ ks: Keystore; p: Populated }> {
  const { ks } = await h.create(source, 'party-A');
  return { ks, p: await populate(ks) };
}

/** The code of the KeystoreError `p` rejects with, or 'resolved'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'resolved',
    (err: unknown) => (err instanceof KeystoreError ? err.code : `not a KeystoreError: ${err}`)
  );
}

describe('inspectBackup with the right key', () => {
  it('a master-key archive: party id, creation time, counts per kind; no store needed', async () => {
    const source = randomKey();
    const { ks } = await original(source);
    const t0 = Date.now();
    const archive = await exportBackup(ks, source);
    const t1 = Date.now();
    await ks.close(); // nothing below uses a store
    const summary = await inspectBackup(archive, { master: source.key });
    expect(summary).toEqual({
      partyId: 'party-A',
      createdAt: expect.any(String) as unknown,
      counts: POPULATED_COUNTS,
    });
    const at = Date.parse(summary.createdAt);
    expect(at).toBeGreaterThanOrEqual(t0 - 1000);
    expect(at).toBeLessThanOrEqual(t1 + 1000);
    expect(new Date(at).toISOString()).toBe(summary.createdAt);
    // a passphrase given alongside is not needed and not used
    expect(await inspectBackup(archive, { master: source.key, passphrase: BACKUP_PASS })).toEqual(
      summary
    );
  });

  it('an archive keyed by a backup passphrase opens with the passphrase alone', async () => {
    const source = randomKey();
    const { ks } = await original(source);
    const archive = await exportBackup(ks, source, { passphrase: BACKUP_PASS });
    expect(await inspectBackup(archive, { passphrase: BACKUP_PASS })).toMatchObject({
      partyId: 'party-A',
      counts: POPULATED_COUNTS,
    });
  });

  it('a passphrase node’s archive opens with its passphrase (its master key needs the lost salt)', async () => {
    const phrase = randomPassphrase();
    const source = pass(phrase);
    const { ks } = await original(source);
    const archive = await exportBackup(ks, source);
    expect(await inspectBackup(archive, { passphrase: phrase })).toMatchObject({
      partyId: 'party-A',
      counts: POPULATED_COUNTS,
    });
  });

  it('counts what the import would drop: presignatures and pooled primes a doctored archive holds', async () => {
    const source = randomKey();
    const { ks, p } = await original(source);
    const archive = await exportBackup(ks, source);
    const key = await archiveKey(archive, { master: source.key });
    const body = openBody(archive, key);
    const pr = p.presigs[0]!;
    body.records.push(
      {
        kind: 'presig',
        key: epochKey(pr.presigId, pr.epoch),
        data: plaintextB64({ ...pr, state: 'fresh' }),
      },
      { kind: 'prime', key: 'level112.x1', data: plaintextB64({ id: 'x1' }) },
      { kind: 'prime', key: 'level128.x2', data: plaintextB64({ id: 'x2' }) }
    );
    const forged = withBody(archive, key, body);
    const summary = await inspectBackup(forged, { master: source.key });
    expect(summary.counts).toEqual({ ...POPULATED_COUNTS, presig: 1, prime: 2 });
    // the same numbers the import reports
    const report = await importBackup((await h.create(source, 'party-A')).ks, forged, source);
    expect(report.droppedPresignatures).toBe(summary.counts.presig);
    expect(report.droppedPrimes).toBe(summary.counts.prime);
    const { presig: _p, prime: _q, ...kept } = summary.counts;
    expect(report.imported).toEqual({ ...kept, presig: 0 });
  });
});

describe('inspectBackup with a wrong or missing key', () => {
  it('refuses with BACKUP_WRONG_KEY, naming the key the archive needs, echoing no secret', async () => {
    const source = randomKey();
    const { ks, p } = await original(source);
    const byMaster = await exportBackup(ks, source);
    const byPass = await exportBackup(ks, source, { passphrase: BACKUP_PASS });
    const wrongKey = randomKey();
    const wrongPass = 'not the backup passphrase';
    const cases: Array<[string, Uint8Array, InspectKeying, 'master-key' | 'passphrase', RegExp]> = [
      ['another master key', byMaster, { master: wrongKey.key }, 'master-key', /does not open/],
      ['no master key', byMaster, { passphrase: BACKUP_PASS }, 'master-key', /master key/],
      ['a wrong passphrase', byPass, { passphrase: wrongPass }, 'passphrase', /wrong/],
      ['a short wrong passphrase', byPass, { passphrase: 'short' }, 'passphrase', /wrong/],
      ['no passphrase', byPass, { master: wrongKey.key }, 'passphrase', /needs its backup/],
    ];
    for (const [name, archive, keying, keyedBy, msg] of cases) {
      const err = await rejectsWith(inspectBackup(archive, keying), 'BACKUP_WRONG_KEY', msg).catch(
        (e: unknown) => {
          throw new Error(`${name}: ${String(e)}`, { cause: e });
        }
      );
      expect(err.details, name).toEqual({ keyedBy });
      expectNoSecrets(err, [
        BACKUP_PASS,
        wrongPass,
        ...secretForms(wrongKey.key.bytes),
        ...p.secrets.flatMap(secretForms),
      ]);
    }
  });

  it('importBackup reports the same `keyedBy` detail', async () => {
    const source = randomKey();
    const { ks } = await original(source);
    const byPass = await exportBackup(ks, source, { passphrase: BACKUP_PASS });
    const target = (await h.create(source, 'party-A')).ks;
    const err = await rejectsWith(importBackup(target, byPass, source), 'BACKUP_WRONG_KEY');
    expect(err.details).toEqual({ keyedBy: 'passphrase' });
  });
});

describe('inspectBackup of damaged or malformed archives', () => {
  it('refuses each damage with the code importBackup gives it', async () => {
    const source = randomKey();
    const { ks } = await original(source);
    const archive = Buffer.from(await exportBackup(ks, source));
    const key = await archiveKey(archive, { master: source.key });
    const body = openBody(archive, key);
    const target = (await h.create(source, 'party-A')).ks;
    const cases: Array<[string, Uint8Array, string]> = [
      ['a body byte flipped', flip(archive, OFF.body + 3), 'BACKUP_INVALID'],
      ['a tag byte flipped', flip(archive, -1), 'BACKUP_INVALID'],
      ['truncated by one byte', archive.subarray(0, archive.length - 1), 'BACKUP_INVALID'],
      ['truncated to its header', archive.subarray(0, OFF.body), 'BACKUP_INVALID'],
      ['emptied', new Uint8Array(0), 'BACKUP_INVALID'],
      ['the magic changed', flip(archive, 2), 'BACKUP_INVALID'],
      ['version 2', flip(archive, OFF.version, 3), 'BACKUP_INVALID'],
      ['the check block flipped', flip(archive, OFF.check + 20), 'BACKUP_WRONG_KEY'],
      ['a body that is not JSON', withBody(archive, key, '{"format":1,'), 'BACKUP_INVALID'],
      ['no creation time', withBody(archive, key, { ...body, createdAt: 7 }), 'BACKUP_INVALID'],
      [
        'a malformed party id',
        withBody(archive, key, { ...body, partyId: 'party A\nforged line' }),
        'BACKUP_INVALID',
      ],
      [
        'an unknown kind',
        withBody(archive, key, {
          ...body,
          records: [...body.records, { kind: 'meta', key: 'store', data: '' }],
        }),
        'BACKUP_INVALID',
      ],
      [
        'a record twice',
        withBody(archive, key, { ...body, records: [...body.records, body.records[1]] }),
        'BACKUP_INVALID',
      ],
      ['the intact archive', archive, 'resolved'],
    ];
    for (const [name, damaged, code] of cases) {
      const inspected = await outcome(inspectBackup(damaged, { master: source.key }));
      const imported = await outcome(importBackup(target, damaged, source));
      expect({ name, inspected, imported }).toEqual({ name, inspected: code, imported: code });
    }
  });

  it('says what is wrong: not an archive, tampered, unsupported, malformed', async () => {
    const source = randomKey();
    const { ks } = await original(source);
    const archive = Buffer.from(await exportBackup(ks, source));
    const k = { master: source.key };
    await rejectsWith(inspectBackup(flip(archive, 0), k), 'BACKUP_INVALID', 'not an mpcd backup');
    await rejectsWith(inspectBackup(flip(archive, -17), k), 'BACKUP_INVALID', 'tampered');
    await rejectsWith(
      inspectBackup(flip(archive, OFF.version, 3), k),
      'BACKUP_INVALID',
      'format 2 is not supported'
    );
    const key = await archiveKey(archive, k);
    const body = openBody(archive, key);
    await rejectsWith(
      inspectBackup(withBody(archive, key, { ...body, partyId: '' }), k),
      'BACKUP_INVALID',
      'party id is malformed'
    );
  });
});
