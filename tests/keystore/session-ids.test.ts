/**
 * Session ids taken part in (CGGMP.md C12 freshness): recorded once, a repeat refused — also when
 * racing — and kept across restarts and backup → wipe → restore.
 */
import { describe, expect, it } from 'vitest';
import { exportBackup, importBackup } from '../../keystore/index.js';
import { rejectsWith, sid, useHarness } from './helpers/ks.js';

const h = useHarness();

describe('recordSessionId', () => {
  it('records a sid once; a repeat is SESSION_ID_REUSED naming a prefix of it', async () => {
    const { ks } = await h.create();
    expect(await ks.hasSessionId(sid(1))).toBe(false);
    await ks.recordSessionId(sid(1));
    expect(await ks.hasSessionId(sid(1))).toBe(true);
    expect(await ks.hasSessionId(sid(2))).toBe(false);
    await rejectsWith(
      ks.recordSessionId(sid(1)),
      'SESSION_ID_REUSED',
      `session id ${'01'.repeat(8)}`,
      'already used'
    );
    await ks.recordSessionId(sid(2));
    // a copy of the same bytes is the same sid
    await rejectsWith(ks.recordSessionId(new Uint8Array(sid(2))), 'SESSION_ID_REUSED');
  });

  it('20 concurrent records of one sid: exactly one succeeds', async () => {
    const { ks } = await h.create();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => ks.recordSessionId(sid(7)))
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'SESSION_ID_REUSED' });
    }
  });

  it('concurrent records of several sids: one winner each', async () => {
    const { ks } = await h.create();
    const ids = [3, 4, 5, 6];
    const calls = ids.flatMap((b) =>
      Array.from({ length: 5 }, () => ({ b, p: ks.recordSessionId(sid(b)) }))
    );
    const settled = await Promise.allSettled(calls.map((c) => c.p));
    for (const b of ids) {
      const mine = settled.filter((_, i) => calls[i]!.b === b);
      expect(
        mine.filter((s) => s.status === 'fulfilled'),
        `sid ${b}`
      ).toHaveLength(1);
    }
  });

  it('survives close and reopen', async () => {
    const { ks, dir, source } = await h.create();
    await ks.recordSessionId(sid(9));
    await ks.close();
    const again = await h.open({ dir, source });
    expect(await again.hasSessionId(sid(9))).toBe(true);
    await rejectsWith(again.recordSessionId(sid(9)), 'SESSION_ID_REUSED');
  });

  it('survives backup → wipe → restore (master-key and passphrase archives)', async () => {
    const { ks, source } = await h.create();
    await ks.recordSessionId(sid(0x11));
    await ks.recordSessionId(sid(0x22));
    const plain = await exportBackup(ks, source);
    const locked = await exportBackup(ks, source, { passphrase: 'sid backup passphrase' });
    await ks.close();

    const t1 = (await h.create(source)).ks;
    expect((await importBackup(t1, plain, source)).imported.sid).toBe(2);
    const t2 = (await h.create()).ks;
    expect(
      (await importBackup(t2, locked, source, { passphrase: 'sid backup passphrase' })).imported.sid
    ).toBe(2);
    for (const t of [t1, t2]) {
      expect(await t.hasSessionId(sid(0x11))).toBe(true);
      await rejectsWith(t.recordSessionId(sid(0x11)), 'SESSION_ID_REUSED');
      await rejectsWith(t.recordSessionId(sid(0x22)), 'SESSION_ID_REUSED');
      await t.recordSessionId(sid(0x33));
    }
  });
});
