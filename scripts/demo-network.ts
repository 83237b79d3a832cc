/**
 * `npm run demo`: the README's main job on real processes. It starts a devnet (a coordinator and
 * three mpcd daemons on 127.0.0.1, `scripts/devnet.ts`), makes a 2-of-3 key through the /v1 API,
 * signs a message with two of the daemons, verifies the signature three independent ways (the
 * OpenSSL CLI over the raw digest, @noble/curves, ethers address recovery), prints the address and
 * (r, s, v), and stops everything.
 *
 *   npm run demo [-- --fixtures] [--message <text>] [--level level128|level112] [--dir <dir>] [--json]
 *
 * Without `--fixtures` each daemon generates fresh safe primes for the key (level128: about
 * 20–30 s here). `--fixtures` takes the repository's public TEST-ONLY primes (seconds; the key is
 * compromised by construction). The in-memory variant is `npm run demo:memory`.
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashMessage } from 'ethers';
import { ethersRecover, nobleVerify, opensslVerify } from '../tests/helpers/verify.js';
import { startDevnet } from './devnet.js';

interface Options {
  fixtures: boolean;
  json: boolean;
  message: string;
  level: 'level128' | 'level112';
  dir?: string;
}

function parse(argv: readonly string[]): Options {
  const o: Options = {
    fixtures: false,
    json: false,
    message: 'hello from mpcd',
    level: 'level128',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--fixtures') o.fixtures = true;
    else if (a === '--json') o.json = true;
    else if (a === '--message') o.message = value();
    else if (a === '--dir') o.dir = value();
    else if (a === '--level') {
      const v = value();
      if (v !== 'level128' && v !== 'level112')
        throw new Error('--level must be level128 or level112');
      o.level = v;
    } else if (a === '--help') {
      process.stdout.write(
        'npm run demo [-- --fixtures] [--message <text>] [--level level128|level112] [--dir <dir>] [--json]\n'
      );
      process.exit(0);
    } else throw new Error(`unknown option ${a} (see --help)`);
  }
  return o;
}

async function call(url: string, token: string, method: string, path: string, body?: unknown) {
  const r = await fetch(url + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const j = (await r.json()) as Record<string, unknown>;
  if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j.error)}`);
  return j;
}

async function follow(
  url: string,
  token: string,
  id: string,
  say: (s: string) => void,
  timeoutMs: number
) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const s = await call(url, token, 'GET', `/v1/sessions/${id}`);
    const line = `${s.kind} ${s.status}: joined ${s.joined}, ready ${s.ready}, reported ${s.reported}`;
    if (line !== last) say(`  ${line}`);
    last = line;
    if (s.status === 'completed') return s.result as Record<string, unknown>;
    if (s.status === 'failed' || s.status === 'expired') {
      throw new Error(`session ${id} ${s.status}: ${JSON.stringify(s.failure)}`);
    }
    if (Date.now() > deadline)
      throw new Error(`session ${id} did not finish in ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const say = (s: string) => {
    if (!o.json) process.stdout.write(s + '\n');
  };
  const dir = o.dir ?? (await mkdtemp(join(tmpdir(), 'mpcd-demo-')));
  if (o.fixtures)
    process.stderr.write(
      'demo: WARNING using the public TEST-ONLY fixture primes: this key is compromised\n'
    );
  const t0 = Date.now();
  const net = await startDevnet({ dir, fixtures: o.fixtures, say });
  try {
    say(
      `devnet up in ${((Date.now() - t0) / 1000).toFixed(1)} s: a coordinator and 3 mpcd daemons on 127.0.0.1`
    );
    const t1 = Date.now();
    const kg = await call(net.url, net.token, 'POST', '/v1/keys', {
      threshold: 2,
      parties: 3,
      level: o.level,
    });
    say('keygen 2-of-3 (threshold = parties needed to sign):');
    const key = await follow(net.url, net.token, kg.id as string, say, 600_000);
    const keygenS = (Date.now() - t1) / 1000;
    say(`  key ${key.keyId as string}, address ${key.address as string} (${keygenS.toFixed(1)} s)`);
    const t2 = Date.now();
    const sg = await call(
      net.url,
      net.token,
      'POST',
      `/v1/keys/${key.keyId as string}/signatures`,
      { message: o.message }
    );
    say(`sign "${o.message}" (Ethereum personal message) with 2 of the 3 daemons:`);
    const sig = await follow(net.url, net.token, sg.id as string, say, 120_000);
    const signS = (Date.now() - t2) / 1000;
    const digest = Buffer.from(hashMessage(o.message).slice(2), 'hex');
    const r = BigInt('0x' + (sig.r as string));
    const s = BigInt('0x' + (sig.s as string));
    const pk = Buffer.from(key.publicKey as string, 'hex');
    const checks = {
      openssl: opensslVerify(pk, digest, r, s),
      noble: nobleVerify(pk, digest, r, s),
      ethers: ethersRecover(digest, r, s, sig.recid as number) === key.address,
    };
    const out = {
      address: key.address,
      keyId: key.keyId,
      publicKey: key.publicKey,
      message: o.message,
      digest: '0x' + digest.toString('hex'),
      r: '0x' + (sig.r as string),
      s: '0x' + (sig.s as string),
      v: 27 + (sig.recid as number),
      signature: '0x' + (sig.signature65 as string),
      verified: checks,
      seconds: { keygen: keygenS, sign: signS },
    };
    if (o.json) process.stdout.write(JSON.stringify(out) + '\n');
    else {
      say(
        `  r = ${out.r}\n  s = ${out.s}\n  v = ${out.v}\n  signature = ${out.signature} (${signS.toFixed(2)} s)`
      );
      say(
        `verify: OpenSSL CLI ${checks.openssl ? 'ok' : 'FAILED'}, @noble ${checks.noble ? 'ok' : 'FAILED'}, ethers recovery ${checks.ethers ? 'ok' : 'FAILED'}`
      );
    }
    if (!checks.openssl || !checks.noble || !checks.ethers) process.exitCode = 1;
  } finally {
    await net.stop();
    if (!o.dir) await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${(err as Error).message}\n`);
  process.exit(1);
});
