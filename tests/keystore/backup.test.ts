/**
 * Backup and restore: backup → wipe → restore of every kind but presignatures; archives that
 * carry presignatures; master-key and passphrase keying; tampered, truncated and malformed
 * archives; conflicts (other party, older epoch, different record); atomicity and idempotence.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  BACKUP_FORMAT,
  exportBackup,
  importBackup,
  type Keystore,
  type MasterKeySource,
} from '../../keystore/index.js';
import { RECORD_KINDS } from '../../keystore/records.js';
import { OFF, archiveKey, openBody, plaintextB64, withBody } from './helpers/archive.js';
import {
  epochKey,
  expectNoSecrets,
  expectPopulated,
  flip,
  masterOf,
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
const BACKUP_PASS = 'backup passphrase, long enough';
/** Records of populate() that a backup carries (all but the 2 presignatures). */
const BACKED_UP = 8;

/** Every raw (key, value) of an open store, for "nothing was written" checks. */
async function snapshot(ks: Keystore): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const kind of [...RECORD_KINDS, 'meta' as const]) {
    out[kind] = (await ks.sublevel(kind).iterator().all()).map(
      ([k, v]) => `${k}=${Buffer.from(v).toString('hex')}`
    );
  }
  return out;
}

/** A populated source store (party-A) and its raw-key or passphrase source. */
async function original(
  source: MasterKeySource = randomKey()
): Promise<{ ks: Keystore; p: Populated; source: MasterKeySource }> {
  const { ks } = await h.create(source, 'party-A');
  const p = await populate(ks);
  return { ks, p, source };
}

/** A fresh, empty store of `partyId` in a new dir ("after the wipe"). */
async function fresh(source: MasterKeySource = randomKey(), partyId = 'party-A') {
  return (await h.create(source, partyId)).ks;
}

const emptyImport = { identity: 0, keyshare: 0, aux: 0, presig: 0, journal: 0, sid: 0 };

describe('backup → wipe → restore', () => {
  it('restores shares, aux, identity, journal and session ids — never a presignature', async () => {
    const { ks, p, source } = await original();
    const archive = await exportBackup(ks, source);
    await ks.close();
    const target = await fresh(source); // same master key, new dir
    const report = await importBackup(target, archive, source);
    expect(report).toEqual({
      imported: { identity: 1, keyshare: 3, aux: 1, presig: 0, journal: 1, sid: 2 },
      unchanged: 0,
      droppedPresignatures: 0,
    });
    await expectPopulated(target, p, { presigs: 'absent' });
    await rejectsWith(target.consumePresignature('p1'), 'NOT_FOUND');
    await rejectsWith(target.recordSessionId(p.sids[0]!), 'SESSION_ID_REUSED');
  });

  it('the archive body holds no presignature, and every other record', async () => {
    const { ks, source } = await original();
    await ks.consumePresignature('p2'); // a tombstone is not exported either
    const archive = await exportBackup(ks, source);
    const key = await archiveKey(archive, { master: await masterOf(source, undefined) });
    const body = openBody(archive, key);
    expect(body).toMatchObject({ format: BACKUP_FORMAT, partyId: 'party-A' });
    expect(body.records.map((r) => r.kind).sort()).toEqual(
      ['identity', 'keyshare', 'keyshare', 'keyshare', 'aux', 'journal', 'sid', 'sid'].sort()
    );
    expect(body.records.some((r) => r.kind === 'presig')).toBe(false);
  });

  it('the restored store keeps working: new epochs, new presignatures, new sids', async () => {
    const { ks, p, source } = await original();
    const archive = await exportBackup(ks, source);
    const target = await fresh(source);
    await importBackup(target, archive, source);
    await target.putKeyShare({ keyId: 'k1', epoch: 2, data: new Uint8Array([1]) });
    await rejectsWith(
      target.putKeyShare({ keyId: 'k1', epoch: 0, data: p.keyShares[0]!.data.slice(1) }),
      'INVALID_RECORD'
    );
    await target.putPresignature({
      presigId: 'p9',
      keyId: 'k1',
      epoch: 2,
      data: new Uint8Array([2]),
    });
    expect(await target.listFreshPresignatures('k1')).toEqual(['p9']);
    await target.recordSessionId(new Uint8Array(32).fill(0xb0));
  });

  it('restores into a store under another raw master key when given the archive’s key', async () => {
    const { ks, p, source } = await original();
    const archive = await exportBackup(ks, source);
    const target = await fresh(randomKey());
    await rejectsWith(
      importBackup(target, archive, randomKey()),
      'BACKUP_WRONG_KEY',
      'master key does not open this archive'
    );
    await importBackup(target, archive, source);
    await expectPopulated(target, p, { presigs: 'absent' });
  });

  it('a master-key archive of a PASSPHRASE store restores after the wipe with the same passphrase', async () => {
    // The archive is keyed by the scrypt output of the store's own salt; the wiped store's salt
    // is gone, so the restore must not depend on it.
    const source = pass(randomPassphrase());
    const { ks, p } = await original(source);
    const archive = await exportBackup(ks, source);
    await ks.close();
    const target = await fresh(source);
    const report = await importBackup(target, archive, source);
    expect(report.imported.keyshare).toBe(3);
    await expectPopulated(target, p, { presigs: 'absent' });
  });

  it('a passphrase-keyed archive restores into a store under any master key', async () => {
    const { ks, p, source } = await original(pass(randomPassphrase()));
    const archive = await exportBackup(ks, source, { passphrase: BACKUP_PASS });
    expect(archive[OFF.mode]).toBe(2);
    // backups use stronger scrypt than stores (BACKUP_SCRYPT: the most exposed file)
    expect([archive[OFF.logN], archive[OFF.r], archive[OFF.p]]).toEqual([17, 8, 1]);
    await ks.close();
    const target = await fresh(randomKey());
    const report = await importBackup(target, archive, randomKey(), { passphrase: BACKUP_PASS });
    expect(report.imported).toEqual({
      identity: 1,
      keyshare: 3,
      aux: 1,
      presig: 0,
      journal: 1,
      sid: 2,
    });
    await expectPopulated(target, p, { presigs: 'absent' });
  });

  it('imports twice idempotently: everything `unchanged` the second time', async () => {
    const { ks, p, source } = await original();
    const archive = await exportBackup(ks, source);
    const target = await fresh(source);
    await importBackup(target, archive, source);
    const before = await snapshot(target);
    expect(await importBackup(target, archive, source)).toEqual({
      imported: emptyImport,
      unchanged: BACKED_UP,
      droppedPresignatures: 0,
    });
    expect(await snapshot(target)).toEqual(before);
    await expectPopulated(target, p, { presigs: 'absent' });
  });

  it('importing into the very store it came from changes nothing (presignatures untouched)', async () => {
    const { ks, p, source } = await original();
    const archive = await exportBackup(ks, source);
    await ks.consumePresignature('p1');
    const before = await snapshot(ks);
    expect(await importBackup(ks, archive, source)).toMatchObject({
      imported: emptyImport,
      unchanged: BACKED_UP,
    });
    expect(await snapshot(ks)).toEqual(before);
    await rejectsWith(ks.consumePresignature('p1'), 'PRESIGNATURE_CONSUMED');
    expect(await ks.listFreshPresignatures('k1')).toEqual(['p2']);
    expect(p.presigs).toHaveLength(2);
  });

  it('a newer live journal entry wins over the archived one', async () => {
    const { ks, p, source } = await original();
    const archive = await exportBackup(ks, source);
    const live = { ...p.journal[0]!, state: 'aborted', updatedAt: '2026-03-01T00:00:00.000Z' };
    await ks.putJournal(live);
    const report = await importBackup(ks, archive, source);
    expect(report.unchanged).toBe(BACKED_UP);
    expect(await ks.getJournal(live.sid)).toEqual(live);
  });
});

describe('archives that carry presignatures', () => {
  for (const keying of ['master key', 'passphrase'] as const) {
    it(`drops every presignature record on import (${keying}-keyed archive)`, async () => {
      const { ks, p, source } = await original();
      const opts = keying === 'passphrase' ? { passphrase: BACKUP_PASS } : {};
      const archive = await exportBackup(ks, source, opts);
      const key = await archiveKey(archive, {
        master: await masterOf(source, undefined),
        passphrase: BACKUP_PASS,
      });
      const body = openBody(archive, key);
      const pr = p.presigs[0]!;
      // a fresh presignature, and one that claims to be fresh again after being consumed
      body.records.splice(1, 0, {
        kind: 'presig',
        key: epochKey(pr.presigId, pr.epoch),
        data: plaintextB64({ ...pr, state: 'fresh' }),
      });
      body.records.push({
        kind: 'presig',
        key: epochKey('p-extra', 1),
        data: plaintextB64({
          presigId: 'p-extra',
          keyId: 'k1',
          epoch: 1,
          state: 'fresh',
          data: new Uint8Array([9]),
        }),
      });
      const forged = withBody(archive, key, body);

      const target = await fresh(source);
      const report = await importBackup(target, forged, source, opts);
      expect(report.droppedPresignatures).toBe(2);
      expect(report.imported).toEqual({
        identity: 1,
        keyshare: 3,
        aux: 1,
        presig: 0,
        journal: 1,
        sid: 2,
      });
      expect(await target.listFreshPresignatures('k1')).toEqual([]);
      expect(await target.sublevel('presig').keys().all()).toEqual([]);
      await rejectsWith(target.consumePresignature(pr.presigId), 'NOT_FOUND');
      await rejectsWith(target.consumePresignature('p-extra'), 'NOT_FOUND');

      // into a store where the presignature was consumed: the tombstone stays a tombstone
      await ks.consumePresignature(pr.presigId);
      expect((await importBackup(ks, forged, source, opts)).droppedPresignatures).toBe(2);
      await rejectsWith(ks.consumePresignature(pr.presigId), 'PRESIGNATURE_CONSUMED');
      await rejectsWith(ks.consumePresignature('p-extra'), 'NOT_FOUND');
    });
  }
});

describe('wrong keys', () => {
  it('a wrong backup passphrase → BACKUP_WRONG_KEY, nothing written, no secret echoed', async () => {
    const { ks, source } = await original();
    const archive = await exportBackup(ks, source, { passphrase: BACKUP_PASS });
    const target = await fresh(source);
    const before = await snapshot(target);
    const wrong = 'not the backup passphrase';
    const err = await rejectsWith(
      importBackup(target, archive, source, { passphrase: wrong }),
      'BACKUP_WRONG_KEY',
      'wrong backup passphrase'
    );
    expectNoSecrets(err, [wrong, BACKUP_PASS]);
    await rejectsWith(
      importBackup(target, archive, source),
      'BACKUP_WRONG_KEY',
      'needs its backup passphrase'
    );
    expect(await snapshot(target)).toEqual(before);
  });

  it('a wrong backup passphrase shorter than 12 characters is a wrong key too, not a bad archive', async () => {
    const { ks, source } = await original();
    const archive = await exportBackup(ks, source, { passphrase: BACKUP_PASS });
    await rejectsWith(
      importBackup(await fresh(source), archive, source, { passphrase: 'too short' }),
      'BACKUP_WRONG_KEY'
    );
  });

  it('export refuses a backup passphrase shorter than 12 characters', async () => {
    const { ks, source } = await original();
    await rejectsWith(exportBackup(ks, source, { passphrase: 'short' }), 'INVALID_MASTER_KEY');
  });

  it('export with a source that is not the store’s key is refused, not a silently useless archive', async () => {
    // Today the archive is keyed by whatever `source` resolves to, unchecked: a typo makes a
    // backup that the store's real key cannot restore, and nobody notices until the restore.
    const { ks } = await original();
    await rejectsWith(exportBackup(ks, randomKey()), 'WRONG_MASTER_KEY');
    await rejectsWith(exportBackup(ks, pass(randomPassphrase())), 'WRONG_MASTER_KEY');
  });
});

describe('damaged archives', () => {
  type Damage = [string, (a: Buffer) => Buffer, 'BACKUP_INVALID' | 'BACKUP_WRONG_KEY', RegExp];
  const common: Damage[] = [
    ['a body byte flipped', (a) => flip(a, OFF.body + 3), 'BACKUP_INVALID', /tampered/],
    ['the last body byte flipped', (a) => flip(a, -17), 'BACKUP_INVALID', /tampered/],
    ['a tag byte flipped', (a) => flip(a, -1), 'BACKUP_INVALID', /tampered/],
    ['the body nonce flipped', (a) => flip(a, OFF.nonce + 5), 'BACKUP_INVALID', /tampered/],
    ['truncated by one byte', (a) => a.subarray(0, a.length - 1), 'BACKUP_INVALID', /tampered/],
    [
      'truncated to its header',
      (a) => a.subarray(0, OFF.body),
      'BACKUP_INVALID',
      /not an mpcd backup/,
    ],
    ['truncated to 50 bytes', (a) => a.subarray(0, 50), 'BACKUP_INVALID', /not an mpcd backup/],
    ['emptied', () => Buffer.alloc(0), 'BACKUP_INVALID', /not an mpcd backup/],
    ['a byte appended', (a) => Buffer.concat([a, Buffer.from([0])]), 'BACKUP_INVALID', /tampered/],
    ['the magic changed', (a) => flip(a, 2), 'BACKUP_INVALID', /not an mpcd backup/],
    ['version 2', (a) => flip(a, OFF.version, 3), 'BACKUP_INVALID', /format 2 is not supported/],
    ['version 0', (a) => flip(a, OFF.version, 1), 'BACKUP_INVALID', /format 0/],
    [
      'mode 3',
      (a) => Buffer.concat([a.subarray(0, OFF.mode), Buffer.from([3]), a.subarray(OFF.mode + 1)]),
      'BACKUP_INVALID',
      /keying mode/,
    ],
    // The header before the check block is the check's AAD: changing it looks like a wrong key.
    ['a salt byte flipped', (a) => flip(a, OFF.salt + 7), 'BACKUP_WRONG_KEY', /./],
    ['the check nonce flipped', (a) => flip(a, OFF.checkNonce), 'BACKUP_WRONG_KEY', /./],
    ['the check block flipped', (a) => flip(a, OFF.check + 20), 'BACKUP_WRONG_KEY', /./],
  ];

  const masterOnly: Damage[] = [
    ['logN changed (15 → 14)', (a) => flip(a, OFF.logN, 15 ^ 14), 'BACKUP_WRONG_KEY', /master key/],
    ['r changed', (a) => flip(a, OFF.r, 1), 'BACKUP_WRONG_KEY', /master key/],
  ];
  const passOnly: Damage[] = [
    [
      'logN changed (15 → 14)',
      (a) => flip(a, OFF.logN, 15 ^ 14),
      'BACKUP_WRONG_KEY',
      /wrong backup passphrase/,
    ],
    [
      'logN out of bounds (40)',
      (a) => flip(a, OFF.logN, 15 ^ 40),
      'BACKUP_INVALID',
      /out of bounds/,
    ],
    ['r out of bounds (7)', (a) => flip(a, OFF.r, 8 ^ 7), 'BACKUP_INVALID', /out of bounds/],
    ['p out of bounds (0)', (a) => flip(a, OFF.p, 1), 'BACKUP_INVALID', /out of bounds/],
    ['mode 2 → 1', (a) => flip(a, OFF.mode, 3), 'BACKUP_WRONG_KEY', /master key/],
  ];

  for (const keying of ['master key', 'passphrase'] as const) {
    const cases = [...common, ...(keying === 'passphrase' ? passOnly : masterOnly)];
    it(`refuses a ${keying}-keyed archive with each damage, writing nothing`, async () => {
      const { ks, source } = await original();
      const opts = keying === 'passphrase' ? { passphrase: BACKUP_PASS } : {};
      const archive = Buffer.from(await exportBackup(ks, source, opts));
      const target = await fresh(source);
      const before = await snapshot(target);
      for (const [name, damage, code, msg] of cases) {
        const err = await rejectsWith(
          importBackup(target, damage(archive), source, opts),
          code,
          msg
        ).catch((e: unknown) => {
          throw new Error(`${name}: ${String(e)}`, { cause: e });
        });
        expect(err.code, name).toBe(code);
      }
      expect(await snapshot(target)).toEqual(before);
      // the undamaged archive still imports
      expect((await importBackup(target, archive, source, opts)).imported.keyshare).toBe(3);
    });
  }

  describe('a validly sealed body that is malformed', () => {
    async function forged(edit: (body: ReturnType<typeof openBody>) => unknown) {
      const { ks, source } = await original();
      const archive = await exportBackup(ks, source);
      const key = await archiveKey(archive, { master: await masterOf(source, undefined) });
      const target = await fresh(source);
      return { target, source, archive: withBody(archive, key, edit(openBody(archive, key))) };
    }

    it.each<[string, (b: ReturnType<typeof openBody>) => unknown, RegExp]>([
      ['not JSON', () => '{"format":1,', /not valid JSON/],
      ['body format 2', (b) => ({ ...b, format: 2 }), /unexpected shape/],
      ['records not an array', (b) => ({ ...b, records: {} }), /unexpected shape/],
      ['no party id', (b) => ({ ...b, partyId: 7 }), /unexpected shape/],
      [
        'a record without data',
        (b) => ({ ...b, records: [...b.records, { kind: 'sid', key: 'x' }] }),
        /record has an unexpected shape/,
      ],
      [
        'an unknown kind',
        (b) => ({ ...b, records: [...b.records, { kind: 'meta', key: 'store', data: '' }] }),
        /unknown record kind meta/,
      ],
      [
        'a malformed key',
        (b) => ({ ...b, records: [...b.records, { kind: 'keyshare', key: 'k1@1', data: '' }] }),
        /malformed keyshare key/,
      ],
      [
        'a malformed sid key',
        (b) => ({ ...b, records: [...b.records, { kind: 'sid', key: 'ABC', data: '' }] }),
        /malformed sid key/,
      ],
      ['a record twice', (b) => ({ ...b, records: [...b.records, b.records[1]] }), /record twice/],
      [
        'an identity without its key',
        (b) => ({
          ...b,
          records: b.records.map((r) =>
            r.kind === 'identity' ? { ...r, data: plaintextB64({}) } : r
          ),
        }),
        /identity record is incomplete/,
      ],
    ])('%s → BACKUP_INVALID, nothing written', async (_name, edit, msg) => {
      const { target, archive, source } = await forged(edit);
      const before = await snapshot(target);
      await rejectsWith(importBackup(target, archive, source), 'BACKUP_INVALID', msg);
      expect(await snapshot(target)).toEqual(before);
    });

    it('a record of a newer codec version → UNSUPPORTED_VERSION naming it, nothing written', async () => {
      const { target, archive, source } = await forged((b) => ({
        ...b,
        records: b.records.map((r) =>
          r.kind === 'aux'
            ? { ...r, data: Buffer.from('{"v":2,"auxId":"aux-1"}').toString('base64') }
            : r
        ),
      }));
      const before = await snapshot(target);
      await rejectsWith(
        importBackup(target, archive, source),
        'UNSUPPORTED_VERSION',
        `archive aux/${epochKey('aux-1', 0)}`
      );
      expect(await snapshot(target)).toEqual(before);
    });
  });
});

describe('conflicts', () => {
  it('an archive of another party id → BACKUP_CONFLICT, nothing written', async () => {
    const { ks, source } = await original();
    const archive = await exportBackup(ks, source);
    const other = await fresh(source, 'party-B');
    const before = await snapshot(other);
    const err = await rejectsWith(
      importBackup(other, archive, source),
      'BACKUP_CONFLICT',
      'another party id',
      'party-A', // the archive's
      'party-B' // the store's
    );
    expect(err.details).toEqual({ archivePartyId: 'party-A', storePartyId: 'party-B' });
    expect(await snapshot(other)).toEqual(before);
  });

  it('a store holding a newer epoch than the archive → BACKUP_CONFLICT, store unchanged', async () => {
    const { ks, p, source } = await original();
    const archive = await exportBackup(ks, source);
    const target = await fresh(source);
    const newer = new Uint8Array(randomBytes(40));
    await target.putKeyShare({ keyId: 'k1', epoch: 5, data: newer });
    await target.recordSessionId(new Uint8Array(32).fill(0xcc));
    const before = await snapshot(target);
    const err = await rejectsWith(
      importBackup(target, archive, source),
      'BACKUP_CONFLICT',
      'keyshare k1',
      'older than the stored epoch 5'
    );
    expectNoSecrets(err, p.secrets.flatMap(secretForms).concat(secretForms(newer)));
    expect(await snapshot(target)).toEqual(before);
    // in particular none of the records that came before the conflict in the archive
    expect(await target.getIdentity()).toBeUndefined();
    expect(await target.hasSessionId(p.sids[0]!)).toBe(false);
    expect(await target.listKeyShares()).toEqual([{ keyId: 'k1', epoch: 5 }]);
  });

  it('the same for aux info', async () => {
    const { ks, source } = await original();
    const archive = await exportBackup(ks, source);
    const target = await fresh(source);
    await target.putAuxInfo({ auxId: 'aux-1', epoch: 3, data: new Uint8Array([1]) });
    const before = await snapshot(target);
    await rejectsWith(importBackup(target, archive, source), 'BACKUP_CONFLICT', 'aux aux-1');
    expect(await snapshot(target)).toEqual(before);
  });

  it('a different record under an existing id (share at the same epoch, identity) → BACKUP_CONFLICT', async () => {
    const { ks, p, source } = await original();
    const archive = await exportBackup(ks, source);
    const t1 = await fresh(source);
    await t1.putKeyShare({ keyId: 'k2', epoch: 7, data: new Uint8Array([1, 2, 3]) });
    const b1 = await snapshot(t1);
    await rejectsWith(
      importBackup(t1, archive, source),
      'BACKUP_CONFLICT',
      'keyshare k2',
      'epoch 7',
      'differs'
    );
    expect(await snapshot(t1)).toEqual(b1);

    const t2 = await fresh(source);
    await t2.putIdentity(new Uint8Array([9, 9, 9]));
    const b2 = await snapshot(t2);
    await rejectsWith(importBackup(t2, archive, source), 'BACKUP_CONFLICT', 'identity');
    expect(await snapshot(t2)).toEqual(b2);
    expect(p.identity).not.toEqual(new Uint8Array([9, 9, 9]));
  });

  it('a store that already has a newer epoch as well as the archived ones imports the rest', async () => {
    // archive: k1@0, k1@1, k2@7; store: k1@0, k1@1 (identical) and k1@2 → the archived k1
    // epochs are identical (unchanged), nothing is older-and-missing: no conflict.
    const { ks, p, source } = await original();
    const archive = await exportBackup(ks, source);
    const target = await fresh(source);
    await target.putKeyShare(p.keyShares[0]!);
    await target.putKeyShare(p.keyShares[1]!);
    await target.putKeyShare({ keyId: 'k1', epoch: 2, data: new Uint8Array([7]) });
    const report = await importBackup(target, archive, source);
    expect(report.unchanged).toBe(2);
    expect(report.imported.keyshare).toBe(1);
    expect((await target.getKeyShare('k1'))?.epoch).toBe(2);
  });
});
