/**
 * The `mpc-coordinator` binary: first start prints a one-time setup token on stdout (and never in
 * the log), the token creates the admin account once, /healthz and /metrics answer, SIGTERM exits
 * 0, and a restart keeps the identity and prints no new token.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/daemons.js';

const BIN = join(REPO, 'cli/mpc-coordinator.ts');
const children: ChildProcess[] = [];
let dir: string;

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Start the coordinator; resolve with its API url, peer id and everything it printed. */
async function start(): Promise<{
  child: ChildProcess;
  url: string;
  peerId: string;
  out: () => string;
}> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      BIN,
      '--data-dir',
      dir,
      'start',
      '--http-port',
      '0',
      '--p2p-listen',
      '/ip4/127.0.0.1/tcp/0',
    ],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] }
  );
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const line = out.split('\n').find((l) => l.includes('"mpc-coordinator started"'));
    if (line) {
      const j = JSON.parse(line) as { api: string; peerId: string };
      await new Promise((r) => setTimeout(r, 200)); // the setup banner follows the log line
      return { child, url: j.api, peerId: j.peerId, out: () => out };
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no start: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return exited;
}

describe('mpc-coordinator', () => {
  it('prints a setup token once, which bootstraps the admin account; restart keeps the identity', async () => {
    dir = await mkdtemp(join(tmpdir(), 'mpc-coord-bin-'));
    const first = await start();
    const token = /setup token: (setup_[A-Za-z0-9_-]+)/.exec(first.out())?.[1];
    expect(token).toBeDefined();
    // The token is on stdout once, in the banner; no JSON log line carries it.
    const logLines = first
      .out()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    expect(logLines.some((l) => l.includes(token!))).toBe(false);
    const setup = await fetch(`${first.url}/v1/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ setupToken: token, name: 'admin' }),
    });
    expect(setup.status).toBe(201);
    const again = await fetch(`${first.url}/v1/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ setupToken: token, name: 'admin2' }),
    });
    expect(again.status).toBe(409);
    const health = (await (await fetch(`${first.url}/healthz`)).json()) as {
      ok: boolean;
      peerId: string;
    };
    expect(health).toMatchObject({ ok: true, peerId: first.peerId });
    expect(await (await fetch(`${first.url}/metrics`)).text()).toMatch(/^mpc_nodes_online 0$/m);
    expect(await stop(first.child)).toBe(0);

    const second = await start();
    expect(second.peerId).toBe(first.peerId);
    expect(second.out()).not.toContain('setup token:');
    expect(await stop(second.child)).toBe(0);
  }, 60_000);
});
