/**
 * The `mpc` commands that talk to the coordinator, driven as real processes (issue 6: "CLI tests
 * drive the real binary") against the real `mpc-coordinator` binary and three real `mpcd` daemons
 * registered through `mpc nodes add`: account setup saves the config, nodes come online, a 2-of-3
 * keygen prints an address, a signature made by `mpc sign` verifies with `mpc verify` (and ethers),
 * and the exit codes of a short digest, a missing token, an unknown key and t > n.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyMessage } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, REPO, type DaemonProcess } from '../helpers/daemons.js';
import { MPC_ARGS, runNode, type Run } from '../helpers/run.js';

const COORD = ['--import', 'tsx', join(REPO, 'cli/mpc-coordinator.ts')];

let dir: string;
let xdg: string;
let coordinator: ChildProcess | undefined;
let cluster: Cluster | undefined;
let url: string;
/** What `mpc account setup` printed (checked below: never the token). */
let setupOutput = '';

/** Run a node script to completion (bounded), with the test's XDG_CONFIG_HOME and no MPC_*. */
function run(
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000
): Promise<Run> {
  return runNode(
    args,
    { XDG_CONFIG_HOME: xdg, MPC_URL: undefined, MPC_TOKEN: undefined, ...env },
    timeoutMs
  );
}

const mpc = (args: readonly string[], env?: Record<string, string>, timeoutMs?: number) =>
  run([...MPC_ARGS, ...args], env, timeoutMs);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mpc-cli-api-'));
  xdg = join(dir, 'xdg');
  const data = join(dir, 'coordinator');
  const id = await run([...COORD, '--data-dir', data, 'id']);
  expect(id.code, id.stderr).toBe(0);
  const coordinatorId = id.stdout.trim();

  cluster = await Cluster.create(['a', 'b', 'c']);
  const [A, B, C] = cluster.daemons as [DaemonProcess, DaemonProcess, DaemonProcess];
  await cluster.startAll(coordinatorId);

  const child = spawn(
    process.execPath,
    [
      ...COORD,
      '--data-dir',
      data,
      'start',
      '--http-port',
      '0',
      '--p2p-listen',
      '/ip4/127.0.0.1/tcp/0',
      '--log-level',
      'warn',
    ],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] }
  );
  coordinator = child;
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 30_000;
  while (!/setup token: (setup_\S+)/.test(out) || !/curl -X POST (\S+)\/v1\/setup/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no start: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const setup = /setup token: (setup_\S+)/.exec(out)![1]!;
  url = /curl -X POST (\S+)\/v1\/setup/.exec(out)![1]!;

  const r = await mpc(['--url', url, 'account', 'setup', '--setup-token', setup, '--name', 'ops']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('recovery codes');
  setupOutput = r.stdout + r.stderr;
  for (const d of [A, B, C]) {
    const add = await mpc([
      'nodes',
      'add',
      '--peer-id',
      d.peerId,
      '--name',
      `node-${d.name}`,
      '--address',
      d.address,
    ]);
    expect(add.code, add.stderr).toBe(0);
  }
}, 120_000);

afterAll(async () => {
  coordinator?.kill('SIGKILL');
  await cluster?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('mpc against a coordinator and three daemons', () => {
  let keyId: string;
  let address: string;

  it('account setup saved the URL and token to a 0600 config file, and never printed the token', async () => {
    const file = join(xdg, 'mpc', 'config.json');
    const cfg = JSON.parse(await readFile(file, 'utf8')) as { url: string; token: string };
    expect(cfg.url).toBe(url);
    expect(cfg.token).toMatch(/^mpc_/);
    expect((await stat(file)).mode & 0o077).toBe(0);
    expect(setupOutput).not.toContain(cfg.token);
    const show = await mpc(['config', 'show']);
    expect(show.stdout).not.toContain(cfg.token);
    expect(show.stdout).toContain('from the config file');
  });

  it('lists the three nodes as online', async () => {
    const deadline = Date.now() + 30_000;
    let nodes: Array<{ name: string; online: boolean }> = [];
    // The coordinator dials registered nodes every 2 s.
    while (Date.now() < deadline) {
      const r = await mpc(['nodes', '--json']);
      expect(r.code, r.stderr).toBe(0);
      nodes = (JSON.parse(r.stdout) as { nodes: typeof nodes }).nodes;
      if (nodes.every((n) => n.online)) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    expect(nodes.map((n) => [n.name, n.online])).toEqual([
      ['node-a', true],
      ['node-b', true],
      ['node-c', true],
    ]);
    const human = await mpc(['nodes']);
    expect(human.stdout).toMatch(/node-a\s+12D3KooW\S+\s+online/);
  }, 40_000);

  it('keygen 2-of-3 prints the key id, public key and address, with progress on stderr', async () => {
    const r = await mpc(
      ['keygen', '--threshold', '2', '--parties', '3', '--level', 'level112', '--json'],
      {},
      150_000
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, string>;
    expect(Object.keys(j).sort()).toEqual(['address', 'keyId', 'publicKey', 'sessionId']);
    expect(j.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(j.publicKey).toMatch(/^(0x)?0[23][0-9a-f]{64}$/);
    expect(r.stderr).toMatch(/session \S+: completed \(joined 3\/3, ready 3\/3, reported 3\/3\)/);
    keyId = j.keyId!;
    address = j.address!;
    const keys = await mpc(['keys']);
    expect(keys.stdout).toContain(`${keyId}  ${address}  2-of-3`);
  }, 160_000);

  it('sign --message hello gives a signature that mpc verify and ethers accept', async () => {
    const r = await mpc(['sign', '--key', keyId, '--message', 'hello'], {}, 90_000);
    expect(r.code, r.stderr).toBe(0);
    const sig = /^signature: (0x[0-9a-f]{130})$/m.exec(r.stdout)?.[1];
    expect(sig).toBeDefined();
    expect(r.stdout).toMatch(/^v: +(27|28)$/m);
    expect(verifyMessage('hello', sig!)).toBe(address);
    const v = await mpc([
      'verify',
      '--message',
      'hello',
      '--signature',
      sig!,
      '--address',
      address,
    ]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const bad = await mpc([
      'verify',
      '--message',
      'hellO',
      '--signature',
      sig!,
      '--address',
      address,
    ]);
    expect(bad.code).toBe(1);
  }, 100_000);

  it('sign --json with a digest prints one object; mpc session shows the completed session', async () => {
    const digest = '0x' + '5a'.repeat(32);
    const r = await mpc(
      ['sign', '--key', keyId, '--digest', digest, '--signers', 'node-b,node-c', '--json'],
      {},
      90_000
    );
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, string | number>;
    expect(Object.keys(j).sort()).toEqual(
      ['der', 'digest', 'keyId', 'r', 's', 'sessionId', 'signature', 'v'].sort()
    );
    expect(j.digest).toBe(digest);
    expect([27, 28]).toContain(j.v);
    const v = await mpc([
      'verify',
      '--digest',
      digest,
      '--signature',
      j.signature as string,
      '--address',
      address,
    ]);
    expect(v.code, v.stdout).toBe(0);
    const s = await mpc(['session', j.sessionId as string, '--json']);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({ id: j.sessionId, status: 'completed' });
  }, 100_000);

  it('sign --digest of 31 bytes → exit 2 naming --digest, before any request', async () => {
    const r = await mpc(['sign', '--key', keyId, '--digest', '0x' + 'ab'.repeat(31)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--digest: .*32 bytes/);
  });

  it('no token → exit 3; a wrong token → exit 3', async () => {
    const none = await mpc(['keys', '--json'], {
      XDG_CONFIG_HOME: join(dir, 'empty'),
      MPC_URL: url,
    });
    expect(none.code).toBe(3);
    expect(JSON.parse(none.stdout)).toMatchObject({ error: { code: 'AUTH' } });
    const wrong = await mpc(['--token', 'mpc_000000000000_nope', 'keys']);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).not.toContain('nope');
  });

  it('an unknown key → exit 2 with the server message', async () => {
    const r = await mpc(['sign', '--key', '0'.repeat(32), '--digest', '0x' + 'ab'.repeat(32)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no such key');
  });

  it('keygen --threshold 4 --parties 3 → exit 2 naming threshold', async () => {
    const r = await mpc(['keygen', '--threshold', '4', '--parties', '3', '--json']);
    expect(r.code).toBe(2);
    const j = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    expect(j.error).toEqual({ code: 'USAGE', message: 'threshold: must be at most parties (3)' });
  });

  it("account create, login, recover: a second account sees none of the first one's keys", async () => {
    const pw1 = join(dir, 'pw1');
    const pw2 = join(dir, 'pw2');
    await writeFile(pw1, 'correct horse battery', { mode: 0o600 });
    await writeFile(pw2, 'a brand new passphrase', { mode: 0o600 });
    const made = await mpc([
      'account',
      'create',
      '--name',
      'ann',
      '--password-file',
      pw1,
      '--json',
    ]);
    expect(made.code, made.stderr).toBe(0);
    const codes = (JSON.parse(made.stdout) as { recoveryCodes: string[] }).recoveryCodes;
    expect(codes.length).toBeGreaterThan(0);
    // ann works from her own config directory.
    const annEnv = { XDG_CONFIG_HOME: join(dir, 'xdg-ann'), MPC_URL: url };
    const login = await mpc(['login', '--name', 'ann', '--password-file', pw1], annEnv);
    expect(login.code, login.stderr).toBe(0);
    const keys = await mpc(['keys', '--json'], annEnv);
    expect(keys.code, keys.stderr).toBe(0);
    expect((JSON.parse(keys.stdout) as { keys: unknown[] }).keys).toEqual([]);
    const recover = await mpc(
      [
        'account',
        'recover',
        '--name',
        'ann',
        '--recovery-code',
        codes[0]!,
        '--new-password-file',
        pw2,
      ],
      annEnv
    );
    expect(recover.code, recover.stderr).toBe(0);
    expect((await mpc(['login', '--name', 'ann', '--password-file', pw1], annEnv)).code).toBe(3);
    expect((await mpc(['login', '--name', 'ann', '--password-file', pw2], annEnv)).code).toBe(0);
    const again = await mpc(
      [
        'account',
        'recover',
        '--name',
        'ann',
        '--recovery-code',
        codes[0]!,
        '--new-password-file',
        pw1,
      ],
      annEnv
    );
    expect(again.code).toBe(3); // a recovery code works once
  }, 60_000);

  it('an unreachable coordinator → exit 6', async () => {
    const r = await mpc(['--url', 'http://127.0.0.1:1', 'keys']);
    expect(r.code).toBe(6);
  });
});
