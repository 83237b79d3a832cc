/**
 * Keystore on-disk format v1: later versions of mpcd must keep reading today's data.
 *
 * tests/fixtures/keystore/v1.json (raw master key) and v1-passphrase.json (scrypt, logN 14) hold
 * every raw LevelDB entry of a v1 store with one record of every kind, written by
 * scripts/gen-keystore-fixture.ts, and the plaintext values written into it (`expect`). Each test
 * writes the raw entries into a fresh LevelDB directory and opens it with the current code.
 *
 * THESE FIXTURES MUST NEVER BE REGENERATED ONCE RELEASED. If this test fails after a change, the
 * change broke the reading of existing stores: fix the code (add an upgrade step), not the
 * fixture. A format change adds v2 fixtures and a v2 test, and keeps these v1 files and tests.
 *
 * The keys and passphrase in the fixtures are public TEST MATERIAL ONLY.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Keystore, type MasterKeySource } from '../../keystore/index.js';

interface Fixture {
  WARNING: string;
  format: number;
  masterKeyHex?: string;
  passphrase?: string;
  scrypt?: { logN: number; r: number; p: number };
  partyId: string;
  entries: Array<{ key: string; valueBase64: string }>;
  expect: {
    meta: {
      format: number;
      partyId: string;
      createdAt: string;
      kdf?: { logN: number; r: number; p: number; salt: string };
    };
    keyShares: Array<{ keyId: string; epoch: number; dataHex: string }>;
    auxInfo: Array<{ auxId: string; epoch: number; dataHex: string }>;
    presignatures: Array<{
      presigId: string;
      keyId: string;
      epoch: number;
      state: 'fresh' | 'consumed';
      dataHex?: string;
      consumedAt?: string;
    }>;
    identityHex: string;
    journal: Array<{
      sid: string;
      protocol: string;
      state: string;
      updatedAt: string;
      detail?: string;
    }>;
    sessionIds: Array<{ sidHex: string; at: string }>;
  };
}

const FIXTURES = ['v1.json', 'v1-passphrase.json'] as const;

function load(name: string): Fixture {
  const file = fileURLToPath(new URL(`../fixtures/keystore/${name}`, import.meta.url));
  return JSON.parse(readFileSync(file, 'utf8')) as Fixture;
}

function sourceOf(f: Fixture): MasterKeySource {
  if (f.masterKeyHex !== undefined) {
    return { kind: 'key', key: { bytes: new Uint8Array(Buffer.from(f.masterKeyHex, 'hex')) } };
  }
  return { kind: 'passphrase', passphrase: f.passphrase! };
}

const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

/** A fresh LevelDB directory holding exactly the fixture's raw entries. */
async function materialise(f: Fixture): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'mpcd-format-v1-'));
  const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.open();
  await db.batch(
    f.entries.map((e) => ({
      type: 'put' as const,
      key: e.key,
      value: new Uint8Array(Buffer.from(e.valueBase64, 'base64')),
    }))
  );
  await db.close();
  return dir;
}

describe.each(FIXTURES)('keystore format v1: %s', (name) => {
  const f = load(name);
  const x = f.expect;
  let dir: string;
  let ks: Keystore | undefined;

  beforeEach(async () => {
    dir = await materialise(f);
    ks = undefined;
  });
  afterEach(async () => {
    await ks?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is a v1 fixture of the expected shape', () => {
    expect(f.format).toBe(1);
    expect(f.WARNING).toMatch(/TEST MATERIAL ONLY/);
    expect(f.partyId).toBe('fixture-party');
    expect(f.masterKeyHex !== undefined).toBe(name === 'v1.json');
    // Value envelope v1: format byte 1 ‖ 8-byte key fingerprint ‖ 12-byte nonce ‖ ct ‖ 16-byte tag,
    // one fingerprint for the whole store; `meta/store` is plaintext JSON.
    const fingerprints = new Set<string>();
    for (const e of f.entries) {
      const v = Buffer.from(e.valueBase64, 'base64');
      if (e.key === '!meta!store') {
        expect(JSON.parse(v.toString('utf8'))).toMatchObject(x.meta);
        continue;
      }
      expect(v[0], e.key).toBe(1);
      expect(v.length, e.key).toBeGreaterThanOrEqual(1 + 8 + 12 + 16);
      fingerprints.add(v.subarray(1, 9).toString('hex'));
    }
    expect(fingerprints.size).toBe(1);
    expect(f.entries.map((e) => e.key.split('!')[1]).sort()).toEqual(
      [
        'aux',
        'identity',
        'journal',
        'keyshare',
        'keyshare',
        'meta',
        'meta',
        'presig',
        'presig',
        'sid',
        'sid',
      ].sort()
    );
  });

  it('reads every record back exactly as written', async () => {
    ks = await Keystore.open({ dir, source: sourceOf(f), partyId: f.partyId });
    expect(ks.partyId).toBe(x.meta.partyId);
    expect(ks.meta).toMatchObject(x.meta);

    for (const s of x.keyShares) {
      expect(await ks.getKeyShare(s.keyId, s.epoch)).toEqual({
        keyId: s.keyId,
        epoch: s.epoch,
        data: fromHex(s.dataHex),
      });
    }
    const newest = x.keyShares.reduce((a, b) => (b.epoch > a.epoch ? b : a));
    expect(await ks.getKeyShare(newest.keyId)).toEqual({
      keyId: newest.keyId,
      epoch: newest.epoch,
      data: fromHex(newest.dataHex),
    });
    expect(await ks.listKeyShares()).toEqual(
      x.keyShares.map((s) => ({ keyId: s.keyId, epoch: s.epoch }))
    );

    for (const a of x.auxInfo) {
      const want = { auxId: a.auxId, epoch: a.epoch, data: fromHex(a.dataHex) };
      expect(await ks.getAuxInfo(a.auxId, a.epoch)).toEqual(want);
      expect(await ks.getAuxInfo(a.auxId)).toEqual(want);
    }

    expect(await ks.getIdentity()).toEqual(fromHex(x.identityHex));

    for (const j of x.journal) expect(await ks.getJournal(j.sid)).toEqual(j);

    for (const s of x.sessionIds) expect(await ks.hasSessionId(fromHex(s.sidHex))).toBe(true);
    expect(await ks.hasSessionId(new Uint8Array(32).fill(0xee))).toBe(false);
    await expect(ks.recordSessionId(fromHex(x.sessionIds[0]!.sidHex))).rejects.toMatchObject({
      code: 'SESSION_ID_REUSED',
    });

    const fresh = x.presignatures.filter((p) => p.state === 'fresh');
    expect((await ks.listFreshPresignatures(fresh[0]!.keyId)).sort()).toEqual(
      fresh.map((p) => p.presigId).sort()
    );
  });

  it('holds the stored fields the API does not return (tombstones, sid times)', async () => {
    ks = await Keystore.open({ dir, source: sourceOf(f) });
    for (const p of x.presignatures) {
      const key = `${p.presigId}@${String(p.epoch).padStart(10, '0')}`;
      const value = await ks.sublevel('presig').get(key);
      expect(value, key).toBeDefined();
      const { obj } = ks.openRecord('presig', key, value!);
      if (p.state === 'fresh') {
        expect(obj).toEqual({
          v: 1,
          presigId: p.presigId,
          keyId: p.keyId,
          epoch: p.epoch,
          state: 'fresh',
          data: fromHex(p.dataHex!),
        });
      } else {
        // A consumed presignature is a tombstone: no `data` left in the record.
        expect(obj).toEqual({
          v: 1,
          presigId: p.presigId,
          keyId: p.keyId,
          epoch: p.epoch,
          state: 'consumed',
          consumedAt: p.consumedAt,
        });
      }
    }
    for (const s of x.sessionIds) {
      const value = await ks.sublevel('sid').get(s.sidHex);
      expect(ks.openRecord('sid', s.sidHex, value!).obj).toEqual({ v: 1, sid: s.sidHex, at: s.at });
    }
  });

  it('consumes the fresh presignature once and refuses the consumed one', async () => {
    ks = await Keystore.open({ dir, source: sourceOf(f) });
    for (const p of x.presignatures) {
      if (p.state === 'fresh') {
        expect(await ks.consumePresignature(p.presigId)).toEqual({
          presigId: p.presigId,
          keyId: p.keyId,
          epoch: p.epoch,
          data: fromHex(p.dataHex!),
        });
      }
      await expect(ks.consumePresignature(p.presigId)).rejects.toMatchObject({
        code: 'PRESIGNATURE_CONSUMED',
      });
    }
    expect(await ks.listFreshPresignatures(x.presignatures[0]!.keyId)).toEqual([]);
  });

  it('stays writable by the current code', async () => {
    ks = await Keystore.open({ dir, source: sourceOf(f) });
    const keyId = x.keyShares[0]!.keyId;
    const next = Math.max(...x.keyShares.map((s) => s.epoch)) + 1;
    await ks.putKeyShare({ keyId, epoch: next, data: new Uint8Array([7, 7, 7]) });
    await ks.close();
    ks = await Keystore.open({ dir, source: sourceOf(f) });
    expect(await ks.getKeyShare(keyId)).toEqual({
      keyId,
      epoch: next,
      data: new Uint8Array([7, 7, 7]),
    });
    expect(await ks.getKeyShare(keyId, x.keyShares[0]!.epoch)).toEqual({
      keyId,
      epoch: x.keyShares[0]!.epoch,
      data: fromHex(x.keyShares[0]!.dataHex),
    });
  });

  it('refuses a wrong key with WRONG_MASTER_KEY', async () => {
    const wrong: MasterKeySource[] = [
      { kind: 'key', key: { bytes: new Uint8Array(32).fill(0x12) } },
      { kind: 'passphrase', passphrase: 'TEST-ONLY not the fixture passphrase' },
    ];
    // The other fixture's source (a valid key or passphrase, of the other keying) fails too.
    wrong.push(sourceOf(load(name === 'v1.json' ? 'v1-passphrase.json' : 'v1.json')));
    for (const source of wrong) {
      await expect(Keystore.open({ dir, source })).rejects.toMatchObject({
        code: 'WRONG_MASTER_KEY',
      });
    }
    // …and a failed open leaves the store openable with the right key.
    ks = await Keystore.open({ dir, source: sourceOf(f) });
    expect(await ks.getIdentity()).toEqual(fromHex(x.identityHex));
  });
});
