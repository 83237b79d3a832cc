/**
 * `mpcd backup`, `mpcd restore` and `mpcd rotate-master-key` (cli/mpcd-keystore.ts), driven through
 * the real binary (`MPCD_TEST_BIN` runs the compiled one): round trips into a new data dir under
 * the same or another master key, the refusals (locked store, overwrite, wrong key or passphrase,
 * another identity, damaged or missing archive) with their exit codes and one-line messages, that
 * a refusal leaves nothing on disk, that nothing secret is printed, a rotation interrupted
 * after two records that the command finishes, what a re-run with the store already under the new
 * key says, and that commander's usage errors exit 2 on every command.
 */
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateMasterKey, type KeystoreError, type MasterKeySource } from '../../keystore/index.js';
import { initDataDir } from '../../daemon/init.js';
import { Keystore } from '../../keystore/keystore.js';
import { mpcd } from '../helpers/daemons.js';
import { archiveKey, openBody, plaintextB64, withBody } from '../keystore/helpers/archive.js';

/** Tests that run the binary several times (about 1–2 s each, more on a loaded machine). */
const SPAWNS_TIMEOUT_MS = 120_000;

const root = mkdtempSync(join(tmpdir(), 'mpcd-ks-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let seq = 0;
/** A path under the test's temp root that does not exist yet. */
const fresh = (name: string): string => join(root, `${name}-${++seq}`);

const hexKey = (): string => randomBytes(32).toString('hex');
const keySource = (hex: string): MasterKeySource => ({
  kind: 'key',
  key: { bytes: new Uint8Array(Buffer.from(hex, 'hex')) },
});

/** Environment with no master key source but the ones given (the runner's own are cleared). */
function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    MPCD_MASTER_KEY: '',
    MPCD_PASSPHRASE: '',
    MPCD_MASTER_KEY_FILE: '',
    MPCD_PASSPHRASE_FILE: '',
    MPCD_DATA_DIR: '',
    ...extra,
  };
}

type Run = { code: number | null; stdout: string; stderr: string };

/** `mpcd --data-dir <dir> <args>`. */
function run(dir: string, args: readonly string[], e: Record<string, string>): Promise<Run> {
  return mpcd(['--data-dir', dir, ...args], e);
}

/** Exit code `code` and exactly one stderr line, without a stack trace, naming every mention. */
function expectRefusal(r: Run, code: number, ...mentions: Array<string | RegExp>): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  for (const m of mentions) {
    if (typeof m === 'string') expect(r.stderr).toContain(m);
    else expect(r.stderr).toMatch(m);
  }
}

/** Nothing secret in a command's output. */
function expectNoSecrets(r: Run, secrets: readonly string[]): void {
  for (const s of secrets) {
    expect(r.stdout).not.toContain(s);
    expect(r.stderr).not.toContain(s);
  }
}

/** A file with mode 0600 holding `text`. */
function secretFile(name: string, text: string): string {
  const f = fresh(name);
  writeFileSync(f, text, { mode: 0o600 });
  return f;
}

/** `mpcd init`'s work, done in this process (setup, not under test): the peer id. */
async function init(dir: string, keyHex: string): Promise<string> {
  return (await initDataDir({ dataDir: dir, source: keySource(keyHex) })).peerId;
}

const SHARE = new Uint8Array(randomBytes(64));
const AUX = new Uint8Array(randomBytes(96));
const PRESIG = new Uint8Array(randomBytes(48));
const SID = new Uint8Array(32).fill(0xc4);
const SECRET_DATA = [SHARE, AUX, PRESIG].flatMap((b) => [
  Buffer.from(b).toString('hex'),
  Buffer.from(b).toString('base64'),
]);

/** Add one record of each backed-up kind, and a presignature, through the keystore API. */
async function populate(dataDir: string, source: MasterKeySource): Promise<void> {
  const ks = await Keystore.open({ dir: join(dataDir, 'keystore'), source });
  try {
    await ks.putKeyShare({ keyId: 'k1', epoch: 0, data: SHARE });
    await ks.putAuxInfo({ auxId: 'aux-1', epoch: 0, data: AUX });
    await ks.putPresignature({ presigId: 'p1', keyId: 'k1', epoch: 0, data: PRESIG });
    await ks.recordSessionId(SID);
    await ks.putJournal({
      sid: Buffer.from(SID).toString('hex'),
      protocol: 'sign',
      state: 'done',
      updatedAt: '2026-01-01T00:00:00.000Z',
    });
  } finally {
    await ks.close();
  }
}

/** Open a store in this process, run `fn`, close it. */
async function withStore<T>(
  dataDir: string,
  source: MasterKeySource,
  fn: (ks: Keystore) => Promise<T>
): Promise<T> {
  const ks = await Keystore.open({ dir: join(dataDir, 'keystore'), source });
  try {
    return await fn(ks);
  } finally {
    await ks.close();
  }
}

/** The error `p` rejects with. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err
  );
}

// One populated node, its archive keyed by its master key and one keyed by a backup passphrase;
// the tests below read them and never change node A's records.
const KEY_A = hexKey();
const ENV_A = env({ MPCD_MASTER_KEY: KEY_A });
const BACKUP_PASS = `backup-${randomBytes(12).toString('base64url')}`;
let nodeA: string;
let peerA: string;
let archiveA: string;
let archiveP: string;
let passFile: string;

beforeAll(async () => {
  nodeA = fresh('a');
  peerA = await init(nodeA, KEY_A);
  await populate(nodeA, keySource(KEY_A));
  archiveA = fresh('a.bak');
  archiveP = fresh('a-pass.bak');
  passFile = secretFile('backup-pass', `${BACKUP_PASS}\n`);
  // One after the other: each holds the store's lock while it exports.
  const byKey = await run(nodeA, ['backup', '--out', archiveA, '--json'], ENV_A);
  const byPass = await run(
    nodeA,
    ['backup', '--out', archiveP, '--backup-passphrase-file', passFile, '--json'],
    ENV_A
  );
  expect(byKey.code, byKey.stderr).toBe(0);
  expect(byPass.code, byPass.stderr).toBe(0);
  const a = JSON.parse(byKey.stdout) as Record<string, unknown>;
  expect(a).toMatchObject({
    file: archiveA,
    peerId: peerA,
    keyedBy: 'master-key',
    records: { identity: 1, keyshare: 1, aux: 1, journal: 1, sid: 1 },
  });
  // Presignatures never leave the store.
  expect((a.records as Record<string, number>).presig ?? 0).toBe(0);
  expect(a.bytes).toBe(statSync(archiveA).size);
  expect(JSON.parse(byPass.stdout)).toMatchObject({ keyedBy: 'backup-passphrase' });
  for (const r of [byKey, byPass]) expectNoSecrets(r, [KEY_A, BACKUP_PASS, ...SECRET_DATA]);
}, SPAWNS_TIMEOUT_MS);

describe('mpcd backup', { timeout: SPAWNS_TIMEOUT_MS }, () => {
  it('writes mode 0600 and prints counts, bytes and what restoring needs', async () => {
    expect(statSync(archiveA).mode & 0o777).toBe(0o600);
    expect(statSync(archiveP).mode & 0o777).toBe(0o600);
    const out = fresh('text.bak');
    const r = await run(nodeA, ['backup', '--out', out], ENV_A);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote ${out} (${statSync(out).size} bytes, mode 0600)`);
    expect(r.stdout).toContain(peerA);
    expect(r.stdout).toMatch(/identity 1, keyshare 1, aux 1, journal 1, sid 1/);
    expect(r.stdout).toContain('restoring needs this node’s master key');
    expectNoSecrets(r, [KEY_A, ...SECRET_DATA]);
  });

  it('refuses to replace an existing file without --force; --force replaces it', async () => {
    const dir = fresh('out');
    mkdirSync(dir);
    const out = join(dir, 'node.bak');
    writeFileSync(out, 'precious');
    const refused = await run(nodeA, ['backup', '--out', out], ENV_A);
    expectRefusal(refused, 1, out, 'already exists', '--force');
    expect(readFileSync(out, 'utf8')).toBe('precious');

    const forced = await run(nodeA, ['backup', '--out', out, '--force'], ENV_A);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(out).subarray(0, 8).toString('latin1')).toBe('MPCDBAK\0');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['node.bak']); // no temp file left behind
  });

  it('says "stop the daemon first" while another process holds the store, and writes nothing', async () => {
    const out = fresh('locked.bak');
    await withStore(nodeA, keySource(KEY_A), async () => {
      const b = await run(nodeA, ['backup', '--out', out], ENV_A);
      expectRefusal(b, 1, 'the keystore is in use: stop the daemon first', nodeA);
      const r = await run(nodeA, ['restore', '--in', archiveA], ENV_A);
      expectRefusal(r, 1, 'the keystore is in use: stop the daemon first');
    });
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a wrong master key naming its source, and an uninitialised data dir', async () => {
    const out = fresh('wrong.bak');
    const wrong = await run(nodeA, ['backup', '--out', out], env({ MPCD_MASTER_KEY: hexKey() }));
    expectRefusal(wrong, 1, 'MPCD_MASTER_KEY', 'does not open the keystore');
    const none = await run(fresh('empty'), ['backup', '--out', out], ENV_A);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('mpcd init');
    expect(existsSync(out)).toBe(false);
  });
});

// The restore and rotation tests use data dirs of their own (node A only as a read-only source of
// archives), so they run side by side.
describe.concurrent('mpcd restore', { timeout: SPAWNS_TIMEOUT_MS }, () => {
  it('recreates a node in a new data dir: same peer id, records, config from the flags', async () => {
    const b = join(fresh('b'), 'node'); // parent folders are created too
    const r = await run(
      b,
      ['restore', '--in', archiveA, '--listen', '/ip4/127.0.0.1/tcp/7391', '--json'],
      ENV_A
    );
    expect(r.code, r.stderr).toBe(0);
    expectNoSecrets(r, [KEY_A, ...SECRET_DATA]);
    expect(JSON.parse(r.stdout)).toMatchObject({
      dataDir: b,
      peerId: peerA,
      created: true,
      imported: { identity: 1, keyshare: 1, aux: 1, journal: 1, sid: 1, presig: 0 },
      unchanged: 0,
      droppedPresignatures: 0,
    });
    expect(readdirSync(b).sort()).toEqual(['keystore', 'mpcd.jsonc', 'peer-id']);
    expect(statSync(b).mode & 0o777).toBe(0o700);

    const id = await run(b, ['id', '--json'], env());
    expect(JSON.parse(id.stdout)).toEqual({
      peerId: peerA,
      addresses: [`/ip4/127.0.0.1/tcp/7391/p2p/${peerA}`],
    });
    await withStore(b, keySource(KEY_A), async (ks) => {
      expect((await ks.getKeyShare('k1'))?.data).toEqual(SHARE);
      expect((await ks.getAuxInfo('aux-1'))?.data).toEqual(AUX);
      expect(await ks.hasSessionId(SID)).toBe(true);
      const err = await rejection(ks.consumePresignature('p1'));
      expect((err as KeystoreError).code).toBe('NOT_FOUND');
    });

    // Into the same node again: a merge that finds everything present.
    const again = await run(b, ['restore', '--in', archiveA], ENV_A);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('unchanged: 5');
    expect(again.stdout).toMatch(/imported: +identity 0, keyshare 0, aux 0, journal 0, sid 0/);
  });

  it('restores an archive keyed by a backup passphrase under a different master key', async () => {
    const keyC = hexKey();
    const envC = env({ MPCD_MASTER_KEY: keyC });
    const c = fresh('c');
    const noPass = await run(c, ['restore', '--in', archiveP], envC);
    expectRefusal(noPass, 1, archiveP, 'keyed by a passphrase', '--backup-passphrase-file');
    const wrongFile = secretFile('wrong-pass', 'not the backup passphrase');
    const wrong = await run(
      c,
      ['restore', '--in', archiveP, '--backup-passphrase-file', wrongFile],
      envC
    );
    expectRefusal(wrong, 1, archiveP, 'wrong backup passphrase', '--backup-passphrase-file');
    expect(existsSync(c)).toBe(false); // refused: nothing created

    const ok = await run(
      c,
      ['restore', '--in', archiveP, '--backup-passphrase-file', passFile],
      envC
    );
    expect(ok.code, ok.stderr).toBe(0);
    expectNoSecrets(ok, [keyC, BACKUP_PASS, ...SECRET_DATA]);
    expect(readFileSync(join(c, 'peer-id'), 'utf8')).toBe(`${peerA}\n`);
    // The restored store is keyed by the new master key, not by A's.
    expect((await withStore(c, keySource(keyC), (ks) => ks.getKeyShare('k1')))?.data).toEqual(
      SHARE
    );
    const err = await rejection(withStore(c, keySource(KEY_A), async () => undefined));
    expect((err as KeystoreError).code).toBe('WRONG_MASTER_KEY');
  });

  it('refuses an archive keyed by another master key, creating nothing', async () => {
    const d = fresh('d');
    const r = await run(d, ['restore', '--in', archiveA], env({ MPCD_MASTER_KEY: hexKey() }));
    expectRefusal(r, 1, archiveA, 'MPCD_MASTER_KEY', 'does not open this archive');
    expect(existsSync(d)).toBe(false);
  });

  it('refuses the archive of another identity, naming both peer ids', async () => {
    const e = fresh('e');
    const peerE = await init(e, KEY_A);
    const r = await run(e, ['restore', '--in', archiveA], ENV_A);
    expectRefusal(r, 1, peerA, peerE, 'refusing to mix two identities');
    expect(await withStore(e, keySource(KEY_A), (ks) => ks.getKeyShare('k1'))).toBeUndefined();

    // A wiped keystore whose peer-id file survived: the file's id must match too.
    const f = fresh('f');
    mkdirSync(f, { mode: 0o700 });
    writeFileSync(join(f, 'peer-id'), `${peerE}\n`);
    const r2 = await run(f, ['restore', '--in', archiveA], ENV_A);
    expectRefusal(r2, 1, peerA, peerE, join(f, 'peer-id'));
    expect(readdirSync(f)).toEqual(['peer-id']);
  });

  it('refuses damaged, foreign and missing archives with one line naming the file', async () => {
    const bytes = readFileSync(archiveA);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 20]! ^= 0x01; // in the body: the header and key check still open
    const damaged = fresh('damaged.bak');
    writeFileSync(damaged, flipped);
    const foreign = fresh('foreign.bak');
    writeFileSync(foreign, randomBytes(4096));
    const missing = fresh('missing.bak');
    const target = fresh('g');
    const [r1, r2, r3] = await Promise.all(
      [damaged, foreign, missing].map((f) => run(target, ['restore', '--in', f], ENV_A))
    );
    expectRefusal(r1!, 1, damaged, 'corrupt or was tampered with');
    expectRefusal(r2!, 1, foreign, 'not an mpcd backup archive');
    expectRefusal(r3!, 1, `--in ${missing}`, 'no such file');
    expect(existsSync(target)).toBe(false);
  });

  it('drops presignatures an archive holds and says so', async () => {
    // Our own archives never hold one; a doctored (or future) archive may.
    const key = await archiveKey(readFileSync(archiveA), {
      master: { bytes: new Uint8Array(Buffer.from(KEY_A, 'hex')) },
    });
    const body = openBody(readFileSync(archiveA), key);
    body.records.push({
      kind: 'presig',
      key: 'p9@0000000000',
      data: plaintextB64({ presigId: 'p9', keyId: 'k1', epoch: 0, state: 'fresh', data: PRESIG }),
    });
    const doctored = fresh('doctored.bak');
    writeFileSync(doctored, withBody(readFileSync(archiveA), key, body));
    const h = fresh('h');
    const r = await run(h, ['restore', '--in', doctored], ENV_A);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('dropped:   1 presignature(s)');
    const err = await rejection(
      withStore(h, keySource(KEY_A), (ks) => ks.consumePresignature('p9'))
    );
    expect((err as KeystoreError).code).toBe('NOT_FOUND');
  });
});

describe.concurrent('mpcd rotate-master-key', { timeout: SPAWNS_TIMEOUT_MS }, () => {
  it('re-keys the store: the old key is refused, the new one works, a re-run is a no-op', async () => {
    const oldKey = hexKey();
    const newKey = hexKey();
    const envOld = env({ MPCD_MASTER_KEY: oldKey });
    const n = fresh('n');
    const peer = await init(n, oldKey);
    await populate(n, keySource(oldKey));
    const newKeyFile = secretFile('new.key', `${newKey}\n`);

    const r = await run(n, ['rotate-master-key', '--new-master-key-file', newKeyFile], envOld);
    expect(r.code, r.stderr).toBe(0);
    expectNoSecrets(r, [oldKey, newKey, ...SECRET_DATA]);
    expect(r.stdout).toContain('rotated the master key of');
    expect(r.stdout).toContain('(6 record(s) re-encrypted)');
    const fingerprint = /new key fingerprint: ([0-9a-f]{16})\n/.exec(r.stdout)![1];
    expect(r.stdout).toContain('The old key (MPCD_MASTER_KEY) no longer opens this store');

    const out = fresh('rotated.bak');
    const old = await run(n, ['backup', '--out', out], envOld);
    expectRefusal(old, 1, 'MPCD_MASTER_KEY', 'does not open the keystore');
    const viaFile = await run(n, ['backup', '--out', out, '--master-key-file', newKeyFile], env());
    expect(viaFile.code, viaFile.stderr).toBe(0);
    expect(viaFile.stdout).toContain(peer);

    const again = await run(n, ['rotate-master-key', '--new-master-key-file', newKeyFile], envOld);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`is already keyed by the new key (--new-master-key-file`);
    expect(again.stdout).toContain('nothing to do');
    expect(again.stdout).toContain(`new key fingerprint: ${fingerprint}\n`);
    expect(again.stdout).not.toContain('no longer opens');

    // Then to a passphrase: the store and its backups follow it.
    const phrase = `rotated-${randomBytes(12).toString('base64url')}`;
    const phraseFile = secretFile('new-pass', `${phrase}\n`);
    const toPass = await run(
      n,
      ['rotate-master-key', '--new-passphrase-file', phraseFile, '--json'],
      env({ MPCD_MASTER_KEY: newKey })
    );
    expect(toPass.code, toPass.stderr).toBe(0);
    const toPassJson = JSON.parse(toPass.stdout) as Record<string, unknown>;
    expect(toPassJson).toMatchObject({ resealed: 6, alreadyComplete: false, resumed: false });
    expect(toPassJson.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(toPassJson.fingerprint).not.toBe(fingerprint); // a new key (and a new scrypt salt)
    expectNoSecrets(toPass, [newKey, phrase]);
    const envPass = env({ MPCD_PASSPHRASE: phrase });
    const passOut = fresh('pass.bak');
    const b = await run(n, ['backup', '--out', passOut, '--json'], envPass);
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(b.stdout)).toMatchObject({ keyedBy: 'node-passphrase', peerId: peer });
    const m = fresh('m');
    const restored = await run(m, ['restore', '--in', passOut], envPass);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(peer);
  });

  it('a wrong current key on a store already under the new key: says only that, changes nothing', async () => {
    // The store keeps no record of old keys: a wrong current key cannot be told from the one an
    // earlier rotation replaced, so the command must not claim a rotation or an old key.
    const key = hexKey();
    const n = fresh('already');
    const peer = await init(n, key);
    const keyFile = secretFile('already.key', key);
    const before = await withStore(n, keySource(key), async (ks) => ks.meta);
    const r = await run(
      n,
      ['rotate-master-key', '--new-master-key-file', keyFile],
      env({ MPCD_MASTER_KEY: hexKey() })
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${join(n, 'keystore')} is already keyed by the new key`);
    expect(r.stdout).toContain('nothing to do');
    expect(r.stdout).toContain('The key from MPCD_MASTER_KEY does not open it');
    expect(r.stdout).not.toMatch(/rotated|re-encrypted|no longer opens/);
    expect(r.stdout).toMatch(/new key fingerprint: [0-9a-f]{16}\n/);
    const json = await run(
      n,
      ['rotate-master-key', '--new-master-key-file', keyFile, '--json'],
      env({ MPCD_MASTER_KEY: hexKey() })
    );
    expect(JSON.parse(json.stdout)).toMatchObject({
      resealed: 0,
      alreadyComplete: true,
      resumed: false,
      fingerprint: /new key fingerprint: ([0-9a-f]{16})/.exec(r.stdout)![1],
    });
    // still under the same key, same salt: nothing was rewritten
    expect(await withStore(n, keySource(key), async (ks) => ks.meta)).toEqual(before);
    // and a current key that opens nothing, with a new key that opens nothing either, is refused
    const neither = await run(
      n,
      ['rotate-master-key', '--new-master-key-file', secretFile('neither.key', hexKey())],
      env({ MPCD_MASTER_KEY: hexKey() })
    );
    expectRefusal(neither, 1, 'MPCD_MASTER_KEY', 'does not open the keystore');
    expect(await withStore(n, keySource(key), async (ks) => ks.partyId)).toBe(peer);
  });

  it('needs exactly one new key: both or neither is a usage error (exit 2)', async () => {
    // A data dir that does not exist: the flags are refused before any store is looked at.
    const u = fresh('u');
    const keyFile = secretFile('k.key', hexKey());
    const both = await run(
      u,
      ['rotate-master-key', '--new-master-key-file', keyFile, '--new-passphrase-file', passFile],
      ENV_A
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('cannot be used with');
    const neither = await run(u, ['rotate-master-key'], ENV_A);
    expectRefusal(neither, 2, '--new-master-key-file', '--new-passphrase-file');
    const loose = fresh('loose.key');
    writeFileSync(loose, hexKey(), { mode: 0o644 });
    const perms = await run(u, ['rotate-master-key', '--new-master-key-file', loose], ENV_A);
    expectRefusal(perms, 1, '--new-master-key-file', loose, 'chmod 600');
    expect(existsSync(u)).toBe(false);
  });

  it('finishes a rotation interrupted after two records when run again', async () => {
    const oldKey = hexKey();
    const newKey = hexKey();
    const envOld = env({ MPCD_MASTER_KEY: oldKey });
    const s = fresh('s');
    await init(s, oldKey);
    await populate(s, keySource(oldKey));
    const crash = new Error('simulated crash');
    const err = await rejection(
      rotateMasterKey({
        dir: join(s, 'keystore'),
        from: keySource(oldKey),
        to: keySource(newKey),
        onProgress: (done) => {
          if (done === 2) throw crash; // the library treats a throw like a crash at this point
        },
      })
    );
    expect(err).toBe(crash);

    const blocked = await run(s, ['backup', '--out', fresh('x.bak')], envOld);
    expectRefusal(blocked, 1, 'rotation', 'was interrupted', 'mpcd rotate-master-key');
    const otherKey = secretFile('other.key', hexKey());
    const wrongNew = await run(s, ['rotate-master-key', '--new-master-key-file', otherKey], envOld);
    expectRefusal(wrongNew, 1, 'another new key', otherKey);

    const newKeyFile = secretFile('s-new.key', newKey);
    const done = await run(s, ['rotate-master-key', '--new-master-key-file', newKeyFile], envOld);
    expect(done.code, done.stderr).toBe(0);
    // Two of the six records were re-sealed before the crash.
    expect(done.stdout).toContain('finished the interrupted rotation of');
    expect(done.stdout).toContain('(4 record(s) re-encrypted)');
    expect((await withStore(s, keySource(newKey), (ks) => ks.getKeyShare('k1')))?.data).toEqual(
      SHARE
    );
    const old = await rejection(withStore(s, keySource(oldKey), async () => undefined));
    expect((old as KeystoreError).code).toBe('WRONG_MASTER_KEY');
  });
});

describe.concurrent('mpcd usage errors', { timeout: SPAWNS_TIMEOUT_MS }, () => {
  // cli/mpcd.ts documents exit 2 for usage errors; commander's own default is 1.
  it('an unknown flag on `mpcd start` exits 2 with commander’s message, starting nothing', async () => {
    const dir = fresh('usage');
    const r = await run(dir, ['start', '--no-such-flag'], env());
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: unknown option '--no-such-flag'\n/);
    expect(r.stdout).toBe('');
    expect(existsSync(dir)).toBe(false);
  });

  it('the same on init, id and a keystore command; a missing required flag; no command', async () => {
    const dir = fresh('usage');
    const [init2, id, backup, noOut, none] = await Promise.all([
      run(dir, ['init', '--bogus'], env()),
      run(dir, ['id', '--bogus'], env()),
      run(dir, ['backup', '--out', fresh('u.bak'), '--bogus'], env()),
      run(dir, ['backup'], env()),
      run(dir, [], env()),
    ]);
    for (const r of [init2, id, backup]) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^error: unknown option '--bogus'\n/);
    }
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/^error: required option '--out <file>' not specified\n/);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: mpcd');
    expect(existsSync(dir)).toBe(false);
  });

  it('a passphrase in MPCD_PASSPHRASE and a passphrase file: refused as two sources; a shared file refused', async () => {
    const dir = fresh('pp');
    const pf = fresh('passphrase');
    await writeFile(pf, 'correct horse battery staple\n', { mode: 0o600 });
    const both = await run(
      dir,
      ['init', '--passphrase-file', pf],
      env({ MPCD_PASSPHRASE: 'another passphrase entirely' })
    );
    expect(both.code, both.stderr).not.toBe(0);
    expect(both.stderr).toMatch(/several master key sources.*MPCD_PASSPHRASE and passphraseFile/);
    await chmod(pf, 0o644);
    const open = await run(dir, ['init', '--passphrase-file', pf], env());
    expect(open.code, open.stderr).not.toBe(0);
    expect(open.stderr).toContain(`passphrase file ${pf} has mode 644`);
    expect(existsSync(join(dir, 'keystore'))).toBe(false);
  });

  it('help is not an error: exit 0', async () => {
    const [top, sub] = await Promise.all([
      run(fresh('usage'), ['--help'], env()),
      run(fresh('usage'), ['start', '--help'], env()),
    ]);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Usage: mpcd');
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('Usage: mpcd start');
  });
});
