/**
 * daemon/identity.ts and daemon/init.ts: the identity key serves both libp2p and the envelope
 * signatures; `init` lays out a data dir once (modes, idempotence, never replacing an identity or a
 * config file); `openNodeStore` and `readPeerId` refuse a wrong master key, a tampered or missing
 * peer-id file and a half-made data dir with errors that name the file.
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
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterEach, describe, expect, it } from 'vitest';
import { CONFIG_FILE, ConfigError, defaultConfig, loadConfig } from '../../daemon/config.js';
import {
  generateIdentity,
  IdentityError,
  identityFromProtobuf,
  identityToProtobuf,
} from '../../daemon/identity.js';
import {
  DataDirError,
  initDataDir,
  KEYSTORE_DIR,
  openNodeStore,
  PEER_ID_FILE,
  readPeerId,
} from '../../daemon/init.js';
import { KeystoreError } from '../../keystore/errors.js';
import type { MasterKeySource } from '../../keystore/master-key.js';
import { ed25519PublicKey } from '../../protocol/round/envelope.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mpcd-init-'));
  dirs.push(d);
  return d;
}

/** A master key source of 32 random bytes. */
function randomKey(): MasterKeySource {
  return { kind: 'key', key: { bytes: new Uint8Array(randomBytes(32)) } };
}

const mode = (p: string): number => statSync(p).mode & 0o777;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Await `p`, which must reject with an instance of `cls`; return the error. */
async function rejection<E>(p: Promise<unknown>, cls: new (...a: never[]) => E): Promise<E> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(cls);
  return err as E;
}

describe('identity', () => {
  it('is one Ed25519 key for libp2p and for envelopes', async () => {
    const id = await generateIdentity();
    expect(id.peerId.toString()).toMatch(/^12D3KooW/);
    expect(id.peerId.type).toBe('Ed25519');
    expect(id.envelopeSecretKey).toHaveLength(32);
    expect(id.publicKey).toHaveLength(32);
    expect(hex(ed25519PublicKey(id.envelopeSecretKey))).toBe(hex(id.publicKey));
    expect(hex(id.peerId.publicKey!.raw)).toBe(hex(id.publicKey));
    // libp2p's raw key is seed ‖ public key
    expect(hex(id.privateKey.raw)).toBe(hex(id.envelopeSecretKey) + hex(id.publicKey));
  });

  it('signatures made with the seed by noble verify with libp2p, and the other way round', async () => {
    const id = await generateIdentity();
    const msg = new TextEncoder().encode('mpcd envelope');
    const sig = ed25519.sign(msg, id.envelopeSecretKey);
    expect(await id.privateKey.publicKey.verify(msg, sig)).toBe(true);
    expect(await id.peerId.publicKey!.verify(msg, sig)).toBe(true);
    const tampered = Uint8Array.from(msg);
    tampered[0]! ^= 1;
    expect(await id.privateKey.publicKey.verify(tampered, sig)).toBe(false);
    const libp2pSig = await id.privateKey.sign(msg);
    expect(ed25519.verify(libp2pSig, msg, id.publicKey)).toBe(true);
  });

  it('round-trips through the protobuf the keystore stores', async () => {
    const id = await generateIdentity();
    const back = identityFromProtobuf(identityToProtobuf(id));
    expect(back.peerId.equals(id.peerId)).toBe(true);
    expect(hex(back.envelopeSecretKey)).toBe(hex(id.envelopeSecretKey));
    expect(hex(back.publicKey)).toBe(hex(id.publicKey));
  });

  it('refuses a non-Ed25519 key, garbage, and a key whose public half is not its seed’s', async () => {
    const secp = await generateKeyPair('secp256k1');
    const e1 = (() => {
      try {
        identityFromProtobuf(privateKeyToProtobuf(secp));
      } catch (e) {
        return e;
      }
    })() as IdentityError;
    expect(e1).toBeInstanceOf(IdentityError);
    expect(e1.code).toBe('NOT_ED25519');
    expect(e1.message).toContain('secp256k1');

    expect(() => identityFromProtobuf(new Uint8Array([1, 2, 3]))).toThrow(
      expect.objectContaining({ code: 'INVALID_IDENTITY_KEY' })
    );

    // Splice another key's public half into a valid protobuf (type, then 64 bytes seed ‖ public).
    const a = await generateIdentity();
    const b = await generateIdentity();
    const bytes = identityToProtobuf(a);
    const at = bytes.length - 32;
    expect(hex(bytes.subarray(at))).toBe(hex(a.publicKey));
    bytes.set(b.publicKey, at);
    let err: unknown;
    try {
      identityFromProtobuf(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IdentityError);
    expect((err as IdentityError).code).toBe('INVALID_IDENTITY_KEY');
    expect((err as Error).message).not.toContain(hex(a.envelopeSecretKey).slice(0, 16));
  });
});

describe('initDataDir', () => {
  it('creates the layout: dir and keystore 0700, peer-id and config 0600, no temp files', async () => {
    const dataDir = join(tempDir(), 'nested', 'node-a');
    const source = randomKey();
    const r = await initDataDir({ dataDir, source });
    expect(r.created).toBe(true);
    expect(r.dataDir).toBe(dataDir);
    expect(r.peerId).toMatch(/^12D3KooW/);
    expect(r.configFile).toBe(join(dataDir, CONFIG_FILE));
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(join(dataDir, KEYSTORE_DIR))).toBe(0o700);
    expect(mode(join(dataDir, PEER_ID_FILE))).toBe(0o600);
    expect(mode(r.configFile)).toBe(0o600);
    expect(readFileSync(join(dataDir, PEER_ID_FILE), 'utf8')).toBe(`${r.peerId}\n`);
    expect(readdirSync(dataDir).sort()).toEqual([KEYSTORE_DIR, CONFIG_FILE, PEER_ID_FILE].sort());
    expect(await readPeerId(dataDir)).toBe(r.peerId);
    // The written config is the commented template of the defaults.
    const text = readFileSync(r.configFile, 'utf8');
    expect(text).toMatch(/^\/\/ /);
    expect(await loadConfig({ dataDir, env: {}, requireFile: true })).toEqual(
      defaultConfig(dataDir)
    );
  });

  it('writes the given config values, validated before anything is created', async () => {
    const [a, b] = await Promise.all([generateIdentity(), generateIdentity()]);
    const peers = [a.peerId.toString(), b.peerId.toString()];
    const dataDir = join(tempDir(), 'n');
    await initDataDir({
      dataDir,
      source: randomKey(),
      config: { peers, admin: { host: '127.0.0.1', port: 0 } },
    });
    const cfg = await loadConfig({ dataDir, env: {}, requireFile: true });
    expect(cfg.peers).toEqual(peers);
    expect(cfg.admin.port).toBe(0);

    const bad = join(tempDir(), 'bad');
    const e = await rejection(
      initDataDir({ dataDir: bad, source: randomKey(), config: { maxSessions: 0 } }),
      ConfigError
    );
    expect(e.field).toBe('maxSessions');
    expect(existsSync(bad)).toBe(false);
    // Flag names are not config fields: refused, not silently dropped.
    const flags = { adminPort: '0' } as unknown as Record<string, never>;
    const e2 = await rejection(
      initDataDir({ dataDir: bad, source: randomKey(), config: flags }),
      ConfigError
    );
    expect(e2.message).toMatch(/^adminPort: not a config field/);
  });

  it('is a no-op the second time: same identity, config file untouched', async () => {
    const dataDir = join(tempDir(), 'n');
    const source = randomKey();
    const first = await initDataDir({ dataDir, source });
    const edited = readFileSync(first.configFile, 'utf8') + '// edited by the operator\n';
    writeFileSync(first.configFile, edited);
    const second = await initDataDir({ dataDir, source, config: { maxSessions: 3 } });
    expect(second).toEqual({ ...first, created: false });
    expect(readFileSync(first.configFile, 'utf8')).toBe(edited);
    expect(readFileSync(join(dataDir, PEER_ID_FILE), 'utf8')).toBe(`${first.peerId}\n`);
  });

  it('restores a deleted peer-id file from the keystore, and a deleted config file', async () => {
    const dataDir = join(tempDir(), 'n');
    const source = randomKey();
    const first = await initDataDir({ dataDir, source });
    rmSync(join(dataDir, PEER_ID_FILE));
    rmSync(first.configFile);
    const again = await initDataDir({ dataDir, source });
    expect(again.created).toBe(false);
    expect(await readPeerId(dataDir)).toBe(first.peerId);
    expect(existsSync(first.configFile)).toBe(true);
  });

  it('leaves the mode of an existing data dir alone', async () => {
    const dataDir = join(tempDir(), 'shared');
    mkdirSync(dataDir, { mode: 0o755 });
    await initDataDir({ dataDir, source: randomKey() });
    expect(mode(dataDir)).toBe(0o755);
    expect(mode(join(dataDir, KEYSTORE_DIR))).toBe(0o700);
  });

  it('refuses a wrong master key on an initialised dir', async () => {
    const dataDir = join(tempDir(), 'n');
    await initDataDir({ dataDir, source: randomKey() });
    const e = await rejection(initDataDir({ dataDir, source: randomKey() }), KeystoreError);
    expect(e.code).toBe('WRONG_MASTER_KEY');
  });

  it('refuses a peer-id file without a keystore instead of making a new identity', async () => {
    const dataDir = join(tempDir(), 'n');
    const first = await initDataDir({ dataDir, source: randomKey() });
    rmSync(join(dataDir, KEYSTORE_DIR), { recursive: true });
    const e = await rejection(initDataDir({ dataDir, source: randomKey() }), DataDirError);
    expect(e.code).toBe('INCONSISTENT_DATA_DIR');
    expect(e.message).toContain(join(dataDir, PEER_ID_FILE));
    expect(await readPeerId(dataDir)).toBe(first.peerId);
  });

  it('refuses to build on a peer-id file that names another identity', async () => {
    const dataDir = join(tempDir(), 'n');
    const source = randomKey();
    await initDataDir({ dataDir, source });
    const other = (await generateIdentity()).peerId.toString();
    writeFileSync(join(dataDir, PEER_ID_FILE), `${other}\n`);
    const e = await rejection(initDataDir({ dataDir, source }), DataDirError);
    expect(e.code).toBe('PEER_ID_MISMATCH');
    expect(readFileSync(join(dataDir, PEER_ID_FILE), 'utf8')).toBe(`${other}\n`);
  });

  it('works with a passphrase source', async () => {
    const dataDir = join(tempDir(), 'n');
    const source: MasterKeySource = { kind: 'passphrase', passphrase: 'correct horse battery' };
    const r = await initDataDir({ dataDir, source });
    const { keystore, identity } = await openNodeStore({ dataDir, source });
    await keystore.close();
    expect(identity.peerId.toString()).toBe(r.peerId);
  });
});

describe('openNodeStore and readPeerId', () => {
  it('open the identity init created, with matching keystore party id', async () => {
    const dataDir = join(tempDir(), 'n');
    const source = randomKey();
    const r = await initDataDir({ dataDir, source });
    const { keystore, identity } = await openNodeStore({ dataDir, source });
    try {
      expect(identity.peerId.toString()).toBe(r.peerId);
      expect(keystore.partyId).toBe(r.peerId);
      expect(hex(ed25519PublicKey(identity.envelopeSecretKey))).toBe(hex(identity.publicKey));
    } finally {
      await keystore.close();
    }
  });

  it('a wrong master key is the keystore’s WRONG_MASTER_KEY', async () => {
    const dataDir = join(tempDir(), 'n');
    await initDataDir({ dataDir, source: randomKey() });
    const e = await rejection(openNodeStore({ dataDir, source: randomKey() }), KeystoreError);
    expect(e.code).toBe('WRONG_MASTER_KEY');
  });

  it('a peer-id file naming another peer fails, names the file, and releases the store', async () => {
    const dataDir = join(tempDir(), 'n');
    const source = randomKey();
    const r = await initDataDir({ dataDir, source });
    const file = join(dataDir, PEER_ID_FILE);
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
    writeFileSync(file, `${other}\n`);
    const e = await rejection(openNodeStore({ dataDir, source }), DataDirError);
    expect(e.code).toBe('PEER_ID_MISMATCH');
    expect(e.path).toBe(file);
    expect(e.message).toContain(file);
    expect(e.message).toContain(other);
    expect(e.message).toContain(r.peerId);
    // The keystore was closed: restoring the file lets it open again (no STORE_LOCKED).
    writeFileSync(file, `${r.peerId}\n`);
    const ok = await openNodeStore({ dataDir, source });
    await ok.keystore.close();
  });

  it('a garbled peer-id file is PEER_ID_FILE_INVALID naming the file', async () => {
    const dataDir = join(tempDir(), 'n');
    const source = randomKey();
    await initDataDir({ dataDir, source });
    const file = join(dataDir, PEER_ID_FILE);
    for (const junk of ['hello\n', '', `${(await generateIdentity()).peerId} extra\n`]) {
      writeFileSync(file, junk);
      const e = await rejection(openNodeStore({ dataDir, source }), DataDirError);
      expect(e.code).toBe('PEER_ID_FILE_INVALID');
      expect(e.message).toContain(file);
      await expect(readPeerId(dataDir)).rejects.toThrow(file);
    }
    const secp = peerIdFromPrivateKey(await generateKeyPair('secp256k1')).toString();
    writeFileSync(file, secp);
    await expect(readPeerId(dataDir)).rejects.toMatchObject({ code: 'PEER_ID_FILE_INVALID' });
  });

  it('an uninitialised dir says to run mpcd init', async () => {
    const dataDir = tempDir();
    const e = await rejection(readPeerId(dataDir), DataDirError);
    expect(e.code).toBe('NOT_INITIALISED');
    expect(e.message).toContain(join(dataDir, PEER_ID_FILE));
    expect(e.message).toContain('mpcd init');
    const e2 = await rejection(openNodeStore({ dataDir, source: randomKey() }), DataDirError);
    expect(e2.code).toBe('NOT_INITIALISED');
    expect(existsSync(join(dataDir, KEYSTORE_DIR))).toBe(false);
  });

  it('readPeerId needs no master key and accepts the file without a trailing newline', async () => {
    const dataDir = join(tempDir(), 'n');
    const r = await initDataDir({ dataDir, source: randomKey() });
    writeFileSync(join(dataDir, PEER_ID_FILE), r.peerId);
    expect(await readPeerId(dataDir)).toBe(r.peerId);
  });
});
