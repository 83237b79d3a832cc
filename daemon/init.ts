/**
 * The data dir of a party daemon, and the building blocks of `mpcd init` and `mpcd id` (issue:
 * "`mpcd init` creates a data dir with a persistent Ed25519 identity (stored in the keystore) and a
 * commented config file; `mpcd id` prints the peer id").
 *
 * Layout of `<dataDir>` (mode 0700):
 * - `keystore/`  the encrypted LevelDB store (keystore/keystore.ts); holds the identity key;
 * - `mpcd.jsonc` the config file (config.ts), written once and never overwritten;
 * - `peer-id`    the public peer id on one line, so `mpcd id` works without the master key.
 *
 * Rules:
 * - the identity is created once: `init` on an initialised dir changes nothing and reports the
 *   existing peer id (an identity is the party's place in every key it holds; replacing it
 *   would orphan them all);
 * - a `peer-id` file without a keystore is refused rather than "repaired" with a new identity;
 * - files are written to a temp file, synced, then linked into place: a crash leaves either no file
 *   or the whole file, and an existing file is never replaced (mode 0600);
 * - opening checks that `peer-id`, the keystore's party id and the stored key all agree, so a
 *   tampered file or mixed-up data dirs fail at start, not as a wrong roster entry later.
 * @module
 */
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { peerIdFromString } from '@libp2p/peer-id';
import { exists, writePrivateFile } from './private-file.js';
import { KeystoreError } from '../keystore/errors.js';
import { Keystore } from '../keystore/keystore.js';
import type { MasterKeySource } from '../keystore/master-key.js';
import {
  CONFIG_FILE,
  ConfigError,
  defaultConfig,
  renderConfigFile,
  validateConfig,
  type DaemonConfig,
} from './config.js';
import {
  generateIdentity,
  identityFromProtobuf,
  identityToProtobuf,
  type Identity,
} from './identity.js';

/** Folder of the keystore inside the data dir. */
export const KEYSTORE_DIR = 'keystore';
/** File holding the public peer id inside the data dir. */
export const PEER_ID_FILE = 'peer-id';

/** What is wrong with a data dir. */
export type DataDirErrorCode =
  /** No peer-id file: the dir was never initialised. */
  | 'NOT_INITIALISED'
  /** The peer-id file does not hold an Ed25519 peer id. */
  | 'PEER_ID_FILE_INVALID'
  /** The peer-id file, the keystore's party id or the stored key disagree. */
  | 'PEER_ID_MISMATCH'
  /** The keystore exists but holds no identity key. */
  | 'IDENTITY_MISSING'
  /** The dir is in a state `init` refuses to build on (e.g. peer-id file without keystore). */
  | 'INCONSISTENT_DATA_DIR';

/** A data-dir problem; `path` is the file or folder at fault. Never carries key material. */
export class DataDirError extends Error {
  override readonly name = 'DataDirError';
  constructor(
    readonly code: DataDirErrorCode,
    readonly path: string,
    message: string
  ) {
    super(message);
  }
}

/** Result of {@link initDataDir}. */
export interface InitResult {
  /** Absolute data dir. */
  dataDir: string;
  /** The node's peer id (new or existing). */
  peerId: string;
  /** Absolute path of the config file. */
  configFile: string;
  /** false when the dir already held an identity (nothing was replaced). */
  created: boolean;
}

/** Write `text` to `path` (0600, crash-safe) unless it exists. @returns whether it was written */
function writeNewFile(path: string, text: string): Promise<boolean> {
  return writePrivateFile(path, text, { replace: false });
}

/** The peer-id file's content; undefined when absent. @throws DataDirError PEER_ID_FILE_INVALID */
async function readPeerIdFile(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const s = text.trim();
  const invalid = (): DataDirError =>
    new DataDirError(
      'PEER_ID_FILE_INVALID',
      file,
      `${file} does not hold an Ed25519 peer id (12D3KooW…) on one line; remove it and run \`mpcd init\` to restore it from the keystore`
    );
  if (s.length > 200 || /\s/.test(s)) throw invalid();
  let id;
  try {
    id = peerIdFromString(s);
  } catch {
    throw invalid();
  }
  if (id.type !== 'Ed25519' || id.toString() !== s) throw invalid();
  return s;
}

/**
 * The node's peer id from `<dataDir>/peer-id` (what `mpcd id` prints). Needs no master key.
 * @throws DataDirError NOT_INITIALISED ("run mpcd init") or PEER_ID_FILE_INVALID
 * @example console.log(await readPeerId('/var/lib/mpcd')) // 12D3KooW…
 */
export async function readPeerId(dataDir: string): Promise<string> {
  const dir = resolve(dataDir);
  const file = join(dir, PEER_ID_FILE);
  const id = await readPeerIdFile(file);
  if (id === undefined) {
    throw new DataDirError(
      'NOT_INITIALISED',
      file,
      `${file} does not exist: ${dir} is not an mpcd data dir yet (run \`mpcd init\` first)`
    );
  }
  return id;
}

/** The identity stored in an open keystore, checked against the store's party id. */
async function storedIdentity(keystore: Keystore, dir: string): Promise<Identity> {
  const bytes = await keystore.getIdentity();
  if (!bytes) {
    throw new DataDirError(
      'IDENTITY_MISSING',
      dir,
      `the keystore ${dir} holds no identity key (interrupted init?): move it away and run \`mpcd init\` again`
    );
  }
  const identity = identityFromProtobuf(bytes);
  if (identity.peerId.toString() !== keystore.partyId) {
    throw new DataDirError(
      'PEER_ID_MISMATCH',
      dir,
      `the keystore ${dir} belongs to ${keystore.partyId} but its identity key is ${identity.peerId.toString()}`
    );
  }
  return identity;
}

function mismatch(file: string, inFile: string, actual: string): DataDirError {
  return new DataDirError(
    'PEER_ID_MISMATCH',
    file,
    `${file} says ${inFile} but the keystore's identity is ${actual}: the file was changed or data dirs were mixed up`
  );
}

/** Create the data dir with mode 0700 (an existing dir is left as it is). */
async function makeDataDir(dir: string): Promise<void> {
  let first: string | undefined;
  try {
    first = await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new DataDirError(
      'INCONSISTENT_DATA_DIR',
      dir,
      `the data dir ${dir} cannot be created (${(err as NodeJS.ErrnoException).code ?? 'error'})`
    );
  }
  // Only a dir we created is chmod-ed: `--data-dir /tmp` must not change /tmp.
  if (first !== undefined) await chmod(dir, 0o700);
}

/** Open the keystore if there is one; else the keystore's STORE_MISSING error. */
async function openExisting(
  dir: string,
  source: MasterKeySource
): Promise<Keystore | KeystoreError> {
  try {
    return await Keystore.open({ dir, source });
  } catch (err) {
    if (err instanceof KeystoreError && err.code === 'STORE_MISSING') return err;
    throw err;
  }
}

/**
 * Create `<dataDir>` (0700), a keystore under `<dataDir>/keystore` with a fresh identity, the config
 * file (unless present) and `<dataDir>/peer-id` (public, one line) so `mpcd id` works without the
 * master key. Idempotent: on an initialised dir nothing is replaced, missing files are restored,
 * and `created` is false.
 * @param opts.config values for the new config file (ignored when the file exists); validated
 *   before anything is created
 * @throws ConfigError (bad `config`), KeystoreError (e.g. WRONG_MASTER_KEY, STORE_LOCKED),
 *   DataDirError
 * @example
 * const r = await initDataDir({ dataDir, source: await resolveMasterKeySource({ envValue }) });
 */
export async function initDataDir(opts: {
  dataDir: string;
  source: MasterKeySource;
  config?: Partial<Omit<DaemonConfig, 'dataDir'>>;
}): Promise<InitResult> {
  const dataDir = resolve(opts.dataDir);
  const defaults = defaultConfig(dataDir);
  // validateConfig reads known paths only: catch flag names (`adminPort`) passed as config here.
  for (const key of Object.keys(opts.config ?? {})) {
    if (key === 'dataDir' || !Object.hasOwn(defaults, key)) {
      throw new ConfigError(
        key,
        `${key}: not a config field (initDataDir takes DaemonConfig values such as admin: { port }, not flag names)`
      );
    }
  }
  const cfg = validateConfig({ ...defaults, ...opts.config, dataDir });
  await makeDataDir(dataDir);
  const ksDir = join(dataDir, KEYSTORE_DIR);
  const peerIdFile = join(dataDir, PEER_ID_FILE);

  let peerId: string;
  let created = false;
  const existing = await openExisting(ksDir, opts.source);
  if (existing instanceof Keystore) {
    try {
      peerId = (await storedIdentity(existing, ksDir)).peerId.toString();
    } finally {
      await existing.close();
    }
    const inFile = await readPeerIdFile(peerIdFile);
    if (inFile !== undefined && inFile !== peerId) throw mismatch(peerIdFile, inFile, peerId);
    if (inFile === undefined) await writeNewFile(peerIdFile, `${peerId}\n`);
  } else {
    if (await exists(peerIdFile)) {
      throw new DataDirError(
        'INCONSISTENT_DATA_DIR',
        peerIdFile,
        `${peerIdFile} exists but the keystore does not (${existing.message}): refusing to create a new identity; remove ${peerIdFile} to start over`
      );
    }
    const identity = await generateIdentity();
    peerId = identity.peerId.toString();
    const keystore = await Keystore.open({
      dir: ksDir,
      source: opts.source,
      create: true,
      partyId: peerId,
    });
    try {
      await keystore.putIdentity(identityToProtobuf(identity));
    } finally {
      await keystore.close();
    }
    // After the key is stored: a crash before this line leaves a store `init` completes next time.
    if (!(await writeNewFile(peerIdFile, `${peerId}\n`))) {
      throw new DataDirError(
        'INCONSISTENT_DATA_DIR',
        peerIdFile,
        `${peerIdFile} appeared while the identity was being created: is another \`mpcd init\` running?`
      );
    }
    created = true;
  }
  const configFile = join(dataDir, CONFIG_FILE);
  await writeNewFile(configFile, renderConfigFile(cfg));
  return { dataDir, peerId, configFile, created };
}

/**
 * Open the keystore of a data dir and load its identity (what `mpcd start` does first). Checks that
 * the peer-id file, the keystore's party id and the stored key agree. The caller closes `keystore`.
 * @throws DataDirError (NOT_INITIALISED, PEER_ID_FILE_INVALID, PEER_ID_MISMATCH, IDENTITY_MISSING),
 *   KeystoreError (WRONG_MASTER_KEY, STORE_LOCKED, STORE_MISSING, …), IdentityError
 * @example const { keystore, identity } = await openNodeStore({ dataDir, source });
 */
export async function openNodeStore(opts: {
  dataDir: string;
  source: MasterKeySource;
}): Promise<{ keystore: Keystore; identity: Identity }> {
  const dataDir = resolve(opts.dataDir);
  const ksDir = join(dataDir, KEYSTORE_DIR);
  // The public file first: a dir that was never initialised gets "run mpcd init", not a
  // keystore error, and costs no key derivation.
  const inFile = await readPeerId(dataDir);
  const keystore = await Keystore.open({ dir: ksDir, source: opts.source });
  try {
    const identity = await storedIdentity(keystore, ksDir);
    const actual = identity.peerId.toString();
    if (inFile !== actual) throw mismatch(join(dataDir, PEER_ID_FILE), inFile, actual);
    return { keystore, identity };
  } catch (err) {
    await keystore.close();
    throw err;
  }
}
