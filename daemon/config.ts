/**
 * The daemon's configuration: one typed, validated {@link DaemonConfig} built from four layers,
 * each overriding the one before — built-in defaults < the data dir's `mpcd.jsonc` < `MPCD_*`
 * environment variables < command-line flags (ARCHITECTURE.md "Observability and operations":
 * "Config: file + `MPCD_*` env + flags, validated at start with errors that name the field").
 *
 * Why it is this strict:
 * - every value is checked where it enters, and a {@link ConfigError} names the key path, the
 *   environment variable or the flag it came from, so the operator fixes the right layer;
 * - an unknown key in the file is an error: a typo such as `"peer"` for `"peers"` would otherwise
 *   silently leave the allow-list empty;
 * - peer ids must be Ed25519 (`12D3KooW…`): a peer id is a party id and its key signs protocol
 *   envelopes (ARCHITECTURE.md "Identities and trust"), so no other key type can be a party;
 * - file paths are resolved against the data dir here but never read: the master key and the test
 *   primes are loaded by the code that needs them, and nothing secret passes through this module.
 *
 * The file is JSONC in the narrowest sense: JSON plus whole-line `//` comments.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { SecurityLevelName } from '../protocol/params.js';

/** Name of the config file inside the data dir. */
export const CONFIG_FILE = 'mpcd.jsonc';

/** pino levels the daemon accepts. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Security levels a prime pool can serve (protocol/params.ts). */
const POOL_LEVELS: readonly SecurityLevelName[] = ['level112', 'level128'];

/** The validated configuration of one party daemon. */
export interface DaemonConfig {
  /** Absolute path of the data dir (config file, keystore, peer-id file). */
  readonly dataDir: string;
  /** Multiaddrs to listen on (TCP). Default `['/ip4/127.0.0.1/tcp/7100']`. */
  readonly listen: readonly string[];
  /** Multiaddrs announced instead of the listen addresses. Default `[]`. */
  readonly announce: readonly string[];
  /** Multiaddrs ending in `/p2p/<peer id>` to join the DHT through. Default `[]`. */
  readonly bootstrap: readonly string[];
  /** Peer ids of the other parties (the allow-list), canonical `12D3KooW…` form. Default `[]`. */
  readonly peers: readonly string[];
  /** The coordinator's peer id: allowed, and the only peer that may invite. */
  readonly coordinator: string | undefined;
  /** Admin HTTP API address. Default 127.0.0.1:7180 (port 0 = ephemeral). */
  readonly admin: { readonly host: string; readonly port: number };
  /** pino level. Default `'info'`. */
  readonly logLevel: LogLevel;
  /** Background prime pool: prime sets kept ready per level. Default 2, `['level128']`. */
  readonly primePool: { readonly size: number; readonly levels: readonly SecurityLevelName[] };
  /** TEST ONLY: absolute path of the fixture primes (tests/fixtures/primes.json). */
  readonly insecureTestPrimes: string | undefined;
  readonly timeouts: {
    /** One protocol round. Default 60 000. */
    readonly roundMs: number;
    /** A whole session. Default 600 000. */
    readonly sessionMs: number;
    /** Invitation → start. Default 30 000. */
    readonly joinMs: number;
    /** Graceful shutdown. Default 30 000. */
    readonly drainMs: number;
    /** Ask a peer again for a missing message. Default 1 000. */
    readonly pullMs: number;
  };
  /** Concurrent sessions. Default 32. */
  readonly maxSessions: number;
  /** Master key source: absolute path of a key file (keystore/master-key.ts). */
  readonly masterKeyFile: string | undefined;
  /** Master key source: absolute path of a file holding the passphrase. */
  readonly passphraseFile: string | undefined;
}

/** Names of the flags {@link loadConfig} understands (commander's camelCase option names). */
export type FlagName =
  | 'listen'
  | 'announce'
  | 'bootstrap'
  | 'peers'
  | 'coordinator'
  | 'adminHost'
  | 'adminPort'
  | 'logLevel'
  | 'primePoolSize'
  | 'primePoolLevels'
  | 'insecureTestPrimes'
  | 'roundTimeoutMs'
  | 'sessionTimeoutMs'
  | 'joinTimeoutMs'
  | 'drainTimeoutMs'
  | 'pullTimeoutMs'
  | 'maxSessions'
  | 'masterKeyFile'
  | 'passphraseFile';

/** What went wrong, for callers that branch (the message is for people). */
export type ConfigErrorCode = 'INVALID_CONFIG' | 'CONFIG_FILE_MISSING' | 'CONFIG_FILE_INVALID';

/**
 * A configuration value, file or source broke a rule. `field` is the name as the operator wrote
 * it — key path (`timeouts.roundMs`, `peers[1]`), variable (`MPCD_ADMIN_PORT`), flag
 * (`--admin-port`) or file path — and the message starts with it.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly field: string,
    message: string,
    readonly code: ConfigErrorCode = 'INVALID_CONFIG'
  ) {
    super(message);
  }
}

// ---- field table ------------------------------------------------------------------------------

/** Where a value came from: `name` is what errors call it. */
interface Origin {
  readonly source: 'file' | 'env' | 'flag';
  readonly name: string;
}

/** One config field: its names in every layer, default, reader and documentation. */
interface FieldSpec {
  /** Dotted key path in the file and in {@link DaemonConfig}. */
  readonly path: string;
  readonly env: string;
  readonly flag: FlagName;
  /** The flag as typed: `--admin-port`. */
  readonly option: string;
  readonly default: unknown;
  /** Resolved against the data dir; shown relative to it in the rendered file. */
  readonly isPath?: boolean;
  /** Comment lines of the rendered file (the default, variable and flag are appended). */
  readonly doc: readonly string[];
  /** Turn a layer's raw value into the field's checked value. @throws ConfigError */
  readonly read: (raw: unknown, origin: Origin, dataDir: string) => unknown;
}

/** At most this much of an offending value is echoed (config holds no secrets, but keep it short). */
function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function fail(where: string, rule: string, got: unknown): never {
  throw new ConfigError(where, `${where}: ${rule} (got ${show(got)})`);
}

/** Text layers (env, flags) carry strings; the file carries JSON types. */
const isText = (o: Origin): boolean => o.source !== 'file';

function readInt(min: number, max: number) {
  return (raw: unknown, o: Origin): number => {
    const rule = `must be an integer in [${min}, ${max}]`;
    let n: number | undefined;
    if (typeof raw === 'number') n = raw;
    else if (typeof raw === 'string' && isText(o) && /^\s*-?\d{1,16}\s*$/.test(raw))
      n = Number(raw);
    if (n === undefined || !Number.isSafeInteger(n) || n < min || n > max) {
      fail(
        o.name,
        typeof raw === 'string' && !isText(o) ? `${rule}, written as a number` : rule,
        raw
      );
    }
    return n;
  };
}

/**
 * A list: a JSON array of strings in the file; in env and flags a comma-separated string (empty =
 * empty list) or, from a repeatable flag, an array whose items may themselves hold commas.
 * Items are trimmed, checked one by one (errors name `field[i]`) and must be unique.
 */
function readList(check: (item: string, where: string) => string, what: string) {
  return (raw: unknown, o: Origin): string[] => {
    let items: string[];
    if (isText(o) && typeof raw === 'string') items = raw.split(',');
    else if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) {
      items = isText(o) ? raw.flatMap((x: string) => x.split(',')) : raw;
    } else {
      return fail(o.name, `must be a list of ${what}`, raw);
    }
    if (isText(o)) items = items.map((x) => x.trim()).filter((x) => x !== '');
    const out = items.map((item, i) => check(item, `${o.name}[${i}]`));
    const dup = out.findIndex((x, i) => out.indexOf(x) !== i);
    if (dup >= 0) fail(`${o.name}[${dup}]`, 'is listed twice', items[dup]);
    return out;
  };
}

/** A string that may be unset: `null` in the file, an empty string in env and flags. */
function readOptional(check: (s: string, where: string, dataDir: string) => string) {
  return (raw: unknown, o: Origin, dataDir: string): string | undefined => {
    if (raw === null && !isText(o)) return undefined;
    if (raw === '' && isText(o)) return undefined;
    if (typeof raw !== 'string') {
      return fail(o.name, isText(o) ? 'must be a string' : 'must be a string or null', raw);
    }
    return check(raw, o.name, dataDir);
  };
}

function readOneOf<T extends string>(allowed: readonly T[]) {
  return (raw: unknown, o: Origin): T => {
    if (typeof raw !== 'string' || !allowed.includes(raw as T)) {
      fail(o.name, `must be one of ${allowed.join(', ')}`, raw);
    }
    return raw as T;
  };
}

/** A peer id in canonical form; only Ed25519 ids (`12D3KooW…`) can be mpcd parties. */
function checkPeerId(s: string, where: string): string {
  let id;
  try {
    id = peerIdFromString(s);
  } catch {
    return fail(where, 'must be a peer id (12D3KooW…, as printed by `mpcd id`)', s);
  }
  if (id.type !== 'Ed25519')
    fail(where, `must be an Ed25519 peer id (12D3KooW…), not ${id.type}`, s);
  return id.toString();
}

function parseAddr(s: string, where: string): Multiaddr {
  let m: Multiaddr | undefined;
  try {
    m = multiaddr(s);
  } catch {
    // handled below
  }
  if (!m || m.getComponents().length === 0) fail(where, 'must be a multiaddr', s);
  return m;
}

function checkAddr(s: string, where: string): string {
  return parseAddr(s, where).toString();
}

/** The TCP transport listens on `/ip4|ip6/<address>/tcp/<port>` and nothing else. */
function checkListenAddr(s: string, where: string): string {
  const m = parseAddr(s, where);
  const names = m.getComponents().map((c) => c.name);
  if (names.length !== 2 || !['ip4', 'ip6'].includes(names[0]!) || names[1] !== 'tcp') {
    fail(where, 'must be a TCP address /ip4/<address>/tcp/<port> or /ip6/<address>/tcp/<port>', s);
  }
  return m.toString();
}

/** A bootstrap node is dialled by peer id, so its address must end in `/p2p/<Ed25519 peer id>`. */
function checkBootstrapAddr(s: string, where: string): string {
  const m = parseAddr(s, where);
  const last = m.getComponents().at(-1)!;
  if (last.name !== 'p2p' || last.value === undefined) {
    fail(where, 'must end in /p2p/<peer id>', s);
  }
  checkPeerId(last.value, where);
  return m.toString();
}

function checkHost(raw: unknown, o: Origin): string {
  const ok =
    typeof raw === 'string' &&
    (isIP(raw) !== 0 ||
      (raw.length <= 253 &&
        /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9-]+)*$/.test(raw)));
  if (!ok) fail(o.name, 'must be an IP address or a host name', raw);
  return raw;
}

/** A path, made absolute against the data dir. Not read here. */
function checkPath(s: string, where: string, dataDir: string): string {
  if (s.trim() === '' || s.includes('\0')) fail(where, 'must be a file path', s);
  return isAbsolute(s) ? resolve(s) : resolve(dataDir, s);
}

/**
 * A field from its names `"<path> <ENV> <flag>"`, e.g. `"admin.port MPCD_ADMIN_PORT adminPort"`.
 * The option (`--admin-port`) is derived from the flag.
 */
function field(
  names: `${string} ${string} ${FlagName}`,
  dflt: unknown,
  read: FieldSpec['read'],
  doc: readonly string[],
  isPath = false
): FieldSpec {
  const [path, env, flag] = names.split(' ') as [string, string, FlagName];
  const option = `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  return { path, env, flag, option, default: dflt, read, doc, isPath };
}

/** A timeout in ms within [min, max]. */
function timeout(
  names: `${string} ${string} ${FlagName}`,
  dflt: number,
  [min, max]: [number, number],
  ...doc: string[]
): FieldSpec {
  return field(`timeouts.${names}`, dflt, readInt(min, max), [...doc, `Range ${min}..${max} ms.`]);
}

const readLevel = readOneOf(POOL_LEVELS);

/** Every field, in the order of the rendered file. Groups (`admin.*` …) must be contiguous. */
const FIELDS: readonly FieldSpec[] = [
  field(
    'listen MPCD_LISTEN listen',
    ['/ip4/127.0.0.1/tcp/7100'],
    readList(checkListenAddr, 'TCP multiaddrs'),
    [
      'Multiaddrs this node listens on for the other parties (TCP: /ip4|ip6/<address>/tcp/<port>).',
      'The default admits connections from this host only; /ip4/0.0.0.0/tcp/7100 admits other hosts.',
    ]
  ),
  field('announce MPCD_ANNOUNCE announce', [], readList(checkAddr, 'multiaddrs'), [
    'Addresses told to peers instead of the listen addresses, e.g. a public address behind NAT',
    'or a container name (/dns4/mpcd-a/tcp/7100). Empty = announce the listen addresses.',
  ]),
  field(
    'bootstrap MPCD_BOOTSTRAP bootstrap',
    [],
    readList(checkBootstrapAddr, 'multiaddrs ending in /p2p/<peer id>'),
    [
      'Nodes to join the private DHT through, each ending in /p2p/<peer id>. Their peer ids must',
      'also be in "peers" or be the "coordinator": the allow-list refuses every other connection.',
    ]
  ),
  field('peers MPCD_PEERS peers', [], readList(checkPeerId, 'peer ids'), [
    'Ed25519 peer ids (12D3KooW…, from `mpcd id`) of the other parties. This allow-list, plus',
    'the coordinator, is the only thing that admits a peer: any other peer id is refused, whatever',
    'its address. An empty list with no coordinator means this node talks to nobody.',
  ]),
  field('coordinator MPCD_COORDINATOR coordinator', undefined, readOptional(checkPeerId), [
    "The coordinator's peer id: allowed to connect, and the only peer whose session invitations",
    'this node accepts. null = no coordinator: no invitation is accepted.',
  ]),
  field('admin.host MPCD_ADMIN_HOST adminHost', '127.0.0.1', checkHost, [
    'Interface of the admin API. Keep it on loopback (127.0.0.1 or ::1): the API describes peers',
    'and sessions and is meant for the local operator, not the network.',
  ]),
  field('admin.port MPCD_ADMIN_PORT adminPort', 7180, readInt(0, 65535), [
    'TCP port of the admin API; 0 = any free port.',
  ]),
  field('logLevel MPCD_LOG_LEVEL logLevel', 'info', readOneOf(LOG_LEVELS), [
    `Log level: ${LOG_LEVELS.join(', ')}.`,
    'Logs are JSON lines (pino) and never contain key material.',
  ]),
  field('primePool.size MPCD_PRIME_POOL_SIZE primePoolSize', 2, readInt(0, 32), [
    'Prime sets kept ready per level, 0..32 (0 = no pool: key generation waits for primes).',
  ]),
  field(
    'primePool.levels MPCD_PRIME_POOL_LEVELS primePoolLevels',
    ['level128'],
    readList((s, w) => readLevel(s, { source: 'file', name: w }), 'security levels'),
    [`Security levels to keep primes for: any of ${POOL_LEVELS.join(', ')}.`]
  ),
  field(
    'insecureTestPrimes MPCD_INSECURE_TEST_PRIMES insecureTestPrimes',
    undefined,
    readOptional(checkPath),
    [
      'TEST ONLY. Path of the repository fixture primes (tests/fixtures/primes.json), used instead',
      'of fresh primes. Those primes are public: anyone can factor Paillier keys made from them and',
      'recover key shares. NEVER set this on a node whose keys protect real funds.',
    ],
    true
  ),
  timeout(
    'roundMs MPCD_ROUND_TIMEOUT_MS roundTimeoutMs',
    60_000,
    [100, 3_600_000],
    'Longest wait for the messages of one protocol round before the session fails.'
  ),
  timeout(
    'sessionMs MPCD_SESSION_TIMEOUT_MS sessionTimeoutMs',
    600_000,
    [1_000, 86_400_000],
    'Longest a whole session may run, from start to result.'
  ),
  timeout(
    'joinMs MPCD_JOIN_TIMEOUT_MS joinTimeoutMs',
    30_000,
    [100, 3_600_000],
    'Longest wait for each network step of joining (the coordinator, the other parties) and, for a',
    'signing session, for its start. A keygen waits for its start until the invitation expires',
    '(the coordinator sets that; at most timeouts.sessionMs): other parties may be generating primes.'
  ),
  timeout(
    'drainMs MPCD_DRAIN_TIMEOUT_MS drainTimeoutMs',
    30_000,
    [0, 600_000],
    'On shutdown, how long running sessions may go on before they are stopped.'
  ),
  timeout(
    'pullMs MPCD_PULL_TIMEOUT_MS pullTimeoutMs',
    1_000,
    [50, 60_000],
    'How long to wait for a missing message before asking its sender for it again.'
  ),
  field('maxSessions MPCD_MAX_SESSIONS maxSessions', 32, readInt(1, 1024), [
    'Most sessions (keygen, signing) run at the same time, 1..1024: bounds memory and CPU use.',
  ]),
  field(
    'masterKeyFile MPCD_MASTER_KEY_FILE masterKeyFile',
    undefined,
    readOptional(checkPath),
    [
      'File holding the 32-byte master key that encrypts the keystore (64 hex digits or base64),',
      'readable by its owner only (chmod 600). Use exactly one master key source: MPCD_MASTER_KEY,',
      'this file, or a passphrase (passphraseFile or MPCD_PASSPHRASE).',
    ],
    true
  ),
  field(
    'passphraseFile MPCD_PASSPHRASE_FILE passphraseFile',
    undefined,
    readOptional(checkPath),
    [
      'File holding a passphrase (12 characters or more) from which the master key is derived',
      'with scrypt.',
    ],
    true
  ),
];

/** Comments of the groups in the rendered file. */
const GROUP_DOCS: Readonly<Record<string, readonly string[]>> = {
  admin: ['Admin HTTP API: /healthz, /readyz, /metrics and status.'],
  primePool: [
    'Paillier keys need safe primes (seconds each at level128). A pool filled in the background',
    'by worker threads keeps key generation from waiting for them.',
  ],
  timeouts: ['Timeouts in milliseconds.'],
};

const FILE_HEADER = [
  'mpcd configuration (JSONC: JSON plus whole-line // comments).',
  'Precedence: built-in defaults < this file < MPCD_* environment variables < flags.',
  'Every value is checked at start, and an unknown key is an error, so a typo is never ignored.',
  'null means "not set". Relative paths are relative to the data dir.',
];

// ---- loading ----------------------------------------------------------------------------------

/** Field values keyed by dotted path, and where each came from (absent = default). */
interface Layered {
  readonly values: Map<string, unknown>;
  readonly origins: Map<string, Origin>;
}

function freezeConfig(c: DaemonConfig): DaemonConfig {
  for (const v of Object.values(c)) {
    if (typeof v !== 'object' || v === null) continue;
    for (const w of Object.values(v)) if (Array.isArray(w)) Object.freeze(w);
    Object.freeze(v);
  }
  return Object.freeze(c);
}

function build(dataDir: string, values: Map<string, unknown>): DaemonConfig {
  const get = <T>(path: string): T => values.get(path) as T;
  return freezeConfig({
    dataDir,
    listen: get('listen'),
    announce: get('announce'),
    bootstrap: get('bootstrap'),
    peers: get('peers'),
    coordinator: get('coordinator'),
    admin: { host: get('admin.host'), port: get('admin.port') },
    logLevel: get('logLevel'),
    primePool: { size: get('primePool.size'), levels: get('primePool.levels') },
    insecureTestPrimes: get('insecureTestPrimes'),
    timeouts: {
      roundMs: get('timeouts.roundMs'),
      sessionMs: get('timeouts.sessionMs'),
      joinMs: get('timeouts.joinMs'),
      drainMs: get('timeouts.drainMs'),
      pullMs: get('timeouts.pullMs'),
    },
    maxSessions: get('maxSessions'),
    masterKeyFile: get('masterKeyFile'),
    passphraseFile: get('passphraseFile'),
  });
}

/** The value of a dotted path in a config (the inverse of {@link build}). */
function valueAt(cfg: DaemonConfig, path: string): unknown {
  let v: unknown = cfg;
  for (const part of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[part];
  return v;
}

function defaults(): Layered {
  return { values: new Map(FIELDS.map((f) => [f.path, f.default])), origins: new Map() };
}

function set(l: Layered, f: FieldSpec, raw: unknown, origin: Origin, dataDir: string): void {
  l.values.set(f.path, f.read(raw, origin, dataDir));
  l.origins.set(f.path, origin);
}

/** Rules across fields, checked on the merged result; errors name the layer each value came from. */
function crossCheck({ values, origins }: Layered): void {
  const name = (path: string): string => origins.get(path)?.name ?? path;
  const coordinator = values.get('coordinator') as string | undefined;
  if (coordinator !== undefined && (values.get('peers') as string[]).includes(coordinator)) {
    const n = name('coordinator');
    throw new ConfigError(
      n,
      `${n}: the coordinator ${coordinator} is also listed in ${name('peers')}; list only the other parties there`
    );
  }
  if (
    (values.get('primePool.size') as number) > 0 &&
    (values.get('primePool.levels') as string[]).length === 0
  ) {
    const n = name('primePool.levels');
    fail(n, `must name at least one level when ${name('primePool.size')} is above 0`, []);
  }
  if (values.get('masterKeyFile') !== undefined && values.get('passphraseFile') !== undefined) {
    const n = name('passphraseFile');
    throw new ConfigError(
      n,
      `${n}: cannot be combined with ${name('masterKeyFile')}; configure one master key source`
    );
  }
}

/**
 * Strip whole-line `//` comments (kept as empty lines, so error positions keep their line), parse,
 * and name the file and line of a syntax error. V8's message may quote the text near the error;
 * only its reason is kept.
 */
function parseJsonc(text: string, file: string): unknown {
  const stripped = text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .map((line) => (/^\s*\/\//.test(line) ? '' : line))
    .join('\n');
  try {
    return JSON.parse(stripped) as unknown;
  } catch (err) {
    const msg = (err as Error).message;
    const reason = msg.split(/ in JSON|, "/)[0];
    const pos = /at position (\d+)/.exec(msg);
    let where = '';
    if (pos) {
      const before = stripped.slice(0, Number(pos[1]));
      const column = before.length - before.lastIndexOf('\n');
      where = ` at line ${before.split('\n').length}, column ${column}`;
    } else if (/end of JSON input/.test(msg)) {
      where = ` at line ${stripped.split('\n').length} (end of file)`;
    }
    throw new ConfigError(
      file,
      `${file}: invalid JSON${where}: ${reason} (comments must be whole lines starting with //)`,
      'CONFIG_FILE_INVALID'
    );
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Walk the parsed file: raw values by field path; an unknown key is an error naming its path. */
function fileValues(parsed: unknown, file: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (obj: unknown, prefix: string): void => {
    if (!isObject(obj)) {
      const where = prefix || file;
      throw new ConfigError(where, `${where}: must be an object (got ${show(obj)})`);
    }
    for (const [key, value] of Object.entries(obj)) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (FIELDS.some((f) => f.path === path)) out.set(path, value);
      else if (FIELDS.some((f) => f.path.startsWith(`${path}.`))) walk(value, path);
      else {
        const known = [
          ...new Set(
            FIELDS.filter((f) => !prefix || f.path.startsWith(`${prefix}.`)).map(
              (f) => f.path.slice(prefix ? prefix.length + 1 : 0).split('.')[0]!
            )
          ),
        ];
        throw new ConfigError(
          path,
          `${path}: unknown key in ${file} (known${prefix ? ` in ${prefix}` : ''}: ${known.join(', ')})`
        );
      }
    }
  };
  walk(parsed, '');
  return out;
}

/** Read and parse the config file; undefined when absent and not required. */
async function readConfigFile(file: string, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return undefined;
    const why =
      code === 'ENOENT'
        ? 'no config file (run `mpcd init` first)'
        : `cannot be read (${code ?? 'error'})`;
    throw new ConfigError(file, `${file}: ${why}`, 'CONFIG_FILE_MISSING');
  }
  if (text.length > 1 << 20) {
    throw new ConfigError(
      file,
      `${file}: too large for a config file (over 1 MiB)`,
      'CONFIG_FILE_INVALID'
    );
  }
  return parseJsonc(text, file);
}

/**
 * Load the configuration: defaults < `<dataDir>/mpcd.jsonc` < `MPCD_*` env < flags. Each value is
 * validated as it enters; then the rules across fields are checked on the result.
 * @param opts.dataDir the data dir (`--data-dir` / `MPCD_DATA_DIR` / default: the caller decides);
 *   made absolute against the working directory
 * @param opts.env environment (default `process.env`); lists are comma-separated, an empty value
 *   is an empty list or "unset"
 * @param opts.flags parsed flags (commander); lists as `string[]` or a comma-separated string,
 *   numbers as numbers or strings; `undefined` entries are ignored
 * @param opts.requireFile fail when the file is missing (`mpcd start` after `mpcd init`)
 * @returns a frozen, validated config
 * @throws ConfigError naming the key path, variable or flag and the rule, or the file and line
 * @example
 * const cfg = await loadConfig({ dataDir: '/var/lib/mpcd', flags: { adminPort: '0' } });
 */
export async function loadConfig(opts: {
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  flags?: Partial<Record<FlagName, string | string[] | number | boolean>>;
  requireFile?: boolean;
}): Promise<DaemonConfig> {
  const dataDir = resolve(opts.dataDir);
  const env = opts.env ?? process.env;
  const flags: Partial<Record<string, unknown>> = opts.flags ?? {};
  const l = defaults();
  const file = join(dataDir, CONFIG_FILE);
  const parsed = await readConfigFile(file, opts.requireFile === true);
  const fromFile = parsed === undefined ? new Map<string, unknown>() : fileValues(parsed, file);
  for (const f of FIELDS) {
    if (fromFile.has(f.path))
      set(l, f, fromFile.get(f.path), { source: 'file', name: f.path }, dataDir);
  }
  for (const f of FIELDS) {
    const raw = env[f.env];
    if (raw !== undefined) set(l, f, raw, { source: 'env', name: f.env }, dataDir);
  }
  for (const f of FIELDS) {
    const raw = flags[f.flag];
    if (raw !== undefined) set(l, f, raw, { source: 'flag', name: f.option }, dataDir);
  }
  crossCheck(l);
  return build(dataDir, l.values);
}

/**
 * Check a config assembled in code (e.g. by `mpcd init` before it writes the file) with the file's
 * rules; errors name the key path.
 * @returns the config with peer ids and multiaddrs canonical and paths absolute
 * @throws ConfigError
 */
export function validateConfig(cfg: DaemonConfig): DaemonConfig {
  const dataDir = resolve(cfg.dataDir);
  const l = defaults();
  for (const f of FIELDS)
    set(l, f, valueAt(cfg, f.path) ?? null, { source: 'file', name: f.path }, dataDir);
  crossCheck(l);
  return build(dataDir, l.values);
}

/**
 * The built-in defaults.
 * @param dataDir the data dir (made absolute against the working directory)
 * @returns a frozen config
 * @example defaultConfig('/var/lib/mpcd').admin // { host: '127.0.0.1', port: 7180 }
 */
export function defaultConfig(dataDir: string): DaemonConfig {
  return build(resolve(dataDir), defaults().values);
}

/**
 * `MPCD_*` variables that are neither config fields nor a known non-config variable
 * (`MPCD_MASTER_KEY`, `MPCD_PASSPHRASE`, `MPCD_DATA_DIR`): likely typos, for the caller to log.
 * @returns the names, sorted
 * @example unknownEnv({ MPCD_LISTN: 'x', MPCD_LISTEN: '' }) // ['MPCD_LISTN']
 */
export function unknownEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const known = new Set([
    ...FIELDS.map((f) => f.env),
    'MPCD_MASTER_KEY',
    'MPCD_PASSPHRASE',
    'MPCD_DATA_DIR',
  ]);
  return Object.keys(env)
    .filter((k) => k.startsWith('MPCD_') && !known.has(k))
    .sort();
}

/** Names of every field in each layer: for CLI help and docs. */
export const CONFIG_KEYS: readonly {
  readonly path: string;
  readonly env: string;
  readonly flag: FlagName;
  readonly option: string;
}[] = Object.freeze(
  FIELDS.map(({ path, env, flag, option }) => Object.freeze({ path, env, flag, option }))
);

// ---- rendering --------------------------------------------------------------------------------

/** A path as the file shows it: relative when inside the data dir, so the dir can be moved. */
function displayPath(dataDir: string, p: string): string {
  const rel = relative(dataDir, p);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : p;
}

/** JSON of a value; lists of two or more items one per line (peer ids are long). */
function renderValue(v: unknown, indent: string): string {
  if (v === undefined) return 'null';
  if (Array.isArray(v) && v.length > 1) {
    return `[\n${v.map((x) => `${indent}  ${JSON.stringify(x)}`).join(',\n')}\n${indent}]`;
  }
  return JSON.stringify(v);
}

/**
 * The commented config file `mpcd init` writes: every field, with comment lines above it saying
 * what it is and why it matters, its default, variable and flag. {@link loadConfig} of the result
 * gives back `cfg`.
 * @param cfg the config to write (usually {@link defaultConfig} plus `init` options)
 * @returns JSONC text ending in a newline
 * @example await writeFile(join(dir, CONFIG_FILE), renderConfigFile(defaultConfig(dir)));
 */
export function renderConfigFile(cfg: DaemonConfig): string {
  const dataDir = resolve(cfg.dataDir);
  const lines = [...FILE_HEADER.map((l) => `// ${l}`), '{'];
  const entry = (f: FieldSpec, indent: string, last: boolean): void => {
    let v = valueAt(cfg, f.path);
    if (f.isPath && typeof v === 'string') v = displayPath(dataDir, v);
    const doc = [
      ...f.doc,
      `Default: ${renderValue(f.default, '')}. Env: ${f.env}${Array.isArray(f.default) ? ' (comma-separated)' : ''}. Flag: ${f.option}.`,
    ];
    lines.push(...doc.map((l) => `${indent}// ${l}`));
    lines.push(
      `${indent}${JSON.stringify(f.path.split('.').at(-1))}: ${renderValue(v, indent)}${last ? '' : ','}`
    );
  };
  const tops = [...new Set(FIELDS.map((f) => f.path.split('.')[0]!))];
  tops.forEach((top, i) => {
    const last = i === tops.length - 1;
    if (i > 0) lines.push('');
    const members = FIELDS.filter((f) => f.path.startsWith(`${top}.`));
    if (members.length === 0) {
      entry(
        FIELDS.find((f) => f.path === top)!,
        '  ',
        last
      );
      return;
    }
    lines.push(...(GROUP_DOCS[top] ?? []).map((l) => `  // ${l}`), `  ${JSON.stringify(top)}: {`);
    members.forEach((f, j) => entry(f, '    ', j === members.length - 1));
    lines.push(`  }${last ? '' : ','}`);
  });
  lines.push('}', '');
  return lines.join('\n');
}
