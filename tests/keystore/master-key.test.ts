/**
 * Master-key sources: MPCD_MASTER_KEY text, key files (permissions), passphrases (scrypt), the
 * choice of exactly one source, and a store opened with the wrong key of each kind.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCRYPT,
  MIN_PASSPHRASE_LENGTH,
  masterKeyFromFile,
  masterKeyFromPassphrase,
  parseMasterKey,
  passphraseFromFile,
  resolveMasterKeySource,
} from '../../keystore/index.js';
import { assertScryptParams } from '../../keystore/master-key.js';
import {
  FAST_SCRYPT,
  expectNoSecrets,
  pass,
  randomKey,
  randomPassphrase,
  rejectsWith,
  throwsWith,
  useHarness,
  withRaw,
} from './helpers/ks.js';

const h = useHarness();
const KEY = new Uint8Array(randomBytes(32));
const HEX = Buffer.from(KEY).toString('hex');
const B64 = Buffer.from(KEY).toString('base64');
const B64URL = Buffer.from(KEY).toString('base64url');

describe('parseMasterKey', () => {
  it.each([
    ['lower-case hex', HEX],
    ['upper-case hex', HEX.toUpperCase()],
    ['base64 with padding', B64],
    ['base64 without padding', B64.replace(/=+$/, '')],
    ['base64url', B64URL],
    ['surrounding whitespace and newline', `  \t${HEX}\r\n`],
    ['base64 with a trailing newline', `${B64}\n`],
  ])('accepts %s', (_name, text) => {
    expect(parseMasterKey(text, 'MPCD_MASTER_KEY').bytes).toEqual(KEY);
  });

  it.each([
    ['empty', ''],
    ['only whitespace', '   \n'],
    ['31 bytes of hex', HEX.slice(0, 62)],
    ['33 bytes of hex', `${HEX}ab`],
    ['63 hex digits', HEX.slice(0, 63)],
    ['31 bytes of base64', randomBytes(31).toString('base64')],
    ['33 bytes of base64', randomBytes(33).toString('base64')],
    ['16 bytes of base64', randomBytes(16).toString('base64')],
    ['hex with a space inside', `${HEX.slice(0, 32)} ${HEX.slice(32)}`],
    ['hex with a 0x prefix', `0x${HEX}`],
    ['garbage', 'correct horse battery staple, not a key!'],
    ['non-hex letters', 'z'.repeat(64)],
    ['base64 with bad characters', `${B64.slice(0, 40)}$%^=`],
  ])('refuses %s with INVALID_MASTER_KEY, naming the origin but not the text', (_name, text) => {
    const err = throwsWith(
      () => parseMasterKey(text, 'MPCD_MASTER_KEY'),
      'INVALID_MASTER_KEY',
      'MPCD_MASTER_KEY must be 32 bytes'
    );
    const t = text.trim();
    if (t.length >= 8) expectNoSecrets(err, [t, t.slice(0, 16)]);
  });
});

describe('masterKeyFromFile', () => {
  /** A key file with `mode` (chmod after writing: the umask cannot widen it). */
  function keyFile(content: string | Uint8Array, mode: number): string {
    const path = join(h.dir(), 'master.key');
    writeFileSync(path, content);
    chmodSync(path, mode);
    return path;
  }

  it.each([0o600, 0o400, 0o700])('reads a hex key file with mode %o', async (mode) => {
    const path = keyFile(`${HEX}\n`, mode);
    expect((await masterKeyFromFile(path)).bytes).toEqual(KEY);
  });

  it('reads base64 text and 32 raw bytes', async () => {
    expect((await masterKeyFromFile(keyFile(B64, 0o600))).bytes).toEqual(KEY);
    const raw = new Uint8Array(32).map((_, i) => (i * 37 + 1) & 0xff);
    raw[0] = 0; // certainly not text
    expect((await masterKeyFromFile(keyFile(raw, 0o600))).bytes).toEqual(raw);
    expect((await masterKeyFromFile(keyFile(KEY, 0o400))).bytes).toEqual(
      // random bytes are binary except with negligible probability
      KEY
    );
  });

  it.for([0o640, 0o644, 0o604, 0o660, 0o606, 0o666, 0o610, 0o601, 0o777])(
    'refuses mode %o with KEY_FILE_PERMISSIONS, naming the file and mode',
    async (mode, { skip }) => {
      const path = keyFile(`${HEX}\n`, mode);
      // The check stats the file, so it holds for root too; only a filesystem that ignores chmod
      // (some mounts) cannot exercise it.
      if ((statSync(path).mode & 0o777) !== mode) skip('chmod has no effect on this filesystem');
      const err = await rejectsWith(
        masterKeyFromFile(path),
        'KEY_FILE_PERMISSIONS',
        path,
        `mode ${mode.toString(8)}`,
        'chmod 600'
      );
      expect(err.details).toEqual({ path, mode: mode.toString(8) });
      expectNoSecrets(err, [HEX, B64]);
    }
  );

  it('refuses a directory and a missing file; judges a symlink by its target', async () => {
    const dir = join(h.dir(), 'keydir');
    mkdirSync(dir, { mode: 0o700 });
    await rejectsWith(masterKeyFromFile(dir), 'KEY_FILE_PERMISSIONS', dir, 'not a regular file');
    const missing = join(h.dir(), 'nope.key');
    await rejectsWith(
      masterKeyFromFile(missing),
      'KEY_FILE_PERMISSIONS',
      missing,
      'cannot be read'
    );
    // A symlink (e.g. a Kubernetes secret mount) is judged by the file it points to.
    const target = keyFile(HEX, 0o600);
    const link = join(h.dir(), 'link.key');
    symlinkSync(target, link);
    expect((await masterKeyFromFile(link)).bytes).toHaveLength(32);
    const loose = keyFile(HEX, 0o644);
    const looseLink = join(h.dir(), 'loose-link.key');
    symlinkSync(loose, looseLink);
    await rejectsWith(masterKeyFromFile(looseLink), 'KEY_FILE_PERMISSIONS', looseLink, 'mode 644');
  });

  it('refuses a 0600 file of the wrong content with INVALID_MASTER_KEY, without echoing it', async () => {
    const content = `${HEX.slice(0, 60)}\n`;
    const path = keyFile(content, 0o600);
    const err = await rejectsWith(
      masterKeyFromFile(path),
      'INVALID_MASTER_KEY',
      `key file ${path}`
    );
    expectNoSecrets(err, [HEX.slice(0, 60), HEX.slice(0, 24)]);
    const empty = keyFile('', 0o600);
    await rejectsWith(masterKeyFromFile(empty), 'INVALID_MASTER_KEY', empty);
    const raw31 = keyFile(new Uint8Array(31).fill(0), 0o600);
    await rejectsWith(masterKeyFromFile(raw31), 'INVALID_MASTER_KEY', raw31);
  });
});

describe('masterKeyFromPassphrase', () => {
  const params = { ...FAST_SCRYPT, salt: new Uint8Array(32).fill(7) };

  it('is deterministic per (passphrase, salt, parameters), and NFKC-normalised', async () => {
    const a = await masterKeyFromPassphrase('twelve chars', params);
    expect(a.bytes).toHaveLength(32);
    expect((await masterKeyFromPassphrase('twelve chars', params)).bytes).toEqual(a.bytes);
    const otherSalt = await masterKeyFromPassphrase('twelve chars', {
      ...params,
      salt: new Uint8Array(32).fill(8),
    });
    expect(otherSalt.bytes).not.toEqual(a.bytes);
    expect((await masterKeyFromPassphrase('twelve chars!', params)).bytes).not.toEqual(a.bytes);
    // "é" precomposed and decomposed are the same passphrase
    const composed = await masterKeyFromPassphrase('caf\u00e9 au lait!', params);
    const decomposed = await masterKeyFromPassphrase('cafe\u0301 au lait!', params);
    expect(decomposed.bytes).toEqual(composed.bytes);
  });

  it(`refuses a passphrase shorter than ${MIN_PASSPHRASE_LENGTH} characters`, async () => {
    const short = 'elevenchars';
    expect(short).toHaveLength(MIN_PASSPHRASE_LENGTH - 1);
    const err = await rejectsWith(
      masterKeyFromPassphrase(short, params),
      'INVALID_MASTER_KEY',
      `at least ${MIN_PASSPHRASE_LENGTH} characters`
    );
    expectNoSecrets(err, [short]);
    await rejectsWith(masterKeyFromPassphrase('', params), 'INVALID_MASTER_KEY');
  });

  it.each([
    ['logN 13', { logN: 13 }],
    ['logN 23', { logN: 23 }],
    ['logN 14.5', { logN: 14.5 }],
    ['r 7', { r: 7 }],
    ['r 33', { r: 33 }],
    ['p 0', { p: 0 }],
    ['p 17', { p: 17 }],
    ['a 15-byte salt', { salt: new Uint8Array(15) }],
    ['a 65-byte salt', { salt: new Uint8Array(65) }],
  ])('refuses scrypt parameters out of bounds: %s', async (_name, change) => {
    const bad = { ...params, ...change };
    throwsWith(() => assertScryptParams(bad), 'INVALID_MASTER_KEY', 'scrypt parameters');
    await rejectsWith(masterKeyFromPassphrase('long enough passphrase', bad), 'INVALID_MASTER_KEY');
  });

  it('defaults to scrypt N = 2^15, r = 8, p = 1', () => {
    expect(DEFAULT_SCRYPT).toEqual({ logN: 15, r: 8, p: 1 });
    expect(() => assertScryptParams({ ...DEFAULT_SCRYPT, salt: new Uint8Array(32) })).not.toThrow();
  });
});

describe('resolveMasterKeySource', () => {
  it('takes MPCD_MASTER_KEY, a key file or a passphrase', async () => {
    expect(await resolveMasterKeySource({ envValue: HEX })).toEqual({
      kind: 'key',
      key: { bytes: KEY },
    });
    const path = join(h.dir(), 'k');
    writeFileSync(path, B64, { mode: 0o600 });
    chmodSync(path, 0o600);
    expect(await resolveMasterKeySource({ keyFile: path })).toEqual({
      kind: 'key',
      key: { bytes: KEY },
    });
    expect(await resolveMasterKeySource({ passphrase: 'a long passphrase' })).toEqual({
      kind: 'passphrase',
      passphrase: 'a long passphrase',
    });
    // empty strings count as not configured
    expect(
      await resolveMasterKeySource({ envValue: '', keyFile: '', passphrase: 'a long passphrase' })
    ).toMatchObject({ kind: 'passphrase' });
  });

  it.each([
    ['nothing', {}],
    ['only empty values', { envValue: '', keyFile: '', passphrase: '' }],
    ['only undefined values', { envValue: undefined, keyFile: undefined }],
  ])('refuses %s with MASTER_KEY_SOURCE', async (_name, cfg) => {
    await rejectsWith(resolveMasterKeySource(cfg), 'MASTER_KEY_SOURCE', 'no master key');
  });

  it.each([
    ['env and file', { envValue: HEX, keyFile: '/nonexistent' }],
    ['env and passphrase', { envValue: HEX, passphrase: 'a long passphrase' }],
    ['file and passphrase', { keyFile: '/nonexistent', passphrase: 'a long passphrase' }],
    ['all three', { envValue: HEX, keyFile: '/x', passphrase: 'a long passphrase' }],
  ])('refuses %s with MASTER_KEY_SOURCE, echoing none of them', async (_name, cfg) => {
    const err = await rejectsWith(resolveMasterKeySource(cfg), 'MASTER_KEY_SOURCE', 'several');
    expectNoSecrets(err, [HEX, B64, 'a long passphrase']);
  });

  it('reports the chosen source’s own errors', async () => {
    const err = await rejectsWith(
      resolveMasterKeySource({ envValue: HEX.slice(2) }),
      'INVALID_MASTER_KEY',
      'MPCD_MASTER_KEY'
    );
    expectNoSecrets(err, [HEX.slice(2)]);
    await rejectsWith(
      resolveMasterKeySource({ keyFile: join(h.dir(), 'missing') }),
      'KEY_FILE_PERMISSIONS'
    );
  });
});

describe('opening a store with the wrong key', () => {
  it('a raw-key store with another raw key → WRONG_MASTER_KEY, and the right key still opens', async () => {
    const { ks, dir, source } = await h.create();
    await ks.putIdentity(new Uint8Array([1, 2, 3]));
    await ks.close();
    const wrong = randomKey();
    const err = await rejectsWith(
      h.open({ dir, source: wrong }),
      'WRONG_MASTER_KEY',
      `does not open the store ${dir}`
    );
    expectNoSecrets(err, [
      Buffer.from(wrong.key.bytes).toString('hex'),
      Buffer.from(source.kind === 'key' ? source.key.bytes : []).toString('hex'),
    ]);
    expect(await (await h.open({ dir, source })).getIdentity()).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('a passphrase store: created with the given scrypt parameters and a fresh salt', async () => {
    const pp = randomPassphrase();
    const { ks } = await h.create(pass(pp));
    expect(ks.meta.kdf).toMatchObject(FAST_SCRYPT);
    expect(Buffer.from(ks.meta.kdf!.salt, 'base64')).toHaveLength(32);
    expect(Buffer.from(ks.meta.salt, 'base64')).toHaveLength(32);
    expect(ks.meta.kdf!.salt).not.toBe(ks.meta.salt);
  });

  it('a passphrase store with the wrong passphrase → WRONG_MASTER_KEY; the right one opens', async () => {
    const pp = randomPassphrase();
    const { ks, dir } = await h.create(pass(pp));
    await ks.putKeyShare({ keyId: 'k', epoch: 0, data: new Uint8Array([5]) });
    await ks.close();
    const wrongPp = randomPassphrase();
    const err = await rejectsWith(h.open({ dir, source: pass(wrongPp) }), 'WRONG_MASTER_KEY', dir);
    expectNoSecrets(err, [pp, wrongPp]);
    // a passphrase that differs only in case or by a trailing space is wrong too
    await rejectsWith(h.open({ dir, source: pass(`${pp} `) }), 'WRONG_MASTER_KEY');
    await rejectsWith(h.open({ dir, source: pass(pp.toUpperCase()) }), 'WRONG_MASTER_KEY');
    const again = await h.open({ dir, source: pass(pp) });
    expect((await again.getKeyShare('k'))?.data).toEqual(new Uint8Array([5]));
  });

  it('a raw-key store opened with a passphrase → WRONG_MASTER_KEY', async () => {
    const { ks, dir } = await h.create(randomKey());
    await ks.close();
    await rejectsWith(
      h.open({ dir, source: pass('some long passphrase') }),
      'WRONG_MASTER_KEY',
      'keyed by a raw master key, not a passphrase'
    );
  });

  it('a passphrase store opened with a raw key (even scrypt’s output for another salt) → WRONG_MASTER_KEY', async () => {
    const pp = randomPassphrase();
    const { ks, dir } = await h.create(pass(pp));
    await ks.close();
    await rejectsWith(h.open({ dir, source: randomKey() }), 'WRONG_MASTER_KEY');
    const lookalike = await masterKeyFromPassphrase(pp, { ...FAST_SCRYPT, salt: randomBytes(32) });
    await rejectsWith(h.open({ dir, source: { kind: 'key', key: lookalike } }), 'WRONG_MASTER_KEY');
  });

  it('a passphrase store opens with the raw key scrypt derives from its stored kdf', async () => {
    // Documents that the passphrase is only a way to the 32-byte master key.
    const pp = randomPassphrase();
    const { ks, dir } = await h.create(pass(pp));
    await ks.close();
    const kdf = (await withRaw(dir, async (raw) => (await raw.storeMeta()).kdf)) as {
      logN: number;
      r: number;
      p: number;
      salt: string;
    };
    const key = await masterKeyFromPassphrase(pp, {
      ...kdf,
      salt: Buffer.from(kdf.salt, 'base64'),
    });
    await h.open({ dir, source: { kind: 'key', key } });
  });

  it('a passphrase shorter than 12 characters is refused at create and at open', async () => {
    const dir = h.dir();
    const err = await rejectsWith(
      h.open({ dir, source: pass('short pass'), create: true, partyId: 'p', scrypt: FAST_SCRYPT }),
      'INVALID_MASTER_KEY',
      'at least 12 characters'
    );
    expectNoSecrets(err, ['short pass']);
    // nothing was initialised
    await rejectsWith(h.open({ dir, source: pass('short pass') }), 'STORE_MISSING');
    const made = await h.create(pass(randomPassphrase()));
    await made.ks.close();
    await rejectsWith(h.open({ dir: made.dir, source: pass('tiny') }), 'INVALID_MASTER_KEY');
  });

  it('a store with absurd stored scrypt parameters is refused before any work', async () => {
    const { ks, dir, source } = await h.create(pass(randomPassphrase()));
    await ks.close();
    await withRaw(dir, async (raw) => {
      const meta = (await raw.storeMeta()) as { kdf: { logN: number } };
      await raw.put(
        'meta',
        'store',
        Buffer.from(JSON.stringify({ ...meta, kdf: { ...meta.kdf, logN: 40 } }))
      );
    });
    await rejectsWith(
      h.open({ dir, source }),
      'INVALID_MASTER_KEY',
      'scrypt parameters out of bounds'
    );
  });
});

describe('passphraseFromFile', () => {
  function file(content: string, mode: number): string {
    const path = join(h.dir(), 'passphrase');
    writeFileSync(path, content);
    chmodSync(path, mode);
    return path;
  }

  it('reads the passphrase, dropping one trailing newline', async () => {
    expect(await passphraseFromFile(file('correct horse battery\n', 0o600))).toBe(
      'correct horse battery'
    );
    expect(await passphraseFromFile(file('  spaces kept  \r\n', 0o400))).toBe('  spaces kept  ');
  });

  it.each([0o640, 0o604, 0o644])(
    'refuses a passphrase file with mode %o, naming it',
    async (mode) => {
      const path = file('correct horse battery\n', mode);
      await expect(passphraseFromFile(path)).rejects.toMatchObject({
        code: 'KEY_FILE_PERMISSIONS',
        message: expect.stringContaining(`passphrase file ${path} has mode ${mode.toString(8)}`),
      });
    }
  );

  it('refuses a directory, a missing file and an oversized file', async () => {
    const dir = join(h.dir(), 'd');
    mkdirSync(dir);
    await expect(passphraseFromFile(dir)).rejects.toMatchObject({ code: 'KEY_FILE_PERMISSIONS' });
    await expect(passphraseFromFile(join(h.dir(), 'nope'))).rejects.toMatchObject({
      code: 'KEY_FILE_PERMISSIONS',
    });
    await expect(passphraseFromFile(file('x'.repeat(5000), 0o600))).rejects.toMatchObject({
      code: 'INVALID_MASTER_KEY',
    });
  });
});
