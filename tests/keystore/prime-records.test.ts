/**
 * Pooled prime pairs (`prime` records, docs/keystore.md "Prime pool"): put / take / count by level,
 * sealed at rest, taken once (deleted before they are returned, concurrent takers never share a
 * pair), argument checks that never echo a prime, never in a backup and dropped on import, and
 * re-sealed by master-key rotation. Uses the public test fixture primes (no prime generation).
 */
import { describe, expect, it } from 'vitest';
import {
  exportBackup,
  importBackup,
  rotateMasterKey,
  type Keystore,
  type PrimePairRecord,
} from '../../keystore/index.js';
import { deriveStoreKeys, envelopeFingerprint } from '../../keystore/encryption.js';
import { LEVEL112, LEVEL128 } from '../../protocol/params.js';
import { fixtureCount, fixturePrimes } from '../helpers/fixtures.js';
import { archiveKey, openBody, plaintextB64, withBody } from './helpers/archive.js';
import {
  expectNoSecrets,
  masterOf,
  populate,
  randomKey,
  rejectsWith,
  useHarness,
  withRaw,
} from './helpers/ks.js';

const h = useHarness();

/** The i-th fixture pair of a level as a pool record with id `pp-<level>-<i>`. */
function pair(level: 'level112' | 'level128', i: number): PrimePairRecord {
  const { p, q } = fixturePrimes(level === 'level112' ? LEVEL112 : LEVEL128, i);
  return { id: `pp-${level}-${i}`, level, p, q };
}

/** Every text form of a prime that could leak: hex, upper hex, base64 of its bytes. */
function primeForms(x: bigint): string[] {
  const hex = x.toString(16);
  const b = Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex');
  return [hex, hex.toUpperCase(), b.toString('base64'), hex.slice(0, 24)];
}

async function fill(ks: Keystore, level: 'level112' | 'level128', n: number): Promise<void> {
  for (let i = 0; i < n; i++) await ks.putPrimePair(pair(level, i));
}

describe('put / take / count', () => {
  it('takes back exactly what was put, per level, each pair once', async () => {
    const { ks } = await h.create();
    expect(await ks.countPrimePairs('level112')).toBe(0);
    expect(await ks.takePrimePair('level112')).toBeUndefined();
    await fill(ks, 'level112', 3);
    await ks.putPrimePair(pair('level128', 0));
    expect(await ks.countPrimePairs('level112')).toBe(3);
    expect(await ks.countPrimePairs('level128')).toBe(1);

    const taken: Array<{ id: string; p: bigint; q: bigint }> = [];
    for (let i = 0; i < 3; i++) {
      const t = await ks.takePrimePair('level112');
      expect(t).toBeDefined();
      taken.push(t!);
      expect(await ks.countPrimePairs('level112')).toBe(2 - i);
    }
    expect(await ks.takePrimePair('level112')).toBeUndefined();
    const want = [0, 1, 2].map((i) => pair('level112', i));
    expect(taken.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      want.map(({ id, p, q }) => ({ id, p, q }))
    );
    // the other level was not touched
    expect(await ks.countPrimePairs('level128')).toBe(1);
    const { id, p, q } = pair('level128', 0);
    expect(await ks.takePrimePair('level128')).toEqual({ id, p, q });
  });

  it('survives close and reopen; a taken pair stays gone', async () => {
    const { ks, dir, source } = await h.create();
    await fill(ks, 'level112', 2);
    const first = await ks.takePrimePair('level112');
    await ks.close();
    const again = await h.open({ dir, source });
    expect(await again.countPrimePairs('level112')).toBe(1);
    const second = await again.takePrimePair('level112');
    expect(second).toBeDefined();
    expect(second!.id).not.toBe(first!.id);
    expect(await again.takePrimePair('level112')).toBeUndefined();
  });

  it('stores the level as a key prefix and nothing readable in the value', async () => {
    const { ks, dir } = await h.create();
    const a = pair('level128', 1);
    await ks.putPrimePair(a);
    await ks.close();
    await withRaw(dir, async (raw) => {
      const entries = await raw.entries('prime');
      expect(entries.map(([k]) => k)).toEqual([`level128.${a.id}`]);
      const value = entries[0]![1];
      for (const x of [a.p, a.q]) {
        const hex = x.toString(16);
        expect(value.toString('latin1')).not.toContain(hex);
        expect(value.includes(Buffer.from(hex, 'hex'))).toBe(false);
        expect(value.toString('base64')).not.toContain(Buffer.from(hex, 'hex').toString('base64'));
      }
    });
  });

  it('a record moved under another id or level fails authentication (RECORD_CORRUPT)', async () => {
    const { ks, dir, source } = await h.create();
    await ks.putPrimePair(pair('level112', 0));
    await ks.close();
    await withRaw(dir, async (raw) => {
      const v = await raw.get('prime', 'level112.pp-level112-0');
      await raw.del('prime', 'level112.pp-level112-0');
      await raw.put('prime', 'level128.pp-level112-0', v); // "promote" it to the other level
    });
    const again = await h.open({ dir, source });
    await rejectsWith(again.takePrimePair('level128'), 'RECORD_CORRUPT', 'prime/level128.');
    // nothing was deleted by the failed take
    expect(await again.countPrimePairs('level128')).toBe(1);
  });
});

describe('single use under concurrency', () => {
  it('concurrent takers never get the same pair; extra takers get undefined', async () => {
    const { ks } = await h.create();
    const n = Math.min(6, fixtureCount(LEVEL112));
    await fill(ks, 'level112', n);
    const results = await Promise.all(
      Array.from({ length: n + 5 }, () => ks.takePrimePair('level112'))
    );
    const got = results.filter((r) => r !== undefined);
    expect(got).toHaveLength(n);
    expect(new Set(got.map((r) => r.id)).size).toBe(n);
    expect(new Set(got.map((r) => r.p)).size).toBe(n);
    expect(results.filter((r) => r === undefined)).toHaveLength(5);
    expect(await ks.countPrimePairs('level112')).toBe(0);
  });

  it('concurrent puts and takes interleave without losing or duplicating a pair', async () => {
    const { ks } = await h.create();
    await fill(ks, 'level112', 2);
    const ops = await Promise.all([
      ks.takePrimePair('level112'),
      ks.putPrimePair(pair('level112', 2)),
      ks.takePrimePair('level112'),
      ks.putPrimePair(pair('level112', 3)),
      ks.takePrimePair('level112'),
    ]);
    const taken = [ops[0], ops[2], ops[4]].filter((r) => r !== undefined) as Array<{ id: string }>;
    const left: string[] = [];
    for (let t = await ks.takePrimePair('level112'); t; t = await ks.takePrimePair('level112')) {
      left.push(t.id);
    }
    const all = [...taken.map((t) => t.id), ...left].sort();
    expect(all).toEqual([0, 1, 2, 3].map((i) => `pp-level112-${i}`));
  });
});

describe('argument checks', () => {
  it('refuses bad ids, levels and values, naming the field and never the prime', async () => {
    const { ks } = await h.create();
    const good = pair('level112', 0);
    const secrets = [...primeForms(good.p), ...primeForms(good.q)];
    const cases: Array<[Partial<PrimePairRecord> | Record<string, unknown>, string]> = [
      [{ id: '' }, 'id must be'],
      [{ id: 'has space' }, 'id must be'],
      [{ id: 'x'.repeat(129) }, 'id must be'],
      [{ level: 'level80' }, 'level must be one of level112, level128'],
      [{ level: '__proto__' }, 'level must be'],
      [{ p: 0n }, 'p must be a positive bigint'],
      [{ q: -good.q }, 'q must be a positive bigint'],
      [{ p: 1n << 4096n }, 'p must be a positive bigint of at most 4096 bits'],
      [{ q: good.q.toString(16) }, 'q must be'],
      [{ p: Number(7) }, 'p must be'],
    ];
    for (const [patch, mention] of cases) {
      const err = await rejectsWith(
        ks.putPrimePair({ ...good, ...patch } as PrimePairRecord),
        'INVALID_RECORD',
        mention
      );
      expectNoSecrets(err, secrets);
    }
    // the largest allowed value is accepted (shape only: primality is the pool's job)
    await ks.putPrimePair({ ...good, id: 'max', q: (1n << 4096n) - 1n });
    await rejectsWith(ks.takePrimePair('level9' as 'level112'), 'INVALID_RECORD', 'level');
    await rejectsWith(ks.countPrimePairs('nope' as 'level112'), 'INVALID_RECORD', 'level');
    expect(await ks.countPrimePairs('level112')).toBe(1);
  });

  it('refuses a second pair under an existing id of the same level', async () => {
    const { ks } = await h.create();
    const a = pair('level112', 0);
    await ks.putPrimePair(a);
    const err = await rejectsWith(
      ks.putPrimePair({ ...pair('level112', 1), id: a.id }),
      'INVALID_RECORD',
      `prime pair level112/${a.id} already exists`
    );
    expectNoSecrets(err, [...primeForms(a.p), ...primeForms(pair('level112', 1).p)]);
    const { id, p, q } = a;
    expect(await ks.takePrimePair('level112')).toEqual({ id, p, q });
  });

  it('fails with STORE_CLOSED after close', async () => {
    const { ks } = await h.create();
    await ks.close();
    await rejectsWith(ks.putPrimePair(pair('level112', 0)), 'STORE_CLOSED');
    await rejectsWith(ks.takePrimePair('level112'), 'STORE_CLOSED');
    await rejectsWith(ks.countPrimePairs('level112'), 'STORE_CLOSED');
  });
});

describe('backups never carry prime pairs', () => {
  it('an export leaves them out; the store keeps its pool', async () => {
    const source = randomKey();
    const { ks } = await h.create(source);
    await populate(ks);
    await fill(ks, 'level112', 2);
    const archive = await exportBackup(ks, source);
    const body = openBody(archive, await archiveKey(archive, { master: source.key }));
    expect(body.records.some((r) => r.kind === 'prime')).toBe(false);
    expect(body.records).toHaveLength(8); // populate()'s records minus the 2 presignatures
    const text = JSON.stringify(body);
    for (const f of primeForms(pair('level112', 0).p)) expect(text).not.toContain(f);
    expect(await ks.countPrimePairs('level112')).toBe(2);

    const target = (await h.create(source)).ks;
    const report = await importBackup(target, archive, source);
    expect(report.droppedPrimes).toBeUndefined();
    expect(report.imported).not.toHaveProperty('prime');
    expect(await target.countPrimePairs('level112')).toBe(0);
  });

  for (const keying of ['master key', 'passphrase'] as const) {
    it(`an import drops every prime record it meets (${keying}-keyed archive)`, async () => {
      const source = randomKey();
      const { ks } = await h.create(source);
      const p = await populate(ks);
      const opts = keying === 'passphrase' ? { passphrase: 'prime backup passphrase!' } : {};
      const archive = await exportBackup(ks, source, opts);
      const key = await archiveKey(archive, {
        master: await masterOf(source, undefined),
        passphrase: opts.passphrase ?? '',
      });
      const body = openBody(archive, key);
      const forgedPairs = [pair('level112', 4), pair('level128', 2)];
      for (const [i, fp] of forgedPairs.entries()) {
        const hex = (x: bigint) => x.toString(16).padStart(2, '0');
        body.records.splice(i, 0, {
          kind: 'prime',
          key: `${fp.level}.${fp.id}`,
          data: plaintextB64({
            id: fp.id,
            level: fp.level,
            p: new Uint8Array(Buffer.from(hex(fp.p), 'hex')),
            q: new Uint8Array(Buffer.from(hex(fp.q), 'hex')),
          }),
        });
      }
      const forged = withBody(archive, key, body);

      const target = (await h.create(source)).ks;
      const report = await importBackup(target, forged, source, opts);
      expect(report.droppedPrimes).toBe(2);
      expect(report.droppedPresignatures).toBe(0);
      expect(report.imported).toEqual({
        identity: 1,
        keyshare: 3,
        aux: 1,
        presig: 0,
        journal: 1,
        sid: 2,
      });
      expect(await target.countPrimePairs('level112')).toBe(0);
      expect(await target.countPrimePairs('level128')).toBe(0);
      expect(await target.sublevel('prime').keys().all()).toEqual([]);
      expect(await target.getKeyShare('k1', 0)).toEqual(p.keyShares[0]);

      // into the store it came from, holding a pair under the same id: the pool is untouched
      await ks.putPrimePair(pair('level112', 0));
      const before = await ks.sublevel('prime').iterator().all();
      expect((await importBackup(ks, forged, source, opts)).droppedPrimes).toBe(2);
      expect(await ks.sublevel('prime').iterator().all()).toEqual(before);
      expect(await ks.countPrimePairs('level112')).toBe(1);
    });
  }
});

describe('master-key rotation', () => {
  it('re-seals prime records under the new key; they still take correctly', async () => {
    const from = randomKey();
    const to = randomKey();
    const { ks, dir } = await h.create(from);
    await fill(ks, 'level112', 2);
    await ks.putPrimePair(pair('level128', 0));
    const salt = Buffer.from(ks.meta.salt, 'base64');
    await ks.close();

    const result = await rotateMasterKey({ dir, from, to });
    expect(result.resealed).toBe(3);
    const fpNew = deriveStoreKeys(to.key, salt).fingerprint;
    await withRaw(dir, async (raw) => {
      const entries = await raw.entries('prime');
      expect(entries).toHaveLength(3);
      for (const [k, v] of entries) {
        expect(envelopeFingerprint(v, `prime/${k}`).equals(fpNew), k).toBe(true);
      }
    });

    await rejectsWith(h.open({ dir, source: from }), 'WRONG_MASTER_KEY');
    const again = await h.open({ dir, source: to });
    const { id, p, q } = pair('level128', 0);
    expect(await again.takePrimePair('level128')).toEqual({ id, p, q });
    expect(await again.countPrimePairs('level112')).toBe(2);
  });
});
