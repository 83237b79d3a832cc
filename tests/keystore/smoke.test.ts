import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import {
  Keystore,
  exportBackup,
  importBackup,
  rotateMasterKey,
  type MasterKeySource,
} from '../../keystore/index.js';

const key = (b: number): MasterKeySource => ({
  kind: 'key',
  key: { bytes: new Uint8Array(32).fill(b) },
});

it('smoke', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ks-'));
  const ks = await Keystore.open({ dir, source: key(1), create: true, partyId: 'party-A' });
  await ks.putKeyShare({ keyId: 'k1', epoch: 0, data: new Uint8Array([1, 2, 3]) });
  await ks.putKeyShare({ keyId: 'k1', epoch: 1, data: new Uint8Array([4]) });
  expect((await ks.getKeyShare('k1'))?.epoch).toBe(1);
  await ks.putPresignature({ presigId: 'p1', keyId: 'k1', epoch: 1, data: new Uint8Array([9]) });
  const results = await Promise.allSettled([
    ks.consumePresignature('p1'),
    ks.consumePresignature('p1'),
  ]);
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  await ks.recordSessionId(new Uint8Array(32).fill(3));
  await expect(ks.recordSessionId(new Uint8Array(32).fill(3))).rejects.toThrow(/already used/);
  await expect(Keystore.open({ dir, source: key(1) })).rejects.toMatchObject({
    code: 'STORE_LOCKED',
  });
  const archive = await exportBackup(ks, key(1), { passphrase: 'correct horse battery' });
  await ks.close();
  await expect(Keystore.open({ dir, source: key(2) })).rejects.toMatchObject({
    code: 'WRONG_MASTER_KEY',
  });
  let n = 0;
  await expect(
    rotateMasterKey({
      dir,
      from: key(1),
      to: key(2),
      onProgress: () => {
        if (++n === 2) throw new Error('crash');
      },
    })
  ).rejects.toThrow('crash');
  await expect(Keystore.open({ dir, source: key(1) })).rejects.toMatchObject({
    code: 'ROTATION_IN_PROGRESS',
  });
  expect(await rotateMasterKey({ dir, from: key(1), to: key(2) })).toMatchObject({
    alreadyComplete: false,
  });
  expect(await rotateMasterKey({ dir, from: key(1), to: key(2) })).toMatchObject({
    alreadyComplete: true,
  });
  const ks2 = await Keystore.open({ dir, source: key(2) });
  expect((await ks2.getKeyShare('k1', 0))?.data).toEqual(new Uint8Array([1, 2, 3]));
  await ks2.close();
  const dir2 = mkdtempSync(join(tmpdir(), 'ks-'));
  const ks3 = await Keystore.open({ dir: dir2, source: key(5), create: true, partyId: 'party-A' });
  const rep = await importBackup(ks3, archive, key(5), { passphrase: 'correct horse battery' });
  expect(rep.imported.keyshare).toBe(2);
  expect(await ks3.hasSessionId(new Uint8Array(32).fill(3))).toBe(true);
  await expect(ks3.consumePresignature('p1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  await ks3.close();
});
