/**
 * `mpcd backup`, `mpcd restore` and `mpcd rotate-master-key` (issue 7: an operator must be able to
 * back up, restore and re-key a node). Thin commands over `keystore/backup.ts` and
 * `keystore/rotation.ts`; the rules they add are the operator-facing ones:
 *
 * - **The daemon must be stopped.** LevelDB admits one process per store, so every command opens
 *   the store itself and turns STORE_LOCKED into "the keystore is in use: stop the daemon first".
 * - **Files are written atomically** (temp file, fsync, then link or rename; mode 0600) and an
 *   existing archive is never replaced without `--force`.
 * - **restore** into a data dir without a keystore builds the store under a temporary name and
 *   renames it into place only once the whole archive was imported, then completes the dir as
 *   `mpcd init` does (peer-id file, config file from the flags); into a data dir with a keystore it
 *   merges, and only when the archive's peer id is the dir's (docs/keystore.md "Backups": the
 *   library refuses other party ids, older epochs and differing records, atomically).
 * - **rotate-master-key** runs `rotateMasterKey`, which a re-run with the same keys finishes after
 *   a crash; it prints the new key's fingerprint, never the key.
 * - Errors are one line naming the file or flag (exit 1; 2 for usage: commander's own usage
 *   errors get exit 2 program-wide in `cli/mpcd.ts`), and a refused command changes nothing on
 *   disk. Nothing prints a key, a passphrase or record data.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { CONFIG_KEYS, loadConfig, type DaemonConfig } from '../daemon/config.js';
import { exists, writePrivateFile } from '../daemon/private-file.js';
import {
  DataDirError,
  initDataDir,
  KEYSTORE_DIR,
  openNodeStore,
  PEER_ID_FILE,
  readPeerId,
} from '../daemon/init.js';
import {
  exportBackup,
  importBackup,
  inspectBackup,
  Keystore,
  KeystoreError,
  masterKeyFromFile,
  MAX_BACKUP_BYTES,
  MIN_PASSPHRASE_LENGTH,
  passphraseFromFile,
  rotateMasterKey,
  type ImportReport,
  type InspectKeying,
  type MasterKey,
  type MasterKeySource,
} from '../keystore/index.js';

/** What `cli/mpcd.ts` lends these commands, so the key-source and config rules stay in one place. */
export interface MpcdHelpers {
  /** The absolute data dir (`--data-dir`, `MPCD_DATA_DIR`, or the default). */
  readonly dataDir: () => string;
  /** The master key source: MPCD_MASTER_KEY, the key file, or a passphrase (env or file). */
  readonly masterKeySource: (cfg: DaemonConfig) => Promise<MasterKeySource>;
  /** Add every config flag (`--listen`, …) to a command, as `init` has them. */
  readonly addConfigOptions: (cmd: Command) => Command;
  /** The config flags a command was given. */
  readonly flagsOf: (opts: Record<string, unknown>) => Record<string, string>;
  /** Print an error as every mpcd command does and exit (1 runtime, 2 usage or configuration). */
  readonly fail: (err: unknown) => never;
}

/** A refusal with its one-line message (which names the file or flag) and exit code. */
class CommandFailure extends Error {
  override readonly name = 'CommandFailure';
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1
  ) {
    super(message);
  }
}

const PROGRESS_EVERY_MS = 1_000;
/** A passphrase file larger than this is not a passphrase file. */
/** The kinds a report lists even at 0 (presignatures and primes are never in our archives). */
const KINDS_SHOWN = ['identity', 'keyshare', 'aux', 'journal', 'sid'] as const;

/**
 * Register `backup`, `restore` and `rotate-master-key` on the `mpcd` program.
 * @param program the `mpcd` commander program (its `--data-dir` option is read at run time)
 * @param helpers the key-source, config and error rules of `cli/mpcd.ts`
 * @example addKeystoreCommands(program, { dataDir, masterKeySource, addConfigOptions, flagsOf, fail });
 */
export function addKeystoreCommands(program: Command, helpers: MpcdHelpers): void {
  const run =
    <O>(name: string, fn: (opts: O) => Promise<void>) =>
    async (opts: O): Promise<void> => {
      try {
        await fn(opts);
      } catch (err) {
        if (err instanceof CommandFailure) {
          process.stderr.write(`mpcd ${name}: ${err.message}\n`);
          process.exit(err.exitCode);
        }
        helpers.fail(err);
      }
    };

  addKeySourceOptions(
    program
      .command('backup')
      .description(
        'write an encrypted archive of this node’s keystore (the daemon must be stopped)'
      )
      .requiredOption('--out <file>', 'the archive to write (mode 0600)')
      .option(
        '--backup-passphrase-file <file>',
        'key the archive by this passphrase (≥ 12 characters) instead of the node’s master key'
      )
      .option('--force', 'replace an existing --out file')
      .option('--json', 'one JSON object')
  )
    .addHelpText(
      'after',
      `
Without --backup-passphrase-file the archive is keyed by the node's master key (a passphrase
node: by its passphrase): restoring it then needs that same key. Presignatures and pooled primes
are never backed up (single-use secrets). The archive is read back and checked before it is written.`
    )
    .action(run('backup', (opts: BackupOpts) => backup(opts, helpers)));

  helpers
    .addConfigOptions(
      program
        .command('restore')
        .description('restore an archive from `mpcd backup` into --data-dir (daemon stopped)')
        .requiredOption('--in <file>', 'the archive to restore')
        .option(
          '--backup-passphrase-file <file>',
          'the archive’s passphrase, if it was made with one'
        )
        .option('--json', 'one JSON object')
    )
    .addHelpText(
      'after',
      `
A data dir without a keystore (new or wiped) gets the archive's identity, a peer-id file and a
config file from the flags, as \`mpcd init\` writes it; the master key given (MPCD_MASTER_KEY,
--master-key-file, MPCD_PASSPHRASE, --passphrase-file) becomes the new store's key, so a restore
can also move a node to a new key. A data dir with a keystore must have the archive's peer id: the
archive's records are merged in (identical ones are left, conflicting ones refuse the whole
archive). Presignatures and pooled primes are never restored.`
    )
    .action(run('restore', (opts: RestoreOpts) => restore(opts, helpers)));

  addKeySourceOptions(
    program
      .command('rotate-master-key')
      .description('re-encrypt the keystore under a new master key (the daemon must be stopped)')
      .addOption(
        new Option(
          '--new-master-key-file <file>',
          'the new key: 32 bytes, hex or base64, mode 0600'
        ).conflicts('newPassphraseFile')
      )
      .addOption(
        new Option(
          '--new-passphrase-file <file>',
          'the new passphrase (≥ 12 characters)'
        ).conflicts('newMasterKeyFile')
      )
      .option('--json', 'one JSON object')
  )
    .addHelpText(
      'after',
      `
The current key comes from the usual sources. Interrupted (crash, Ctrl-C)? Run the same command
again: it finishes the rotation. Afterwards only the new key opens the store; archives made
earlier without --backup-passphrase-file still need the old key.`
    )
    .action(run('rotate-master-key', (opts: RotateOpts) => rotate(opts, helpers)));
}

interface BackupOpts {
  out: string;
  backupPassphraseFile?: string;
  force?: boolean;
  json?: boolean;
  [flag: string]: unknown;
}

interface RestoreOpts {
  in: string;
  backupPassphraseFile?: string;
  json?: boolean;
  [flag: string]: unknown;
}

interface RotateOpts {
  newMasterKeyFile?: string;
  newPassphraseFile?: string;
  json?: boolean;
  [flag: string]: unknown;
}

// ---- backup ---------------------------------------------------------------------------------

async function backup(opts: BackupOpts, helpers: MpcdHelpers): Promise<void> {
  const dataDir = helpers.dataDir();
  const out = resolve(opts.out);
  // Cheap refusals first: before any key derivation or store access.
  if (!opts.force && (await exists(out))) {
    throw new CommandFailure(`--out ${out} already exists: refusing to replace it (use --force)`);
  }
  if (!(await isDir(dirname(out)))) {
    throw new CommandFailure(`--out ${out}: the folder ${dirname(out)} does not exist`);
  }
  const backupPass = await optionalPassphrase(
    opts.backupPassphraseFile,
    '--backup-passphrase-file'
  );
  const cfg = await loadConfig({ dataDir, flags: helpers.flagsOf(opts), requireFile: false });
  const source = await helpers.masterKeySource(cfg);
  const ksDir = join(dataDir, KEYSTORE_DIR);
  const { keystore } = await storeErrors(ksDir, keyLabel(cfg), () =>
    openNodeStore({ dataDir, source })
  );
  let archive: Uint8Array;
  try {
    archive = await exportBackup(keystore, source, backupPass ? { passphrase: backupPass } : {});
  } finally {
    await keystore.close();
  }
  // Read our own archive back before it replaces anything: proves it opens with the key it names.
  const keys = archiveKeys(source, backupPass, keyLabel(cfg));
  const summary = await archiveErrors(out, keys.labels, () => inspectBackup(archive, keys.keying));
  await writeFileAtomic(out, archive, opts.force === true);
  const keyedBy = backupPass
    ? 'backup-passphrase'
    : source.kind === 'passphrase'
      ? 'node-passphrase'
      : 'master-key';
  if (opts.json) {
    const json = {
      file: out,
      bytes: archive.length,
      peerId: summary.partyId,
      createdAt: summary.createdAt,
      keyedBy,
      records: summary.counts,
    };
    process.stdout.write(JSON.stringify(json) + '\n');
    return;
  }
  const restoreNeeds = {
    'backup-passphrase': `the backup passphrase (${opts.backupPassphraseFile})`,
    'node-passphrase': 'this node’s passphrase',
    'master-key': 'this node’s master key',
  }[keyedBy];
  process.stdout.write(
    `wrote ${out} (${archive.length} bytes, mode 0600)\n` +
      `peer id:  ${summary.partyId}\n` +
      `records:  ${formatCounts(summary.counts)}\n` +
      `not included: presignatures and pooled primes (single-use, never backed up)\n` +
      `restoring needs ${restoreNeeds}\n`
  );
}

// ---- restore --------------------------------------------------------------------------------

async function restore(opts: RestoreOpts, helpers: MpcdHelpers): Promise<void> {
  const dataDir = helpers.dataDir();
  const file = resolve(opts.in);
  const archive = await readArchiveFile(file);
  const backupPass = await optionalPassphrase(
    opts.backupPassphraseFile,
    '--backup-passphrase-file'
  );
  const cfg = await loadConfig({ dataDir, flags: helpers.flagsOf(opts), requireFile: false });
  const source = await helpers.masterKeySource(cfg);
  const ksDir = join(dataDir, KEYSTORE_DIR);
  const keys = archiveKeys(source, backupPass, keyLabel(cfg));
  const keying = backupPass ? { passphrase: backupPass } : {};
  let report: ImportReport;
  let peerId: string;
  const created = !existsSync(join(ksDir, 'CURRENT'));
  if (!created) {
    const { keystore } = await storeErrors(ksDir, keyLabel(cfg), () =>
      openNodeStore({ dataDir, source })
    );
    try {
      peerId = keystore.partyId;
      // The library refuses an archive of another party id, naming both; the store's own key
      // (and so a passphrase store's master key) opens a master-key archive.
      const labels = { ...keys.labels, master: true, into: dataDir };
      report = await archiveErrors(file, labels, () =>
        importBackup(keystore, archive, source, keying)
      );
    } finally {
      await keystore.close();
    }
  } else {
    // No store yet: the archive's party id, which the new store is created with, comes first.
    const summary = await archiveErrors(file, keys.labels, () =>
      inspectBackup(archive, keys.keying)
    );
    if (summary.counts.identity !== 1) {
      throw new CommandFailure(`${file} holds no identity key: it cannot recreate a node`);
    }
    peerId = summary.partyId;
    report = await restoreFresh({ dataDir, file, archive, source, keying, peerId, keys });
    // Complete the dir as `init` does: it finds the restored identity, checks it against the
    // store's party id, and writes the peer-id file and (unless present) the config file.
    const { dataDir: _dir, ...values } = cfg;
    await initDataDir({ dataDir, source, config: values });
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify({ dataDir, peerId, created, ...report }) + '\n');
    return;
  }
  const dropped = [
    `${report.droppedPresignatures} presignature(s)`,
    ...(report.droppedPrimes ? [`${report.droppedPrimes} pooled prime pair(s)`] : []),
  ].join(', ');
  process.stdout.write(
    `restored ${file} into ${created ? 'the new keystore of ' : ''}${dataDir}\n` +
      `peer id:   ${peerId}\n` +
      `imported:  ${formatCounts(report.imported)}\n` +
      `unchanged: ${report.unchanged} (already present)\n` +
      `dropped:   ${dropped} (single-use secrets are never restored)\n`
  );
}

/**
 * Restore into a data dir without a keystore: build the store under a temporary name, import, and
 * only then rename it into place, so a refusal or a crash never leaves a half-restored keystore
 * that `start` or `init` would take for a real one.
 */
async function restoreFresh(r: {
  dataDir: string;
  file: string;
  archive: Buffer;
  source: MasterKeySource;
  keying: { passphrase?: string };
  peerId: string;
  keys: NodeArchiveKeys;
}): Promise<ImportReport> {
  const ksDir = join(r.dataDir, KEYSTORE_DIR);
  if (await exists(ksDir)) {
    throw new CommandFailure(`${ksDir} exists but holds no keystore: move it away first`);
  }
  const inFile = await readPeerId(r.dataDir).catch((err: unknown) => {
    if (err instanceof DataDirError && err.code === 'NOT_INITIALISED') return undefined;
    throw err;
  });
  if (inFile !== undefined && inFile !== r.peerId) {
    throw new CommandFailure(
      `${r.file} is the backup of ${r.peerId}, but ${join(r.dataDir, PEER_ID_FILE)} says ` +
        `${inFile}: refusing to mix two identities (restore into an empty --data-dir instead)`
    );
  }
  const createdDir = (await mkdir(r.dataDir, { recursive: true, mode: 0o700 })) !== undefined;
  const staging = join(r.dataDir, `.keystore.restore-${randomBytes(6).toString('hex')}`);
  try {
    const store = await Keystore.open({
      dir: staging,
      source: r.source,
      create: true,
      partyId: r.peerId,
    });
    let report: ImportReport;
    try {
      report = await archiveErrors(r.file, r.keys.labels, () =>
        importBackup(store, r.archive, r.source, r.keying)
      );
    } finally {
      await store.close();
    }
    await rename(staging, ksDir);
    return report;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    if (createdDir) await rmdir(r.dataDir).catch(() => undefined);
    throw err;
  }
}

// ---- rotate-master-key ----------------------------------------------------------------------

async function rotate(opts: RotateOpts, helpers: MpcdHelpers): Promise<void> {
  if ((opts.newMasterKeyFile === undefined) === (opts.newPassphraseFile === undefined)) {
    throw new CommandFailure(
      'give exactly one of --new-master-key-file <file> or --new-passphrase-file <file>',
      2
    );
  }
  const newFlag = opts.newMasterKeyFile
    ? `--new-master-key-file ${resolve(opts.newMasterKeyFile)}`
    : `--new-passphrase-file ${resolve(opts.newPassphraseFile!)}`;
  const to: MasterKeySource = opts.newMasterKeyFile
    ? { kind: 'key', key: await newKeyFromFile(resolve(opts.newMasterKeyFile)) }
    : {
        kind: 'passphrase',
        passphrase: (await optionalPassphrase(opts.newPassphraseFile, '--new-passphrase-file'))!,
      };
  const dataDir = helpers.dataDir();
  const cfg = await loadConfig({ dataDir, flags: helpers.flagsOf(opts), requireFile: false });
  const from = await helpers.masterKeySource(cfg);
  await readPeerId(dataDir); // not a data dir at all: "run mpcd init first"
  const ksDir = join(dataDir, KEYSTORE_DIR);
  let lastShown = Date.now();
  let shown = false;
  const result = await storeErrors(
    ksDir,
    keyLabel(cfg),
    () =>
      rotateMasterKey({
        dir: ksDir,
        from,
        to,
        onProgress: (done, total) => {
          // Big stores take a while (one synced write per record): say how far it got, at most
          // once a second, and the last record once anything was shown.
          const now = Date.now();
          if (now - lastShown < PROGRESS_EVERY_MS && !(shown && done === total)) return;
          lastShown = now;
          shown = true;
          process.stderr.write(`mpcd rotate-master-key: ${done}/${total} records\n`);
        },
      }),
    newFlag
  );
  if (opts.json) {
    process.stdout.write(JSON.stringify({ dataDir, ...result }) + '\n');
    return;
  }
  const newKeyNote =
    `new key fingerprint: ${result.fingerprint}\n` +
    'Give the daemon the new key (MPCD_MASTER_KEY, its key file or passphrase) before\n' +
    '`mpcd start`. Archives made earlier without --backup-passphrase-file still need the old key.\n';
  if (result.alreadyComplete) {
    // The store cannot tell "rotated from this key earlier" from "this key was never it": say
    // what is known, and claim nothing about the key given as the current one.
    process.stdout.write(
      `${ksDir} is already keyed by the new key (${newFlag}): nothing to do\n` +
        `The key from ${keyLabel(cfg)} does not open it: the key an earlier rotation replaced, or\n` +
        'not this store’s key at all (a store keeps no record of its old keys).\n' +
        newKeyNote
    );
    return;
  }
  process.stdout.write(
    (result.resumed
      ? `finished the interrupted rotation of ${ksDir}`
      : `rotated the master key of ${ksDir}`) +
      ` (${result.resealed} record(s) re-encrypted)\n` +
      `The old key (${keyLabel(cfg)}) no longer opens this store.\n` +
      newKeyNote
  );
}

/** The new master key from `--new-master-key-file` (mode 0600/0400, as every key file). */
async function newKeyFromFile(path: string): Promise<MasterKey> {
  try {
    return await masterKeyFromFile(path);
  } catch (err) {
    if (!(err instanceof KeystoreError)) throw err;
    throw new CommandFailure(
      `--new-master-key-file: ${err.message}`,
      err.code === 'INVALID_MASTER_KEY' ? 2 : 1
    );
  }
}

// ---- store errors, as an operator reads them ------------------------------------------------

/** Where the master key came from, for messages (never its value). */
function keyLabel(cfg: DaemonConfig): string {
  if (cfg.masterKeyFile) return `key file ${cfg.masterKeyFile}`;
  if (cfg.passphraseFile) return `passphrase file ${cfg.passphraseFile}`;
  return process.env.MPCD_MASTER_KEY ? 'MPCD_MASTER_KEY' : 'MPCD_PASSPHRASE';
}

/** Run `fn`, turning the store-access refusals into one-line messages naming the store and key. */
async function storeErrors<T>(
  ksDir: string,
  label: string,
  fn: () => Promise<T>,
  newKeyLabel?: string
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof KeystoreError)) throw err;
    switch (err.code) {
      case 'STORE_LOCKED':
        throw new CommandFailure(
          `the keystore is in use: stop the daemon first (${ksDir} is locked by another process)`
        );
      case 'WRONG_MASTER_KEY':
        if (newKeyLabel && err.message.includes('interrupted rotation')) {
          throw new CommandFailure(
            `the interrupted rotation of ${ksDir} was started with another new key than ` +
              `${newKeyLabel}: give that key to finish it`
          );
        }
        throw new CommandFailure(
          `the master key from ${label} does not open the keystore ${ksDir}`
        );
      case 'ROTATION_IN_PROGRESS':
        throw new CommandFailure(
          `a master-key rotation of ${ksDir} was interrupted: run \`mpcd rotate-master-key\` ` +
            'again with the same old and new key to finish it'
        );
      case 'INVALID_RECORD':
        if (newKeyLabel && err.message.includes('equals the current')) {
          throw new CommandFailure(`${newKeyLabel} is the current key: nothing to rotate`, 2);
        }
        throw err;
      default:
        throw err;
    }
  }
}

// ---- archive errors, as an operator reads them ----------------------------------------------

/** How messages name the keys an archive was tried with (never their values). */
interface ArchiveLabels {
  /** Where the node's master key came from. */
  readonly key: string;
  /** Whether a master key was tried on a master-key archive. */
  readonly master: boolean;
  /** Where the passphrase tried on a passphrase archive came from; undefined: none was given. */
  readonly passphrase: string | undefined;
  /** The data dir imported into, for a refusal of another identity. */
  readonly into?: string;
}

/** The keys this node can open an archive with without a store, and their labels. */
interface NodeArchiveKeys {
  readonly keying: InspectKeying;
  readonly labels: ArchiveLabels;
}

/**
 * What opens an archive of this node: its raw master key (a passphrase node's master key needs
 * its store's salt, so its archives are keyed by the passphrase itself), and the backup
 * passphrase if given, else the node's passphrase.
 */
function archiveKeys(
  source: MasterKeySource,
  backupPass: string | undefined,
  label: string
): NodeArchiveKeys {
  const passphrase = backupPass ?? (source.kind === 'passphrase' ? source.passphrase : undefined);
  return {
    keying: {
      ...(source.kind === 'key' ? { master: source.key } : {}),
      ...(passphrase !== undefined ? { passphrase } : {}),
    },
    labels: {
      key: label,
      master: source.kind === 'key',
      passphrase: backupPass
        ? '--backup-passphrase-file'
        : source.kind === 'passphrase'
          ? label
          : undefined,
    },
  };
}

/**
 * Run `fn` (an inspection or import of the archive `file`), turning the library's archive
 * refusals into one line that names the file and the key or identity involved.
 */
async function archiveErrors<T>(
  file: string,
  labels: ArchiveLabels,
  fn: () => Promise<T>
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof KeystoreError) || !err.code.startsWith('BACKUP_')) throw err;
    const { keyedBy, archivePartyId, storePartyId } = err.details;
    if (err.code === 'BACKUP_WRONG_KEY' && keyedBy === 'passphrase') {
      throw new CommandFailure(
        labels.passphrase === undefined
          ? `${file} is keyed by a passphrase: give --backup-passphrase-file`
          : labels.passphrase === '--backup-passphrase-file'
            ? `${file}: wrong backup passphrase (--backup-passphrase-file)`
            : `${file}: the passphrase from ${labels.passphrase} does not open this archive ` +
              '(made with --backup-passphrase-file? give that file)'
      );
    }
    if (err.code === 'BACKUP_WRONG_KEY' && keyedBy === 'master-key') {
      throw new CommandFailure(
        labels.master
          ? `${file}: the master key from ${labels.key} does not open this archive ` +
              '(it is keyed by the master key of the node that made it)'
          : `${file} is keyed by a master key: give that key with MPCD_MASTER_KEY or --master-key-file`
      );
    }
    if (err.code === 'BACKUP_CONFLICT' && archivePartyId !== undefined) {
      throw new CommandFailure(
        `${file} is the backup of ${archivePartyId}, but ${labels.into ?? 'the store'} holds ` +
          `${storePartyId}: refusing to mix two identities (restore into an empty --data-dir instead)`
      );
    }
    throw new CommandFailure(`${file}: ${err.message}; nothing was changed`);
  }
}

// ---- files ----------------------------------------------------------------------------------

/** Read `--in`, bounded by the library's MAX_BACKUP_BYTES before a byte is read. */
async function readArchiveFile(file: string): Promise<Buffer> {
  const st = await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new CommandFailure(
      err.code === 'ENOENT'
        ? `--in ${file}: no such file`
        : `--in ${file}: cannot be read (${err.code ?? 'error'})`
    );
  });
  if (!st.isFile()) throw new CommandFailure(`--in ${file} is not a regular file`);
  if (st.size > MAX_BACKUP_BYTES) {
    throw new CommandFailure(
      `--in ${file} is larger than ${MAX_BACKUP_BYTES} bytes: not an archive`
    );
  }
  return readFile(file);
}

/** A passphrase from a file (one trailing newline dropped), if the flag was given. */
async function optionalPassphrase(
  path: string | undefined,
  flag: string
): Promise<string | undefined> {
  if (path === undefined) return undefined;
  const file = resolve(path);
  let text: string;
  try {
    text = await passphraseFromFile(file);
  } catch (err) {
    throw new CommandFailure(`${flag}: ${(err as Error).message}`);
  }
  if (text.length < MIN_PASSPHRASE_LENGTH) {
    throw new CommandFailure(
      `${flag} ${file}: a passphrase needs at least ${MIN_PASSPHRASE_LENGTH} characters`,
      2
    );
  }
  return text;
}

/** Write an archive (0600, crash-safe); an existing file is replaced only with --force. */
async function writeFileAtomic(path: string, data: Uint8Array, overwrite: boolean): Promise<void> {
  if (!(await writePrivateFile(path, data, { replace: overwrite }))) {
    throw new CommandFailure(`--out ${path} already exists: refusing to replace it (use --force)`);
  }
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then(
    (st) => st.isDirectory(),
    () => false
  );
}

// ---- commander plumbing ---------------------------------------------------------------------

/** `--master-key-file` and `--passphrase-file`: the key-source flags of the config table. */
function addKeySourceOptions(cmd: Command): Command {
  for (const k of CONFIG_KEYS) {
    if (k.flag === 'masterKeyFile' || k.flag === 'passphraseFile') {
      cmd.addOption(new Option(`${k.option} <file>`, `master key source (env ${k.env})`));
    }
  }
  return cmd;
}

function formatCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .filter(([k, n]) => n > 0 || (KINDS_SHOWN as readonly string[]).includes(k))
    .filter(([k]) => k !== 'presig' && k !== 'prime')
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}
