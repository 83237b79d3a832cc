/**
 * Slow suite (`npm run test:slow`): fresh safe-prime generation (protocol/math/primes.ts). The
 * default suite never generates safe primes; this one checks that what the daemons will generate
 * has the shape the rest of the code relies on.
 */
import { checkPrimeSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bitLength } from '../../protocol/math/bytes.js';
import { generatePrimePair, generateSafePrime } from '../../protocol/math/primes.js';
import { sampleUnit } from '../../protocol/math/sample.js';
import {
  assertSafePrime,
  paillierKeyFromPrimes,
  validatePublicModulus,
} from '../../protocol/paillier/paillier.js';
import { LEVEL112 } from '../../protocol/params.js';
import { seededRng } from '../helpers/rng.js';

describe('safe-prime generation', () => {
  it('generateSafePrime(1024) is a safe prime ≡ 3 (mod 4) of exactly 1024 bits', async () => {
    const p = await generateSafePrime(1024);
    expect(bitLength(p)).toBe(1024);
    expect(p % 4n).toBe(3n);
    expect(checkPrimeSync(p, { checks: 40 })).toBe(true);
    expect(checkPrimeSync((p - 1n) / 2n, { checks: 40 })).toBe(true);
    expect(() => assertSafePrime(p, 1024)).not.toThrow();
  });

  it('generatePrimePair(LEVEL112) gives p < q with a 2048-bit product that makes a working key', async () => {
    const { p, q } = await generatePrimePair(LEVEL112);
    expect(p < q).toBe(true);
    expect(bitLength(p)).toBe(1024);
    expect(bitLength(q)).toBe(1024);
    expect(bitLength(p * q)).toBe(2048);
    const key = paillierKeyFromPrimes(p, q, LEVEL112);
    expect(() => validatePublicModulus(key.N, LEVEL112)).not.toThrow();
    const rng = seededRng('slow/primes');
    const rho = sampleUnit(rng, key.N);
    const c = key.publicKey().encrypt(-123456789n, rho);
    expect(key.decrypt(c)).toBe(-123456789n);
    expect(key.recoverNonce(c, -123456789n)).toBe(rho);
  });

  it('several safe primes generated in parallel are distinct and well formed', async () => {
    const ps = await Promise.all(Array.from({ length: 4 }, () => generateSafePrime(1024)));
    expect(new Set(ps).size).toBe(4);
    for (const p of ps) expect(() => assertSafePrime(p, 1024)).not.toThrow();
  });
});
