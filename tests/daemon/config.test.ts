/**
 * daemon/config.ts: defaults, the four layers and their precedence, the JSONC file (comments,
 * syntax errors with a line, unknown keys), every field's validation with errors that name the key
 * path / variable / flag, cross-field rules, the rendered template and its round trip.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CONFIG_FILE,
  CONFIG_KEYS,
  ConfigError,
  defaultConfig,
  loadConfig,
  renderConfigFile,
  unknownEnv,
  validateConfig,
  type DaemonConfig,
} from '../../daemon/config.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mpcd-config-'));
  dirs.push(d);
  return d;
}

/** A data dir whose config file holds `text`. */
function withFile(text: string): string {
  const d = tempDir();
  writeFileSync(join(d, CONFIG_FILE), text);
  return d;
}

/** Await a config load that must fail; return the ConfigError. */
async function configError(p: Promise<unknown>): Promise<ConfigError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e
  );
  expect(err, 'expected a ConfigError').toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

let ed: string[]; // Ed25519 peer ids
let secp: string; // a secp256k1 peer id (valid libp2p id, not an mpcd party)

beforeAll(async () => {
  ed = await Promise.all(
    [0, 1, 2, 3].map(async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString())
  );
  secp = peerIdFromPrivateKey(await generateKeyPair('secp256k1')).toString();
});

describe('defaults', () => {
  it('match the documented values and are frozen', () => {
    const c = defaultConfig('/var/lib/mpcd');
    expect(c).toEqual({
      dataDir: '/var/lib/mpcd',
      listen: ['/ip4/127.0.0.1/tcp/7100'],
      announce: [],
      bootstrap: [],
      peers: [],
      coordinator: undefined,
      admin: { host: '127.0.0.1', port: 7180 },
      logLevel: 'info',
      primePool: { size: 2, levels: ['level128'] },
      insecureTestPrimes: undefined,
      timeouts: {
        roundMs: 60_000,
        sessionMs: 600_000,
        joinMs: 30_000,
        drainMs: 30_000,
        pullMs: 1_000,
      },
      maxSessions: 32,
      masterKeyFile: undefined,
      passphraseFile: undefined,
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.timeouts)).toBe(true);
    expect(Object.isFrozen(c.primePool.levels)).toBe(true);
  });

  it('make the data dir absolute', () => {
    expect(defaultConfig('rel/dir').dataDir).toBe(join(process.cwd(), 'rel/dir'));
  });

  it('are what loadConfig gives without a file, env or flags', async () => {
    const d = tempDir();
    expect(await loadConfig({ dataDir: d, env: {} })).toEqual(defaultConfig(d));
  });

  it('a missing file is an error only with requireFile, naming the file and `mpcd init`', async () => {
    const d = tempDir();
    const e = await configError(loadConfig({ dataDir: d, env: {}, requireFile: true }));
    expect(e.code).toBe('CONFIG_FILE_MISSING');
    expect(e.message).toContain(join(d, CONFIG_FILE));
    expect(e.message).toContain('mpcd init');
  });
});

describe('layers', () => {
  it('file < env < flags, field by field; nested objects may be partial', async () => {
    const d = withFile(
      JSON.stringify({ admin: { port: 1 }, timeouts: { roundMs: 5000 }, logLevel: 'warn' })
    );
    const fileOnly = await loadConfig({ dataDir: d, env: {} });
    expect(fileOnly.admin).toEqual({ host: '127.0.0.1', port: 1 });
    expect(fileOnly.timeouts).toEqual({ ...defaultConfig(d).timeouts, roundMs: 5000 });
    expect(fileOnly.logLevel).toBe('warn');

    const env = { MPCD_ADMIN_PORT: '2', MPCD_LOG_LEVEL: 'debug' };
    const withEnv = await loadConfig({ dataDir: d, env });
    expect(withEnv.admin.port).toBe(2);
    expect(withEnv.logLevel).toBe('debug');
    expect(withEnv.timeouts.roundMs).toBe(5000);

    const withFlags = await loadConfig({ dataDir: d, env, flags: { adminPort: '3' } });
    expect(withFlags.admin.port).toBe(3);
    expect(withFlags.logLevel).toBe('debug');
  });

  it('reads process.env when no env is given', async () => {
    const d = tempDir();
    process.env.MPCD_MAX_SESSIONS = '7';
    try {
      expect((await loadConfig({ dataDir: d })).maxSessions).toBe(7);
    } finally {
      delete process.env.MPCD_MAX_SESSIONS;
    }
  });

  it('env lists are comma-separated and trimmed; an empty value clears the file list', async () => {
    const d = withFile(JSON.stringify({ peers: [ed[0]], coordinator: ed[3] }));
    const c = await loadConfig({
      dataDir: d,
      env: { MPCD_LISTEN: ' /ip4/0.0.0.0/tcp/1 , /ip6/::1/tcp/2,', MPCD_PEERS: '' },
    });
    expect(c.listen).toEqual(['/ip4/0.0.0.0/tcp/1', '/ip6/::1/tcp/2']);
    expect(c.peers).toEqual([]);
    expect(c.coordinator).toBe(ed[3]);
    const cleared = await loadConfig({ dataDir: d, env: { MPCD_COORDINATOR: '' } });
    expect(cleared.coordinator).toBeUndefined();
  });

  it('every variable and flag reaches its field', async () => {
    const d = tempDir();
    const values: Record<string, string> = {
      'admin.host': '::1',
      'admin.port': '0',
      logLevel: 'trace',
      'primePool.size': '0',
      'primePool.levels': 'level112,level128',
      insecureTestPrimes: 'primes.json',
      'timeouts.roundMs': '100',
      'timeouts.sessionMs': '1000',
      'timeouts.joinMs': '200',
      'timeouts.drainMs': '0',
      'timeouts.pullMs': '50',
      maxSessions: '1',
      masterKeyFile: '/etc/mpcd/key',
      listen: '/ip4/10.0.0.1/tcp/9',
      announce: '/dns4/mpcd-a/tcp/9',
      bootstrap: `/ip4/10.0.0.2/tcp/9/p2p/${ed[1]}`,
      peers: `${ed[1]},${ed[2]}`,
      coordinator: ed[0]!,
    };
    const expected = {
      'admin.host': '::1',
      'admin.port': 0,
      logLevel: 'trace',
      'primePool.size': 0,
      'primePool.levels': ['level112', 'level128'],
      insecureTestPrimes: join(d, 'primes.json'),
      'timeouts.roundMs': 100,
      'timeouts.sessionMs': 1000,
      'timeouts.joinMs': 200,
      'timeouts.drainMs': 0,
      'timeouts.pullMs': 50,
      maxSessions: 1,
      masterKeyFile: '/etc/mpcd/key',
      listen: ['/ip4/10.0.0.1/tcp/9'],
      announce: ['/dns4/mpcd-a/tcp/9'],
      bootstrap: [`/ip4/10.0.0.2/tcp/9/p2p/${ed[1]}`],
      peers: [ed[1], ed[2]],
      coordinator: ed[0],
    };
    const at = (c: DaemonConfig, path: string): unknown =>
      path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], c);
    // The passphrase file is exclusive with the key file: check it on its own.
    const keys = CONFIG_KEYS.filter((k) => k.path !== 'passphraseFile');
    expect(keys.map((k) => k.path).sort()).toEqual(Object.keys(values).sort());
    const env = Object.fromEntries(keys.map((k) => [k.env, values[k.path]]));
    const flags = Object.fromEntries(keys.map((k) => [k.flag, values[k.path]]));
    const fromEnv = await loadConfig({ dataDir: d, env });
    const fromFlags = await loadConfig({ dataDir: d, env: {}, flags });
    for (const k of keys) {
      expect(at(fromEnv, k.path), k.env).toEqual(expected[k.path as keyof typeof expected]);
      expect(at(fromFlags, k.path), k.option).toEqual(expected[k.path as keyof typeof expected]);
    }
    const pass = await loadConfig({ dataDir: d, env: { MPCD_PASSPHRASE_FILE: 'pp' } });
    expect(pass.passphraseFile).toBe(join(d, 'pp'));
  });

  it('flags take lists as arrays (items may hold commas) or strings, numbers as numbers', async () => {
    const d = tempDir();
    const c = await loadConfig({
      dataDir: d,
      env: {},
      flags: { peers: [`${ed[0]},${ed[1]}`, ed[2]!], adminPort: 9000, announce: '' },
    });
    expect(c.peers).toEqual([ed[0], ed[1], ed[2]]);
    expect(c.admin.port).toBe(9000);
    expect(c.announce).toEqual([]);
  });

  it('ignores flags left undefined', async () => {
    const d = withFile(JSON.stringify({ maxSessions: 5 }));
    const c = await loadConfig({ dataDir: d, env: {}, flags: { maxSessions: undefined } });
    expect(c.maxSessions).toBe(5);
  });

  it('resolves relative paths against the data dir, keeps absolute ones', async () => {
    const d = withFile(
      JSON.stringify({ masterKeyFile: 'secrets/../key', insecureTestPrimes: '/abs/primes.json' })
    );
    const c = await loadConfig({ dataDir: d, env: {} });
    expect(c.masterKeyFile).toBe(join(d, 'key'));
    expect(c.insecureTestPrimes).toBe('/abs/primes.json');
  });

  it('peer ids come out canonical, so the CID form of a listed id is a duplicate', async () => {
    const { peerIdFromString } = await import('@libp2p/peer-id');
    const cid = peerIdFromString(ed[0]!).toCID().toString();
    const c = await loadConfig({ dataDir: tempDir(), env: { MPCD_PEERS: cid } });
    expect(c.peers).toEqual([ed[0]]);
    const e = await configError(
      loadConfig({ dataDir: tempDir(), env: { MPCD_PEERS: `${ed[0]},${cid}` } })
    );
    expect(e.message).toBe(`MPCD_PEERS[1]: is listed twice (got "${cid}")`);
  });
});

describe('the file', () => {
  it('accepts whole-line // comments, indented or not', async () => {
    const d = withFile(
      '// header\n{\n  // a comment\n    // another\n  "maxSessions": 3\n}\n// end\n'
    );
    expect((await loadConfig({ dataDir: d, env: {} })).maxSessions).toBe(3);
  });

  it('rejects a trailing comment as invalid JSON, naming the file and the line', async () => {
    const d = withFile('{\n  "maxSessions": 3, // three\n  "logLevel": "info"\n}\n');
    const e = await configError(loadConfig({ dataDir: d, env: {} }));
    expect(e.code).toBe('CONFIG_FILE_INVALID');
    expect(e.field).toBe(join(d, CONFIG_FILE));
    expect(e.message).toContain(join(d, CONFIG_FILE));
    expect(e.message).toMatch(/line 2\b/);
  });

  it('names the line of other syntax errors, and the end of a truncated file', async () => {
    const e1 = await configError(
      loadConfig({ dataDir: withFile('{\n"a": 1,\n"b" 2\n}'), env: {} })
    );
    expect(e1.message).toMatch(/invalid JSON at line 3\b/);
    const e2 = await configError(loadConfig({ dataDir: withFile('{\n"maxSessions":\n'), env: {} }));
    expect(e2.message).toMatch(/invalid JSON at line 3 \(end of file\)/);
  });

  it('rejects unknown keys by their path, at the top and nested', async () => {
    const top = await configError(
      loadConfig({ dataDir: withFile(JSON.stringify({ peer: [] })), env: {} })
    );
    expect(top.field).toBe('peer');
    expect(top.message).toMatch(/^peer: unknown key in .*mpcd\.jsonc \(known: listen, /);
    const nested = await configError(
      loadConfig({ dataDir: withFile(JSON.stringify({ timeouts: { roundMS: 5 } })), env: {} })
    );
    expect(nested.field).toBe('timeouts.roundMS');
    expect(nested.message).toContain(
      'known in timeouts: roundMs, sessionMs, joinMs, drainMs, pullMs'
    );
    const dataDir = await configError(
      loadConfig({ dataDir: withFile(JSON.stringify({ dataDir: '/x' })), env: {} })
    );
    expect(dataDir.field).toBe('dataDir');
  });

  it('requires objects where the config nests, and JSON types for values', async () => {
    const cases: Array<[unknown, string]> = [
      [[], `${CONFIG_FILE}: must be an object (got [])`],
      [{ admin: 7180 }, 'admin: must be an object (got 7180)'],
      [
        { admin: { port: '7180' } },
        'admin.port: must be an integer in [0, 65535], written as a number (got "7180")',
      ],
      [
        { listen: '/ip4/1.2.3.4/tcp/1' },
        'listen: must be a list of TCP multiaddrs (got "/ip4/1.2.3.4/tcp/1")',
      ],
      [{ coordinator: 5 }, 'coordinator: must be a string or null (got 5)'],
      [
        { logLevel: null },
        'logLevel: must be one of fatal, error, warn, info, debug, trace, silent (got null)',
      ],
    ];
    for (const [obj, msg] of cases) {
      const e = await configError(loadConfig({ dataDir: withFile(JSON.stringify(obj)), env: {} }));
      expect(e.message.endsWith(msg), `${e.message} should end with ${msg}`).toBe(true);
    }
  });
});

describe('validation names the field, variable or flag', () => {
  it('integer ranges: both bounds accepted, one past each refused', async () => {
    const ranges: Array<[string, string, number, number]> = [
      ['MPCD_ADMIN_PORT', 'admin.port', 0, 65535],
      ['MPCD_PRIME_POOL_SIZE', 'primePool.size', 0, 32],
      ['MPCD_ROUND_TIMEOUT_MS', 'timeouts.roundMs', 100, 3_600_000],
      ['MPCD_SESSION_TIMEOUT_MS', 'timeouts.sessionMs', 1_000, 86_400_000],
      ['MPCD_JOIN_TIMEOUT_MS', 'timeouts.joinMs', 100, 3_600_000],
      ['MPCD_DRAIN_TIMEOUT_MS', 'timeouts.drainMs', 0, 600_000],
      ['MPCD_PULL_TIMEOUT_MS', 'timeouts.pullMs', 50, 60_000],
      ['MPCD_MAX_SESSIONS', 'maxSessions', 1, 1024],
    ];
    const d = tempDir();
    const at = (c: DaemonConfig, path: string): unknown =>
      path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], c);
    for (const [env, path, min, max] of ranges) {
      for (const ok of [min, max]) {
        expect(at(await loadConfig({ dataDir: d, env: { [env]: String(ok) } }), path)).toBe(ok);
      }
      for (const bad of [min - 1, max + 1]) {
        const e = await configError(loadConfig({ dataDir: d, env: { [env]: String(bad) } }));
        expect(e.field).toBe(env);
        expect(e.message).toBe(`${env}: must be an integer in [${min}, ${max}] (got "${bad}")`);
      }
    }
  });

  it('integers must be plain decimal integers', async () => {
    const d = tempDir();
    for (const bad of ['abc', '1.5', '1e3', '0x10', '', ' ']) {
      const e = await configError(loadConfig({ dataDir: d, env: { MPCD_MAX_SESSIONS: bad } }));
      expect(e.message).toBe(
        `MPCD_MAX_SESSIONS: must be an integer in [1, 1024] (got ${JSON.stringify(bad)})`
      );
    }
    const file = await configError(
      loadConfig({ dataDir: withFile('{"timeouts": {"roundMs": 99.5}}'), env: {} })
    );
    expect(file.message).toBe('timeouts.roundMs: must be an integer in [100, 3600000] (got 99.5)');
    const flag = await configError(
      loadConfig({ dataDir: d, env: {}, flags: { roundTimeoutMs: 'abc' } })
    );
    expect(flag.field).toBe('--round-timeout-ms');
    expect(flag.message).toBe(
      '--round-timeout-ms: must be an integer in [100, 3600000] (got "abc")'
    );
    const bool = await configError(loadConfig({ dataDir: d, env: {}, flags: { adminPort: true } }));
    expect(bool.message).toBe('--admin-port: must be an integer in [0, 65535] (got true)');
  });

  it('multiaddrs: listen is TCP only, announce any, bootstrap must end in an Ed25519 /p2p id', async () => {
    const d = tempDir();
    const bad: Array<[Record<string, string>, string, RegExp]> = [
      [{ MPCD_LISTEN: 'not-an-addr' }, 'MPCD_LISTEN[0]', /must be a multiaddr/],
      [{ MPCD_LISTEN: '/ip4/1.2.3.4/udp/1/quic-v1' }, 'MPCD_LISTEN[0]', /must be a TCP address/],
      [{ MPCD_LISTEN: '/dns4/example.org/tcp/1' }, 'MPCD_LISTEN[0]', /must be a TCP address/],
      [
        { MPCD_LISTEN: `/ip4/1.2.3.4/tcp/1/p2p/${ed[0]}` },
        'MPCD_LISTEN[0]',
        /must be a TCP address/,
      ],
      [
        { MPCD_LISTEN: '/ip4/1.2.3.4/tcp/1,/ip4/999.0.0.1/tcp/1' },
        'MPCD_LISTEN[1]',
        /must be a multiaddr/,
      ],
      [{ MPCD_ANNOUNCE: '/ip4/1.2.3.4/tcp/99999' }, 'MPCD_ANNOUNCE[0]', /must be a multiaddr/],
      [
        { MPCD_BOOTSTRAP: '/ip4/1.2.3.4/tcp/1' },
        'MPCD_BOOTSTRAP[0]',
        /must end in \/p2p\/<peer id>/,
      ],
      [{ MPCD_BOOTSTRAP: '/ip4/1.2.3.4/tcp/1/p2p/nope' }, 'MPCD_BOOTSTRAP[0]', /must be a peer id/],
      [
        { MPCD_BOOTSTRAP: `/ip4/1.2.3.4/tcp/1/p2p/${secp}` },
        'MPCD_BOOTSTRAP[0]',
        /must be an Ed25519 peer id/,
      ],
      [
        { MPCD_ANNOUNCE: '/ip4/1.2.3.4/tcp/1,/ip4/1.2.3.4/tcp/1' },
        'MPCD_ANNOUNCE[1]',
        /is listed twice/,
      ],
    ];
    for (const [env, field, rule] of bad) {
      const e = await configError(loadConfig({ dataDir: d, env }));
      expect(e.field).toBe(field);
      expect(e.message.startsWith(`${field}: `)).toBe(true);
      expect(e.message).toMatch(rule);
    }
    const ok = await loadConfig({
      dataDir: d,
      env: {
        MPCD_ANNOUNCE: '/dns4/mpcd-a/tcp/7100,/ip4/1.2.3.4/tcp/7100/p2p/' + ed[0],
        MPCD_BOOTSTRAP: `/dns4/mpcd-b/tcp/7100/p2p/${ed[1]}`,
      },
    });
    expect(ok.announce).toHaveLength(2);
    expect(ok.bootstrap).toEqual([`/dns4/mpcd-b/tcp/7100/p2p/${ed[1]}`]);
  });

  it('peer ids must be Ed25519, unique, and the coordinator is not a peer', async () => {
    const d = tempDir();
    const e1 = await configError(
      loadConfig({ dataDir: d, env: { MPCD_PEERS: `${ed[0]},${secp}` } })
    );
    expect(e1.field).toBe('MPCD_PEERS[1]');
    expect(e1.message).toBe(
      `MPCD_PEERS[1]: must be an Ed25519 peer id (12D3KooW…), not secp256k1 (got "${secp}")`
    );
    const e2 = await configError(loadConfig({ dataDir: d, env: { MPCD_COORDINATOR: 'QmNope' } }));
    expect(e2.message).toMatch(/^MPCD_COORDINATOR: must be a peer id/);
    const dupFile = withFile(JSON.stringify({ peers: [ed[0], ed[1], ed[0]] }));
    const e3 = await configError(loadConfig({ dataDir: dupFile, env: {} }));
    expect(e3.field).toBe('peers[2]');
    const both = withFile(JSON.stringify({ peers: [ed[0], ed[1]] }));
    const e4 = await configError(
      loadConfig({ dataDir: both, env: {}, flags: { coordinator: ed[1] } })
    );
    expect(e4.field).toBe('--coordinator');
    expect(e4.message).toContain(`the coordinator ${ed[1]} is also listed in peers`);
  });

  it('log level, admin host, prime pool levels', async () => {
    const d = tempDir();
    const cases: Array<[Record<string, string>, string]> = [
      [
        { MPCD_LOG_LEVEL: 'verbose' },
        'MPCD_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")',
      ],
      [
        { MPCD_ADMIN_HOST: 'bad host' },
        'MPCD_ADMIN_HOST: must be an IP address or a host name (got "bad host")',
      ],
      [{ MPCD_ADMIN_HOST: '' }, 'MPCD_ADMIN_HOST: must be an IP address or a host name (got "")'],
      [
        { MPCD_PRIME_POOL_LEVELS: 'level256' },
        'MPCD_PRIME_POOL_LEVELS[0]: must be one of level112, level128 (got "level256")',
      ],
      [
        { MPCD_PRIME_POOL_LEVELS: 'level128,level128' },
        'MPCD_PRIME_POOL_LEVELS[1]: is listed twice (got "level128")',
      ],
      [
        { MPCD_PRIME_POOL_LEVELS: '' },
        'MPCD_PRIME_POOL_LEVELS: must name at least one level when primePool.size is above 0 (got [])',
      ],
    ];
    for (const [env, msg] of cases) {
      expect((await configError(loadConfig({ dataDir: d, env }))).message).toBe(msg);
    }
    const noPool = await loadConfig({
      dataDir: d,
      env: { MPCD_PRIME_POOL_LEVELS: '', MPCD_PRIME_POOL_SIZE: '0' },
    });
    expect(noPool.primePool).toEqual({ size: 0, levels: [] });
    expect(
      (await loadConfig({ dataDir: d, env: { MPCD_ADMIN_HOST: 'localhost' } })).admin.host
    ).toBe('localhost');
  });

  it('one master key source: key file and passphrase file together are refused', async () => {
    const d = withFile(JSON.stringify({ masterKeyFile: 'key' }));
    const e = await configError(loadConfig({ dataDir: d, env: { MPCD_PASSPHRASE_FILE: 'pp' } }));
    expect(e.field).toBe('MPCD_PASSPHRASE_FILE');
    expect(e.message).toContain('cannot be combined with masterKeyFile');
    // Clearing the file's key file from the environment resolves it.
    const c = await loadConfig({
      dataDir: d,
      env: { MPCD_PASSPHRASE_FILE: 'pp', MPCD_MASTER_KEY_FILE: '' },
    });
    expect([c.masterKeyFile, c.passphraseFile]).toEqual([undefined, join(d, 'pp')]);
  });

  it('echoes at most a short piece of a bad value', async () => {
    const long = 'x'.repeat(500);
    const e = await configError(loadConfig({ dataDir: tempDir(), env: { MPCD_LOG_LEVEL: long } }));
    expect(e.message.length).toBeLessThan(200);
  });
});

describe('unknownEnv', () => {
  it('lists MPCD_* names that are neither fields nor known variables', () => {
    expect(
      unknownEnv({
        MPCD_LISTN: 'x',
        MPCD_LISTEN: '',
        MPCD_MASTER_KEY: 'k',
        MPCD_PASSPHRASE: 'p',
        MPCD_DATA_DIR: '/d',
        MPCD_ADMIN_PORTT: '1',
        HOME: '/root',
      })
    ).toEqual(['MPCD_ADMIN_PORTT', 'MPCD_LISTN']);
  });
});

describe('renderConfigFile', () => {
  /** A config with every field away from its default. */
  function custom(d: string): DaemonConfig {
    return {
      ...defaultConfig(d),
      listen: ['/ip4/0.0.0.0/tcp/7101', '/ip6/::/tcp/7101'],
      announce: ['/dns4/mpcd-a/tcp/7101'],
      bootstrap: [`/dns4/mpcd-b/tcp/7102/p2p/${ed[1]}`],
      peers: [ed[1]!, ed[2]!],
      coordinator: ed[3],
      admin: { host: '::1', port: 0 },
      logLevel: 'debug',
      primePool: { size: 0, levels: ['level112', 'level128'] },
      insecureTestPrimes: join(d, 'fixtures', 'primes.json'),
      timeouts: { roundMs: 1000, sessionMs: 20_000, joinMs: 3000, drainMs: 0, pullMs: 250 },
      maxSessions: 4,
      masterKeyFile: '/run/secrets/mpcd-key',
      passphraseFile: undefined,
    };
  }

  it('round-trips through loadConfig: the defaults and a config with every field changed', async () => {
    for (const make of [defaultConfig, custom]) {
      const d = tempDir();
      const cfg = make(d);
      writeFileSync(join(d, CONFIG_FILE), renderConfigFile(cfg));
      expect(await loadConfig({ dataDir: d, env: {}, requireFile: true })).toEqual(cfg);
    }
    const d = tempDir();
    const pp = { ...defaultConfig(d), passphraseFile: join(d, 'pp') };
    writeFileSync(join(d, CONFIG_FILE), renderConfigFile(pp));
    expect(await loadConfig({ dataDir: d, env: {} })).toEqual(pp);
  });

  it('writes paths inside the data dir relative to it', () => {
    const d = tempDir();
    const text = renderConfigFile(custom(d));
    expect(text).toContain('"insecureTestPrimes": "fixtures/primes.json"');
    expect(text).toContain('"masterKeyFile": "/run/secrets/mpcd-key"');
  });

  it('puts a comment above every field naming its variable and flag, and says why it matters', () => {
    const text = renderConfigFile(defaultConfig('/d'));
    const lines = text.split('\n');
    for (const k of CONFIG_KEYS) {
      const name = k.path.split('.').at(-1)!;
      const i = lines.findIndex((l) => l.trimStart().startsWith(`"${name}":`));
      expect(i, k.path).toBeGreaterThan(0);
      expect(lines[i - 1]!.trimStart().startsWith('//'), k.path).toBe(true);
      // the field's comment block (the lines directly above it)
      let j = i - 1;
      while (j > 0 && lines[j - 1]!.trimStart().startsWith('//')) j--;
      const block = lines.slice(j, i).join('\n');
      expect(block, k.path).toContain(k.env);
      expect(block, k.path).toContain(k.option);
      expect(block, k.path).toContain('Default:');
    }
    expect(text).toMatch(/Keep it on loopback/);
    expect(text).toMatch(/only thing that admits a peer/);
    expect(text).toMatch(/NEVER set this on a node whose keys protect real funds/);
  });

  it('validateConfig applies the file rules to a config built in code', () => {
    const d = '/d';
    expect(validateConfig(defaultConfig(d))).toEqual(defaultConfig(d));
    expect(() => validateConfig({ ...defaultConfig(d), peers: [secp] })).toThrow(
      /^peers\[0\]: must be an Ed25519 peer id/
    );
    expect(() => validateConfig({ ...defaultConfig(d), maxSessions: 0 })).toThrow(ConfigError);
  });
});
