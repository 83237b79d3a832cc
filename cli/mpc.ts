#!/usr/bin/env node
/**
 * `mpc`: the user's command line for an mpcd network (issue 6, "mpc CLI"). Thin: it registers
 * commands and turns whatever ends them into an exit code ({@link ./mpc/exit-codes.ts}).
 *
 * Commands: `verify` (offline signature check), `config show`, and the ones that talk to the
 * coordinator (`account`, `login`, `nodes`, `keygen`, `keys`, `sign`, `session`: ./mpc/commands.ts).
 *
 * Every commander error (unknown option, missing argument, bad choice) exits USAGE (2) through
 * `exitOverride`, printed like our own errors: `mpc: <message>` on stderr, or with `--json` the
 * `{"error":{…}}` object on stdout.
 * @module
 */
import '../daemon/polyfills.js';
import { Command, CommanderError } from 'commander';
import { addCoordinatorCommands } from './mpc/commands.js';
import { addConfigCommand } from './mpc/config.js';
import { CliError, EXIT_CODES_HELP, OK, USAGE } from './mpc/exit-codes.js';
import { Output } from './mpc/output.js';
import { addVerifyCommand } from './mpc/verify.js';

const program = new Command('mpc')
  .description(
    'use an mpcd threshold-ECDSA (secp256k1) network: each key is split among party daemons'
  )
  .option('--json', 'print one JSON object on stdout (errors: {"error":{"code","message"}})')
  .option('--url <url>', 'coordinator URL, http(s) (env MPC_URL, then the config file)')
  .option('--token <token>', 'API token (env MPC_TOKEN, then the config file); never printed')
  // Settings made here are inherited by subcommands created with program.command().
  .exitOverride()
  .configureOutput({ outputError: () => undefined })
  .configureHelp({ showGlobalOptions: true })
  .addHelpText(
    'after',
    `
threshold = the number of parties needed to sign (2-of-3: --threshold 2 --parties 3).

Configuration: $XDG_CONFIG_HOME/mpc/config.json (default ~/.config/mpc/config.json, mode 0600)
{ "url": "...", "token": "..." }; MPC_URL and MPC_TOKEN override it; --url and --token override both.

${EXIT_CODES_HELP}

Examples:
  mpc --url http://127.0.0.1:8080 account setup --setup-token setup_… --name admin
  mpc keygen --threshold 2 --parties 3
  mpc sign --key <key id> --message 'hello'
  mpc verify --message 'hello' --signature 0x<65 bytes> --address 0x<20 bytes>
  mpc config show --json`
  );

addCoordinatorCommands(program);
addVerifyCommand(program);
addConfigCommand(program);

/** `--json` among the arguments (before a `--`): commander errors happen before options exist. */
function jsonRequested(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).includes('--json');
}

const HELP_CODES = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

program.parseAsync(process.argv).catch((err: unknown) => {
  const out = new Output(jsonRequested(process.argv.slice(2)));
  if (err instanceof CommanderError) {
    if (HELP_CODES.has(err.code)) {
      // Help was printed; a non-zero exitCode means it was shown because no command was given.
      if (err.exitCode === 0) process.exitCode = OK;
      else if (out.json) process.exitCode = out.error(new CliError('USAGE', 'no command given'));
      else process.exitCode = USAGE;
      return;
    }
    const message = err.message.replace(/^error: /, '');
    process.exitCode = out.error(
      new CliError('USAGE', message),
      "(see 'mpc --help' or 'mpc <command> --help')"
    );
    return;
  }
  process.exitCode = out.error(err);
});
