/**
 * No secret in any error message or log line: a sample of failures of every area, each checked
 * against every text form of the master keys, passphrases and stored record data involved, with
 * the console watched throughout.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi, type MockInstance } from 'vitest';
import {
  exportBackup,
  importBackup,
  type KeystoreError,
  masterKeyFromFile,
  parseMasterKey,
  resolveMasterKeySource,
  rotateMasterKey,
} from '../../keystore/index.js';
import {
  FAST_SCRYPT,
  epochKey,
  expectNoSecrets,
  flip,
  pass,
  populate,
  randomKey,
  rejectsWith,
  secretForms,
  throwsWith,
  useHarness,
  withRaw,
} from './helpers/ks.js';

const h = useHarness();

let spies: MockInstance[] = [];
beforeEach(() => {
  spies = (['log', 'info', 'warn', 'error', 'debug', 'trace'] as const).map((m) =>
    vi.spyOn(console, m).mockImplementation(() => undefined)
  );
});
afterEach(() => {
  for (const s of spies) s.mockRestore();
});

/** Everything the console was asked to print. */
function logged(): string {
  return spies.flatMap((s) => s.mock.calls.map((args) => args.map(String).join(' '))).join('\n');
}

it('no key, passphrase or record data in errors or logs, across a sample of failures', async () => {
  const key = randomKey();
  const otherKey = randomKey();
  const passphrase = `store passphrase ${randomBytes(8).toString('hex')}`;
  const wrongPassphrase = `wrong passphrase ${randomBytes(8).toString('hex')}`;
  const backupPass = `backup passphrase ${randomBytes(8).toString('hex')}`;

  const { ks, dir } = await h.create(key);
  const p = await populate(ks);
  const secrets = [
    ...secretForms(key.key.bytes),
    ...secretForms(otherKey.key.bytes),
    passphrase,
    wrongPassphrase,
    backupPass,
    ...p.secrets.flatMap(secretForms),
  ];
  const errors: Array<[string, KeystoreError]> = [];
  const note = (what: string, e: KeystoreError) => errors.push([what, e]);

  // record rules
  const newShare = new Uint8Array(randomBytes(40));
  secrets.push(...secretForms(newShare));
  note(
    'conflicting share',
    await rejectsWith(ks.putKeyShare({ keyId: 'k1', epoch: 1, data: newShare }), 'INVALID_RECORD')
  );
  note(
    'older share',
    await rejectsWith(ks.putKeyShare({ keyId: 'k1', epoch: 0, data: newShare }), 'INVALID_RECORD')
  );
  await ks.consumePresignature('p1');
  note('consumed', await rejectsWith(ks.consumePresignature('p1'), 'PRESIGNATURE_CONSUMED'));
  note('sid', await rejectsWith(ks.recordSessionId(p.sids[0]!), 'SESSION_ID_REUSED'));
  note('locked', await rejectsWith(h.open({ dir, source: key }), 'STORE_LOCKED'));

  // backups
  const archive = await exportBackup(ks, key, { passphrase: backupPass });
  const plain = await exportBackup(ks, key);
  const other = (await h.create(key, 'party-B')).ks;
  note(
    'backup wrong pass',
    await rejectsWith(
      importBackup(other, archive, key, { passphrase: wrongPassphrase }),
      'BACKUP_WRONG_KEY'
    )
  );
  note(
    'backup wrong key',
    await rejectsWith(importBackup(other, plain, otherKey), 'BACKUP_WRONG_KEY')
  );
  note('backup party', await rejectsWith(importBackup(other, plain, key), 'BACKUP_CONFLICT'));
  note(
    'backup tampered',
    await rejectsWith(importBackup(other, flip(plain, 150), key), 'BACKUP_INVALID')
  );
  const conflicting = (await h.create(key, 'party-A')).ks;
  await conflicting.putKeyShare({ keyId: 'k2', epoch: 7, data: newShare });
  note(
    'backup conflict',
    await rejectsWith(importBackup(conflicting, plain, key), 'BACKUP_CONFLICT')
  );
  await ks.close();

  // opening
  note('wrong key', await rejectsWith(h.open({ dir, source: otherKey }), 'WRONG_MASTER_KEY'));
  note(
    'passphrase on raw store',
    await rejectsWith(h.open({ dir, source: pass(passphrase) }), 'WRONG_MASTER_KEY')
  );
  await withRaw(dir, async (raw) => {
    const k = epochKey('k1', 1);
    await raw.put('keyshare', k, flip(await raw.get('keyshare', k), 30));
  });
  const reopened = await h.open({ dir, source: key });
  note('corrupt record', await rejectsWith(reopened.getKeyShare('k1'), 'RECORD_CORRUPT'));
  await reopened.close();

  // rotation
  let n = 0;
  await expect(
    rotateMasterKey({
      dir,
      from: key,
      to: otherKey,
      onProgress: () => {
        if (++n === 2) throw new Error('crash');
      },
    })
  ).rejects.toThrow('crash');
  note('in progress', await rejectsWith(h.open({ dir, source: key }), 'ROTATION_IN_PROGRESS'));
  note(
    'rotation other key',
    await rejectsWith(rotateMasterKey({ dir, from: key, to: randomKey() }), 'WRONG_MASTER_KEY')
  );
  note(
    'rotation wrong from',
    await rejectsWith(
      rotateMasterKey({ dir, from: pass(wrongPassphrase), to: otherKey }),
      'WRONG_MASTER_KEY'
    )
  );

  // passphrase stores
  const pstore = await h.create(pass(passphrase));
  await pstore.ks.close();
  note(
    'wrong passphrase',
    await rejectsWith(
      h.open({ dir: pstore.dir, source: pass(wrongPassphrase) }),
      'WRONG_MASTER_KEY'
    )
  );
  note(
    'short passphrase',
    await rejectsWith(
      h.open({
        dir: h.dir(),
        source: pass('short pass'),
        create: true,
        partyId: 'x',
        scrypt: FAST_SCRYPT,
      }),
      'INVALID_MASTER_KEY'
    )
  );

  // master-key sources
  const hex = Buffer.from(key.key.bytes).toString('hex');
  note(
    'near-key text',
    throwsWith(() => parseMasterKey(hex.slice(0, 63), 'MPCD_MASTER_KEY'), 'INVALID_MASTER_KEY')
  );
  note(
    'key with junk',
    throwsWith(() => parseMasterKey(`${hex}!`, 'MPCD_MASTER_KEY'), 'INVALID_MASTER_KEY')
  );
  note(
    'several sources',
    await rejectsWith(resolveMasterKeySource({ envValue: hex, passphrase }), 'MASTER_KEY_SOURCE')
  );
  const file = join(h.dir(), 'master.key');
  writeFileSync(file, `${hex}\n`);
  chmodSync(file, 0o644);
  note('key file mode', await rejectsWith(masterKeyFromFile(file), 'KEY_FILE_PERMISSIONS'));
  chmodSync(file, 0o600);
  writeFileSync(file, `${hex.slice(2)}\n`);
  note('key file content', await rejectsWith(masterKeyFromFile(file), 'INVALID_MASTER_KEY'));

  expect(errors.length).toBeGreaterThanOrEqual(20);
  for (const [what, e] of errors) {
    try {
      expectNoSecrets(e, secrets);
    } catch (err) {
      throw new Error(`${what}: ${String(err)}`, { cause: err });
    }
  }
  const out = logged();
  for (const s of secrets) expect(out).not.toContain(s);
});

it('the keystore writes nothing to the console on its normal paths either', async () => {
  const { ks, dir, source } = await h.create(
    pass(`a passphrase ${randomBytes(6).toString('hex')}`)
  );
  const p = await populate(ks);
  await ks.consumePresignature('p2');
  const archive = await exportBackup(ks, source, { passphrase: 'some backup passphrase' });
  await ks.close();
  await rotateMasterKey({ dir, from: source, to: randomKey() });
  const t = (await h.create(randomKey())).ks;
  await importBackup(t, archive, randomKey(), { passphrase: 'some backup passphrase' });
  expect(p.secrets.length).toBeGreaterThan(0);
  expect(logged()).toBe('');
});
