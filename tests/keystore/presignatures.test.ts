/**
 * The single-use rule of presignatures (SECURITY.md §1.15): consume returns the data once and
 * leaves a tombstone without it; every later or concurrent consume fails; a consumed id can never
 * be written back; the state survives a restart.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveStoreKeys, encodeAad, open } from '../../keystore/encryption.js';
import type { Keystore, PresignatureRecord } from '../../keystore/index.js';
import { epochKey, randomKey, rejectsWith, useHarness, withRaw } from './helpers/ks.js';

const h = useHarness();

function presig(presigId: string, keyId = 'k1', epoch = 3): PresignatureRecord {
  return { presigId, keyId, epoch, data: new Uint8Array(randomBytes(64)) };
}

async function fresh(ks: Keystore, keyId = 'k1'): Promise<string[]> {
  return (await ks.listFreshPresignatures(keyId)).sort();
}

describe('consumePresignature', () => {
  it('returns the stored presignature once, then PRESIGNATURE_CONSUMED naming it', async () => {
    const { ks } = await h.create();
    const a = presig('p-a');
    const b = presig('p-b');
    await ks.putPresignature(a);
    await ks.putPresignature(b);
    expect(await fresh(ks)).toEqual(['p-a', 'p-b']);
    expect(await ks.consumePresignature('p-a')).toEqual(a);
    expect(await fresh(ks)).toEqual(['p-b']);
    await rejectsWith(ks.consumePresignature('p-a'), 'PRESIGNATURE_CONSUMED', 'presignature p-a');
    await rejectsWith(ks.consumePresignature('p-a'), 'PRESIGNATURE_CONSUMED');
    expect(await ks.consumePresignature('p-b')).toEqual(b);
    expect(await fresh(ks)).toEqual([]);
  });

  it('leaves a tombstone that holds no presignature data (checked at the raw level)', async () => {
    const source = randomKey();
    const { ks, dir } = await h.create(source);
    const a = presig('p-a');
    await ks.putPresignature(a);
    await ks.consumePresignature('p-a');
    const party = ks.partyId;
    const salt = Buffer.from(ks.meta.salt, 'base64');
    await ks.close();
    const key = epochKey('p-a', 3);
    const plaintext = await withRaw(dir, async (raw) => {
      const value = await raw.get('presig', key);
      expect(value.includes(Buffer.from(a.data))).toBe(false);
      // decrypt it by hand, the way the store does
      const keys = deriveStoreKeys(source.key, salt);
      const aad = encodeAad({ kind: 'presig', id: key, party, epoch: 3, version: 1 });
      return open([keys], aad, value, `presig/${key}`).toString('utf8');
    });
    const obj = JSON.parse(plaintext) as Record<string, unknown>;
    expect(obj).toEqual({
      v: 1,
      presigId: 'p-a',
      keyId: 'k1',
      epoch: 3,
      state: 'consumed',
      consumedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const hex = Buffer.from(a.data).toString('hex');
    const b64 = Buffer.from(a.data).toString('base64');
    expect(plaintext).not.toContain(b64.slice(0, 20));
    expect(plaintext).not.toContain(hex.slice(0, 20));
    // and through the store: listed as not fresh, refused
    const again = await h.open({ dir, source });
    expect(await fresh(again)).toEqual([]);
    await rejectsWith(again.consumePresignature('p-a'), 'PRESIGNATURE_CONSUMED');
  });

  it('20 concurrent consumers of one presignature: exactly one wins', async () => {
    const { ks } = await h.create();
    const a = presig('race');
    await ks.putPresignature(a);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => ks.consumePresignature('race'))
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect((won[0] as PromiseFulfilledResult<PresignatureRecord>).value).toEqual(a);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({
        name: 'KeystoreError',
        code: 'PRESIGNATURE_CONSUMED',
      });
    }
    expect(await fresh(ks)).toEqual([]);
  });

  it('races across several ids at once: exactly one winner per id, each with its own data', async () => {
    const { ks } = await h.create();
    const recs = Array.from({ length: 6 }, (_, i) => presig(`multi-${i}`, i % 2 ? 'k1' : 'k2'));
    for (const r of recs) await ks.putPresignature(r);
    // 8 consumers per id, interleaved, plus consumers of an unknown id in the mix
    const calls: Array<{ id: string; p: Promise<PresignatureRecord> }> = [];
    for (let round = 0; round < 8; round++) {
      for (const r of recs) calls.push({ id: r.presigId, p: ks.consumePresignature(r.presigId) });
      calls.push({ id: 'ghost', p: ks.consumePresignature('ghost') });
    }
    const settled = await Promise.allSettled(calls.map((c) => c.p));
    for (const r of recs) {
      const mine = settled.filter((_, i) => calls[i]!.id === r.presigId);
      const won = mine.filter((s) => s.status === 'fulfilled');
      expect(won, r.presigId).toHaveLength(1);
      expect((won[0] as PromiseFulfilledResult<PresignatureRecord>).value).toEqual(r);
      expect(
        mine
          .filter((s) => s.status === 'rejected')
          .map((s) => (s as PromiseRejectedResult).reason.code)
      ).toEqual(Array(7).fill('PRESIGNATURE_CONSUMED'));
    }
    const ghosts = settled.filter((_, i) => calls[i]!.id === 'ghost');
    expect(ghosts.map((s) => s.status === 'rejected' && s.reason.code)).toEqual(
      Array(8).fill('NOT_FOUND')
    );
    expect(await fresh(ks, 'k1')).toEqual([]);
    expect(await fresh(ks, 'k2')).toEqual([]);
  });

  it('a put racing a consume of the same id cannot resurrect it', async () => {
    const { ks } = await h.create();
    const a = presig('p');
    await ks.putPresignature(a);
    const [consumed, put] = await Promise.allSettled([
      ks.consumePresignature('p'),
      ks.putPresignature({ ...a, data: new Uint8Array(randomBytes(64)) }),
    ]);
    expect(consumed.status).toBe('fulfilled');
    expect(put).toMatchObject({ status: 'rejected', reason: { code: 'INVALID_RECORD' } });
    await rejectsWith(ks.consumePresignature('p'), 'PRESIGNATURE_CONSUMED');
  });

  it('an unknown id → NOT_FOUND naming it', async () => {
    const { ks } = await h.create();
    await rejectsWith(ks.consumePresignature('nope'), 'NOT_FOUND', 'no presignature nope');
    await ks.putPresignature(presig('nope-2'));
    // a prefix of a stored id is not that id
    await rejectsWith(ks.consumePresignature('nope-'), 'NOT_FOUND');
    await rejectsWith(ks.consumePresignature('nope'), 'NOT_FOUND');
  });

  it('is durable: consume, close, reopen → still consumed', async () => {
    const { ks, dir, source } = await h.create();
    await ks.putPresignature(presig('d1'));
    await ks.putPresignature(presig('d2'));
    await ks.consumePresignature('d1');
    await ks.close();
    const again = await h.open({ dir, source });
    await rejectsWith(again.consumePresignature('d1'), 'PRESIGNATURE_CONSUMED', 'd1');
    expect(await fresh(again)).toEqual(['d2']);
    await again.close();
    const third = await h.open({ dir, source });
    await rejectsWith(third.consumePresignature('d1'), 'PRESIGNATURE_CONSUMED');
    await rejectsWith(third.putPresignature(presig('d1')), 'INVALID_RECORD', 'already exists');
  });
});

describe('consume while the store closes', () => {
  it.each([0, 1, 3])(
    'every consume that returned data is durably consumed (close after %i ms)',
    async (delay) => {
      const { ks, dir, source } = await h.create();
      const recs = Array.from({ length: 20 }, (_, i) => presig(`c${i}`));
      for (const r of recs) await ks.putPresignature(r);
      const calls = recs.map((r) => ks.consumePresignature(r.presigId));
      await new Promise((r) => setTimeout(r, delay));
      const closing = ks.close();
      const settled = await Promise.allSettled(calls);
      await closing;
      const again = await h.open({ dir, source });
      const stillFresh = new Set(await again.listFreshPresignatures('k1'));
      settled.forEach((s, i) => {
        const id = recs[i]!.presigId;
        if (s.status === 'fulfilled') {
          expect(s.value).toEqual(recs[i]);
          expect(stillFresh.has(id), `${id} was returned but is still fresh`).toBe(false);
        } else {
          expect(s.reason, id).toMatchObject({ code: 'STORE_CLOSED' });
        }
      });
    }
  );
});

describe('putPresignature', () => {
  it('refuses an id that exists, fresh or consumed, at any epoch or key', async () => {
    const { ks } = await h.create();
    const a = presig('dup');
    await ks.putPresignature(a);
    await rejectsWith(ks.putPresignature(a), 'INVALID_RECORD', 'presignature dup already exists');
    await rejectsWith(
      ks.putPresignature({ ...presig('dup', 'k9', 8) }),
      'INVALID_RECORD',
      'already exists'
    );
    await ks.consumePresignature('dup');
    await rejectsWith(ks.putPresignature(a), 'INVALID_RECORD', 'dup already exists');
    await rejectsWith(ks.putPresignature(presig('dup', 'k1', 4)), 'INVALID_RECORD');
    await rejectsWith(ks.consumePresignature('dup'), 'PRESIGNATURE_CONSUMED');
  });

  it('concurrent puts of one id: exactly one is stored', async () => {
    const { ks } = await h.create();
    const recs = Array.from({ length: 10 }, () => presig('same'));
    const results = await Promise.allSettled(recs.map((r) => ks.putPresignature(r)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const winner = recs[results.findIndex((r) => r.status === 'fulfilled')]!;
    expect(await ks.consumePresignature('same')).toEqual(winner);
  });

  it('lists fresh presignatures per key id', async () => {
    const { ks } = await h.create();
    await ks.putPresignature(presig('a1', 'ka'));
    await ks.putPresignature(presig('a2', 'ka'));
    await ks.putPresignature(presig('b1', 'kb'));
    expect(await fresh(ks, 'ka')).toEqual(['a1', 'a2']);
    expect(await fresh(ks, 'kb')).toEqual(['b1']);
    expect(await fresh(ks, 'kc')).toEqual([]);
  });
});
