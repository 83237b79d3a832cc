/**
 * Tests of protocol/paillier/paillier.ts at both levels: round trips and the centred decryption of
 * CGGMP.md §3, the CRT paths against the public ones, the homomorphism, nonce recovery (C7), an
 * independent oracle (`paillier-bigint`, built from the same p, q), and the validation of peer
 * moduli and ciphertexts and of our own safe primes (SECURITY.md §1.5–1.7, §1.16).
 */
import { checkPrimeSync, getDiffieHellman } from 'node:crypto';
import fc from 'fast-check';
import { PrivateKey, PublicKey } from 'paillier-bigint';
import { describe, expect, it } from 'vitest';
import { InvalidArgs } from '../../../protocol/errors.js';
import { gcd, iroot, mod, modInverse, modPow } from '../../../protocol/math/modular.js';
import { sampleBelow, samplePm, sampleUnit } from '../../../protocol/math/sample.js';
import {
  assertSafePrime,
  PaillierError,
  PaillierPublicKey,
  paillierKeyFromPrimes,
  validatePublicModulus,
  type PaillierRejection,
} from '../../../protocol/paillier/paillier.js';
import { LEVEL112, LEVEL128, type SecurityLevel } from '../../../protocol/params.js';
import { BOTH_LEVELS, fixtureCount, fixtureKey, fixturePrimes } from '../../helpers/fixtures.js';
import { seededRng } from '../../helpers/rng.js';

const bits = (x: bigint): number => x.toString(2).length;
/** The well-known RFC 3526 / RFC 2409 safe primes (public constants shipped with OpenSSL). */
const modpPrime = (name: string): bigint => BigInt('0x' + getDiffieHellman(name).getPrime('hex'));

function rejection(f: () => void): PaillierRejection | 'none' | 'other' {
  try {
    f();
    return 'none';
  } catch (e) {
    return e instanceof PaillierError ? e.code : 'other';
  }
}

describe.each(BOTH_LEVELS)('Paillier at %s', (name, level) => {
  const key = fixtureKey(level, 0);
  const pub = key.publicKey();
  const { N, N2, p, q } = key;
  const half = (N - 1n) / 2n;
  const rng = seededRng(`paillier/${name}`);
  const runs = level === LEVEL128 ? 4 : 12;
  const nonce = (): bigint => sampleUnit(rng, N);
  /** The centred representative in (−N/2, N/2]. */
  const centred = (x: bigint): bigint => {
    const r = mod(x, N);
    return r > N / 2n ? r - N : r;
  };
  const plain = fc.bigInt({ min: -half, max: half });

  it('the key has the level’s shape', () => {
    expect(bits(N)).toBe(level.modulusBits);
    expect(N2).toBe(N * N);
    expect(key.phi).toBe((p - 1n) * (q - 1n));
    expect(mod(N * key.nInvPhi, key.phi)).toBe(1n);
    expect(pub.N).toBe(N);
    expect(pub).not.toBeInstanceOf(key.constructor);
  });

  it('round trips 0, ±1, ±(N−1)/2 and wraps (N+1)/2 to −(N−1)/2', () => {
    for (const m of [0n, 1n, -1n, 2n, half, -half, half - 1n, -half + 1n]) {
      const rho = nonce();
      const c = pub.encrypt(m, rho);
      expect(key.decrypt(c)).toBe(m);
      expect(key.decryptRaw(c)).toBe(mod(m, N));
      expect(key.encrypt(m, rho)).toBe(c);
    }
    expect(key.decrypt(pub.encrypt(half + 1n, nonce()))).toBe(-half);
    expect(key.decrypt(pub.encrypt(N, nonce()))).toBe(0n);
    expect(key.decrypt(pub.encrypt(-N - 5n, nonce()))).toBe(-5n);
    // enc(0; 1) = 1.
    expect(pub.encrypt(0n, 1n)).toBe(1n);
    expect(key.decrypt(1n)).toBe(0n);
  });

  it('random plaintexts round trip, and CRT encrypt equals public encrypt (fast-check)', () => {
    fc.assert(
      fc.property(plain, fc.bigInt({ min: -(N << 4n), max: N << 4n }), (m, big) => {
        const rho = nonce();
        const c = key.encrypt(m, rho);
        expect(c).toBe(pub.encrypt(m, rho));
        expect(key.decrypt(c)).toBe(m);
        // Any integer is taken mod N.
        expect(key.decrypt(key.encrypt(big, rho))).toBe(centred(big));
        expect(key.nonceToN(rho)).toBe(pub.nonceToN(rho));
      }),
      { numRuns: runs }
    );
  });

  it('decryption is centred: every valid ciphertext decrypts into [−(N−1)/2, (N−1)/2]', () => {
    for (let i = 0; i < 3 * runs; i++) {
      const c = sampleUnit(rng, N2);
      const m = key.decrypt(c);
      expect(m >= -half && m <= half).toBe(true);
      const raw = key.decryptRaw(c);
      expect(raw >= 0n && raw < N).toBe(true);
      expect(mod(m, N)).toBe(raw);
    }
  });

  it('refuses nonces outside Z*_N and ciphertexts outside Z*_{N²}', () => {
    for (const rho of [0n, N, N + 1n, p, 2n * q, -1n]) {
      expect(() => pub.encrypt(1n, rho)).toThrow(InvalidArgs);
      expect(() => key.encrypt(1n, rho)).toThrow(InvalidArgs);
    }
    for (const c of [0n, N2, p, N]) expect(() => key.decrypt(c)).toThrow(InvalidArgs);
    expect(() => new PaillierPublicKey(2n)).toThrow(InvalidArgs);
  });

  it('is homomorphic: add, sub, mul by any-sign scalars (fast-check)', () => {
    const small = fc.bigInt({ min: -(1n << 1000n), max: 1n << 1000n });
    fc.assert(
      fc.property(plain, plain, small, small, (a, b, x, k) => {
        const ca = key.encrypt(a, nonce());
        const cb = key.encrypt(b, nonce());
        const cx = key.encrypt(x, nonce());
        // Modulo N in general…
        expect(key.decrypt(pub.add(ca, cb))).toBe(centred(a + b));
        expect(key.decrypt(pub.sub(ca, cb))).toBe(centred(a - b));
        expect(key.decrypt(pub.mul(k, ca))).toBe(centred(k * a));
        // …and exactly over the integers when nothing wraps (|k·x| < 2^2000 < N/2).
        expect(key.decrypt(pub.mul(k, cx))).toBe(k * x);
        expect(key.decrypt(pub.mul(-k, cx))).toBe(-k * x);
        expect(key.decrypt(pub.add(cx, cx))).toBe(2n * x);
        expect(key.decrypt(pub.sub(cx, pub.mul(3n, cx)))).toBe(-2n * x);
      }),
      { numRuns: runs }
    );
    const c = key.encrypt(5n, nonce());
    expect(key.decrypt(pub.mul(0n, c))).toBe(0n);
    expect(key.decrypt(pub.mul(-1n, c))).toBe(-5n);
    expect(() => pub.sub(c, p)).toThrow(InvalidArgs);
  });

  it('recoverNonce recovers ρ, also of a homomorphic combination (C7)', () => {
    for (let i = 0; i < runs; i++) {
      const a = samplePm(rng, 1n << 1500n);
      const b = samplePm(rng, 1n << 1500n);
      const r1 = nonce();
      const r2 = nonce();
      const c1 = key.encrypt(a, r1);
      const c2 = pub.encrypt(b, r2);
      expect(key.recoverNonce(c1, a)).toBe(r1);
      expect(key.recoverNonce(c2, b)).toBe(r2);
      expect(key.recoverNonce(pub.add(c1, c2), a + b)).toBe((r1 * r2) % N);
      // ρ is recovered from C mod N alone; y only matters modulo N.
      expect(key.recoverNonce(c1, a + N)).toBe(r1);
      // A ciphertext re-encrypted with the recovered nonce is identical.
      expect(pub.encrypt(a, key.recoverNonce(c1, a))).toBe(c1);
    }
  });

  it('rootN is the unique N-th root mod N', () => {
    for (let i = 0; i < runs; i++) {
      const y = sampleUnit(rng, N);
      const x = key.rootN(y);
      expect(modPow(x, N, N)).toBe(y);
      const rho = nonce();
      expect(key.rootN(modPow(rho, N, N))).toBe(rho);
    }
  });

  describe('against the independent paillier-bigint oracle', () => {
    // g = N + 1, λ = φ(N), μ = λ^{−1} mod N (the "simple variant" of paillier-bigint).
    const theirPub = new PublicKey(N, N + 1n);
    const theirPriv = new PrivateKey(key.phi, modInverse(key.phi, N), theirPub, p, q);

    it('our ciphertexts decrypt under theirs, theirs under ours, bit-identical for (m, ρ)', () => {
      const cases = [0n, 1n, N - 1n, half, half + 1n, sampleBelow(rng, N), sampleBelow(rng, N)];
      for (const m of cases.slice(0, level === LEVEL128 ? 5 : cases.length)) {
        const rho = nonce();
        const ours = key.encrypt(m, rho);
        const theirs = theirPub.encrypt(m, rho);
        expect(theirs).toBe(ours);
        expect(theirPriv.decrypt(ours)).toBe(m); // theirs returns [0, N)
        expect(key.decryptRaw(theirs)).toBe(m);
        expect(key.decrypt(theirs)).toBe(centred(m));
      }
      // A negative plaintext: ours encrypts m mod N, theirs decrypts to it.
      const c = key.encrypt(-42n, nonce());
      expect(theirPriv.decrypt(c)).toBe(N - 42n);
    });

    it('homomorphic operations agree with theirs', () => {
      const a = sampleBelow(rng, N);
      const ca = key.encrypt(a, nonce());
      const cb = key.encrypt(7n, nonce());
      expect(pub.add(ca, cb)).toBe(theirPub.addition(ca, cb));
      expect(pub.mul(12345n, ca)).toBe(theirPub.multiply(ca, 12345n));
      expect(theirPriv.decrypt(pub.mul(-3n, cb))).toBe(N - 21n);
      expect(theirPriv.getRandomFactor(ca)).toBe(key.recoverNonce(ca, a));
    });
  });

  describe('ciphertext validation', () => {
    it.each<[string, PaillierRejection | 'none', bigint]>([
      ['0', 'ciphertext-out-of-range', 0n],
      ['−1', 'ciphertext-out-of-range', -1n],
      ['N²', 'ciphertext-out-of-range', N2],
      ['N² + 1', 'ciphertext-out-of-range', N2 + 1n],
      ['2N²', 'ciphertext-out-of-range', 2n * N2],
      ['p', 'ciphertext-not-unit', p],
      ['q', 'ciphertext-not-unit', q],
      ['N', 'ciphertext-not-unit', N],
      ['p·(N+1)', 'ciphertext-not-unit', p * (N + 1n)],
      ['N² − N', 'ciphertext-not-unit', N2 - N],
      ['1', 'none', 1n],
      ['N² − 1', 'none', N2 - 1n],
      ['N + 1', 'none', N + 1n],
    ])('C = %s → %s', (_n, code, c) => {
      expect(rejection(() => pub.validateCiphertext(c))).toBe(code);
      expect(pub.isValidCiphertext(c)).toBe(code === 'none');
    });

    it('isUnit is membership of Z*_N', () => {
      expect(pub.isUnit(1n)).toBe(true);
      expect(pub.isUnit(N - 1n)).toBe(true);
      for (const x of [0n, N, N + 1n, p, q, -1n]) expect(pub.isUnit(x)).toBe(false);
    });
  });

  describe('validatePublicModulus', () => {
    const b = level.modulusBits;
    // A cube in the window: r = ⌊2^{(8κ−1)/3}⌋ + 2, so 2^{8κ−1} < r³ < 2^{8κ}.
    const r = iroot(1n << BigInt(b - 1), 3) + 2n;
    const cube = (r | 1n) ** 3n;
    // The RFC 3526 prime of this size: a public, well-known prime in the window.
    const prime = modpPrime(level === LEVEL112 ? 'modp14' : 'modp15');
    // An odd composite with exactly 8κ − 1 bits (the smallest accepted size).
    const lowest = 3n * ((1n << BigInt(b - 3)) + 1n);

    it('the constructed moduli have the sizes the cases rely on', () => {
      expect(bits(N >> 2n)).toBe(b - 2);
      expect(bits(2n * N + 1n)).toBe(b + 1);
      expect(bits(p * p)).toBeGreaterThanOrEqual(b - 1);
      expect(bits(p * p)).toBeLessThanOrEqual(b);
      expect(bits(cube)).toBeGreaterThanOrEqual(b - 1);
      expect(bits(cube)).toBeLessThanOrEqual(b);
      expect(bits(prime)).toBe(b);
      expect(checkPrimeSync(prime)).toBe(true);
      expect(bits(lowest)).toBe(b - 1);
    });

    it.each<[string, PaillierRejection | 'none', () => bigint]>([
      ['8κ − 2 bits', 'modulus-too-small', () => (N >> 2n) | 1n],
      ['1 bit', 'modulus-too-small', () => 1n],
      ['8κ + 1 bits', 'modulus-too-large', () => 2n * N + 1n],
      ['N² (twice the bits)', 'modulus-too-large', () => N2],
      ['even (N + 1)', 'modulus-even', () => N + 1n],
      ['even (2^{8κ−1})', 'modulus-even', () => 1n << BigInt(b - 1)],
      ['prime (RFC 3526)', 'modulus-prime', () => prime],
      ['p² (perfect square)', 'modulus-perfect-power', () => p * p],
      ['a cube', 'modulus-perfect-power', () => cube],
      ['the fixture N', 'none', () => N],
      ['another fixture N', 'none', () => fixtureKey(level, 1).N],
      ['an odd composite of 8κ − 1 bits', 'none', () => lowest],
    ])('%s → %s', (_n, code, make) => {
      expect(rejection(() => validatePublicModulus(make(), level))).toBe(code);
    });
  });
});

describe('safe-prime checks of our own key', () => {
  const { p, q } = fixturePrimes(LEVEL112, 0);
  const rngNS = seededRng('paillier/non-safe');

  /** A 1024-bit prime p ≡ 3 (mod 4) whose (p−1)/2 is composite: deterministic search. */
  function nonSafePrime(): bigint {
    let x = (1n << 1023n) | (sampleBelow(rngNS, 1n << 1020n) << 2n) | 3n;
    for (; ; x += 4n) if (checkPrimeSync(x) && !checkPrimeSync((x - 1n) >> 1n)) return x;
  }

  it('accepts the fixture primes and an independent well-known safe prime (RFC 2409 group 2)', () => {
    expect(() => assertSafePrime(p, 1024)).not.toThrow();
    expect(() => assertSafePrime(q, 1024)).not.toThrow();
    const oakley = modpPrime('modp2');
    expect(bits(oakley)).toBe(1024);
    expect(() => assertSafePrime(oakley, 1024)).not.toThrow();
  });

  it.each<[string, () => bigint, RegExp]>([
    ['the wrong size (1024 bits for 1536)', () => p, /exactly 1536 bits/],
    ['the wrong size (1025 bits)', () => 2n * p + 1n, /exactly 1536 bits/],
  ])('rejects %s', (_n, make, rule) => {
    expect(() => assertSafePrime(make(), 1536)).toThrow(rule);
  });

  it('rejects ≡ 1 (mod 4), composites and non-safe primes, naming the rule', () => {
    expect(p % 3n).toBe(2n); // so p + 4 ≡ 0 (mod 3)
    const nonSafe = nonSafePrime();
    expect(bits(nonSafe)).toBe(1024);
    for (const [x, rule] of [
      [p + 2n, /≡ 3 \(mod 4\)/],
      [p - 2n, /≡ 3 \(mod 4\)/],
      [p + 4n, /not prime/],
      [nonSafe, /not a safe prime/],
    ] as const) {
      let err: unknown;
      try {
        assertSafePrime(x, 1024, 'p');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidArgs);
      expect((err as InvalidArgs).field).toBe('p');
      expect((err as InvalidArgs).rule).toMatch(rule);
    }
  });

  it('paillierKeyFromPrimes rejects p = q, a bad prime and primes of the wrong level', () => {
    expect(() => paillierKeyFromPrimes(p, p, LEVEL112)).toThrow(/must differ/);
    expect(() => paillierKeyFromPrimes(p, q + 4n, LEVEL112)).toThrow(InvalidArgs);
    expect(() => paillierKeyFromPrimes(p, q, LEVEL128)).toThrow(/exactly 1536 bits/);
    const k = paillierKeyFromPrimes(q, p, LEVEL112); // order does not matter
    expect(k.N).toBe(p * q);
  });

  it('every fixture prime pair passes the load-time check at its level (< 10 s)', () => {
    const seen = new Set<bigint>();
    const start = performance.now();
    const perLevel: Record<string, number> = {};
    for (const level of [LEVEL112, LEVEL128] as SecurityLevel[]) {
      const t0 = performance.now();
      for (let i = 0; i < fixtureCount(level); i++) {
        const pair = fixturePrimes(level, i);
        expect(pair.p < pair.q).toBe(true);
        const k = paillierKeyFromPrimes(pair.p, pair.q, level);
        expect(bits(k.N)).toBe(level.modulusBits);
        expect(gcd(k.N, k.phi)).toBe(1n);
        seen.add(pair.p).add(pair.q);
      }
      perLevel[level.name] = Math.round(performance.now() - t0);
    }
    const elapsed = performance.now() - start;
    expect(fixtureCount(LEVEL112)).toBe(20);
    expect(fixtureCount(LEVEL128)).toBe(10);
    expect(seen.size).toBe(2 * (20 + 10)); // no prime is reused across pairs
    console.info(`load-time check of all fixture primes: ${Math.round(elapsed)} ms`, perLevel);
    expect(elapsed).toBeLessThan(10_000);
  });
});

describe.each(BOTH_LEVELS)('CRT ⊙ of our own key at %s', (_name, level) => {
  it('equals the public-key ⊙ for every sign of exponent, and for a non-unit base', () => {
    const key = fixtureKey(level, 4);
    const pub = key.publicKey();
    const c = key.encrypt(123456789n, 987654321n);
    for (const a of [0n, 1n, 2n, -1n, (1n << 486n) + 7n, -((1n << 128n) + 3n), key.N2 + 5n]) {
      expect(key.mul(a, c)).toBe(pub.mul(a, c));
    }
    const nonUnit = key.p * 3n; // not a ciphertext: still exact, no exponent reduction
    expect(key.mul(12345n, nonUnit)).toBe(pub.mul(12345n, nonUnit));
    expect(key.decrypt(key.mul(-3n, c))).toBe(-3n * 123456789n);
  });
});
