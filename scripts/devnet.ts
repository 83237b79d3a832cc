/**
 * A local mpcd network in one command (`npm run devnet`): a coordinator and three party daemons
 * on 127.0.0.1, with all their data under one directory (default `./devnet`), an admin account,
 * and the three daemons registered as nodes. Re-running it reuses the directory: identities, keys
 * and the account survive.
 *
 *   npm run devnet [-- --dir ./devnet] [--fixtures]
 *
 * `--fixtures` makes the daemons take the repository's public TEST-ONLY primes (keygen in seconds;
 * never hold funds with such a key). Without it each daemon keeps a pool of fresh primes filled in
 * the background. Stop with Ctrl-C (the daemons drain first).
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURE_PRIMES, freePort } from '../tests/helpers/daemons.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
/** Node names: node-a, node-b, … */
const LETTERS = 'abcdefghijklmnop';

interface DevnetFile {
  api: number;
  p2p: number;
  nodes: Record<string, { port: number; peerId: string }>;
  coordinator: string;
}

export interface Devnet {
  readonly dir: string;
  readonly url: string;
  readonly token: string;
  stop(): Promise<void>;
}

function run(bin: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((res, rej) => {
    const c = spawn(process.execPath, ['--import', 'tsx', join(REPO, bin), ...args], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('exit', (code) =>
      code === 0 ? res(out) : rej(new Error(`${bin} ${args.join(' ')}: ${err || out}`))
    );
  });
}

/**
 * Start a long-running child; resolve once its output so far satisfies `ready`, with that output.
 * Everything it prints goes to `logFile` as a stream; only the output up to readiness is kept in
 * memory (a devnet runs for days).
 */
function startChild(
  bin: string,
  args: readonly string[],
  ready: (out: string) => boolean,
  logFile: string
): Promise<{ child: ChildProcess; output: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, bin), ...args], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(logFile, { flags: 'a', mode: 0o600 });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    let out = '';
    let done = false;
    const onData = (d: Buffer) => {
      if (done) return;
      out += d.toString();
      if (ready(out)) {
        done = true;
        res({ child, output: out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      if (!done) rej(new Error(`${bin} exited (${code}); see ${logFile}:\n${out.slice(-2000)}`));
    });
  });
}

async function api(url: string, path: string, token?: string, body?: unknown) {
  const r = await fetch(url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

/** Start (or restart) the devnet under `dir`. */
export async function startDevnet(opts: {
  dir: string;
  fixtures: boolean;
  say: (s: string) => void;
  /** Number of daemons (2..16) for a new devnet; default 3. */
  parties?: number;
}): Promise<Devnet> {
  const dir = resolve(opts.dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const stateFile = join(dir, 'devnet.json');
  const coordDir = join(dir, 'coordinator');
  let state: DevnetFile;
  if (existsSync(stateFile)) {
    state = JSON.parse(await readFile(stateFile, 'utf8')) as DevnetFile;
    const have = Object.keys(state.nodes).length;
    if (opts.parties !== undefined && opts.parties !== have) {
      throw new Error(
        `${dir} holds a devnet of ${have} daemons, not ${opts.parties}: use another --dir or remove it`
      );
    }
  } else {
    const count = opts.parties ?? 3;
    if (!Number.isInteger(count) || count < 2 || count > LETTERS.length) {
      throw new Error(`--parties must be in [2, ${LETTERS.length}]`);
    }
    opts.say(`creating a devnet of ${count} daemons in ${dir}`);
    const coordinator = (
      await run('cli/mpc-coordinator.ts', ['--data-dir', coordDir, 'id'])
    ).trim();
    const nodes: DevnetFile['nodes'] = {};
    for (const n of LETTERS.slice(0, count)) {
      const port = await freePort();
      const nodeDir = join(dir, `node-${n}`);
      await mkdir(nodeDir, { recursive: true, mode: 0o700 });
      await writeFile(join(nodeDir, 'master.key'), randomBytes(32).toString('hex') + '\n', {
        mode: 0o600,
      });
      const common = ['--data-dir', nodeDir];
      await run('cli/mpcd.ts', [
        ...common,
        'init',
        '--listen',
        `/ip4/127.0.0.1/tcp/${port}`,
        '--admin-port',
        '0',
        '--master-key-file',
        join(nodeDir, 'master.key'),
      ]);
      const id = JSON.parse(await run('cli/mpcd.ts', [...common, 'id', '--json'])) as {
        peerId: string;
      };
      nodes[n] = { port, peerId: id.peerId };
    }
    state = { api: await freePort(), p2p: await freePort(), nodes, coordinator };
    await writeFile(stateFile, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  }
  const NAMES = Object.keys(state.nodes);
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((r) => {
            if (c.exitCode !== null) return r();
            c.once('exit', () => r());
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 15_000).unref();
          })
      )
    );
  };
  try {
    const tokenFile = join(dir, 'admin.token');
    const coord = await startChild(
      'cli/mpc-coordinator.ts',
      [
        '--data-dir',
        coordDir,
        'start',
        '--http-port',
        String(state.api),
        '--p2p-listen',
        `/ip4/127.0.0.1/tcp/${state.p2p}`,
      ],
      // A new coordinator prints its one-time setup token on stdout after the start line: wait
      // for it too unless the account exists already.
      (out) =>
        out.includes('"mpc-coordinator started"') &&
        (existsSync(tokenFile) || /setup token: setup_\S+/.test(out)),
      join(dir, 'coordinator.log')
    );
    children.push(coord.child);
    const url = `http://127.0.0.1:${state.api}`;
    const addr = (n: string) =>
      `/ip4/127.0.0.1/tcp/${state.nodes[n]!.port}/p2p/${state.nodes[n]!.peerId}`;
    for (const n of NAMES) {
      const nodeDir = join(dir, `node-${n}`);
      const flags = [
        '--data-dir',
        nodeDir,
        'start',
        '--master-key-file',
        join(nodeDir, 'master.key'),
        '--peers',
        NAMES.filter((x) => x !== n)
          .map((x) => state.nodes[x]!.peerId)
          .join(','),
        '--coordinator',
        state.coordinator,
        '--bootstrap',
        n === 'a' ? '' : addr('a'),
        ...(opts.fixtures
          ? ['--insecure-test-primes', FIXTURE_PRIMES, '--prime-pool-size', '0']
          : []),
      ];
      const d = await startChild(
        'cli/mpcd.ts',
        flags,
        (out) => out.includes('"mpcd started"'),
        join(dir, `node-${n}.log`)
      );
      children.push(d.child);
    }
    const setup = /setup token: (setup_[A-Za-z0-9_-]+)/.exec(coord.output)?.[1];
    let token: string;
    if (setup) {
      const r = await api(url, '/v1/setup', undefined, { setupToken: setup, name: 'admin' });
      if (r.status !== 201) throw new Error(`account setup failed: ${JSON.stringify(r.body)}`);
      token = r.body.token as string;
      await writeFile(tokenFile, token + '\n', { mode: 0o600 });
      await writeFile(
        join(dir, 'recovery-codes.txt'),
        (r.body.recoveryCodes as string[]).join('\n') + '\n',
        { mode: 0o600 }
      );
    } else {
      token = (await readFile(tokenFile, 'utf8')).trim();
    }
    const nodes = (await api(url, '/v1/nodes', token)).body.nodes as Array<{ name: string }>;
    for (const n of NAMES) {
      if (nodes.some((x) => x.name === `node-${n}`)) continue;
      const r = await api(url, '/v1/nodes', token, {
        peerId: state.nodes[n]!.peerId,
        name: `node-${n}`,
        addresses: [addr(n)],
      });
      if (r.status !== 201)
        throw new Error(`registering node-${n} failed: ${JSON.stringify(r.body)}`);
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      const list = (await api(url, '/v1/nodes', token)).body.nodes as Array<{ online: boolean }>;
      if (list.filter((x) => x.online).length === NAMES.length) break;
      if (Date.now() > deadline) throw new Error('the daemons did not come online within 60 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    await writeFile(
      join(dir, 'mpc.env'),
      `export MPC_URL=${url}\nexport MPC_TOKEN=$(cat ${tokenFile})\n`,
      { mode: 0o600 }
    );
    return { dir, url, token, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    process.stdout.write(
      'npm run devnet [-- --dir ./devnet] [--parties 3] [--fixtures]\n' +
        '  --parties applies when the devnet is created; an existing one keeps its daemons.\n'
    );
    return;
  }
  const value = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    if (i < 0) return undefined;
    const v = args[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
    return v;
  };
  const dir = value('--dir') ?? 'devnet';
  const partiesText = value('--parties');
  const parties = partiesText === undefined ? undefined : Number(partiesText);
  if (parties !== undefined && !Number.isInteger(parties)) {
    throw new Error(`--parties must be a whole number, got ${JSON.stringify(partiesText)}`);
  }
  const net = await startDevnet({
    dir,
    fixtures: args.includes('--fixtures'),
    ...(parties !== undefined ? { parties } : {}),
    say: (s) => process.stdout.write(s + '\n'),
  });
  process.stdout.write(
    `\ndevnet up: a coordinator and the mpcd daemons on 127.0.0.1 (data and logs in ${net.dir})\n` +
      `  source ${join(net.dir, 'mpc.env')}        # MPC_URL and MPC_TOKEN for mpc and curl\n` +
      `  curl -s -H "authorization: Bearer $MPC_TOKEN" $MPC_URL/v1/nodes\n` +
      `  curl -s -H "authorization: Bearer $MPC_TOKEN" -H 'content-type: application/json' \\\n` +
      `       -d '{"threshold":2,"parties":3}' $MPC_URL/v1/keys\n` +
      `Ctrl-C stops it (the daemons drain first).\n`
  );
  const onSignal = () => void net.stop().then(() => process.exit(0));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`devnet: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
