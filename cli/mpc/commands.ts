/**
 * The `mpc` commands that talk to the coordinator (issue 6, "mpc CLI"): `account setup|create|
 * recover`, `login`, `nodes [add|remove]`, `keygen`, `keys`, `sign`, `session`.
 *
 * Each command is thin: flags → a checked request body → {@link ApiClient} → {@link Output}.
 * Human output goes to stdout, progress lines of a running session to stderr, and with `--json`
 * stdout carries exactly one object. Exit codes come from the client's error mapping.
 *
 * Secrets: an API token is printed only where it is created for someone else (`account create`);
 * `account setup`, `login` and `account recover` store it in the config file (mode 0600) instead.
 * Recovery codes are printed once, with a warning, because the coordinator keeps only their hashes.
 * Passwords come from a file or `MPC_PASSWORD`, never from a flag (flags show up in `ps`).
 * @module
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { ApiClient, type SessionView } from './client.js';
import { defaultConfigPath, loadCliConfig, saveCliConfig } from './config.js';
import { CliError, OK, usageError } from './exit-codes.js';
import { runCommand } from './output.js';
import { MESSAGE_HASHES } from './verify.js';

/** The global options every command reads. */
interface Globals {
  json?: boolean;
  url?: string;
  token?: string;
}

/** Resolve config and make a client; `needUrl` is always true here (all commands talk HTTP). */
async function client(g: Globals): Promise<ApiClient> {
  const cfg = await loadCliConfig({ env: process.env, flags: { url: g.url, token: g.token } });
  if (cfg.url === undefined) {
    throw new CliError(
      'USAGE',
      'no coordinator URL: pass --url, set MPC_URL, or save it with mpc account setup / mpc login'
    );
  }
  return new ApiClient({ url: cfg.url, token: cfg.token });
}

/** Read a password from a file (one trailing newline dropped). */
async function readPassword(flag: string, file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw usageError(
      flag,
      `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`
    );
  }
  const pw = text.replace(/\r?\n$/, '');
  if (pw.length === 0) throw usageError(flag, `${file} is empty`);
  return pw;
}

/** Parse an integer flag within bounds. */
export function intFlag(flag: string, value: string, min: number, max: number): number {
  const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw usageError(flag, `must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return n;
}

/** Split a comma-separated list flag. */
function listFlag(flag: string, value: string): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw usageError(flag, 'give a comma-separated list of node names');
  return items;
}

/**
 * Check `--digest`: 0x-prefixed (or bare) hex of exactly 32 bytes.
 * @returns the digest as lowercase hex without 0x
 * @throws CliError USAGE naming --digest
 * @example parseDigest('0x' + 'ab'.repeat(32)) // 'abab…'
 */
export function parseDigest(value: string): string {
  const digits = /^0x/i.test(value) ? value.slice(2) : value;
  if (!/^[0-9a-fA-F]*$/.test(digits)) throw usageError('--digest', 'not hex');
  if (digits.length % 2 !== 0) throw usageError('--digest', 'odd number of hex digits');
  if (digits.length !== 64) {
    throw usageError('--digest', `must be exactly 32 bytes, got ${digits.length / 2}`);
  }
  return digits.toLowerCase();
}

/** Write the config file with the URL in use and a new token. */
async function saveToken(api: ApiClient, token: string): Promise<string> {
  const file = defaultConfigPath(process.env);
  await saveCliConfig(file, { url: api.url, token });
  return file;
}

const CODES_WARNING =
  'Store these recovery codes somewhere safe now: they are shown only this once, and each one can\n' +
  'restore access to the account (mpc account recover) a single time.';

function codesText(codes: readonly string[]): string {
  return `${CODES_WARNING}\n${codes.map((c) => `  ${c}`).join('\n')}`;
}

/** One progress line for a session state, on stderr. */
function progress(s: SessionView): void {
  const n = s.participants.length;
  process.stderr.write(
    `session ${s.id}: ${s.status} (joined ${s.joined}/${n}, ready ${s.ready}/${n}, reported ${s.reported}/${n})\n`
  );
}

/** A progress printer that skips states already printed (the stream and polls repeat them). */
function progressPrinter(): (s: SessionView) => void {
  let prev = '';
  return (s) => {
    const line = `${s.status}/${s.joined}/${s.ready}/${s.reported}`;
    if (line === prev) return;
    prev = line;
    progress(s);
  };
}

interface NewAccountBody {
  account: { id: string; name: string; admin: boolean };
  token: string;
  recoveryCodes: string[];
}

function addAccountCommands(program: Command): void {
  const account = program.command('account').description('accounts on the coordinator');
  account
    .command('setup')
    .description(
      'create the first (admin) account with the one-time setup token the coordinator printed; saves the URL and the new token to the config file'
    )
    .requiredOption('--setup-token <token>', 'the setup token from the first mpc-coordinator start')
    .requiredOption('--name <name>', 'the account name')
    .option('--password-file <file>', 'a file holding a password (≥ 12 characters) for mpc login')
    .action(
      async (o: { setupToken: string; name: string; passwordFile?: string }, cmd: Command) => {
        const g = cmd.optsWithGlobals<Globals>();
        await runCommand(g.json === true, async (out) => {
          const api = await client(g);
          const password = o.passwordFile
            ? await readPassword('--password-file', o.passwordFile)
            : undefined;
          const r = await api.request<NewAccountBody>('POST', '/v1/setup', {
            auth: false,
            body: { setupToken: o.setupToken, name: o.name, ...(password ? { password } : {}) },
          });
          const file = await saveToken(api, r.token);
          out.result(
            { account: r.account, recoveryCodes: r.recoveryCodes, configFile: file },
            `created admin account ${r.account.name} (${r.account.id}); URL and token saved to ${file}\n\n` +
              codesText(r.recoveryCodes)
          );
          return OK;
        });
      }
    );

  account
    .command('create')
    .description('create an account (admin only); prints its token and recovery codes once')
    .requiredOption('--name <name>', 'the account name')
    .option('--admin', 'the new account may manage accounts and nodes')
    .option('--password-file <file>', 'a file holding a password (≥ 12 characters) for mpc login')
    .action(async (o: { name: string; admin?: boolean; passwordFile?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<Globals>();
      await runCommand(g.json === true, async (out) => {
        const api = await client(g);
        const password = o.passwordFile
          ? await readPassword('--password-file', o.passwordFile)
          : undefined;
        const r = await api.request<NewAccountBody>('POST', '/v1/accounts', {
          body: {
            name: o.name,
            ...(o.admin ? { admin: true } : {}),
            ...(password ? { password } : {}),
          },
        });
        out.result(
          r,
          `created account ${r.account.name} (${r.account.id})${r.account.admin ? ', admin' : ''}\n` +
            `token (shown once; hand it over securely): ${r.token}\n\n` +
            codesText(r.recoveryCodes)
        );
        return OK;
      });
    });

  account
    .command('recover')
    .description('set a new password with a one-time recovery code; saves a new token')
    .requiredOption('--name <name>', 'the account name')
    .requiredOption('--recovery-code <code>', 'one of the recovery codes given at creation')
    .requiredOption(
      '--new-password-file <file>',
      'a file holding the new password (≥ 12 characters)'
    )
    .action(
      async (o: { name: string; recoveryCode: string; newPasswordFile: string }, cmd: Command) => {
        const g = cmd.optsWithGlobals<Globals>();
        await runCommand(g.json === true, async (out) => {
          const api = await client(g);
          const newPassword = await readPassword('--new-password-file', o.newPasswordFile);
          const r = await api.request<{ token: string; remainingCodes: number }>(
            'POST',
            '/v1/accounts/recover',
            { auth: false, body: { name: o.name, recoveryCode: o.recoveryCode, newPassword } }
          );
          const file = await saveToken(api, r.token);
          out.result(
            { name: o.name, remainingCodes: r.remainingCodes, configFile: file },
            `password of ${o.name} reset; new token saved to ${file}; ${r.remainingCodes} recovery codes left`
          );
          return OK;
        });
      }
    );

  program
    .command('login')
    .description(
      'log in with a name and password; saves the URL and a new token to the config file'
    )
    .requiredOption('--name <name>', 'the account name')
    .option('--password-file <file>', 'a file holding the password (else env MPC_PASSWORD)')
    .action(async (o: { name: string; passwordFile?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<Globals>();
      await runCommand(g.json === true, async (out) => {
        const api = await client(g);
        const password = o.passwordFile
          ? await readPassword('--password-file', o.passwordFile)
          : process.env.MPC_PASSWORD;
        if (!password)
          throw usageError('--password-file', 'give a password file or set MPC_PASSWORD');
        const r = await api.request<{ token: string }>('POST', '/v1/login', {
          auth: false,
          body: { name: o.name, password },
        });
        const file = await saveToken(api, r.token);
        out.result(
          { name: o.name, configFile: file },
          `logged in as ${o.name}; token saved to ${file}`
        );
        return OK;
      });
    });
}

interface NodeView {
  peerId: string;
  name: string;
  addresses: string[];
  online: boolean;
}

function addNodesCommands(program: Command): void {
  const nodes = program
    .command('nodes')
    .description('the party daemons registered with the coordinator');
  nodes
    .command('list', { isDefault: true })
    .description('list the nodes: name, peer id, online (the default)')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<Globals>();
      await runCommand(g.json === true, async (out) => {
        const r = await (await client(g)).request<{ nodes: NodeView[] }>('GET', '/v1/nodes');
        const width = Math.max(4, ...r.nodes.map((n) => n.name.length));
        const rows = r.nodes.map(
          (n) => `${n.name.padEnd(width)}  ${n.peerId}  ${n.online ? 'online' : 'offline'}`
        );
        out.result(
          r,
          r.nodes.length === 0
            ? 'no nodes registered (add one: mpc nodes add --peer-id <id> --name <name>)'
            : [`${'NAME'.padEnd(width)}  PEER ID  ONLINE`, ...rows].join('\n')
        );
        return OK;
      });
    });
  nodes
    .command('add')
    .description('register a party daemon (admin only)')
    .requiredOption('--peer-id <id>', "the daemon's libp2p peer id (mpcd id)")
    .requiredOption('--name <name>', 'a short name to use in --nodes and --signers')
    .option('--address <multiaddr...>', 'where the coordinator dials it (repeatable)')
    .action(async (o: { peerId: string; name: string; address?: string[] }, cmd: Command) => {
      const g = cmd.optsWithGlobals<Globals>();
      await runCommand(g.json === true, async (out) => {
        const r = await (
          await client(g)
        ).request<NodeView>('POST', '/v1/nodes', {
          body: { peerId: o.peerId, name: o.name, ...(o.address ? { addresses: o.address } : {}) },
        });
        out.result(r, `added node ${r.name} (${r.peerId})`);
        return OK;
      });
    });
  nodes
    .command('remove')
    .description('unregister a node (admin only)')
    .argument('<node>', 'name or peer id')
    .action(async (node: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<Globals>();
      await runCommand(g.json === true, async (out) => {
        await (await client(g)).request('DELETE', `/v1/nodes/${encodeURIComponent(node)}`);
        out.result({ removed: node }, `removed node ${node}`);
        return OK;
      });
    });
}

/** POST a session-creating request and follow it to its end (bounded by `timeoutS`). */
async function runSession(
  api: ApiClient,
  path: string,
  body: unknown,
  timeoutS: number
): Promise<SessionView> {
  const deadline = Date.now() + timeoutS * 1000;
  // One key per invocation: the client's retries of this POST reuse it, so a lost answer does
  // not start a second session.
  const created = await api.request<SessionView>('POST', path, {
    body,
    idempotencyKey: randomUUID(),
  });
  const print = progressPrinter();
  print(created);
  return api.followSession(created.id, { deadline, onUpdate: print });
}

const THRESHOLD_HELP =
  'threshold = the number of parties needed to sign (2-of-3: --threshold 2 --parties 3)';

function addKeyCommands(program: Command): void {
  program
    .command('keygen')
    .description(
      'make a new threshold key among the party daemons; prints key id, public key, address'
    )
    .requiredOption('--threshold <t>', 'parties needed to sign')
    .option('--parties <n>', 'how many parties hold the key (or name them with --nodes)')
    .option('--nodes <names>', 'comma-separated node names to hold the key')
    .option('--label <label>', 'a label for the key')
    .addOption(
      new Option('--level <level>', 'security level (default level128)').choices([
        'level128',
        'level112',
      ])
    )
    .option('--timeout <seconds>', 'give up waiting after this long', '600')
    .addHelpText(
      'after',
      `\n${THRESHOLD_HELP}\n\nExamples:\n  mpc keygen --threshold 2 --parties 3\n  mpc keygen --threshold 2 --nodes a,b,c --label treasury --json`
    )
    .action(
      async (
        o: {
          threshold: string;
          parties?: string;
          nodes?: string;
          label?: string;
          level?: string;
          timeout: string;
        },
        cmd: Command
      ) => {
        const g = cmd.optsWithGlobals<Globals>();
        await runCommand(g.json === true, async (out) => {
          const threshold = intFlag('--threshold', o.threshold, 1, 1000);
          const parties =
            o.parties === undefined ? undefined : intFlag('--parties', o.parties, 1, 1000);
          const nodes = o.nodes === undefined ? undefined : listFlag('--nodes', o.nodes);
          if (parties === undefined && nodes === undefined) {
            throw usageError('--parties', 'give --parties <n> or --nodes <names>');
          }
          const timeout = intFlag('--timeout', o.timeout, 1, 86_400);
          const api = await client(g);
          const done = await runSession(
            api,
            '/v1/keys',
            {
              threshold,
              ...(parties !== undefined ? { parties } : {}),
              ...(nodes ? { nodes } : {}),
              ...(o.label ? { label: o.label } : {}),
              ...(o.level ? { level: o.level } : {}),
            },
            timeout
          );
          const r = done.result as { keyId: string; publicKey: string; address: string };
          out.result(
            { sessionId: done.id, keyId: r.keyId, publicKey: r.publicKey, address: r.address },
            `key id:     ${r.keyId}\npublic key: ${r.publicKey}\naddress:    ${r.address}`
          );
          return OK;
        });
      }
    );

  program
    .command('keys')
    .description("list this account's keys")
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<Globals>();
      await runCommand(g.json === true, async (out) => {
        const r = await (
          await client(g)
        ).request<{
          keys: Array<{
            keyId: string;
            address: string;
            threshold: number;
            participants: string[];
            label?: string;
          }>;
        }>('GET', '/v1/keys');
        out.result(
          r,
          r.keys.length === 0
            ? 'no keys (make one: mpc keygen --threshold 2 --parties 3)'
            : r.keys
                .map(
                  (k) =>
                    `${k.keyId}  ${k.address}  ${k.threshold}-of-${k.participants.length}${k.label ? `  ${k.label}` : ''}`
                )
                .join('\n')
        );
        return OK;
      });
    });

  program
    .command('sign')
    .description(
      'sign a 32-byte digest or a message with a key; prints r, s, v and the 65-byte signature'
    )
    .requiredOption('--key <id>', 'the key id (mpc keys)')
    .option('--digest <hex>', 'the 32-byte digest to sign, 0x-hex')
    .option('--message <text>', 'a UTF-8 message, hashed per --hash')
    .option('--message-hex <hex>', 'a message as hex bytes, hashed per --hash')
    .addOption(
      new Option('--hash <mode>', 'how the message is hashed (default eth-personal)').choices(
        MESSAGE_HASHES
      )
    )
    .option('--signers <names>', 'comma-separated node names to sign (exactly threshold many)')
    .option('--timeout <seconds>', 'give up waiting after this long', '300')
    .addHelpText(
      'after',
      `\nExamples:\n  mpc sign --key <id> --message 'hello'\n  mpc sign --key <id> --digest 0x<32 bytes> --signers a,b --json`
    )
    .action(
      async (
        o: {
          key: string;
          digest?: string;
          message?: string;
          messageHex?: string;
          hash?: string;
          signers?: string;
          timeout: string;
        },
        cmd: Command
      ) => {
        const g = cmd.optsWithGlobals<Globals>();
        await runCommand(g.json === true, async (out) => {
          const given = [o.digest, o.message, o.messageHex].filter((x) => x !== undefined);
          if (given.length !== 1) {
            throw usageError('--digest', 'give exactly one of --digest, --message, --message-hex');
          }
          if (o.digest !== undefined && o.hash) {
            throw usageError('--hash', 'applies to --message or --message-hex, not to --digest');
          }
          const body: Record<string, unknown> = {};
          if (o.digest !== undefined) body.digest = parseDigest(o.digest);
          if (o.message !== undefined) body.message = o.message;
          if (o.messageHex !== undefined) {
            if (!/^(0x)?([0-9a-fA-F]{2})*$/.test(o.messageHex)) {
              throw usageError('--message-hex', 'must be hex bytes (an even number of hex digits)');
            }
            body.messageHex = o.messageHex;
          }
          if (o.hash) body.hashing = o.hash;
          if (o.signers !== undefined) body.signers = listFlag('--signers', o.signers);
          const timeout = intFlag('--timeout', o.timeout, 1, 86_400);
          const api = await client(g);
          const done = await runSession(
            api,
            `/v1/keys/${encodeURIComponent(o.key)}/signatures`,
            body,
            timeout
          );
          const r = done.result as {
            r: string;
            s: string;
            recid: number;
            signature65: string;
            der: string;
          };
          const v = 27 + r.recid;
          const hex = (x: string): string => (x.startsWith('0x') ? x : '0x' + x);
          const result = {
            sessionId: done.id,
            keyId: done.keyId ?? o.key,
            digest: hex(done.digest ?? ''),
            r: hex(r.r),
            s: hex(r.s),
            v,
            signature: hex(r.signature65),
            der: hex(r.der),
          };
          out.result(
            result,
            `r:         ${result.r}\ns:         ${result.s}\nv:         ${v}\nsignature: ${result.signature}`
          );
          return OK;
        });
      }
    );

  program
    .command('session')
    .description('show a session: status, progress, result or failure')
    .argument('<id>', 'session id')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<Globals>();
      await runCommand(g.json === true, async (out) => {
        const s = await (
          await client(g)
        ).request<SessionView>('GET', `/v1/sessions/${encodeURIComponent(id)}`);
        const n = s.participants.length;
        const lines = [
          `session:  ${s.id} (${s.kind})`,
          `status:   ${s.status}`,
          `progress: joined ${s.joined}/${n}, ready ${s.ready}/${n}, reported ${s.reported}/${n}`,
        ];
        if (s.result) lines.push(`result:   ${JSON.stringify(s.result)}`);
        if (s.failure) lines.push(`failure:  ${s.failure.reason}: ${s.failure.detail}`);
        out.result(s, lines.join('\n'));
        return OK;
      });
    });
}

/**
 * Register every coordinator command on `program` (the global `--json`, `--url`, `--token` are
 * read from it).
 * @example
 * addCoordinatorCommands(new Command('mpc').option('--json').option('--url <u>').option('--token <t>'));
 */
export function addCoordinatorCommands(program: Command): void {
  addAccountCommands(program);
  addNodesCommands(program);
  addKeyCommands(program);
}
