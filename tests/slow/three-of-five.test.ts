/**
 * Issue 6 end to end with five daemons: a 3-of-5 key made through the coordinator's API, then
 * signatures by two different signer sets, each verified by the OpenSSL CLI and by ethers'
 * address recovery.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevnet, type Devnet } from '../../scripts/devnet.js';
import { ethersRecover, opensslVerify } from '../helpers/verify.js';

let dir: string;
let net: Devnet;

async function call(method: string, path: string, body?: unknown) {
  const r = await fetch(net.url + path, {
    method,
    headers: {
      authorization: `Bearer ${net.token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

async function finished(id: string) {
  const deadline = Date.now() + 240_000;
  for (;;) {
    const r = await call('GET', `/v1/sessions/${id}`);
    if (['completed', 'failed', 'expired'].includes(r.body.status as string)) return r.body;
    if (Date.now() > deadline) throw new Error(`session ${id} did not finish`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mpcd-3of5-'));
  net = await startDevnet({ dir, fixtures: true, parties: 5, say: () => undefined });
}, 180_000);

afterAll(async () => {
  await net?.stop();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('3-of-5 through the coordinator', () => {
  let key: { keyId: string; publicKey: string; address: string };

  it('makes a 3-of-5 key with five daemons', async () => {
    const r = await call('POST', '/v1/keys', { threshold: 3, parties: 5, level: 'level112' });
    expect(r.status).toBe(202);
    const done = await finished(r.body.id as string);
    expect(done.status, JSON.stringify(done.failure)).toBe('completed');
    key = done.result as typeof key;
  }, 300_000);

  it.each([[['node-a', 'node-b', 'node-c']], [['node-c', 'node-d', 'node-e']]])(
    'signs with %j; OpenSSL and ethers accept it',
    async (signers) => {
      const digest = randomBytes(32);
      const r = await call('POST', `/v1/keys/${key.keyId}/signatures`, {
        digest: digest.toString('hex'),
        signers,
      });
      expect(r.status).toBe(202);
      const done = await finished(r.body.id as string);
      expect(done.status, JSON.stringify(done.failure)).toBe('completed');
      const sig = done.result as { r: string; s: string; recid: number };
      const rr = BigInt('0x' + sig.r);
      const ss = BigInt('0x' + sig.s);
      expect(opensslVerify(Buffer.from(key.publicKey, 'hex'), digest, rr, ss)).toBe(true);
      expect(ethersRecover(digest, rr, ss, sig.recid)).toBe(key.address);
    },
    120_000
  );
});
