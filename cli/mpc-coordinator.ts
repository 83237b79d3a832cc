#!/usr/bin/env node
/**
 * `mpc-coordinator`: runs coordinator-lite (accounts, node registry, sessions, the /v1 API). At the
 * first start it prints a one-time setup token on stdout (never into the log): `POST /v1/setup`
 * with it creates the first, admin account.
 *
 * Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error, 130 forced stop.
 * @module
 */
import '../daemon/polyfills.js';
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { Command, InvalidArgumentError } from 'commander';
import { Coordinator, loadIdentity } from '../coordinator-lite/coordinator.js';
import { createLogger, isLogLevel, type LogLevel } from '../daemon/log.js';

const env = process.env;

function intArg(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${max}]`);
    }
    return n;
  };
}

const program = new Command('mpc-coordinator')
  .description(
    'coordinator-lite: accounts, API tokens, the node registry and threshold-signing sessions.\n' +
      'It never sees a key share or any other secret of the parties.'
  )
  .option(
    '--data-dir <dir>',
    'data directory (env MPC_COORDINATOR_DATA_DIR)',
    env.MPC_COORDINATOR_DATA_DIR ?? join(homedir(), '.mpc-coordinator')
  )
  .showHelpAfterError();

program
  .command('start')
  .description('run the coordinator (SIGINT/SIGTERM stop it)')
  .option('--http-host <host>', 'API address (env MPC_HTTP_HOST)', env.MPC_HTTP_HOST ?? '127.0.0.1')
  .option(
    '--http-port <port>',
    'API port (env MPC_HTTP_PORT)',
    intArg('--http-port', 0, 65535),
    Number(env.MPC_HTTP_PORT ?? 8080)
  )
  .option(
    '--tls-cert <file>',
    'PEM certificate chain: serve HTTPS (env MPC_TLS_CERT)',
    env.MPC_TLS_CERT
  )
  .option('--tls-key <file>', 'PEM private key for --tls-cert (env MPC_TLS_KEY)', env.MPC_TLS_KEY)
  .option(
    '--p2p-listen <multiaddrs>',
    'comma-separated libp2p listen addresses (env MPC_P2P_LISTEN)',
    env.MPC_P2P_LISTEN ?? '/ip4/127.0.0.1/tcp/7000'
  )
  .option(
    '--keygen-join-ms <ms>',
    'invite → start time allowed for keygen sessions (primes may be generated then)',
    intArg('--keygen-join-ms', 1_000, 3_600_000),
    300_000
  )
  .option(
    '--sign-join-ms <ms>',
    'invite → start time allowed for sign sessions',
    intArg('--sign-join-ms', 1_000, 3_600_000),
    30_000
  )
  .option(
    '--log-level <level>',
    'fatal|error|warn|info|debug|trace|silent (env MPC_LOG_LEVEL)',
    env.MPC_LOG_LEVEL ?? 'info'
  )
  .action(async (o: Record<string, string | number | undefined>) => {
    const level = String(o.logLevel);
    if (!isLogLevel(level)) program.error(`--log-level: unknown level ${level}`, { exitCode: 2 });
    if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) {
      program.error('--tls-cert and --tls-key go together', { exitCode: 2 });
    }
    const log = createLogger({ level: level as LogLevel, name: 'mpc-coordinator' });
    const dataDir = resolve(program.opts<{ dataDir: string }>().dataDir);
    let coordinator: Coordinator;
    try {
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      const tls = o.tlsCert
        ? {
            cert: await readFile(String(o.tlsCert), 'utf8'),
            key: await readFile(String(o.tlsKey), 'utf8'),
          }
        : undefined;
      coordinator = await Coordinator.start(
        {
          dataDir,
          http: { host: String(o.httpHost), port: Number(o.httpPort), ...(tls ? { tls } : {}) },
          p2pListen: String(o.p2pListen)
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
          keygenJoinMs: Number(o.keygenJoinMs),
          signJoinMs: Number(o.signJoinMs),
        },
        log
      );
    } catch (err) {
      log.fatal({ err }, 'mpc-coordinator failed to start');
      process.stderr.write(`mpc-coordinator: ${(err as Error).message}\n`);
      process.exit(1);
    }
    if (coordinator.setupToken) {
      // Printed once, on stdout only: the log never carries it.
      process.stdout.write(
        `\nNo account exists yet. Create the first (admin) account with this one-time setup token:\n` +
          `  setup token: ${coordinator.setupToken}\n` +
          `  curl -X POST ${coordinator.api!.url}/v1/setup -H 'content-type: application/json' \\\n` +
          `       -d '{"setupToken":"${coordinator.setupToken}","name":"admin"}'\n\n`
      );
    }
    let signals = 0;
    const stop = (sig: NodeJS.Signals) => {
      if (++signals > 1) process.exit(130);
      log.info({ signal: sig }, 'stopping');
      void coordinator.stop().then(() => process.exit(0));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

program
  .command('id')
  .description('print the coordinator peer id (daemons need it in their "coordinator" setting)')
  .action(async () => {
    const dataDir = resolve(program.opts<{ dataDir: string }>().dataDir);
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    process.stdout.write(`${peerIdFromPrivateKey(await loadIdentity(dataDir)).toString()}\n`);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`mpc-coordinator: ${(err as Error).message}\n`);
  process.exit(1);
});
