/**
 * Ring-Pedersen parameters (N̂, s, t) and commitments s^x·t^y mod N̂ (CGGMP21 §3.3, CGGMP.md §3).
 *
 * mpcd uses the party's Paillier modulus as N̂ (as dfns does). Own parameters: r ← Z*_N,
 * t = r² mod N (a quadratic residue), λ ← Z_φ(N), s = t^λ mod N; λ is proven with Πprm.
 * A peer's parameters are accepted only if s, t ∈ Z*_N̂, s, t ∉ {1, N̂−1} and s ≠ t, and Πprm verifies
 * (SECURITY.md §1.3, §1.7).
 * @module
 */
import { InvalidArgs } from '../errors.js';
import { gcd, jacobi, mod, modPow, modPowCrt } from '../math/modular.js';
import { sampleBelow, sampleUnit, systemRng, type Rng } from '../math/sample.js';
import type { PaillierSecretKey } from './paillier.js';

/** Why a peer's ring-Pedersen parameters were refused. */
export type RingPedersenRejection =
  's-not-unit' | 't-not-unit' | 's-trivial' | 't-trivial' | 's-equals-t';

/** A refused set of ring-Pedersen parameters. */
export class RingPedersenError extends Error {
  override readonly name = 'RingPedersenError';
  constructor(
    readonly code: RingPedersenRejection,
    message: string
  ) {
    super(message);
  }
}

/** Public ring-Pedersen parameters R = (N̂, s, t). */
export interface RingPedersenParams {
  readonly N: bigint;
  readonly s: bigint;
  readonly t: bigint;
}

/** Own parameters with the trapdoor: s = t^λ mod N̂, φ = φ(N̂). */
export interface RingPedersenSecret extends RingPedersenParams {
  readonly lambda: bigint;
  readonly phi: bigint;
}

/**
 * s^x·t^y mod N̂ for integers x, y of any sign (negative exponents use inverses; s, t are units).
 */
export function rpCommit(R: RingPedersenParams, x: bigint, y: bigint): bigint {
  return (modPow(R.s, x, R.N) * modPow(R.t, y, R.N)) % R.N;
}

/**
 * Sanity checks on a peer's parameters (CGGMP.md §3, SECURITY.md test 5). Πprm is verified
 * separately.
 * @throws RingPedersenError naming the failed rule.
 */
export function validateRingPedersen(R: RingPedersenParams): void {
  const unit = (x: bigint): boolean => x > 0n && x < R.N && gcd(x, R.N) === 1n;
  if (!unit(R.s)) throw new RingPedersenError('s-not-unit', 's is not in Z*_N̂');
  if (!unit(R.t)) throw new RingPedersenError('t-not-unit', 't is not in Z*_N̂');
  if (R.s === 1n || R.s === R.N - 1n) throw new RingPedersenError('s-trivial', 's is ±1');
  if (R.t === 1n || R.t === R.N - 1n) throw new RingPedersenError('t-trivial', 't is ±1');
  if (R.s === R.t) throw new RingPedersenError('s-equals-t', 's equals t');
}

/**
 * Fresh own ring-Pedersen parameters over our Paillier modulus.
 * @param rng randomness for r and λ (defaults to the system CSPRNG)
 */
export function generateRingPedersen(
  key: PaillierSecretKey,
  rng: Rng = systemRng
): RingPedersenSecret {
  const N = key.N;
  const phi = key.phi;
  for (;;) {
    const r = sampleUnit(rng, N);
    const t = (r * r) % N;
    const lambda = sampleBelow(rng, phi);
    // s = t^λ via the key's own CRT contexts: λ is secret, keep it out of the shared cache.
    const s = modPowCrt(key.crtN, t, lambda, [key.p - 1n, key.q - 1n]);
    // Redraw the (negligible) degenerate cases so our own parameters always pass a peer's checks.
    if (t === 1n || t === N - 1n || s === 1n || s === N - 1n || s === t) continue;
    return { N, s, t, lambda, phi };
  }
}

/**
 * Rebuild own parameters from stored (t, λ) and check s = t^λ.
 * @throws InvalidArgs if they do not match.
 */
export function ringPedersenFromSecret(
  key: PaillierSecretKey,
  t: bigint,
  lambda: bigint,
  s: bigint
): RingPedersenSecret {
  if (mod(lambda, key.phi) !== lambda) throw new InvalidArgs('lambda', 'must be in [0, φ(N))');
  try {
    validateRingPedersen({ N: key.N, s, t });
  } catch (err) {
    throw new InvalidArgs('t, s', (err as Error).message);
  }
  // t must be a quadratic residue (t = r²): Jacobi +1 modulo each prime factor.
  if (jacobi(t, key.p) !== 1 || jacobi(t, key.q) !== 1) {
    throw new InvalidArgs('t', 'is not a quadratic residue mod N');
  }
  if (
    key.crtN.ctx1.pow(t, lambda % (key.p - 1n)) !== s % key.p ||
    key.crtN.ctx2.pow(t, lambda % (key.q - 1n)) !== s % key.q
  ) {
    throw new InvalidArgs('s', 'does not equal t^λ mod N');
  }
  return { N: key.N, s, t, lambda, phi: key.phi };
}

/** The public part of own parameters. */
export function ringPedersenPublic(R: RingPedersenParams): RingPedersenParams {
  return { N: R.N, s: R.s, t: R.t };
}
