/**
 * The README's main job, end to end: `npm run demo` starts a coordinator and three daemons, makes
 * a 2-of-3 key, signs a message and verifies it three independent ways (here with the public test
 * primes and level112 so it takes seconds, and --json so the result is checked field by field).
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { verifyMessage, Signature } from 'ethers';
import { REPO } from '../helpers/daemons.js';

describe('npm run demo', () => {
  it('makes a key, signs, and every verifier accepts the signature', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const c = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'scripts/demo-network.ts',
          '--fixtures',
          '--level',
          'level112',
          '--json',
          '--message',
          'ci',
        ],
        { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] }
      );
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const t = setTimeout(() => c.kill('SIGKILL'), 240_000);
      c.on('exit', (code) => {
        clearTimeout(t);
        if (code === 0) resolve(stdout);
        else reject(new Error(`demo exited ${code}: ${stderr}`));
      });
    });
    const r = JSON.parse(out) as {
      address: string;
      signature: string;
      verified: { openssl: boolean; noble: boolean; ethers: boolean };
    };
    expect(r.verified).toEqual({ openssl: true, noble: true, ethers: true });
    expect(verifyMessage('ci', Signature.from(r.signature))).toBe(r.address);
  }, 300_000);
});
