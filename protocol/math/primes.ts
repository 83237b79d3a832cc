/**
 * Safe-prime generation for Paillier / ring-Pedersen moduli (CGGMP.md §3, STACK.md "Safe primes").
 *
 * `crypto.generatePrime` (OpenSSL) runs on libuv's thread pool, so the async form keeps the event
 * loop free and several primes are generated in parallel. Every safe prime p > 7 is a Blum prime
 * (p = 2p'+1 with p' odd ⇒ p ≡ 3 mod 4); the result is re-checked anyway, as is every prime loaded
 * from storage (see `assertSafePrime`). Expect ~1 s per 1024-bit and 3–5 s (tail > 10 s) per
 * 1536-bit safe prime on this machine class: daemons keep a pool, tests use fixtures.
 * @module
 */
import { generatePrime } from 'node:crypto';
import { bitLength } from './bytes.js';
import { Bug } from '../errors.js';
import type { SecurityLevel } from '../params.js';

/** A pair of distinct safe primes for one Paillier key. */
export interface PrimePair {
  readonly p: bigint;
  readonly q: bigint;
}

/**
 * One safe prime of exactly `bits` bits, ≡ 3 (mod 4), generated off the main thread.
 */
export function generateSafePrime(bits: number): Promise<bigint> {
  return new Promise((resolve, reject) => {
    generatePrime(bits, { safe: true, bigint: true }, (err, prime) => {
      if (err) return reject(err);
      const p = prime as bigint;
      if (bitLength(p) !== bits || (p & 3n) !== 3n) {
        return reject(new Bug('OpenSSL returned a prime of the wrong shape'));
      }
      resolve(p);
    });
  });
}

/**
 * A pair of distinct safe primes for `level` whose product has exactly 8κ bits (both primes are
 * generated in parallel).
 */
export async function generatePrimePair(level: SecurityLevel): Promise<PrimePair> {
  for (;;) {
    const [p, q] = await Promise.all([
      generateSafePrime(level.primeBits),
      generateSafePrime(level.primeBits),
    ]);
    if (p !== q && bitLength(p * q) === level.modulusBits) return p < q ? { p, q } : { p: q, q: p };
  }
}
