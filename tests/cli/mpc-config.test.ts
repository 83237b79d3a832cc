/**
 * The `mpc` user configuration: file < env (MPC_URL, MPC_TOKEN) < flags (--url, --token); URL
 * validation naming the layer at fault; the 0600 rule for a file holding a token (read and write);
 * atomic writes; and the token never printed — neither by `mpc config show` (driven as a real
 * process) nor in any error message.
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  defaultConfigPath,
  loadCliConfig,
  redactToken,
  saveCliConfig,
} from '../../cli/mpc/config.js';
import { CliError } from '../../cli/mpc/exit-codes.js';
import { runMpc as mpc } from '../helpers/run.js';

const posix = process.platform !== 'win32';

/** The error `p` rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<CliError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return err as CliError;
  }
  throw new Error('expected a rejection');
}

const SECRET = 'Zq8xW3vK9sLmP2rT7yBn4cHd';
const FILE_TOKEN = `mpc_f11e_${SECRET}`;
const ENV_TOKEN = `mpc_e0e0_${SECRET}env`;
const FLAG_TOKEN = `mpc_f1a9_${SECRET}flag`;

let home: string;
let xdg: string;
let file: string;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'mpc-config-'));
  xdg = join(home, 'xdg');
  file = join(xdg, 'mpc', 'config.json');
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

async function writeConfig(content: unknown, mode = 0o600): Promise<void> {
  await mkdir(join(xdg, 'mpc'), { recursive: true });
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  await chmod(file, mode);
}

describe('defaultConfigPath', () => {
  it('uses an absolute XDG_CONFIG_HOME, else ~/.config (a relative XDG value is ignored)', () => {
    expect(defaultConfigPath({ XDG_CONFIG_HOME: '/x/cfg', HOME: '/h' })).toBe(
      '/x/cfg/mpc/config.json'
    );
    expect(defaultConfigPath({ HOME: '/h' })).toBe('/h/.config/mpc/config.json');
    expect(defaultConfigPath({ XDG_CONFIG_HOME: 'rel', HOME: '/h' })).toBe(
      '/h/.config/mpc/config.json'
    );
  });
});

describe('loadCliConfig precedence: file < env < flags', () => {
  it('takes each value from the highest layer that sets it, and says which', async () => {
    await writeConfig({ url: 'http://file.example:1/', token: FILE_TOKEN });
    const env = { XDG_CONFIG_HOME: xdg };

    const fileOnly = await loadCliConfig({ env });
    expect(fileOnly).toEqual({
      url: 'http://file.example:1',
      token: FILE_TOKEN,
      source: { url: 'file', token: 'file', file },
    });

    const envUrl = await loadCliConfig({ env: { ...env, MPC_URL: 'https://env.example' } });
    expect(envUrl).toMatchObject({ url: 'https://env.example', token: FILE_TOKEN });
    expect(envUrl.source).toMatchObject({ url: 'env', token: 'file' });

    const all = await loadCliConfig({
      env: { ...env, MPC_URL: 'https://env.example', MPC_TOKEN: ENV_TOKEN },
      flags: { url: 'http://127.0.0.1:8080', token: FLAG_TOKEN },
    });
    expect(all).toMatchObject({ url: 'http://127.0.0.1:8080', token: FLAG_TOKEN });
    expect(all.source).toMatchObject({ url: 'flag', token: 'flag' });

    const mixed = await loadCliConfig({
      env: { ...env, MPC_TOKEN: ENV_TOKEN },
      flags: { url: 'http://flag.example' },
    });
    expect(mixed).toMatchObject({ url: 'http://flag.example', token: ENV_TOKEN });
    expect(mixed.source).toMatchObject({ url: 'flag', token: 'env' });
  });

  it('treats empty variables as unset and a missing file as empty', async () => {
    const cfg = await loadCliConfig({ env: { XDG_CONFIG_HOME: xdg, MPC_URL: '', MPC_TOKEN: '' } });
    expect(cfg).toEqual({ source: { file } });
  });

  it('rejects a non-http(s) URL, naming the layer it came from', async () => {
    await writeConfig({ url: 'ftp://file.example' });
    const fromFile = await rejection(loadCliConfig({ env: { XDG_CONFIG_HOME: xdg } }));
    expect(fromFile.code).toBe('USAGE');
    expect(fromFile.message).toBe(
      `config file ${file}: url: must be an http:// or https:// URL, got "ftp://file.example"`
    );
    await writeConfig({});
    const fromEnv = await rejection(
      loadCliConfig({ env: { XDG_CONFIG_HOME: xdg, MPC_URL: 'localhost:8080' } })
    );
    expect(fromEnv.message).toMatch(/^MPC_URL: must be an http:\/\/ or https:\/\/ URL/);
    const fromFlag = await rejection(
      loadCliConfig({ env: { XDG_CONFIG_HOME: xdg }, flags: { url: 'not a url' } })
    );
    expect(fromFlag.message).toBe('--url: not a URL: "not a url"');
  });

  it('rejects credentials in the URL without echoing them', async () => {
    const err = await rejection(
      loadCliConfig({ env: { XDG_CONFIG_HOME: xdg }, flags: { url: `https://u:${SECRET}@h` } })
    );
    expect(err.message).toMatch(/^--url: the URL must not contain credentials/);
    expect(err.message).not.toContain(SECRET);
  });

  it('rejects a malformed token without quoting it', async () => {
    const err = await rejection(
      loadCliConfig({ env: { XDG_CONFIG_HOME: xdg, MPC_TOKEN: `${FILE_TOKEN}\n` } })
    );
    expect(err.message).toMatch(/^MPC_TOKEN: the token must be printable ASCII/);
    expect(err.message).not.toContain(SECRET);
    const empty = await rejection(
      loadCliConfig({ env: { XDG_CONFIG_HOME: xdg }, flags: { token: '' } })
    );
    expect(empty.message).toBe('--token: the token is empty');
  });

  it('rejects unknown keys, non-string values and broken JSON without quoting the file', async () => {
    await writeConfig({ url: 'http://a', tokn: 'x' });
    expect((await rejection(loadCliConfig({ env: { XDG_CONFIG_HOME: xdg } }))).message).toBe(
      `config file ${file}: unknown key "tokn" (known: url, token)`
    );
    await writeConfig({ url: 8080 });
    expect((await rejection(loadCliConfig({ env: { XDG_CONFIG_HOME: xdg } }))).message).toBe(
      `config file ${file}: "url" must be a string`
    );
    // Node's JSON.parse message quotes the text; ours must not (the token is in it).
    await writeConfig(`{"token": "${FILE_TOKEN}",`);
    const broken = await rejection(loadCliConfig({ env: { XDG_CONFIG_HOME: xdg } }));
    expect(broken.message).toBe(`config file ${file}: not valid JSON`);
  });
});

describe.skipIf(!posix)('the 0600 rule', () => {
  it('refuses a token from a file group or others can read; a URL-only file may be 0644', async () => {
    await writeConfig({ url: 'http://a', token: FILE_TOKEN }, 0o644);
    const err = await rejection(loadCliConfig({ env: { XDG_CONFIG_HOME: xdg } }));
    expect(err.code).toBe('USAGE');
    expect(err.message).toBe(
      `config file ${file} holds a token but group or others can access it (mode 0644); run: chmod 600 ${file}`
    );
    await chmod(file, 0o600);
    await expect(loadCliConfig({ env: { XDG_CONFIG_HOME: xdg } })).resolves.toMatchObject({
      token: FILE_TOKEN,
    });
    await writeConfig({ url: 'http://a' }, 0o644);
    await expect(loadCliConfig({ env: { XDG_CONFIG_HOME: xdg } })).resolves.toMatchObject({
      url: 'http://a',
    });
  });

  it('saveCliConfig writes 0600 in a 0700 directory, and the result loads back', async () => {
    await saveCliConfig(file, { url: 'http://127.0.0.1:8080/', token: FILE_TOKEN });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(xdg, 'mpc'))).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      url: 'http://127.0.0.1:8080',
      token: FILE_TOKEN,
    });
    await expect(loadCliConfig({ env: { XDG_CONFIG_HOME: xdg } })).resolves.toMatchObject({
      url: 'http://127.0.0.1:8080',
      token: FILE_TOKEN,
      source: { url: 'file', token: 'file' },
    });
    // Replacing it leaves no temporary file behind.
    await saveCliConfig(file, { url: 'https://b.example' });
    expect(await readdir(join(xdg, 'mpc'))).toEqual(['config.json']);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ url: 'https://b.example' });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('saveCliConfig refuses to write into a group/world-readable file and leaves it as it was', async () => {
    await writeConfig({ url: 'http://old' }, 0o644);
    const err = await rejection(saveCliConfig(file, { url: 'http://new', token: FILE_TOKEN }));
    expect(err.code).toBe('USAGE');
    expect(err.message).toMatch(/group or others can access it \(mode 0644\); refusing/);
    expect(err.message).not.toContain(SECRET);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ url: 'http://old' });
    expect(await readdir(join(xdg, 'mpc'))).toEqual(['config.json']);
  });

  it('saveCliConfig validates before writing anything', async () => {
    const err = await rejection(saveCliConfig(file, { url: 'ftp://x' }));
    expect(err.message).toMatch(/^url: must be an http/);
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
  });
});

describe('redactToken', () => {
  it('keeps the mpc_<id>_ prefix at most', () => {
    expect(redactToken(FILE_TOKEN)).toBe('mpc_f11e_…');
    expect(redactToken(SECRET)).toBe('…');
    expect(redactToken('mpc_only')).toBe('…');
  });
});

describe('mpc config show (the real binary)', () => {
  it('shows each value and its layer, the token redacted, and never the secret', async () => {
    await writeConfig({ url: 'http://file.example', token: FILE_TOKEN });
    const vars = { XDG_CONFIG_HOME: xdg, MPC_URL: 'https://env.example' };
    const [human, json, flags] = await Promise.all([
      mpc(['config', 'show'], vars),
      mpc(['config', 'show', '--json'], vars),
      mpc(['--token', FLAG_TOKEN, 'config', 'show', '--json', '--url', 'http://flag:1'], {
        ...vars,
        MPC_TOKEN: ENV_TOKEN,
      }),
    ]);
    for (const r of [human, json, flags]) {
      expect(r.code).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(SECRET);
    }
    expect(human.stdout).toBe(
      `config file: ${file}\n` +
        'url:         https://env.example (from MPC_URL)\n' +
        'token:       mpc_f11e_… (from the config file)\n'
    );
    expect(JSON.parse(json.stdout)).toEqual({
      file,
      url: 'https://env.example',
      urlSource: 'env',
      token: 'mpc_f11e_…',
      tokenSource: 'file',
    });
    expect(JSON.parse(flags.stdout)).toMatchObject({
      url: 'http://flag:1',
      urlSource: 'flag',
      token: 'mpc_f1a9_…',
      tokenSource: 'flag',
    });
  });

  it.skipIf(!posix)(
    'exits 2 on a readable token file or a bad --url, without the secret',
    async () => {
      await writeConfig({ token: FILE_TOKEN }, 0o640);
      const [mode, url] = await Promise.all([
        mpc(['config', 'show'], { XDG_CONFIG_HOME: xdg }),
        mpc(['config', 'show', '--json', '--url', 'ftp://x', '--token', FLAG_TOKEN], {
          XDG_CONFIG_HOME: join(home, 'elsewhere'),
        }),
      ]);
      expect(mode.code).toBe(2);
      expect(mode.stderr).toBe(
        `mpc: config file ${file} holds a token but group or others can access it (mode 0640); run: chmod 600 ${file}\n`
      );
      expect(url.code).toBe(2);
      expect(JSON.parse(url.stdout)).toEqual({
        error: {
          code: 'USAGE',
          message: '--url: must be an http:// or https:// URL, got "ftp://x"',
        },
      });
      for (const r of [mode, url]) expect(r.stdout + r.stderr).not.toContain(SECRET);
    }
  );
});
