/**
 * Where `mpc` finds the coordinator and its API token (issue 6: "Config in a user config file +
 * env (`MPC_URL`, `MPC_TOKEN`)").
 *
 * Three layers, later ones win: the user config file `$XDG_CONFIG_HOME/mpc/config.json` (default
 * `~/.config/mpc/config.json`, `{ "url": "...", "token": "..." }`) < environment (`MPC_URL`,
 * `MPC_TOKEN`) < flags (`--url`, `--token`). Each value remembers which layer it came from, so
 * `mpc config show` and error messages can say where to fix it.
 *
 * The token is a secret (ARCHITECTURE.md: the coordinator stores it hashed; we must not leak it
 * here either): it is never printed — {@link redactToken} shows `mpc_<id>_…` at most — never put
 * in an error message, and the file that holds it must be mode 0600: we refuse to read a token from,
 * or write one into, a file that group or others can access (as ssh does for private keys).
 * @module
 */
import { lstat, mkdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { Command } from 'commander';
import { writePrivateFile } from '../../daemon/private-file.js';
import { CliError, OK } from './exit-codes.js';
import { runCommand } from './output.js';

/** What the config file holds (every key optional). */
export interface CliConfigFile {
  readonly url?: string;
  readonly token?: string;
}

/** Which layer a value came from. */
export type ConfigSource = 'file' | 'env' | 'flag';

/** The resolved configuration. */
export interface CliConfig {
  /** Coordinator base URL, http(s), without a trailing slash. */
  readonly url?: string;
  /** API token (secret: print only {@link redactToken} of it). */
  readonly token?: string;
  readonly source: {
    readonly url?: ConfigSource;
    readonly token?: ConfigSource;
    /** The config file consulted (it may not exist). */
    readonly file: string;
  };
}

/** Inputs of {@link loadCliConfig}; nothing is read from `process` here. */
export interface LoadCliConfigOptions {
  /** Environment (`MPC_URL`, `MPC_TOKEN`, `XDG_CONFIG_HOME`, `HOME`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Flag values (`--url`, `--token`); undefined = not given. */
  readonly flags?: { readonly url?: string | undefined; readonly token?: string | undefined };
  /** Config file path; default {@link defaultConfigPath}(env). */
  readonly file?: string;
}

const FILE_KEYS: readonly string[] = ['url', 'token'];
const MAX_TOKEN_LENGTH = 4096;
/** Permission bits for group and others. */
const GROUP_OTHER = 0o077;
const checkModes = process.platform !== 'win32';

/**
 * The user config file path: `$XDG_CONFIG_HOME/mpc/config.json`, or `~/.config/mpc/config.json`
 * when XDG_CONFIG_HOME is unset or relative (the XDG spec says to ignore relative values).
 * @example
 * defaultConfigPath({ HOME: '/home/ana' }) // '/home/ana/.config/mpc/config.json'
 */
export function defaultConfigPath(env: Readonly<Record<string, string | undefined>>): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.config');
  return join(base, 'mpc', 'config.json');
}

/**
 * Show a token without revealing it: `mpc_<id>_…` for tokens of the form `mpc_<id>_<secret>`, else
 * `…`. The result never contains a character of the secret part.
 * @example
 * redactToken('mpc_4f2a_s3cr3t') // 'mpc_4f2a_…'
 */
export function redactToken(token: string): string {
  const m = /^mpc_([A-Za-z0-9-]{1,64})_./.exec(token);
  return m ? `mpc_${m[1]}_…` : '…';
}

/** A value shortened for an error message (the URL is not secret, but may be long). */
function shown(value: string): string {
  return JSON.stringify(value.length > 80 ? value.slice(0, 80) + '…' : value);
}

/**
 * Check a coordinator URL: absolute http(s), no credentials, query or fragment.
 * @param value - the URL as given
 * @param where - where it came from, for the message (`--url`, `MPC_URL`, `config file …: url`)
 * @returns the URL without trailing slashes
 * @throws CliError USAGE naming `where`
 * @example
 * validateUrl('http://127.0.0.1:8080/', '--url') // 'http://127.0.0.1:8080'
 */
export function validateUrl(value: string, where: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new CliError('USAGE', `${where}: not a URL: ${shown(value)}`);
  }
  if (u.username || u.password) {
    // Do not echo the value: it carries a credential.
    throw new CliError('USAGE', `${where}: the URL must not contain credentials (use MPC_TOKEN)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new CliError(
      'USAGE',
      `${where}: must be an http:// or https:// URL, got ${shown(value)}`
    );
  }
  if (u.search || u.hash) {
    throw new CliError('USAGE', `${where}: must not have a query or fragment: ${shown(value)}`);
  }
  return value.replace(/\/+$/, '');
}

/**
 * Check a token's shape without ever putting it in the message: non-empty, printable ASCII without
 * spaces, at most 4096 characters.
 * @throws CliError USAGE naming `where`
 */
export function validateToken(value: string, where: string): string {
  if (value.length === 0) throw new CliError('USAGE', `${where}: the token is empty`);
  if (value.length > MAX_TOKEN_LENGTH) {
    throw new CliError(
      'USAGE',
      `${where}: the token is longer than ${MAX_TOKEN_LENGTH} characters`
    );
  }
  if (!/^[\x21-\x7e]+$/.test(value)) {
    throw new CliError(
      'USAGE',
      `${where}: the token must be printable ASCII without spaces (is it pasted with a newline?)`
    );
  }
  return value;
}

function modeOf(mode: number): string {
  return '0' + (mode & 0o777).toString(8);
}

/** Read and check the config file; a missing file is an empty config. */
async function readConfigFile(path: string): Promise<CliConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError('USAGE', `config file ${path}: cannot read it`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // Not the parser's message: recent Node versions quote the text, which may hold the token.
    throw new CliError('USAGE', `config file ${path}: not valid JSON`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CliError('USAGE', `config file ${path}: must hold a JSON object`);
  }
  const obj = raw as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (!FILE_KEYS.includes(k)) {
      throw new CliError(
        'USAGE',
        `config file ${path}: unknown key ${shown(k)} (known: ${FILE_KEYS.join(', ')})`
      );
    }
    if (typeof obj[k] !== 'string') {
      throw new CliError('USAGE', `config file ${path}: "${k}" must be a string`);
    }
  }
  const out: { url?: string; token?: string } = {};
  if (obj.url !== undefined) out.url = validateUrl(obj.url as string, `config file ${path}: url`);
  if (obj.token !== undefined) {
    out.token = validateToken(obj.token as string, `config file ${path}: token`);
    if (checkModes) {
      const st = await stat(path); // the file a symlink points to is what holds the token
      if ((st.mode & GROUP_OTHER) !== 0) {
        throw new CliError(
          'USAGE',
          `config file ${path} holds a token but group or others can access it (mode ${modeOf(st.mode)}); run: chmod 600 ${path}`
        );
      }
    }
  }
  return out;
}

/**
 * Resolve the configuration: file < env (`MPC_URL`, `MPC_TOKEN`) < flags (`--url`, `--token`).
 * Empty environment variables count as unset; an empty flag is an error.
 * @returns the values and the layer each came from
 * @throws CliError USAGE naming the flag, variable or file at fault (never quoting the token)
 * @example
 * const cfg = await loadCliConfig({ env: process.env, flags: { url: '--url value' } });
 */
export async function loadCliConfig(opts: LoadCliConfigOptions): Promise<CliConfig> {
  const file = opts.file ?? defaultConfigPath(opts.env);
  const fromFile = await readConfigFile(file);
  let url = fromFile.url;
  let token = fromFile.token;
  let urlSource: ConfigSource | undefined = url === undefined ? undefined : 'file';
  let tokenSource: ConfigSource | undefined = token === undefined ? undefined : 'file';
  if (opts.env.MPC_URL) {
    url = validateUrl(opts.env.MPC_URL, 'MPC_URL');
    urlSource = 'env';
  }
  if (opts.env.MPC_TOKEN) {
    token = validateToken(opts.env.MPC_TOKEN, 'MPC_TOKEN');
    tokenSource = 'env';
  }
  if (opts.flags?.url !== undefined) {
    url = validateUrl(opts.flags.url, '--url');
    urlSource = 'flag';
  }
  if (opts.flags?.token !== undefined) {
    token = validateToken(opts.flags.token, '--token');
    tokenSource = 'flag';
  }
  return {
    ...(url === undefined ? {} : { url }),
    ...(token === undefined ? {} : { token }),
    source: {
      ...(urlSource ? { url: urlSource } : {}),
      ...(tokenSource ? { token: tokenSource } : {}),
      file,
    },
  };
}

/**
 * Write the config file atomically with mode 0600 (temp file in the same directory, fsync,
 * rename), creating its directory with mode 0700 when missing. Refuses to replace a file that group
 * or others can access — the user may have shared it on purpose; we will not put a token there.
 * @param path - the config file
 * @param cfg - the values to store (validated first; the file holds exactly these)
 * @throws CliError USAGE on a bad value or an accessible existing file; FAILURE on I/O errors
 * @example
 * await saveCliConfig(defaultConfigPath(process.env), { url: 'http://127.0.0.1:8080', token });
 */
export async function saveCliConfig(path: string, cfg: CliConfigFile): Promise<void> {
  const clean: { url?: string; token?: string } = {};
  if (cfg.url !== undefined) clean.url = validateUrl(cfg.url, 'url');
  if (cfg.token !== undefined) clean.token = validateToken(cfg.token, 'token');
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    const st = await lstat(path);
    if (!st.isFile()) throw new CliError('USAGE', `config file ${path}: not a regular file`);
    if (checkModes && (st.mode & GROUP_OTHER) !== 0) {
      throw new CliError(
        'USAGE',
        `config file ${path}: group or others can access it (mode ${modeOf(st.mode)}); refusing to write a token into it (run: chmod 600 ${path})`
      );
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new CliError('FAILURE', `config file ${path}: cannot inspect it`);
    }
  }
  try {
    await writePrivateFile(path, JSON.stringify(clean, null, 2) + '\n', { replace: true });
  } catch (err) {
    throw new CliError(
      'FAILURE',
      `config file ${path}: cannot write it (${(err as NodeJS.ErrnoException).code ?? 'error'})`
    );
  }
}

/** Where a value came from, in words. */
function describeSource(source: ConfigSource | undefined, flag: string, env: string): string {
  if (source === 'flag') return `from ${flag}`;
  if (source === 'env') return `from ${env}`;
  return source === 'file' ? 'from the config file' : 'not set';
}

/**
 * Add the `config` subcommand to `program`: `mpc config show` prints the resolved URL and the
 * token — redacted — with where each came from. Offline; options read from the program: `--json`,
 * `--url`, `--token`.
 * @returns the subcommand
 */
export function addConfigCommand(program: Command): Command {
  const cmd = program
    .command('config')
    .description(
      'the CLI configuration: $XDG_CONFIG_HOME/mpc/config.json (mode 0600) < env MPC_URL, MPC_TOKEN < flags --url, --token'
    );
  cmd
    .command('show')
    .description('print the coordinator URL and the token (redacted) and where each comes from')
    .action(async (_opts: unknown, sub: Command) => {
      const g = sub.optsWithGlobals<{ json?: boolean; url?: string; token?: string }>();
      await runCommand(g.json === true, async (out) => {
        const cfg = await loadCliConfig({
          env: process.env,
          flags: { url: g.url, token: g.token },
        });
        const token = cfg.token === undefined ? null : redactToken(cfg.token);
        out.result(
          {
            file: cfg.source.file,
            url: cfg.url ?? null,
            urlSource: cfg.source.url ?? null,
            token,
            tokenSource: cfg.source.token ?? null,
          },
          [
            `config file: ${cfg.source.file}`,
            `url:         ${cfg.url ?? '-'} (${describeSource(cfg.source.url, '--url', 'MPC_URL')})`,
            `token:       ${token ?? '-'} (${describeSource(cfg.source.token, '--token', 'MPC_TOKEN')})`,
          ].join('\n')
        );
        return OK;
      });
    });
  return cmd;
}
