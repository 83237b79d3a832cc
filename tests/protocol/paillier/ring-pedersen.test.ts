/**
 * Tests of protocol/paillier/ring-pedersen.ts at both levels (CGGMP21 §3.3, CGGMP.md §3): own
 * parameters have s = t^λ with t a quadratic residue, a peer's parameters are refused by rule
 * (SECURITY.md §1.3, §1.7, test 5), restoring from (t, λ) checks s, and commitments accept
 * exponents of any sign.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgs } from '../../../protocol/errors.js';
import { jacobi, mod, modInverse, modPow } from '../../../protocol/math/modular.js';
import { samplePm } from '../../../protocol/math/sample.js';
import {
  generateRingPedersen,
  RingPedersenError,
  ringPedersenFromSecret,
  ringPedersenPublic,
  rpCommit,
  validateRingPedersen,
  type RingPedersenParams,
  type RingPedersenRejection,
} from '../../../protocol/paillier/ring-pedersen.js';
import { BOTH_LEVELS, fixtureKey, fixtureRingPedersen } from '../../helpers/fixtures.js';
import { seededRng } from '../../helpers/rng.js';

function rejection(R: RingPedersenParams): RingPedersenRejection | 'none' | 'other' {
  try {
    validateRingPedersen(R);
    return 'none';
  } catch (e) {
    return e instanceof RingPedersenError ? e.code : 'other';
  }
}

describe.each(BOTH_LEVELS)('ring-Pedersen at %s', (name, level) => {
  const key = fixtureKey(level, 0);
  const { N, p, q } = key;
  const rng = seededRng(`ring-pedersen/${name}`);
  const R = generateRingPedersen(key, rng);

  it('generate: s = t^λ mod N, t a QR mod p and mod q, λ ∈ [0, φ(N))', () => {
    expect(R.N).toBe(N);
    expect(R.phi).toBe(key.phi);
    expect(R.lambda >= 0n && R.lambda < key.phi).toBe(true);
    expect(modPow(R.t, R.lambda, N)).toBe(R.s);
    expect(jacobi(R.t, p)).toBe(1);
    expect(jacobi(R.t, q)).toBe(1);
    // s is a power of a QR, so a QR too.
    expect(jacobi(R.s, p)).toBe(1);
    expect(jacobi(R.s, q)).toBe(1);
    expect(rejection(R)).toBe('none');
  });

  it('generate is deterministic for a seeded rng and fresh for another seed', () => {
    const a = generateRingPedersen(key, seededRng('rp-det'));
    const b = generateRingPedersen(key, seededRng('rp-det'));
    const c = generateRingPedersen(key, seededRng('rp-other'));
    expect(a).toEqual(b);
    expect(c.t).not.toBe(a.t);
    expect(c.lambda).not.toBe(a.lambda);
  });

  it('the fixture parameters pass validation', () => {
    const F = fixtureRingPedersen(level, 1);
    expect(rejection(F)).toBe('none');
    expect(modPow(F.t, F.lambda, F.N)).toBe(F.s);
    expect(ringPedersenPublic(F)).toEqual({ N: F.N, s: F.s, t: F.t });
    expect(Object.keys(ringPedersenPublic(F)).sort()).toEqual(['N', 's', 't']);
  });

  describe('validateRingPedersen rejects each rule', () => {
    const { s, t } = R;
    it.each<[string, RingPedersenRejection, bigint, bigint]>([
      ['s = 0', 's-not-unit', 0n, t],
      ['s = N', 's-not-unit', N, t],
      ['s = N + 1 (≥ N)', 's-not-unit', N + 1n, t],
      ['s = −1', 's-not-unit', -1n, t],
      ['s = p', 's-not-unit', p, t],
      ['s = 3q', 's-not-unit', 3n * q, t],
      ['t = 0', 't-not-unit', s, 0n],
      ['t = N', 't-not-unit', s, N],
      ['t = q', 't-not-unit', s, q],
      ['t = 5p', 't-not-unit', s, 5n * p],
      ['t = N + t', 't-not-unit', s, N + t],
      ['s = 1', 's-trivial', 1n, t],
      ['s = N − 1', 's-trivial', N - 1n, t],
      ['t = 1', 't-trivial', s, 1n],
      ['t = N − 1', 't-trivial', s, N - 1n],
      ['s = t', 's-equals-t', t, t],
    ])('%s → %s', (_n, code, ss, tt) => {
      expect(rejection({ N, s: ss, t: tt })).toBe(code);
    });

    it('accepts swapped (s, t) — both are units, distinct and not ±1', () => {
      expect(rejection({ N, s: t, t: s })).toBe('none');
    });
  });

  it('ringPedersenFromSecret rebuilds matching parameters and rejects mismatches', () => {
    const again = ringPedersenFromSecret(key, R.t, R.lambda, R.s);
    expect(again).toEqual(R);
    expect(() => ringPedersenFromSecret(key, R.t, R.lambda, R.s + 1n)).toThrow(InvalidArgs);
    expect(() => ringPedersenFromSecret(key, R.t, R.lambda + 1n, R.s)).toThrow(/t\^λ/);
    expect(() => ringPedersenFromSecret(key, (R.t * R.t) % N, R.lambda, R.s)).toThrow(InvalidArgs);
    expect(() => ringPedersenFromSecret(key, R.t, R.lambda + key.phi, R.s)).toThrow(/λ|lambda/);
    expect(() => ringPedersenFromSecret(key, R.t, -1n, R.s)).toThrow(InvalidArgs);
    // Parameters of another key do not match this one.
    const other = fixtureRingPedersen(level, 1);
    expect(() => ringPedersenFromSecret(key, other.t, other.lambda, other.s)).toThrow(InvalidArgs);
  });

  it('rpCommit = s^x·t^y for any signs; negative exponents are inverses', () => {
    const sInv = modInverse(R.s, N);
    const tInv = modInverse(R.t, N);
    expect(rpCommit(R, 0n, 0n)).toBe(1n);
    expect(rpCommit(R, 1n, 0n)).toBe(R.s);
    expect(rpCommit(R, 0n, 1n)).toBe(R.t);
    expect(rpCommit(R, -1n, 0n)).toBe(sInv);
    expect(rpCommit(R, 0n, -1n)).toBe(tInv);
    for (let i = 0; i < 4; i++) {
      const x = samplePm(rng, 1n << 1100n);
      const y = samplePm(rng, 1n << 1100n);
      const c = rpCommit(R, x, y);
      expect(c).toBe(mod(modPow(R.s, x, N) * modPow(R.t, y, N), N));
      expect(rpCommit(R, -x, -y)).toBe(modInverse(c, N));
      expect((rpCommit(R, -x, y) * modPow(R.s, x, N)) % N).toBe(modPow(R.t, y, N));
      // The trapdoor: s^x·t^y = t^{λx + y}.
      expect(c).toBe(modPow(R.t, mod(R.lambda * x + y, key.phi), N));
      // Additively homomorphic in both exponents.
      expect((c * rpCommit(R, 3n, -5n)) % N).toBe(rpCommit(R, x + 3n, y - 5n));
    }
  });
});
