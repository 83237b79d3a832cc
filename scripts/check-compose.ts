/**
 * Static checks of `docker-compose.yml` against the rest of the repository (issue 7: "validate the
 * compose file in CI — syntax, and that every service/volume/env it names exists"). CI has no
 * Docker engine, so this reads the file itself instead of asking `docker compose config`:
 *
 * - it parses as YAML (anchors and `<<` merge keys resolved), with no `version:` key (compose-spec,
 *   which both `docker compose` v2 and `docker-compose` 1.29 accept) and only known top-level keys;
 * - every service has an image or a build whose context holds a Dockerfile; every `depends_on`,
 *   network and named volume it uses is defined; no two services share a data volume;
 * - every `${VAR}` without a default is declared in `.env.example`, and every variable a service
 *   sets is one its program reads (`MPCD_*`: a daemon config variable; `MPC_*`: named in `cli/`);
 * - the program each service runs is one the image installs (a `bin` of package.json);
 * - each node's allow-list names the other nodes' peer ids, never its own, and each node has its
 *   own master key variable.
 *
 *   npx tsx scripts/check-compose.ts [docker-compose.yml]   # prints the problems, exit 1 if any
 * @module
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { unknownEnv } from '../daemon/config.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

const TOP_LEVEL = new Set(['services', 'networks', 'volumes', 'secrets', 'configs']);
/** Service keys this file may use: compose-spec keys that docker-compose 1.29 also knows. */
const SERVICE_KEYS = new Set([
  'image',
  'build',
  'command',
  'entrypoint',
  'environment',
  'env_file',
  'volumes',
  'networks',
  'ports',
  'depends_on',
  'healthcheck',
  'restart',
  'stop_grace_period',
  'stop_signal',
  'profiles',
  'user',
  'read_only',
  'tmpfs',
  'cap_drop',
  'security_opt',
  'logging',
  'ulimits',
  'secrets',
  'labels',
  'init',
]);
const CONDITIONS = new Set([
  'service_started',
  'service_healthy',
  'service_completed_successfully',
]);
/** Variables a service may set that no program of ours reads, on purpose. */
const FOREIGN_ENV = new Set(['NODE_ENV', 'NODE_OPTIONS', 'TZ', 'XDG_CONFIG_HOME']);

/** What the checks compare the compose file with; read from the repository by default. */
export interface ComposeContext {
  /** Directory the compose file's relative paths resolve against. */
  readonly dir: string;
  /** Variable names declared in `.env.example`. */
  readonly envExample: ReadonlySet<string>;
  /** Program names the image installs (package.json `bin`). */
  readonly programs: ReadonlySet<string>;
  /** Whether a program of ours reads the variable `name`. */
  readonly readsEnv: (name: string) => boolean;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parse compose YAML as compose does: anchors, aliases and `<<` merge keys resolved. */
export function parseCompose(text: string): unknown {
  return parse(text, { merge: true, maxAliasCount: 100 });
}

/** The repository's context for {@link checkCompose}. */
export function repoContext(dir = REPO): ComposeContext {
  const envExample = new Set(
    readFileSync(join(dir, '.env.example'), 'utf8')
      .split('\n')
      .map((l) => /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(l)?.[1])
      .filter((x): x is string => x !== undefined)
  );
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
  };
  const cliText = sourcesUnder(join(dir, 'cli')).join('\n');
  return {
    dir,
    envExample,
    programs: new Set(Object.keys(pkg.bin)),
    readsEnv: (name) =>
      name.startsWith('MPCD_')
        ? unknownEnv({ [name]: '' }).length === 0
        : name.startsWith('MPC_')
          ? new RegExp(`\\b${name}\\b`).test(cliText)
          : FOREIGN_ENV.has(name),
  };
}

function sourcesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourcesUnder(p));
    else if (name.endsWith('.ts')) out.push(readFileSync(p, 'utf8'));
  }
  return out;
}

/** `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`: the name and whether it has a default. */
function references(value: string): Array<{ name: string; hasDefault: boolean }> {
  const out: Array<{ name: string; hasDefault: boolean }> = [];
  for (const m of value.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?][^}]*)?\}/g)) {
    out.push({ name: m[1]!, hasDefault: (m[2] ?? '').replace(':', '').startsWith('-') });
  }
  return out;
}

/** Every string anywhere in a value. */
function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (isObj(v)) return Object.values(v).flatMap(strings);
  return [];
}

/** `environment` as a map, from either compose form (map or `KEY=value` list). */
function environment(svc: Obj): Map<string, string> {
  const env = svc.environment;
  const out = new Map<string, string>();
  if (Array.isArray(env)) {
    for (const e of env) {
      const s = String(e);
      const i = s.indexOf('=');
      out.set(i < 0 ? s : s.slice(0, i), i < 0 ? '' : s.slice(i + 1));
    }
  } else if (isObj(env)) {
    for (const [k, v] of Object.entries(env)) out.set(k, v === null ? '' : String(v));
  }
  return out;
}

function list(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (isObj(v)) return Object.keys(v);
  return [];
}

/**
 * Check a parsed compose document.
 * @returns the problems, each naming the service and key; empty when the file is consistent
 */
export function checkCompose(doc: unknown, ctx: ComposeContext): string[] {
  const problems: string[] = [];
  if (!isObj(doc)) return ['the file is not a YAML mapping'];
  if ('version' in doc) problems.push('`version:` is obsolete in the compose-spec format: drop it');
  for (const k of Object.keys(doc)) {
    if (!TOP_LEVEL.has(k) && !k.startsWith('x-')) problems.push(`unknown top-level key "${k}"`);
  }
  const services = isObj(doc.services) ? doc.services : {};
  if (Object.keys(services).length === 0) problems.push('no services');
  const networks = new Set(Object.keys(isObj(doc.networks) ? doc.networks : {}));
  const volumes = new Set(Object.keys(isObj(doc.volumes) ? doc.volumes : {}));
  const volumeUsers = new Map<string, string[]>();

  for (const [name, raw] of Object.entries(services)) {
    const at = `services.${name}`;
    if (!isObj(raw)) {
      problems.push(`${at}: not a mapping`);
      continue;
    }
    const svc = raw;
    for (const k of Object.keys(svc)) {
      if (!SERVICE_KEYS.has(k)) problems.push(`${at}.${k}: not a service key this file may use`);
    }
    if (svc.image === undefined && svc.build === undefined)
      problems.push(`${at}: needs image or build`);
    if (svc.build !== undefined) {
      const b = isObj(svc.build) ? svc.build : { context: svc.build };
      const context = resolve(ctx.dir, String(b.context ?? '.'));
      const dockerfile = join(context, String(b.dockerfile ?? 'Dockerfile'));
      if (!existsSync(dockerfile)) problems.push(`${at}.build: no ${dockerfile}`);
    }
    for (const dep of list(svc.depends_on)) {
      if (!(dep in services)) problems.push(`${at}.depends_on: no service "${dep}"`);
      const cond = isObj(svc.depends_on)
        ? (svc.depends_on[dep] as Obj | null)?.condition
        : undefined;
      if (cond !== undefined && !CONDITIONS.has(String(cond)))
        problems.push(`${at}.depends_on.${dep}.condition: "${String(cond)}" is not a condition`);
      if (cond === 'service_healthy') {
        const target = services[dep];
        if (isObj(target) && isObj(target.healthcheck) && target.healthcheck.disable === true)
          problems.push(`${at}.depends_on.${dep}: waits for health, but ${dep} has none`);
      }
    }
    for (const n of list(svc.networks)) {
      if (!networks.has(n)) problems.push(`${at}.networks: no network "${n}" defined`);
    }
    for (const v of Array.isArray(svc.volumes) ? svc.volumes : []) {
      const source = isObj(v) ? String(v.source ?? '') : String(v).split(':')[0]!;
      if (source === '' || /^[./~]/.test(source)) continue; // bind mount or anonymous
      if (!volumes.has(source)) problems.push(`${at}.volumes: no volume "${source}" defined`);
      volumeUsers.set(source, [...(volumeUsers.get(source) ?? []), name]);
    }
    for (const s of strings(svc)) {
      for (const r of references(s)) {
        if (!r.hasDefault && !ctx.envExample.has(r.name))
          problems.push(`${at}: \${${r.name}} has no default and is not in .env.example`);
      }
    }
    for (const k of environment(svc).keys()) {
      if (!ctx.readsEnv(k)) problems.push(`${at}.environment.${k}: no program of ours reads it`);
    }
    const argv = [
      ...list(svc.entrypoint),
      ...(svc.entrypoint === undefined ? list(svc.command) : []),
    ];
    if (argv.length > 0 && !ctx.programs.has(argv[0]!))
      problems.push(`${at}: runs "${argv[0]}", which the image does not install`);
  }
  for (const [vol, users] of volumeUsers) {
    if (users.length > 1) problems.push(`volume "${vol}" is shared by ${users.join(', ')}`);
  }
  problems.push(...checkNodes(services));
  return problems;
}

/** The party daemons: each allow-lists the others (not itself) and has its own master key. */
function checkNodes(services: Obj): string[] {
  const problems: string[] = [];
  const nodes = Object.entries(services).filter(
    ([, s]) => isObj(s) && environment(s).has('MPCD_PEERS')
  );
  const peerVar = new Map<string, string>(); // service → the variable holding its peer id
  for (const [name] of nodes) {
    peerVar.set(name, `${name.toUpperCase().replace(/-/g, '_')}_PEER_ID`);
  }
  const keys = new Map<string, string>();
  for (const [name, s] of nodes) {
    const env = environment(s as Obj);
    const peers = references(env.get('MPCD_PEERS') ?? '').map((r) => r.name);
    const expected = nodes.map(([n]) => peerVar.get(n)!).filter((v) => v !== peerVar.get(name));
    if (peers.includes(peerVar.get(name)!))
      problems.push(`services.${name}: MPCD_PEERS lists its own peer id`);
    for (const v of expected) {
      if (!peers.includes(v)) problems.push(`services.${name}: MPCD_PEERS lacks \${${v}}`);
    }
    const key = env.get('MPCD_MASTER_KEY') ?? env.get('MPCD_MASTER_KEY_FILE');
    if (key === undefined) problems.push(`services.${name}: no master key`);
    else if (keys.has(key))
      problems.push(`services.${name}: same master key as ${keys.get(key)} (${key})`);
    else keys.set(key, name);
    const coord = env.get('MPCD_COORDINATOR') ?? '';
    if (coord === '' || !(env.get('MPCD_BOOTSTRAP') ?? '').includes(coord))
      problems.push(`services.${name}: MPCD_BOOTSTRAP should be the coordinator (${coord})`);
  }
  return problems;
}

async function main(): Promise<void> {
  const file = resolve(process.argv[2] ?? join(REPO, 'docker-compose.yml'));
  const problems = checkCompose(
    parseCompose(readFileSync(file, 'utf8')),
    repoContext(dirname(file))
  );
  for (const p of problems) process.stderr.write(`${file}: ${p}\n`);
  if (problems.length > 0) process.exit(1);
  process.stdout.write(`${file}: ok\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
