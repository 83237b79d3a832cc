/**
 * Round trips of every record kind, the epoch rules of key shares and aux info, and argument
 * validation (ids, epochs, payload sizes, journal fields).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_DATA_BYTES, type JournalRecord } from '../../keystore/index.js';
import {
  epochKey,
  expectPopulated,
  populate,
  rejectsWith,
  sid,
  useHarness,
  withRaw,
} from './helpers/ks.js';

const h = useHarness();
const bytes = (n: number, fill?: number) =>
  fill === undefined ? new Uint8Array(randomBytes(n)) : new Uint8Array(n).fill(fill);

describe('round trips', () => {
  it('stores and reads back every kind, and keeps it all across close and reopen', async () => {
    const { ks, dir, source } = await h.create();
    const p = await populate(ks);
    await expectPopulated(ks, p);
    await ks.close();
    const again = await h.open({ dir, source });
    expect(again.partyId).toBe('party-A');
    await expectPopulated(again, p);
  });

  it('returns the newest epoch of a key share, or the epoch asked for', async () => {
    const { ks } = await h.create();
    const d = [bytes(8), bytes(8), bytes(8)];
    await ks.putKeyShare({ keyId: 'k', epoch: 2, data: d[0]! });
    await ks.putKeyShare({ keyId: 'k', epoch: 9, data: d[1]! });
    // 10 > 9 numerically but '10' < '9' as text: the padded key must order them numerically
    await ks.putKeyShare({ keyId: 'k', epoch: 10, data: d[2]! });
    expect(await ks.getKeyShare('k')).toEqual({ keyId: 'k', epoch: 10, data: d[2] });
    expect(await ks.getKeyShare('k', 2)).toEqual({ keyId: 'k', epoch: 2, data: d[0] });
    expect(await ks.getKeyShare('k', 9)).toEqual({ keyId: 'k', epoch: 9, data: d[1] });
    expect(await ks.getKeyShare('k', 3)).toBeUndefined();
    expect(await ks.getKeyShare('other')).toBeUndefined();
  });

  it('keeps ids that are prefixes of each other apart', async () => {
    const { ks } = await h.create();
    const ids = ['k', 'k1', 'k1a', 'k1.x', 'k1:y', 'k1-z', 'k10'];
    const data = new Map(ids.map((id) => [id, bytes(16)]));
    for (const [i, id] of ids.entries()) {
      await ks.putKeyShare({ keyId: id, epoch: i, data: data.get(id)! });
      await ks.putAuxInfo({ auxId: id, epoch: 100 - i, data: data.get(id)! });
      await ks.putPresignature({ presigId: id, keyId: 'kk', epoch: i, data: data.get(id)! });
    }
    for (const [i, id] of ids.entries()) {
      expect(await ks.getKeyShare(id)).toEqual({ keyId: id, epoch: i, data: data.get(id) });
      expect(await ks.getAuxInfo(id)).toEqual({ auxId: id, epoch: 100 - i, data: data.get(id) });
    }
    expect((await ks.consumePresignature('k1')).data).toEqual(data.get('k1'));
    expect((await ks.listFreshPresignatures('kk')).sort()).toEqual(
      ids.filter((id) => id !== 'k1').sort()
    );
  });

  it('lists key shares (id and epoch) without their data', async () => {
    const { ks } = await h.create();
    expect(await ks.listKeyShares()).toEqual([]);
    await ks.putKeyShare({ keyId: 'b', epoch: 3, data: bytes(4) });
    await ks.putKeyShare({ keyId: 'a', epoch: 1, data: bytes(4) });
    await ks.putKeyShare({ keyId: 'a', epoch: 2, data: bytes(4) });
    expect(await ks.listKeyShares()).toEqual([
      { keyId: 'a', epoch: 1 },
      { keyId: 'a', epoch: 2 },
      { keyId: 'b', epoch: 3 },
    ]);
  });

  it('deletes one epoch of a key share; the newest lookup falls back to the previous one', async () => {
    const { ks, dir, source } = await h.create();
    const d0 = bytes(8);
    await ks.putKeyShare({ keyId: 'k', epoch: 0, data: d0 });
    await ks.putKeyShare({ keyId: 'k', epoch: 1, data: bytes(8) });
    await ks.deleteKeyShare('k', 1);
    expect(await ks.getKeyShare('k', 1)).toBeUndefined();
    expect(await ks.getKeyShare('k')).toEqual({ keyId: 'k', epoch: 0, data: d0 });
    await ks.deleteKeyShare('k', 0);
    await ks.deleteKeyShare('k', 0); // deleting a missing epoch is a no-op
    expect(await ks.getKeyShare('k')).toBeUndefined();
    expect(await ks.listKeyShares()).toEqual([]);
    await ks.close();
    const again = await h.open({ dir, source });
    expect(await again.getKeyShare('k')).toBeUndefined();
  });

  it('round-trips aux info with its epoch rules', async () => {
    const { ks } = await h.create();
    const a = bytes(1000);
    const b = bytes(1000);
    await ks.putAuxInfo({ auxId: 'aux', epoch: 1, data: a });
    await ks.putAuxInfo({ auxId: 'aux', epoch: 1, data: a }); // identical: no-op
    await ks.putAuxInfo({ auxId: 'aux', epoch: 4, data: b });
    expect(await ks.getAuxInfo('aux')).toEqual({ auxId: 'aux', epoch: 4, data: b });
    expect(await ks.getAuxInfo('aux', 1)).toEqual({ auxId: 'aux', epoch: 1, data: a });
    expect(await ks.getAuxInfo('nope')).toBeUndefined();
    await rejectsWith(
      ks.putAuxInfo({ auxId: 'aux', epoch: 4, data: a }),
      'INVALID_RECORD',
      'aux',
      'epoch 4'
    );
    await rejectsWith(
      ks.putAuxInfo({ auxId: 'aux', epoch: 3, data: a }),
      'INVALID_RECORD',
      'epoch 3 is older than the stored 4'
    );
  });

  it('stores the identity key, replaceable, and reports none before', async () => {
    const { ks, dir, source } = await h.create();
    expect(await ks.getIdentity()).toBeUndefined();
    const id1 = bytes(68);
    await ks.putIdentity(id1);
    expect(await ks.getIdentity()).toEqual(id1);
    const id2 = bytes(68);
    await ks.putIdentity(id2);
    await ks.close();
    expect(await (await h.open({ dir, source })).getIdentity()).toEqual(id2);
  });

  it('writes and replaces journal entries, with and without detail', async () => {
    const { ks, dir, source } = await h.create();
    const s1 = Buffer.from(sid(1)).toString('hex');
    const s2 = Buffer.from(sid(2)).toString('hex');
    expect(await ks.getJournal(s1)).toBeUndefined();
    const running: JournalRecord = {
      sid: s1,
      protocol: 'keygen',
      state: 'round-2',
      updatedAt: '2026-02-01T10:00:00.000Z',
    };
    await ks.putJournal(running);
    expect(await ks.getJournal(s1)).toEqual(running);
    const failed: JournalRecord = {
      ...running,
      state: 'aborted',
      updatedAt: '2026-02-01T10:00:05.000Z',
      detail: 'culprit party-C',
    };
    await ks.putJournal(failed);
    await ks.putJournal({ sid: s2, protocol: 'sign', state: 'done', updatedAt: 'x' });
    await ks.close();
    const again = await h.open({ dir, source });
    expect(await again.getJournal(s1)).toEqual(failed);
    expect(await again.getJournal(s2)).toEqual({
      sid: s2,
      protocol: 'sign',
      state: 'done',
      updatedAt: 'x',
    });
  });

  it('accepts the boundary sizes: 1-byte and 1 MiB payloads, epoch 2^32 - 1', async () => {
    const { ks, dir, source } = await h.create();
    const big = bytes(MAX_DATA_BYTES);
    await ks.putKeyShare({ keyId: 'big', epoch: 0xffffffff, data: big });
    await ks.putAuxInfo({ auxId: 'one', epoch: 0, data: bytes(1, 7) });
    await ks.putPresignature({ presigId: 'x', keyId: 'big', epoch: 0xffffffff, data: big });
    await ks.putIdentity(bytes(1, 9));
    const id128 = 'a'.repeat(128);
    await ks.putKeyShare({ keyId: id128, epoch: 0, data: bytes(1, 1) });
    await ks.close();
    const again = await h.open({ dir, source });
    // (large arrays are compared as Buffers: deep equality over 1 Mi elements is very slow)
    const share = await again.getKeyShare('big');
    expect(share?.epoch).toBe(0xffffffff);
    expect(Buffer.from(share!.data).equals(big)).toBe(true);
    expect(await again.getAuxInfo('one')).toEqual({ auxId: 'one', epoch: 0, data: bytes(1, 7) });
    expect(Buffer.from((await again.consumePresignature('x')).data).equals(big)).toBe(true);
    expect(await again.getIdentity()).toEqual(bytes(1, 9));
    expect((await again.getKeyShare(id128))?.epoch).toBe(0);
  });
});

describe('putKeyShare epoch rules', () => {
  it('is idempotent for identical data at the same epoch', async () => {
    const { ks } = await h.create();
    const d = bytes(32);
    await ks.putKeyShare({ keyId: 'k', epoch: 3, data: d });
    const before = await ks.sublevel('keyshare').get(epochKey('k', 3));
    await ks.putKeyShare({ keyId: 'k', epoch: 3, data: new Uint8Array(d) });
    // a no-op: the stored value (with its nonce) is untouched
    expect(await ks.sublevel('keyshare').get(epochKey('k', 3))).toEqual(before);
    expect(await ks.listKeyShares()).toEqual([{ keyId: 'k', epoch: 3 }]);
  });

  it('refuses different data at the same epoch, naming the record', async () => {
    const { ks } = await h.create();
    const d = bytes(32);
    await ks.putKeyShare({ keyId: 'k', epoch: 3, data: d });
    await rejectsWith(
      ks.putKeyShare({ keyId: 'k', epoch: 3, data: bytes(32) }),
      'INVALID_RECORD',
      'keyshare k epoch 3 is already stored'
    );
    expect((await ks.getKeyShare('k'))?.data).toEqual(d);
  });

  it('refuses an epoch older than the newest stored one', async () => {
    const { ks } = await h.create();
    await ks.putKeyShare({ keyId: 'k', epoch: 5, data: bytes(8) });
    await rejectsWith(
      ks.putKeyShare({ keyId: 'k', epoch: 4, data: bytes(8) }),
      'INVALID_RECORD',
      'keyshare k: epoch 4 is older than the stored 5'
    );
    // even when that older epoch is not stored (a stale share must not come back)
    await rejectsWith(
      ks.putKeyShare({ keyId: 'k', epoch: 0, data: bytes(8) }),
      'INVALID_RECORD',
      'older'
    );
    expect(await ks.listKeyShares()).toEqual([{ keyId: 'k', epoch: 5 }]);
  });

  it('serializes concurrent writes of the same epoch: one wins, the other is refused', async () => {
    const { ks } = await h.create();
    const a = bytes(8);
    const b = bytes(8);
    const results = await Promise.allSettled([
      ks.putKeyShare({ keyId: 'k', epoch: 1, data: a }),
      ks.putKeyShare({ keyId: 'k', epoch: 1, data: b }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ code: 'INVALID_RECORD' });
    const stored = (await ks.getKeyShare('k'))!.data;
    expect(results[0]!.status === 'fulfilled' ? a : b).toEqual(stored);
  });
});

describe('argument validation', () => {
  const badIds = ['', 'a b', 'a/b', 'a@b', 'é', 'x'.repeat(129), 'a\nb', '~'];

  it.each(badIds)('refuses the id %j everywhere an id is taken', async (id) => {
    const { ks } = await h.create();
    const d = bytes(4);
    await rejectsWith(ks.putKeyShare({ keyId: id, epoch: 0, data: d }), 'INVALID_RECORD', 'keyId');
    await rejectsWith(ks.getKeyShare(id), 'INVALID_RECORD', /id must be 1\.\.128 characters/);
    await rejectsWith(ks.deleteKeyShare(id, 0), 'INVALID_RECORD', 'keyId');
    await rejectsWith(ks.putAuxInfo({ auxId: id, epoch: 0, data: d }), 'INVALID_RECORD', 'auxId');
    await rejectsWith(ks.getAuxInfo(id), 'INVALID_RECORD', /id must be/);
    await rejectsWith(
      ks.putPresignature({ presigId: id, keyId: 'k', epoch: 0, data: d }),
      'INVALID_RECORD',
      'presigId'
    );
    await rejectsWith(
      ks.putPresignature({ presigId: 'p', keyId: id, epoch: 0, data: d }),
      'INVALID_RECORD',
      'keyId'
    );
    await rejectsWith(ks.consumePresignature(id), 'INVALID_RECORD', 'presigId');
    await rejectsWith(ks.listFreshPresignatures(id), 'INVALID_RECORD', 'keyId');
    // nothing was written
    for (const kind of ['keyshare', 'aux', 'presig'] as const) {
      expect(await ks.sublevel(kind).keys().all()).toEqual([]);
    }
  });

  it.each([-1, 1.5, 2 ** 32, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses the epoch %s',
    async (epoch) => {
      const { ks } = await h.create();
      const d = bytes(4);
      await rejectsWith(ks.putKeyShare({ keyId: 'k', epoch, data: d }), 'INVALID_RECORD', 'epoch');
      await rejectsWith(ks.getKeyShare('k', epoch), 'INVALID_RECORD', 'epoch');
      await rejectsWith(ks.deleteKeyShare('k', epoch), 'INVALID_RECORD', 'epoch');
      await rejectsWith(ks.putAuxInfo({ auxId: 'a', epoch, data: d }), 'INVALID_RECORD', 'epoch');
      await rejectsWith(ks.getAuxInfo('a', epoch), 'INVALID_RECORD', 'epoch');
      await rejectsWith(
        ks.putPresignature({ presigId: 'p', keyId: 'k', epoch, data: d }),
        'INVALID_RECORD',
        'epoch'
      );
    }
  );

  it('refuses empty and over-1-MiB payloads, naming the field', async () => {
    const { ks } = await h.create();
    for (const data of [new Uint8Array(0), new Uint8Array(MAX_DATA_BYTES + 1)]) {
      const size = `1..${MAX_DATA_BYTES} bytes`;
      await rejectsWith(ks.putKeyShare({ keyId: 'k', epoch: 0, data }), 'INVALID_RECORD', 'data');
      await rejectsWith(ks.putAuxInfo({ auxId: 'a', epoch: 0, data }), 'INVALID_RECORD', size);
      await rejectsWith(
        ks.putPresignature({ presigId: 'p', keyId: 'k', epoch: 0, data }),
        'INVALID_RECORD',
        'data must be'
      );
      await rejectsWith(ks.putIdentity(data), 'INVALID_RECORD', 'privateKey', size);
    }
    // a non-Uint8Array payload is refused as well
    await rejectsWith(
      ks.putKeyShare({ keyId: 'k', epoch: 0, data: [1, 2] as unknown as Uint8Array }),
      'INVALID_RECORD',
      'data'
    );
    expect(await ks.listKeyShares()).toEqual([]);
    expect(await ks.getIdentity()).toBeUndefined();
  });

  it('validates journal entries, naming the field', async () => {
    const { ks } = await h.create();
    const ok: JournalRecord = {
      sid: Buffer.from(sid(5)).toString('hex'),
      protocol: 'sign',
      state: 'done',
      updatedAt: 'now',
    };
    for (const bad of ['', 'ab', 'A'.repeat(64), 'g'.repeat(64), '0'.repeat(63), '0'.repeat(65)]) {
      await rejectsWith(ks.putJournal({ ...ok, sid: bad }), 'INVALID_RECORD', 'journal sid');
      await rejectsWith(ks.getJournal(bad), 'INVALID_RECORD', 'sid must be 64 hex digits');
    }
    for (const f of ['protocol', 'state', 'updatedAt'] as const) {
      await rejectsWith(ks.putJournal({ ...ok, [f]: '' }), 'INVALID_RECORD', `journal ${f}`);
      await rejectsWith(
        ks.putJournal({ ...ok, [f]: 'x'.repeat(257) }),
        'INVALID_RECORD',
        `journal ${f} must be 1..256 characters`
      );
    }
    await rejectsWith(
      ks.putJournal({ ...ok, detail: 'd'.repeat(4097) }),
      'INVALID_RECORD',
      'journal detail'
    );
    await ks.putJournal({ ...ok, detail: 'd'.repeat(4096), state: 's'.repeat(256) });
    expect((await ks.getJournal(ok.sid))?.detail).toHaveLength(4096);
  });

  it('refuses session ids that are not 32 bytes', async () => {
    const { ks } = await h.create();
    for (const bad of [new Uint8Array(31), new Uint8Array(33), new Uint8Array(0)]) {
      await rejectsWith(ks.recordSessionId(bad), 'INVALID_RECORD', 'session id must be 32 bytes');
      await rejectsWith(ks.hasSessionId(bad), 'INVALID_RECORD', 'session id');
    }
    expect(await ks.sublevel('sid').keys().all()).toEqual([]);
  });
});

describe('what the raw store reveals', () => {
  it('keys name records but values reveal no payload, and every write uses a fresh nonce', async () => {
    const { ks, dir } = await h.create();
    const p = await populate(ks);
    // writing the same identity twice gives two different nonces and ciphertexts
    await ks.putIdentity(p.identity);
    const first = Buffer.from((await ks.sublevel('identity').get('identity'))!);
    await ks.putIdentity(p.identity);
    const second = Buffer.from((await ks.sublevel('identity').get('identity'))!);
    expect(first.subarray(9, 21).equals(second.subarray(9, 21))).toBe(false);
    expect(first.subarray(21).equals(second.subarray(21))).toBe(false);
    await ks.close();
    await withRaw(dir, async (raw) => {
      const nonces = new Set<string>();
      for (const kind of ['keyshare', 'aux', 'presig', 'identity', 'journal', 'sid'] as const) {
        for (const [key, value] of await raw.entries(kind)) {
          expect(value[0], `${kind}/${key}`).toBe(1);
          nonces.add(value.subarray(9, 21).toString('hex'));
          for (const s of p.secrets) {
            expect(value.includes(Buffer.from(s))).toBe(false);
            expect(value.includes(Buffer.from(Buffer.from(s).toString('base64')))).toBe(false);
          }
        }
      }
      expect(nonces.size).toBe(10);
      expect((await raw.entries('keyshare')).map(([k]) => k)).toEqual([
        epochKey('k1', 0),
        epochKey('k1', 1),
        epochKey('k2', 7),
      ]);
    });
  });
});
