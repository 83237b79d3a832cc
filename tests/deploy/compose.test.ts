/**
 * Issue 7: the compose file and the Dockerfile are checked in CI, where no Docker engine runs.
 * `scripts/check-compose.ts` does the compose checks; here it is run on the real file (no
 * problems) and on broken copies (each breakage is reported, naming the service and key), so the
 * checker itself can fail. With a compose binary on the machine, `config -q` must accept the file
 * too.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCompose, parseCompose, repoContext } from '../../scripts/check-compose.js';
import { REPO } from '../helpers/daemons.js';

const text = readFileSync(join(REPO, 'docker-compose.yml'), 'utf8');
const ctx = repoContext(REPO);
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function mutated(change: (doc: Obj) => void): string[] {
  const doc = parseCompose(text) as Obj;
  change(doc);
  return checkCompose(doc, ctx);
}

describe('docker-compose.yml', () => {
  it('is consistent with the repository', () => {
    expect(checkCompose(parseCompose(text), ctx)).toEqual([]);
  });

  it('has a coordinator, three nodes and the mpc tool, each node with its own volume', () => {
    const doc = parseCompose(text) as Obj;
    expect(Object.keys(doc.services).sort()).toEqual([
      'coordinator',
      'mpc',
      'node-a',
      'node-b',
      'node-c',
    ]);
    expect(doc.services.mpc.profiles).toEqual(['tools']);
    expect(doc.services.mpc.entrypoint).toEqual(['mpc']);
    for (const n of ['node-a', 'node-b', 'node-c']) {
      expect(doc.services[n].depends_on.coordinator.condition).toBe('service_healthy');
      expect(doc.services[n].volumes).toEqual([`${n}-data:/data`]);
      expect(doc.services[n].build.network).toBe('host');
    }
  });

  it.each<[string, (d: Obj) => void, RegExp]>([
    ['a version key', (d) => (d.version = '3.8'), /version.*obsolete/],
    ['an unknown top-level key', (d) => (d.servces = {}), /unknown top-level key "servces"/],
    [
      'depends_on on a missing service',
      (d) => (d.services['node-a'].depends_on = { coordinatr: { condition: 'service_healthy' } }),
      /services\.node-a\.depends_on: no service "coordinatr"/,
    ],
    [
      'a bad depends_on condition',
      (d) => (d.services['node-a'].depends_on.coordinator.condition = 'healthy'),
      /condition: "healthy" is not a condition/,
    ],
    [
      'an undefined volume',
      (d) => (d.services['node-b'].volumes = ['node-x-data:/data']),
      /services\.node-b\.volumes: no volume "node-x-data"/,
    ],
    [
      'two nodes on one volume',
      (d) => (d.services['node-b'].volumes = ['node-a-data:/data']),
      /volume "node-a-data" is shared by node-a, node-b/,
    ],
    [
      'an undefined network',
      (d) => (d.services['node-c'].networks = ['other']),
      /services\.node-c\.networks: no network "other"/,
    ],
    [
      'a variable missing from .env.example',
      (d) => (d.services['node-a'].environment.MPCD_MASTER_KEY = '${NODE_A_KEY}'),
      /\$\{NODE_A_KEY\} has no default and is not in \.env\.example/,
    ],
    [
      'a misspelt daemon variable',
      (d) => (d.services['node-a'].environment.MPCD_LISTN = '/ip4/0.0.0.0/tcp/7100'),
      /services\.node-a\.environment\.MPCD_LISTN: no program of ours reads it/,
    ],
    [
      'a misspelt coordinator variable',
      (d) => (d.services.coordinator.environment.MPC_HTTP_HOSTNAME = '0.0.0.0'),
      /MPC_HTTP_HOSTNAME: no program of ours reads it/,
    ],
    [
      'a program the image lacks',
      (d) => (d.services.coordinator.command = ['mpc-coord', 'start']),
      /runs "mpc-coord", which the image does not install/,
    ],
    [
      'a node allow-listing itself',
      (d) => (d.services['node-a'].environment.MPCD_PEERS = '${NODE_A_PEER_ID},${NODE_C_PEER_ID}'),
      /node-a: MPCD_PEERS lists its own peer id[\s\S]*node-a: MPCD_PEERS lacks \$\{NODE_B_PEER_ID\}/,
    ],
    [
      'two nodes with one master key',
      (d) => (d.services['node-c'].environment.MPCD_MASTER_KEY = '${NODE_A_MASTER_KEY}'),
      /node-c: same master key as node-a/,
    ],
    [
      'a bootstrap that is not the coordinator',
      (d) => (d.services['node-b'].environment.MPCD_BOOTSTRAP = '/dns4/node-a/tcp/7100/p2p/x'),
      /node-b: MPCD_BOOTSTRAP should be the coordinator/,
    ],
    [
      'an unknown service key',
      (d) => (d.services['node-a'].enviroment = {}),
      /services\.node-a\.enviroment: not a service key/,
    ],
    [
      'a service without image or build',
      (d) => {
        delete d.services.mpc.image;
        delete d.services.mpc.build;
      },
      /services\.mpc: needs image or build/,
    ],
  ])('reports %s', (_what, change, message) => {
    expect(mutated(change).join('\n')).toMatch(message);
  });

  it('is accepted by `docker compose config` / `docker-compose config` when one is installed', (ctx2) => {
    const tries: string[][] = [['docker', 'compose'], ['docker-compose']];
    const bin = tries.find(
      (c) => spawnSync(c[0]!, [...c.slice(1), 'version'], { stdio: 'ignore' }).status === 0
    );
    if (!bin) {
      console.warn('no docker compose / docker-compose here: only the static checks ran');
      ctx2.skip();
      return;
    }
    const out = execFileSync(
      bin[0]!,
      [...bin.slice(1), '--env-file', '.env.example', '--profile', 'tools', 'config', '--services'],
      { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }
    );
    expect(out.trim().split('\n').sort()).toEqual([
      'coordinator',
      'mpc',
      'node-a',
      'node-b',
      'node-c',
    ]);
  });
});

describe('Dockerfile', () => {
  const df = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  const lines = df
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const runtime = lines.slice(lines.findLastIndex((l) => l.startsWith('FROM ')));

  it('is multi-stage with a node:24-bookworm-slim runtime, a non-root user, a volume, a healthcheck', () => {
    expect(lines.filter((l) => l.startsWith('FROM ')).length).toBeGreaterThanOrEqual(2);
    expect(runtime[0]).toBe('FROM node:24-bookworm-slim');
    const user = runtime.findLast((l) => l.startsWith('USER '));
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)\b/);
    expect(runtime.some((l) => /^VOLUME \["\/data"\]$/.test(l))).toBe(true);
    expect(runtime.some((l) => /^HEALTHCHECK .*CMD \["mpc-healthcheck"\]$/.test(l))).toBe(true);
  });

  it('links every program the compose file runs, and copies only what exists and is not ignored', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    for (const [name, target] of Object.entries(pkg.bin)) {
      expect(df).toContain(`ln -s /app/${target} /usr/local/bin/${name}`);
    }
    const ignored = readFileSync(join(REPO, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('!'));
    const copied = lines
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(copied.length).toBeGreaterThan(3);
    for (const src of copied) {
      expect(existsSync(join(REPO, src)), `${src} is copied but does not exist`).toBe(true);
      expect(ignored, `${src} is copied but .dockerignore drops it`).not.toContain(src);
    }
  });
});
