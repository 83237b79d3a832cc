#!/usr/bin/env node
/**
 * `mpcd`: the party daemon's command line (ARCHITECTURE.md "cli/"): `init` creates a data dir
 * (identity in the encrypted keystore, a commented config file), `start` runs the daemon, `id`
 * prints the peer id and addresses; `backup`, `restore` and `rotate-master-key` live in
 * `mpcd-keystore.ts`. Thin over `daemon/` and `keystore/`.
 *
 * Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error, 130 forced stop.
 * @module
 */
import '../daemon/polyfills.js';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import {
  KeystoreError,
  passphraseFromFile,
  resolveMasterKeySource,
  type MasterKeySource,
} from '../keystore/index.js';
import {
  CONFIG_KEYS,
  ConfigError,
  loadConfig,
  unknownEnv,
  type DaemonConfig,
} from '../daemon/config.js';
import { Daemon } from '../daemon/daemon.js';
import { initDataDir, readPeerId } from '../daemon/init.js';
import { createLogger } from '../daemon/log.js';
import { addKeystoreCommands } from './mpcd-keystore.js';

const EXIT_RUNTIME = 1;
const EXIT_USAGE = 2;

function defaultDataDir(): string {
  return process.env.MPCD_DATA_DIR ?? join(homedir(), '.mpcd');
}

/** The master key source: MPCD_MASTER_KEY, the key file, or a passphrase (env or file). */
async function masterKeySource(cfg: DaemonConfig): Promise<MasterKeySource> {
  let passphrase = process.env.MPCD_PASSPHRASE;
  if (cfg.passphraseFile) {
    // Both set is a configuration mistake, not a precedence question: say so, like two keys.
    if (passphrase) {
      throw new KeystoreError(
        'MASTER_KEY_SOURCE',
        'several master key sources are configured: MPCD_PASSPHRASE and passphraseFile; use exactly one'
      );
    }
    passphrase = await passphraseFromFile(cfg.passphraseFile);
  }
  return resolveMasterKeySource({
    envValue: process.env.MPCD_MASTER_KEY,
    keyFile: cfg.masterKeyFile,
    passphrase,
  });
}

function addConfigOptions(cmd: Command): Command {
  for (const k of CONFIG_KEYS) {
    cmd.addOption(new Option(`${k.option} <value>`, `config "${k.path}" (env ${k.env})`));
  }
  return cmd;
}

function flagsOf(opts: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of CONFIG_KEYS) {
    const v = opts[k.flag];
    if (typeof v === 'string') out[k.flag] = v;
  }
  return out;
}

function fail(err: unknown): never {
  const e = err as Error & { code?: string };
  if (err instanceof ConfigError) {
    process.stderr.write(`mpcd: configuration error: ${e.message}\n`);
    process.exit(EXIT_USAGE);
  }
  if (err instanceof KeystoreError) {
    process.stderr.write(`mpcd: keystore error (${e.code}): ${e.message}\n`);
    process.exit(
      e.code === 'MASTER_KEY_SOURCE' || e.code === 'INVALID_MASTER_KEY' ? EXIT_USAGE : EXIT_RUNTIME
    );
  }
  process.stderr.write(`mpcd: ${e?.message ?? String(err)}\n`);
  process.exit(EXIT_RUNTIME);
}

const program = new Command('mpcd')
  .description(
    'mpcd party daemon: holds this party’s key shares (encrypted) and runs CGGMP21 threshold ECDSA\n' +
      'sessions with the other parties. "threshold" always means the number of parties needed to sign.'
  )
  .option('--data-dir <dir>', 'data directory (env MPCD_DATA_DIR)', defaultDataDir())
  .showHelpAfterError()
  // Commander exits 1 on its usage errors (unknown or missing flag, conflicting flags, unknown or
  // no command): make them 2, as documented above; help and --version stay 0. Set here, before
  // any `.command()`, because subcommands copy it when they are created.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE))
  .addHelpText(
    'after',
    `
Master key (exactly one): MPCD_MASTER_KEY (64 hex digits), --master-key-file <file> (mode 0600),
or a passphrase: MPCD_PASSPHRASE or --passphrase-file <file>.

Examples:
  export MPCD_MASTER_KEY=$(openssl rand -hex 32)
  mpcd init --data-dir ./a --listen /ip4/127.0.0.1/tcp/7101
  mpcd id --data-dir ./a
  mpcd start --data-dir ./a --peers 12D3KooW...,12D3KooW... --coordinator 12D3KooW...`
  );

addConfigOptions(
  program
    .command('init')
    .description(
      'create a data dir: a new Ed25519 identity in an encrypted keystore and a commented config file'
    )
).action(async (opts: Record<string, unknown>) => {
  try {
    const dataDir = resolve(program.opts<{ dataDir: string }>().dataDir);
    // The new config file holds the defaults plus whatever flags and MPCD_* variables say now.
    const cfg = await loadConfig({ dataDir, flags: flagsOf(opts) });
    const source = await masterKeySource(cfg);
    const { dataDir: _dir, ...values } = cfg;
    const r = await initDataDir({ dataDir, source, config: values });
    process.stdout.write(
      r.created
        ? `initialized ${r.dataDir}\npeer id: ${r.peerId}\nconfig:  ${r.configFile}\n`
        : `${r.dataDir} is already initialized (peer id ${r.peerId}); nothing changed\n`
    );
  } catch (err) {
    fail(err);
  }
});

addConfigOptions(
  program.command('start').description('run the daemon (SIGINT/SIGTERM: drain; twice: force)')
).action(async (opts: Record<string, unknown>) => {
  let cfg: DaemonConfig;
  let source: MasterKeySource;
  try {
    const dataDir = resolve(program.opts<{ dataDir: string }>().dataDir);
    cfg = await loadConfig({ dataDir, flags: flagsOf(opts), requireFile: true });
    source = await masterKeySource(cfg);
  } catch (err) {
    fail(err);
  }
  const log = createLogger({ level: cfg.logLevel, name: 'mpcd' });
  const strays = unknownEnv();
  if (strays.length > 0)
    log.warn({ variables: strays }, 'unknown MPCD_* environment variables (typos?)');
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({ config: cfg, source, log });
  } catch (err) {
    log.fatal({ err }, 'mpcd failed to start');
    fail(err);
  }
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.warn({ signal: sig }, 'second signal: forcing exit');
      process.exit(130);
    }
    log.info({ signal: sig }, 'stopping (send the signal again to force)');
    daemon.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exit(EXIT_RUNTIME);
      }
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
});

program
  .command('id')
  .description('print the peer id and the addresses other parties dial (no master key needed)')
  .option('--json', 'one JSON object')
  .action(async (opts: { json?: boolean }) => {
    try {
      const dataDir = resolve(program.opts<{ dataDir: string }>().dataDir);
      const peerId = await readPeerId(dataDir);
      const cfg = await loadConfig({ dataDir, requireFile: false });
      const addrs = (cfg.announce.length > 0 ? cfg.announce : cfg.listen).map(
        (a) => `${a}/p2p/${peerId}`
      );
      if (opts.json) process.stdout.write(JSON.stringify({ peerId, addresses: addrs }) + '\n');
      else process.stdout.write(`${peerId}\n${addrs.map((a) => `  ${a}`).join('\n')}\n`);
    } catch (err) {
      fail(err);
    }
  });

addKeystoreCommands(program, {
  dataDir: () => resolve(program.opts<{ dataDir: string }>().dataDir),
  masterKeySource,
  addConfigOptions,
  flagsOf,
  fail,
});

program.parseAsync(process.argv).catch(fail);
