/**
 * Uniform sampling by rejection from an injected byte source (STYLE.md habit 4). Nothing here
 * reduces a random value modulo a bound, so no modulo bias is introduced (SECURITY.md §1.16).
 *
 * The same samplers draw Fiat–Shamir challenges: a transcript's SHAKE256 stream is an {@link Rng}
 * too (CGGMP.md §2.4 "always by rejection").
 * @module
 */
import { randomBytes } from 'node:crypto';
import { InvalidArgs } from '../errors.js';
import { bitLength, bytesToBigint } from './bytes.js';
import { CURVE_ORDER } from './curve.js';
import { gcd } from './modular.js';

/** A source of uniform random bytes: returns exactly `length` fresh bytes per call. */
export type Rng = (length: number) => Uint8Array;

/** The operating system's CSPRNG (`node:crypto.randomBytes`). */
export const systemRng: Rng = (length) => new Uint8Array(randomBytes(length));

/**
 * Uniform integer in [0, bound) by rejection: draw bitLength(bound − 1) bits, retry while ≥ bound.
 * Each try succeeds with probability > 1/2.
 * @throws InvalidArgs if bound < 1.
 */
export function sampleBelow(rng: Rng, bound: bigint): bigint {
  if (bound < 1n) throw new InvalidArgs('bound', 'must be ≥ 1');
  if (bound === 1n) return 0n;
  const bits = bitLength(bound - 1n);
  const bytes = Math.ceil(bits / 8);
  const excess = BigInt(bytes * 8 - bits);
  for (;;) {
    const raw = rng(bytes);
    if (raw.length !== bytes) throw new InvalidArgs('rng', 'returned the wrong number of bytes');
    const x = bytesToBigint(raw) >> excess; // keep the top `bits` bits
    if (x < bound) return x;
  }
}

/** Uniform integer in the closed interval [−bound, bound] (written ±bound in CGGMP.md). */
export function samplePm(rng: Rng, bound: bigint): bigint {
  if (bound < 0n) throw new InvalidArgs('bound', 'must be ≥ 0');
  return sampleBelow(rng, 2n * bound + 1n) - bound;
}

/** Uniform integer in ±2^bits. */
export function samplePmBits(rng: Rng, bits: number): bigint {
  return samplePm(rng, 1n << BigInt(bits));
}

/** Uniform element of Z*_N (1 ≤ x < N, gcd(x, N) = 1). @throws InvalidArgs if N < 2. */
export function sampleUnit(rng: Rng, N: bigint): bigint {
  if (N < 2n) throw new InvalidArgs('N', 'must be ≥ 2');
  for (;;) {
    const x = sampleBelow(rng, N);
    if (x !== 0n && gcd(x, N) === 1n) return x;
  }
}

/** Uniform scalar in Z_q (0 included). */
export function sampleScalar(rng: Rng): bigint {
  return sampleBelow(rng, CURVE_ORDER);
}

/** Uniform non-zero scalar in Z_q \ {0} (nonces, shares: SECURITY.md §1.10). */
export function sampleNonZeroScalar(rng: Rng): bigint {
  for (;;) {
    const x = sampleScalar(rng);
    if (x !== 0n) return x;
  }
}
