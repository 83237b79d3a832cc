/**
 * Tests of protocol/math/modular.ts: the OpenSSL modexp route against the plain BigInt reference
 * (with the path that ran asserted, so a wrapper that always falls back cannot pass), gcd/egcd,
 * inverses, the Jacobi symbol against a brute-force definition, integer roots, perfect powers, CRT
 * and the Blum square roots of Πmod.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgs } from '../../../protocol/errors.js';
import {
  allUnits,
  blumSqrt,
  crtCombine,
  crtContext,
  egcd,
  gcd,
  iroot,
  isPerfectPower,
  isqrt,
  jacobi,
  mod,
  ModContext,
  modInverse,
  modPow,
  modPowBigint,
  modPowCrt,
  modPowRoute,
  modPowWithPath,
  OPENSSL_MAX_MODULUS_BITS,
  OPENSSL_MIN_MODULUS_BITS,
  sqrtModBlumPrime,
  type ModPowPath,
} from '../../../protocol/math/modular.js';
import { sampleBelow, sampleUnit } from '../../../protocol/math/sample.js';
import { LEVEL112 } from '../../../protocol/params.js';
import { fixtureKey } from '../../helpers/fixtures.js';
import { seededRng } from '../../helpers/rng.js';

const rng = seededRng('modular');
const bits = (x: bigint): number => (x === 0n ? 0 : (x < 0n ? -x : x).toString(2).length);
/** A random odd modulus of exactly `b` bits (b ≥ 2). */
const oddModulus = (b: number): bigint =>
  sampleBelow(rng, 1n << BigInt(b - 1)) | (1n << BigInt(b - 1)) | 1n;
/** A random number of exactly `b` bits. */
const exactBits = (b: number): bigint =>
  sampleBelow(rng, 1n << BigInt(b - 1)) | (1n << BigInt(b - 1));

/**
 * The path the module's documentation promises, computed independently: OpenSSL for an odd
 * modulus of 512..10000 bits, a reduced base in [2, m−2] and a non-zero exponent; BigInt otherwise.
 * (Inverting the base for a negative exponent keeps it in [2, m−2]: 1 and m−1 are self-inverse.)
 */
function promisedPath(base: bigint, exp: bigint, m: bigint): ModPowPath {
  if (m === 1n || exp === 0n) return 'bigint';
  const b = ((base % m) + m) % m;
  if (b < 2n || b > m - 2n || m % 2n === 0n) return 'bigint';
  const n = bits(m);
  return n >= 512 && n <= 10_000 ? 'openssl' : 'bigint';
}

/** Checks one modPowWithPath call against the reference and the promised path. */
function checkPow(base: bigint, exp: bigint, m: bigint): void {
  const got = modPowWithPath(base, exp, m);
  if (exp >= 0n) {
    expect(got.value).toBe(modPowBigint(base, exp, m));
  } else {
    // Independent of modInverse: r · base^|exp| ≡ 1 (mod m).
    expect(mod(got.value * modPowBigint(base, -exp, m), m)).toBe(1n % m);
  }
  expect(got.value >= 0n && got.value < m).toBe(true);
  expect(got.path).toBe(promisedPath(base, exp, m));
  expect(modPow(base, exp, m)).toBe(got.value);
}

describe('modPowWithPath against modPowBigint', () => {
  it('the OpenSSL limits are the documented ones', () => {
    expect(OPENSSL_MIN_MODULUS_BITS).toBe(512);
    expect(OPENSSL_MAX_MODULUS_BITS).toBe(10_000);
  });

  it('agrees on random inputs (any modulus, any sign) and takes the promised path', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(1n << 1100n), max: 1n << 1100n }),
        fc.bigInt({ min: -(1n << 700n), max: 1n << 700n }),
        fc.bigInt({ min: 1n, max: 1n << 1100n }),
        (base, exp, m) => {
          if (exp < 0n && gcd(base, m) !== 1n) {
            expect(() => modPowWithPath(base, exp, m)).toThrow(InvalidArgs);
          } else {
            checkPow(base, exp, m);
          }
        }
      ),
      { numRuns: 120 }
    );
  });

  it('takes the OpenSSL path on random odd moduli of 512..2048 bits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 512, max: 2048 }),
        fc.bigInt({ min: 0n, max: 1n << 2100n }),
        fc.bigInt({ min: 1n, max: 1n << 1100n }),
        (b, base, exp) => {
          const m = oddModulus(b);
          const r = mod(base, m);
          if (r < 2n || r > m - 2n) return; // covered by the edge cases below
          checkPow(base, exp, m);
          expect(modPowWithPath(base, exp, m).path).toBe('openssl');
        }
      ),
      { numRuns: 60 }
    );
  });

  describe('edge cases of the base', () => {
    const m = oddModulus(1024);
    it.each<[string, bigint, bigint, ModPowPath]>([
      ['0', 0n, 0n, 'bigint'],
      ['1', 1n, 1n, 'bigint'],
      ['m − 1 (= −1)', m - 1n, m - 1n, 'bigint'],
      ['m (≡ 0)', m, 0n, 'bigint'],
      ['m + 1 (≡ 1)', m + 1n, 1n, 'bigint'],
      ['−1', -1n, m - 1n, 'bigint'],
      ['2', 2n, 2n, 'openssl'],
      ['m − 2', m - 2n, m - 2n, 'openssl'],
      ['m + 5 (≥ m)', m + 5n, 5n, 'openssl'],
      ['7m + 3 (≫ m)', 7n * m + 3n, 3n, 'openssl'],
      ['−2 (negative)', -2n, m - 2n, 'openssl'],
      ['−(5m + 7)', -(5n * m + 7n), m - 7n, 'openssl'],
    ])('base %s', (_name, base, reduced, path) => {
      for (const e of [1n, 2n, 3n, 65537n, exactBits(1024)]) {
        checkPow(base, e, m);
        expect(modPowWithPath(base, e, m).path).toBe(path);
        expect(modPowWithPath(reduced, e, m).value).toBe(modPowWithPath(base, e, m).value);
      }
    });

    it('(−1)^e alternates', () => {
      expect(modPow(m - 1n, 2n, m)).toBe(1n);
      expect(modPow(m - 1n, 3n, m)).toBe(m - 1n);
      expect(modPow(-1n, (1n << 3000n) + 1n, m)).toBe(m - 1n);
    });
  });

  describe('edge cases of the exponent', () => {
    const m = oddModulus(2048);
    const b = sampleUnit(rng, m);

    it('exponent 0 gives 1 for every base, 0 included (BigInt path)', () => {
      for (const base of [0n, 1n, 2n, b, m - 1n, m, -b]) {
        expect(modPowWithPath(base, 0n, m)).toEqual({ value: 1n, path: 'bigint' });
      }
    });

    it('exponent 1 gives the reduced base', () => {
      expect(modPowWithPath(b, 1n, m)).toEqual({ value: b, path: 'openssl' });
      expect(modPowWithPath(b + 3n * m, 1n, m)).toEqual({ value: b, path: 'openssl' });
    });

    it('a negative exponent inverts the base', () => {
      const inv = modPowWithPath(b, -1n, m);
      expect(inv.path).toBe('openssl');
      expect(mod(inv.value * b, m)).toBe(1n);
      for (const e of [2n, 3n, exactBits(64), exactBits(2048)]) {
        checkPow(b, -e, m);
        expect(modPow(b, -e, m)).toBe(modPowBigint(modInverse(b, m), e, m));
      }
      expect(modPow(1n, -5n, m)).toBe(1n);
      expect(modPow(m - 1n, -3n, m)).toBe(m - 1n);
    });

    it('a negative exponent of a non-invertible base throws InvalidArgs', () => {
      const { p, N } = fixtureKey(LEVEL112, 0);
      for (const [base, M] of [
        [0n, m],
        [m, m],
        [p, N],
        [3n * p, N],
        [6n, 2n ** 600n],
      ] as const) {
        expect(() => modPowWithPath(base, -1n, M)).toThrow(InvalidArgs);
        expect(() => modPowWithPath(base, -(1n << 200n), M)).toThrow(InvalidArgs);
      }
      // …but the same bases with a non-negative exponent are fine.
      expect(modPow(p, 2n, N)).toBe((p * p) % N);
    });

    it.each([512, 513, 2048, 3072])(
      'huge exponents (12000 bits) at a %i-bit modulus take the OpenSSL path',
      (mb) => {
        const M = oddModulus(mb);
        const base = sampleUnit(rng, M);
        const e = exactBits(12_000);
        checkPow(base, e, M);
        expect(modPowWithPath(base, e, M).path).toBe('openssl');
        checkPow(base, -e, M);
      }
    );

    it('a huge exponent at a BigInt-path modulus (511 bits) still agrees', () => {
      const M = oddModulus(511);
      checkPow(sampleUnit(rng, M), exactBits(12_000), M);
    });
  });

  describe('modulus sizes and shapes', () => {
    it.each<[number, ModPowPath]>([
      [3, 'bigint'],
      [64, 'bigint'],
      [511, 'bigint'],
      [512, 'openssl'],
      [513, 'openssl'],
      [1024, 'openssl'],
      [9999, 'openssl'],
      [10_000, 'openssl'],
      [10_001, 'bigint'],
      [10_500, 'bigint'],
    ])('an odd %i-bit modulus takes the %s path', (mb, path) => {
      const M = oddModulus(mb);
      const base = 2n + sampleBelow(rng, M - 3n); // in [2, m−2]
      const e = mb > 5000 ? exactBits(96) : exactBits(640);
      checkPow(base, e, M);
      expect(modPowWithPath(base, e, M).path).toBe(path);
      expect(modPowRoute(base, e, M)).toBe(path);
    });

    it('the boundary moduli 2^511 ± 1, 2^512 ± 1 and 2^10000 ± 1', () => {
      const cases: Array<[bigint, ModPowPath]> = [
        [(1n << 511n) - 1n, 'bigint'], // 511 bits
        [(1n << 511n) + 1n, 'openssl'], // 512 bits
        [(1n << 512n) - 1n, 'openssl'], // 512 bits
        [(1n << 512n) + 1n, 'openssl'], // 513 bits
        [(1n << 10_000n) - 1n, 'openssl'], // 10000 bits
        [(1n << 10_000n) + 1n, 'bigint'], // 10001 bits
      ];
      for (const [M, path] of cases) {
        const base = 3n + sampleBelow(rng, M - 10n);
        checkPow(base, 12345678901234567n, M);
        expect(modPowWithPath(base, 12345678901234567n, M).path).toBe(path);
      }
    });

    it.each([512, 600, 2048, 3072])('an even %i-bit modulus takes the BigInt path', (mb) => {
      for (const M of [exactBits(mb) & ~1n, 1n << BigInt(mb - 1), 2n * oddModulus(mb - 1)]) {
        const base = 3n + sampleBelow(rng, M - 6n);
        const e = exactBits(300);
        checkPow(base, e, M);
        expect(modPowWithPath(base, e, M).path).toBe('bigint');
        if (gcd(base, M) === 1n) checkPow(base, -e, M);
      }
    });

    it('m = 1 gives 0 for every base and exponent', () => {
      for (const [b, e] of [
        [0n, 0n],
        [5n, 0n],
        [5n, 7n],
        [-3n, -2n],
        [0n, -1n],
      ] as const) {
        expect(modPowWithPath(b, e, 1n)).toEqual({ value: 0n, path: 'bigint' });
      }
    });

    it('m ≤ 0 throws InvalidArgs', () => {
      for (const M of [0n, -1n, -7n, -(1n << 1024n) - 1n]) {
        expect(() => modPowWithPath(2n, 3n, M)).toThrow(InvalidArgs);
        expect(() => modPow(2n, 3n, M)).toThrow(InvalidArgs);
        expect(() => new ModContext(M)).toThrow(InvalidArgs);
      }
    });

    it('small moduli agree with the reference', () => {
      for (let M = 1n; M <= 40n; M++) {
        for (let b = -3n; b <= M + 2n; b++) {
          for (let e = 0n; e <= 9n; e++) checkPow(b, e, M);
        }
      }
    });

    it('many distinct moduli (beyond the context cache) keep agreeing', () => {
      const moduli = Array.from({ length: 80 }, () => oddModulus(512));
      for (const M of [...moduli, ...moduli.slice(0, 10)]) {
        const base = 2n + sampleBelow(rng, M - 3n);
        checkPow(base, 65537n, M);
      }
    });
  });

  /**
   * OpenSSL 3's DH_compute_key refuses a shared secret Z ∈ {0, 1, m−1} (SP 800-56A), which the
   * module's route does not predict: the value stays correct (BigInt fallback), but the promised
   * fast path — the constant-time one, for secret exponents and moduli — silently does not run.
   * For a base that is a unit, Z = b^(e−1)·b recovers the value through OpenSSL (see the report);
   * Z = 0 needs a base sharing every prime of m, never a unit, so only its value is pinned.
   */
  describe('results 0, 1 and m − 1 (OpenSSL refuses them as DH secrets)', () => {
    const { p, q } = fixtureKey(LEVEL112, 0);
    const M = (1n << 600n) + 1n; // 2^600 ≡ −1, so 2 has order 1200
    const unitCases: Array<[string, bigint, bigint, bigint, bigint]> = [
      ['result 1: 2^1200 mod 2^600+1', 2n, 1200n, M, 1n],
      ['result m−1: 2^600 mod 2^600+1', 2n, 600n, M, M - 1n],
      ['result m−1: 4^300 mod 2^600+1', 4n, 300n, M, M - 1n],
      ['result 1: Fermat, 5^(p−1) mod p', 5n, p - 1n, p, 1n],
      [
        'result ±1: Euler, 5^((q−1)/2) mod q',
        5n,
        (q - 1n) / 2n,
        q,
        modPowBigint(5n, (q - 1n) / 2n, q),
      ],
      ['result 1: negative exponent, 2^−1200 mod 2^600+1', 2n, -1200n, M, 1n],
    ];
    it.each([
      ...unitCases,
      ['result 0: 3^1000 mod 3^400 (base not a unit)', 3n, 1000n, 3n ** 400n, 0n],
    ])('%s has the right value', (_n, b, e, m, want) => {
      expect(modPowWithPath(b, e, m).value).toBe(want);
      expect(modPow(b, e, m)).toBe(want);
    });
    it.each(unitCases)('%s takes the route modPowRoute promises (OpenSSL)', (_n, b, e, m) => {
      expect(modPowRoute(b, e < 0n ? -e : e, m)).toBe('openssl');
      expect(modPowWithPath(b, e, m).path).toBe('openssl');
    });
  });
});

describe('ModContext', () => {
  it('computes like modPowWithPath and owns its modulus', () => {
    const { p } = fixtureKey(LEVEL112, 1);
    const ctx = new ModContext(p);
    expect(ctx.m).toBe(p);
    for (let i = 0; i < 5; i++) {
      const b = sampleUnit(rng, p);
      const e = exactBits(1100);
      expect(ctx.powWithPath(b, e)).toEqual({ value: modPowBigint(b, e, p), path: 'openssl' });
      expect(ctx.pow(b, -e)).toBe(modPowBigint(modInverse(b, p), e, p));
      expect(ctx.pow(b - p, e)).toBe(ctx.pow(b, e));
    }
    expect(new ModContext(1n).powWithPath(5n, 3n)).toEqual({ value: 0n, path: 'bigint' });
    expect(new ModContext(7n).powWithPath(3n, 5n)).toEqual({ value: 5n, path: 'bigint' });
  });
});

describe('gcd and egcd', () => {
  it('gcd divides both arguments and egcd gives Bézout coefficients', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(1n << 600n), max: 1n << 600n }),
        fc.bigInt({ min: -(1n << 600n), max: 1n << 600n }),
        fc.bigInt({ min: 1n, max: 1n << 200n }),
        (a0, b0, k) => {
          // Multiply by a common k so that non-trivial gcds are frequent.
          const a = a0 * k;
          const b = b0 * k;
          const g = gcd(a, b);
          expect(g >= 0n).toBe(true);
          if (g === 0n) {
            expect(a === 0n && b === 0n).toBe(true);
            return;
          }
          expect(a % g).toBe(0n);
          expect(b % g).toBe(0n);
          expect(gcd(a / g, b / g)).toBe(1n);
          expect(gcd(b, a)).toBe(g);
          const [g2, x, y] = egcd(a < 0n ? -a : a, b < 0n ? -b : b);
          expect(g2).toBe(g);
          expect((a < 0n ? -a : a) * x + (b < 0n ? -b : b) * y).toBe(g);
        }
      ),
      { numRuns: 300 }
    );
  });

  it('small cases', () => {
    expect(gcd(0n, 0n)).toBe(0n);
    expect(gcd(0n, 5n)).toBe(5n);
    expect(gcd(-12n, 18n)).toBe(6n);
    expect(gcd(12n, -18n)).toBe(6n);
    expect(gcd(17n, 5n)).toBe(1n);
    expect(egcd(0n, 0n)[0]).toBe(0n);
    expect(egcd(240n, 46n)).toEqual([2n, -9n, 47n]);
  });
});

describe('allUnits (one gcd for a batch)', () => {
  const N = 1009n * 1013n * 1019n;
  it('agrees with checking each value on its own', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: -2n, max: N + 2n }), { maxLength: 12 }), (xs) => {
        const each = xs.every((x) => x > 0n && x < N && gcd(x, N) === 1n);
        expect(allUnits(xs, N)).toBe(each);
      }),
      { numRuns: 500 }
    );
  });
  it('catches one non-unit hidden among units, and 0 / N / negatives', () => {
    expect(allUnits([2n, 3n, 1009n * 5n, 7n], N)).toBe(false);
    expect(allUnits([2n, 0n], N)).toBe(false);
    expect(allUnits([2n, N], N)).toBe(false);
    expect(allUnits([-2n], N)).toBe(false);
    expect(allUnits([], N)).toBe(true);
  });
});

describe('modInverse', () => {
  it('a · a^{-1} ≡ 1 for units, result in [0, m)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(1n << 700n), max: 1n << 700n }),
        fc.bigInt({ min: 2n, max: 1n << 600n }),
        (a, m) => {
          if (gcd(a, m) !== 1n) {
            expect(() => modInverse(a, m)).toThrow(InvalidArgs);
            return;
          }
          const inv = modInverse(a, m);
          expect(inv >= 0n && inv < m).toBe(true);
          expect(mod(a * inv, m)).toBe(1n);
        }
      ),
      { numRuns: 300 }
    );
  });

  it('throws InvalidArgs for non-units and bad moduli', () => {
    const { p, N } = fixtureKey(LEVEL112, 0);
    expect(() => modInverse(0n, 7n)).toThrow(InvalidArgs);
    expect(() => modInverse(14n, 7n)).toThrow(InvalidArgs);
    expect(() => modInverse(6n, 9n)).toThrow(InvalidArgs);
    expect(() => modInverse(p, N)).toThrow(InvalidArgs);
    expect(() => modInverse(3n, 0n)).toThrow(InvalidArgs);
    expect(() => modInverse(3n, -7n)).toThrow(InvalidArgs);
    expect(modInverse(-1n, 7n)).toBe(6n);
    expect(modInverse(3n, 7n)).toBe(5n);
  });
});

describe('jacobi', () => {
  /** Legendre symbol by enumerating the squares mod the prime p. */
  function legendre(a: number, p: number): number {
    const r = ((a % p) + p) % p;
    if (r === 0) return 0;
    for (let x = 1; x < p; x++) if ((x * x) % p === r) return 1;
    return -1;
  }
  /** Jacobi symbol from the definition: product of Legendre symbols over n's factorisation. */
  function bruteJacobi(a: number, n: number): number {
    let result = 1;
    let rest = n;
    for (let f = 3; rest > 1; f += 2) {
      while (rest % f === 0) {
        result *= legendre(a, f);
        rest /= f;
      }
    }
    return result === 0 ? 0 : result; // not −0
  }

  it('equals the definition for every a < n and every odd n ≤ 201', () => {
    for (let n = 1; n <= 201; n += 2) {
      for (let a = 0; a < n; a++) {
        expect(jacobi(BigInt(a), BigInt(n)), `(${a}/${n})`).toBe(bruteJacobi(a, n));
      }
      // Reduction of a ≥ n and of negative a.
      for (const a of [n, n + 1, 2 * n + 3, -1, -2, -n - 5]) {
        expect(jacobi(BigInt(a), BigInt(n)), `(${a}/${n})`).toBe(bruteJacobi(a, n));
      }
    }
  });

  it('matches Euler’s criterion mod a 1024-bit prime and is multiplicative in a', () => {
    const { p, q, N } = fixtureKey(LEVEL112, 2);
    for (let i = 0; i < 8; i++) {
      const a = sampleBelow(rng, p);
      const euler = modPowBigint(a, (p - 1n) / 2n, p);
      expect(jacobi(a, p)).toBe(euler === 1n ? 1 : euler === 0n ? 0 : -1);
      const b = sampleBelow(rng, N);
      expect(jacobi(b, N)).toBe(jacobi(b, p) * jacobi(b, q));
      expect(jacobi((b * b) % N, N)).toBe(gcd(b, N) === 1n ? 1 : 0);
    }
    expect(jacobi(p, N)).toBe(0);
    expect(jacobi(-1n, p)).toBe(-1); // p ≡ 3 (mod 4)
  });

  it('throws InvalidArgs for even or non-positive n', () => {
    for (const n of [0n, 2n, 4n, 100n, -3n, -1n, 1n << 1024n]) {
      expect(() => jacobi(3n, n)).toThrow(InvalidArgs);
    }
  });
});

describe('isqrt and iroot', () => {
  it('isqrt: r² ≤ n < (r+1)² (exhaustive to 2000, then random up to 4096 bits)', () => {
    for (let n = 0n; n <= 2000n; n++) {
      const r = isqrt(n);
      expect(r * r <= n && n < (r + 1n) * (r + 1n)).toBe(true);
    }
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 1n << 4096n }), (n) => {
        const r = isqrt(n);
        expect(r * r <= n).toBe(true);
        expect(n < (r + 1n) * (r + 1n)).toBe(true);
      }),
      { numRuns: 300 }
    );
  });

  it('isqrt is exact at squares and just below them', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 1n << 2048n }), (x) => {
        expect(isqrt(x * x)).toBe(x);
        expect(isqrt(x * x - 1n)).toBe(x - 1n);
        expect(isqrt(x * x + 2n * x)).toBe(x);
      }),
      { numRuns: 200 }
    );
  });

  it('iroot: r^k ≤ n < (r+1)^k for k = 1..24', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 1n << 2100n }),
        fc.integer({ min: 1, max: 24 }),
        (n, k) => {
          const K = BigInt(k);
          const r = iroot(n, k);
          expect(r ** K <= n).toBe(true);
          expect(n < (r + 1n) ** K).toBe(true);
        }
      ),
      { numRuns: 300 }
    );
    for (const [x, k] of [
      [3n, 5],
      [(1n << 700n) + 5n, 3],
      [12345n, 7],
    ] as const) {
      const K = BigInt(k);
      expect(iroot(x ** K, k)).toBe(x);
      expect(iroot(x ** K - 1n, k)).toBe(x - 1n);
    }
  });

  it('rejects bad arguments with InvalidArgs', () => {
    expect(() => isqrt(-1n)).toThrow(InvalidArgs);
    expect(() => iroot(-1n, 2)).toThrow(InvalidArgs);
    expect(() => iroot(10n, 0)).toThrow(InvalidArgs);
    expect(() => iroot(10n, -3)).toThrow(InvalidArgs);
  });
});

describe('isPerfectPower', () => {
  it('equals the definition below 5000', () => {
    const powers = new Set<number>();
    for (let a = 2; a * a < 5000; a++) for (let x = a * a; x < 5000; x *= a) powers.add(x);
    for (let n = 0; n < 5000; n++) {
      expect(isPerfectPower(BigInt(n)), String(n)).toBe(powers.has(n));
    }
  });

  it('0..3 are not perfect powers; 4, 8, 9 are', () => {
    for (const n of [0n, 1n, 2n, 3n]) expect(isPerfectPower(n)).toBe(false);
    for (const n of [4n, 8n, 9n]) expect(isPerfectPower(n)).toBe(true);
  });

  it('squares, cubes and fifth powers of large numbers; products of distinct primes are not', () => {
    const { p, q, N } = fixtureKey(LEVEL112, 3);
    expect(isPerfectPower(p * p)).toBe(true);
    expect(isPerfectPower(p ** 3n)).toBe(true);
    expect(isPerfectPower(p ** 5n)).toBe(true);
    expect(isPerfectPower((p * q) ** 2n)).toBe(true);
    const x = exactBits(700);
    expect(isPerfectPower(x ** 3n)).toBe(true);
    expect(isPerfectPower(x ** 7n)).toBe(true);
    expect(isPerfectPower(1n << 2047n)).toBe(true);
    expect(isPerfectPower(N)).toBe(false);
    expect(isPerfectPower(p)).toBe(false);
    expect(isPerfectPower(p * p * q)).toBe(false);
    expect(isPerfectPower(p * p + 1n)).toBe(false);
    expect(isPerfectPower(p ** 3n - 1n)).toBe(false);
    expect(isPerfectPower(2n * 3n * 5n * 7n * 11n * 13n)).toBe(false);
  });
});

describe('CRT', () => {
  const key = fixtureKey(LEVEL112, 4);
  const { p, q, N } = key;
  const crt = crtContext(p, q);

  it('crtContext rejects factors that are not coprime', () => {
    expect(() => crtContext(6n, 9n)).toThrow(InvalidArgs);
    expect(() => crtContext(p, p)).toThrow(InvalidArgs);
    expect(crtContext(p, q).modulus).toBe(N);
  });

  it('crtCombine is the unique x in [0, m1·m2) with the given residues', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: p - 1n }),
        fc.bigInt({ min: 0n, max: q - 1n }),
        (r1, r2) => {
          const x = crtCombine(crt, r1, r2);
          expect(x >= 0n && x < N).toBe(true);
          expect(x % p).toBe(r1);
          expect(x % q).toBe(r2);
        }
      ),
      { numRuns: 100 }
    );
    const small = crtContext(5n, 7n);
    for (let x = 0n; x < 35n; x++) expect(crtCombine(small, x % 5n, x % 7n)).toBe(x);
  });

  it('modPowCrt equals modPow mod N, with and without orders, for any sign of exponent', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: (1n << 2048n) - 1n }),
        fc.bigInt({ min: -(1n << 2100n), max: 1n << 2100n }),
        (b, e) => {
          const base = sampleUnit(rng, N);
          const want = modPow(base, e, N);
          expect(modPowCrt(crt, base, e)).toBe(want);
          expect(modPowCrt(crt, base, e, [p - 1n, q - 1n])).toBe(want);
          // Any positive base (not necessarily a unit) without orders and e ≥ 0.
          const ee = e < 0n ? -e : e;
          expect(modPowCrt(crt, b, ee)).toBe(modPow(b, ee, N));
        }
      ),
      { numRuns: 20 }
    );
  });

  it('modPowCrt over (p², q²) with orders p(p−1), q(q−1)', () => {
    const crt2 = crtContext(p * p, q * q);
    const base = sampleUnit(rng, N * N);
    const e = exactBits(5000);
    expect(modPowCrt(crt2, base, e, [p * (p - 1n), q * (q - 1n)])).toBe(modPow(base, e, N * N));
  });

  it('modPowCrt without orders handles bases that share a factor with the modulus', () => {
    for (const base of [p, 3n * q, 0n, N, N + 1n]) {
      expect(modPowCrt(crt, base, 65537n)).toBe(modPow(base, 65537n, N));
      expect(modPowCrt(crt, base, 0n)).toBe(1n);
    }
    expect(() => modPowCrt(crt, p, -1n)).toThrow(InvalidArgs);
  });
});

describe('Blum square roots (Πmod)', () => {
  const key = fixtureKey(LEVEL112, 5);
  const { p, q, N } = key;
  const crt = key.crtN;

  it('sqrtModBlumPrime returns the square root that is itself a QR', () => {
    const ctx = crt.ctx1;
    for (let i = 0; i < 10; i++) {
      const x = sampleUnit(rng, p);
      const a = (x * x) % p;
      const r = sqrtModBlumPrime(a, ctx);
      expect((r * r) % p).toBe(a);
      expect(jacobi(r, p)).toBe(1);
      expect(r === x || r === p - x).toBe(true);
    }
  });

  it('blumSqrt: a QR root of a QR, applied twice gives a 4th root', () => {
    for (let i = 0; i < 10; i++) {
      const x = sampleUnit(rng, N);
      const a = (x * x) % N;
      const r = blumSqrt(a, crt);
      expect(r).toBeDefined();
      expect((r! * r!) % N).toBe(a);
      expect(jacobi(r!, p)).toBe(1);
      expect(jacobi(r!, q)).toBe(1);
      const y = (a * a) % N; // x⁴
      const r4 = blumSqrt(blumSqrt(y, crt)!, crt)!;
      expect(modPow(r4, 4n, N)).toBe(y);
    }
  });

  it('blumSqrt returns undefined for non-residues (Jacobi −1 and Jacobi +1 alike)', () => {
    // Cover each non-residue class: (a/p, a/q) = (−1, +1), (+1, −1) and (−1, −1), the last one
    // having Jacobi symbol (a/N) = +1, so only the per-prime check can catch it.
    const seen = new Map<string, number>();
    while ([...seen.values()].filter((c) => c >= 3).length < 3) {
      const a = sampleUnit(rng, N);
      const cls = `${jacobi(a, p)},${jacobi(a, q)}`;
      if (cls === '1,1') {
        expect(blumSqrt(a, crt)).toBeDefined();
        continue;
      }
      seen.set(cls, (seen.get(cls) ?? 0) + 1);
      expect(blumSqrt(a, crt)).toBeUndefined();
    }
    // −1 is a non-residue mod both Blum primes: Jacobi(−1, N) = +1 yet no root exists.
    expect(jacobi(N - 1n, N)).toBe(1);
    expect(blumSqrt(N - 1n, crt)).toBeUndefined();
  });
});
