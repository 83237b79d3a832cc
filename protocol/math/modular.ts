/**
 * Modular arithmetic over `bigint`: fast exponentiation, inverse, gcd, Jacobi symbol, integer square
 * root, CRT and the Blum square roots used by Πmod.
 *
 * **Fast modexp.** Node's `BigInt` square-and-multiply runs ~64 modexp/s at 2048 bits. OpenSSL's
 * Montgomery exponentiation is reachable without a native addon through the Diffie–Hellman API: a
 * DH object created over modulus M computes `base^e mod M` as `setPrivateKey(e)` +
 * `computeSecret(base)`. It is undocumented behaviour, so it lives behind {@link ModContext} and
 * {@link modPow}; every case OpenSSL refuses (even moduli, moduli < 512 or > 10000 bits, bases
 * 0, 1 and M−1) goes to a BigInt fallback, and the tests compare both paths on random and edge
 * inputs and assert which path ran.
 *
 * Creating the DH object runs OpenSSL's `DH_check`, which costs about one full-size exponentiation
 * for a composite modulus and a whole primality test for a prime one (27 ms for a 1024-bit prime
 * here). So a context is created once per modulus and reused: {@link modPow} keeps a small LRU cache
 * for **public** moduli (peers' N, N², N̂); own secret moduli (p, q, p², q²) get their own
 * {@link ModContext} held by the key object ({@link crtContext}), never the shared cache.
 * OpenSSL treats the DH private key — our exponent — as secret (BN_FLG_CONSTTIME): better timing
 * hygiene than BigInt, which is not constant-time (docs/math.md).
 * @module
 */
import { createDiffieHellman, type DiffieHellman } from 'node:crypto';
import { InvalidArgs } from '../errors.js';
import { bigintToBuffer, bitLength } from './bytes.js';

function bigintToFixedBuffer(x: bigint, len: number): Buffer {
  const hex = x.toString(16).padStart(len * 2, '0');
  return Buffer.from(hex, 'hex');
}

/** Smallest modulus, in bits, the OpenSSL DH route accepts. */
export const OPENSSL_MIN_MODULUS_BITS = 512;
/** Largest modulus, in bits, the OpenSSL DH route accepts (OPENSSL_DH_MAX_MODULUS_BITS). */
export const OPENSSL_MAX_MODULUS_BITS = 10_000;

/** Which implementation computed a modular exponentiation. */
export type ModPowPath = 'openssl' | 'bigint';

/** x mod m in [0, m). */
export function mod(x: bigint, m: bigint): bigint {
  const r = x % m;
  return r < 0n ? r + m : r;
}

/** Plain BigInt square-and-multiply, exponent ≥ 0. The reference the fast path is tested against. */
export function modPowBigint(base: bigint, exp: bigint, m: bigint): bigint {
  if (m === 1n) return 0n;
  let result = 1n;
  let b = mod(base, m);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return result;
}

/** Whether the OpenSSL route can work modulo m at all (odd, 512..10000 bits). */
export function opensslAccepts(m: bigint): boolean {
  if ((m & 1n) === 0n) return false; // Montgomery needs an odd modulus
  const bits = bitLength(m);
  return bits >= OPENSSL_MIN_MODULUS_BITS && bits <= OPENSSL_MAX_MODULUS_BITS;
}

/**
 * The path taken for a base already reduced mod m and an exponent ≥ 0. Exposed so tests and
 * benchmarks can assert that the fast path really runs.
 */
export function modPowRoute(reducedBase: bigint, exp: bigint, m: bigint): ModPowPath {
  // Trivial cases, and the bases OpenSSL's public-key check refuses (≤ 1 and ≥ m − 1).
  if (exp === 0n || reducedBase < 2n || reducedBase >= m - 1n) return 'bigint';
  return opensslAccepts(m) ? 'openssl' : 'bigint';
}

/**
 * Modular exponentiation modulo one fixed modulus, with OpenSSL's Montgomery context created once.
 * @example const ctx = new ModContext(p); ctx.pow(3n, 5n)
 */
export class ModContext {
  private dh: DiffieHellman | undefined;
  private readonly bytes: number;

  /** @throws InvalidArgs if m ≤ 0. */
  constructor(readonly m: bigint) {
    if (m <= 0n) throw new InvalidArgs('m', 'modulus must be positive');
    this.bytes = Math.ceil(bitLength(m) / 8);
  }

  /** base^exp mod m with the path used; a negative exponent inverts the base first. */
  powWithPath(base: bigint, exp: bigint): { value: bigint; path: ModPowPath } {
    const m = this.m;
    if (m === 1n) return { value: 0n, path: 'bigint' };
    let b = mod(base, m);
    let e = exp;
    if (e < 0n) {
      b = modInverse(b, m);
      e = -e;
    }
    if (e === 0n) return { value: 1n, path: 'bigint' };
    if (b === 0n || b === 1n) return { value: b, path: 'bigint' };
    if (b === m - 1n) return { value: (e & 1n) === 0n ? 1n : b, path: 'bigint' }; // (−1)^e
    if (modPowRoute(b, e, m) === 'openssl') {
      const z = this.tryOpenssl(b, e);
      if (z !== undefined) return { value: z, path: 'openssl' };
      // OpenSSL 3 refuses a DH secret Z ∈ {0, 1, m−1} (SP 800-56A). Here e ≥ 2 (b^1 = b is never
      // refused), so compute y = b^(e−1) and Z = y·b; Z must then be one of the refused values.
      const y = this.tryOpenssl(b, e - 1n);
      if (y !== undefined) {
        const value = (y * b) % m;
        if (value === 0n || value === 1n || value === m - 1n) return { value, path: 'openssl' };
      }
      // Defensive: an OpenSSL refusal we did not predict. Correctness first.
    }
    return { value: modPowBigint(b, e, m), path: 'bigint' };
  }

  /** base^exp mod m (see {@link ModContext.powWithPath}). */
  pow(base: bigint, exp: bigint): bigint {
    return this.powWithPath(base, exp).value;
  }

  private tryOpenssl(b: bigint, e: bigint): bigint | undefined {
    try {
      return this.openssl(b, e);
    } catch {
      return undefined;
    }
  }

  private openssl(b: bigint, e: bigint): bigint {
    // DH "shared secret" = peerPublic^private mod prime: here b^e mod m. The output is zero-padded
    // to the modulus length; BigInt parsing does not care.
    this.dh ??= createDiffieHellman(bigintToBuffer(this.m), Buffer.from([2]));
    this.dh.setPrivateKey(bigintToBuffer(e));
    try {
      const out = this.dh.computeSecret(bigintToFixedBuffer(b, this.bytes));
      return BigInt('0x' + out.toString('hex'));
    } finally {
      // The exponent may be secret (λ, nonces): do not leave it in a long-lived (cached) context.
      this.dh.setPrivateKey(ONE);
    }
  }
}

const ONE = Buffer.from([1]);

/** Bound on the shared context cache (public moduli only: peers' N, N², N̂). */
const CACHE_LIMIT = 64;
const shared = new Map<bigint, ModContext>();

function sharedContext(m: bigint): ModContext {
  let ctx = shared.get(m);
  if (ctx) {
    shared.delete(m); // LRU: re-insert as most recent
  } else {
    ctx = new ModContext(m);
    if (shared.size >= CACHE_LIMIT) shared.delete(shared.keys().next().value!);
  }
  shared.set(m, ctx);
  return ctx;
}

/**
 * `base^exp mod m` with the path that computed it. A negative exponent means the inverse of base
 * raised to |exp|. Uses the shared context cache: **m must be public** (see the module doc).
 * @throws InvalidArgs if m ≤ 0, or exp < 0 with gcd(base, m) ≠ 1.
 */
export function modPowWithPath(
  base: bigint,
  exp: bigint,
  m: bigint
): { value: bigint; path: ModPowPath } {
  if (m <= 0n) throw new InvalidArgs('m', 'modulus must be positive');
  // Only moduli the fast path can use are worth a cached context.
  if (!opensslAccepts(m)) return new ModContext(m).powWithPath(base, exp);
  return sharedContext(m).powWithPath(base, exp);
}

/**
 * `base^exp mod m` for a **public** modulus m, fast where possible; see the module doc.
 * @example modPow(3n, 5n, 7n) // 5n
 */
export function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  return modPowWithPath(base, exp, m).value;
}

/** Greatest common divisor of |a| and |b|. */
export function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/**
 * Whether every value is in Z*_N (0 < x < N and gcd(x, N) = 1), with one gcd in total: a prime
 * factor of N divides some x_i iff it divides ∏ x_i mod N. A BigInt gcd at 3072 bits costs ~0.4 ms,
 * a product step ~6 µs, so checking Πmod's 2m values this way saves ~100 ms per peer. Callers that
 * must name the bad index re-check one by one when this returns false.
 */
export function allUnits(values: readonly bigint[], N: bigint): boolean {
  let prod = 1n;
  for (const x of values) {
    if (x <= 0n || x >= N) return false;
    prod = (prod * x) % N;
  }
  return gcd(prod, N) === 1n;
}

/** Extended Euclid: returns [g, x, y] with a·x + b·y = g = gcd(a, b) for a, b ≥ 0. */
export function egcd(a: bigint, b: bigint): [bigint, bigint, bigint] {
  let [oldR, r] = [a, b];
  let [oldS, s] = [1n, 0n];
  let [oldT, t] = [0n, 1n];
  while (r !== 0n) {
    const qt = oldR / r;
    [oldR, r] = [r, oldR - qt * r];
    [oldS, s] = [s, oldS - qt * s];
    [oldT, t] = [t, oldT - qt * t];
  }
  return [oldR, oldS, oldT];
}

/**
 * Inverse of a modulo m.
 * @throws InvalidArgs when gcd(a, m) ≠ 1.
 */
export function modInverse(a: bigint, m: bigint): bigint {
  if (m <= 0n) throw new InvalidArgs('m', 'modulus must be positive');
  const [g, x] = egcd(mod(a, m), m);
  if (g !== 1n) throw new InvalidArgs('a', 'not invertible modulo m');
  return mod(x, m);
}

/**
 * Jacobi symbol (a / n) for odd n > 0: 1, −1, or 0 when gcd(a, n) ≠ 1.
 * @throws InvalidArgs if n is even or not positive.
 */
export function jacobi(a: bigint, n: bigint): -1 | 0 | 1 {
  if (n <= 0n || (n & 1n) === 0n) throw new InvalidArgs('n', 'must be odd and positive');
  a = mod(a, n);
  let result: 1 | -1 = 1;
  while (a !== 0n) {
    while ((a & 1n) === 0n) {
      a >>= 1n;
      const r = n & 7n;
      if (r === 3n || r === 5n) result = result === 1 ? -1 : 1;
    }
    [a, n] = [n, a];
    if ((a & 3n) === 3n && (n & 3n) === 3n) result = result === 1 ? -1 : 1;
    a %= n;
  }
  return n === 1n ? result : 0;
}

/** ⌊√n⌋ for n ≥ 0 (Newton's method). @throws InvalidArgs for negative n. */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new InvalidArgs('n', 'must be non-negative');
  if (n < 2n) return n;
  // Start above the root: 2^⌈bits/2⌉.
  let x = 1n << BigInt((bitLength(n) + 1) >> 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** ⌊n^(1/k)⌋ for n ≥ 0, k ≥ 1. */
export function iroot(n: bigint, k: number): bigint {
  if (n < 0n) throw new InvalidArgs('n', 'must be non-negative');
  if (!Number.isInteger(k) || k < 1) throw new InvalidArgs('k', 'must be an integer ≥ 1');
  if (n < 2n || k === 1) return n;
  const K = BigInt(k);
  let x = 1n << BigInt(Math.ceil(bitLength(n) / k));
  for (;;) {
    const y = ((K - 1n) * x + n / x ** (K - 1n)) / K;
    if (y >= x) break;
    x = y;
  }
  while (x ** K > n) x--;
  while ((x + 1n) ** K <= n) x++;
  return x;
}

/**
 * Whether n = a^k for some integers a ≥ 2, k ≥ 2. A Paillier–Blum modulus never is; checking it is
 * cheap defence in depth (SECURITY.md §1.6).
 */
export function isPerfectPower(n: bigint): boolean {
  if (n < 4n) return false;
  // n = a^k with k composite is also (a^(k/p))^p for a prime p | k: prime exponents suffice, and
  // a ≥ 2 bounds k by bitlen(n). Skipping composite k makes the check ~10× cheaper at 3072 bits.
  const maxK = bitLength(n);
  for (let k = 2; k <= maxK; k = nextPrime(k)) {
    const r = iroot(n, k);
    if (r < 2n) break;
    if (r ** BigInt(k) === n) return true;
  }
  return false;
}

function nextPrime(k: number): number {
  for (let c = k + 1; ; c++) {
    let prime = true;
    for (let d = 2; d * d <= c && prime; d++) if (c % d === 0) prime = false;
    if (prime) return c;
  }
}

/**
 * CRT context for a modulus M = m1·m2 with known coprime factors: precomputes m1^{-1} mod m2.
 * Own-key work (Paillier decryption, own encryption, own ring-Pedersen) uses it: two half-size
 * exponentiations cost ~3× less than one full-size one (STACK.md).
 */
export interface Crt {
  readonly m1: bigint;
  readonly m2: bigint;
  readonly modulus: bigint;
  /** m1^{-1} mod m2 */
  readonly m1InvMod2: bigint;
  /** Private exponentiation contexts mod m1 and mod m2 (secret moduli stay out of the cache). */
  readonly ctx1: ModContext;
  readonly ctx2: ModContext;
}

/** Build a {@link Crt} context. @throws InvalidArgs if the factors are not coprime. */
export function crtContext(m1: bigint, m2: bigint): Crt {
  return {
    m1,
    m2,
    modulus: m1 * m2,
    m1InvMod2: modInverse(m1, m2),
    ctx1: new ModContext(m1),
    ctx2: new ModContext(m2),
  };
}

/** Garner recombination: the x mod m1·m2 with x ≡ r1 (mod m1), x ≡ r2 (mod m2). */
export function crtCombine(crt: Crt, r1: bigint, r2: bigint): bigint {
  const h = mod((r2 - r1) * crt.m1InvMod2, crt.m2);
  return r1 + crt.m1 * h;
}

/**
 * `base^exp mod m1·m2` from the two half-size exponentiations. With `orders` (the group orders of
 * Z*_{m1}, Z*_{m2}, e.g. p−1 and q−1, or p(p−1) and q(q−1)) the exponent is reduced first, which is
 * only valid for bases coprime to the modulus — all of our own-key callers satisfy that.
 */
export function modPowCrt(
  crt: Crt,
  base: bigint,
  exp: bigint,
  orders?: readonly [bigint, bigint]
): bigint {
  if (exp < 0n) return modPowCrt(crt, modInverse(base, crt.modulus), -exp, orders);
  const e1 = orders ? exp % orders[0] : exp;
  const e2 = orders ? exp % orders[1] : exp;
  const r1 = crt.ctx1.pow(base, e1);
  const r2 = crt.ctx2.pow(base, e2);
  return crtCombine(crt, r1, r2);
}

/**
 * Square root of a quadratic residue a modulo a Blum prime p (p ≡ 3 mod 4): a^{(p+1)/4} mod p.
 * The caller must know a is a QR mod p; the result is the root that is itself a QR. Pass the
 * prime's own {@link ModContext} (p is secret).
 */
export function sqrtModBlumPrime(a: bigint, p: ModContext): bigint {
  return p.pow(a, (p.m + 1n) >> 2n);
}

/**
 * The square root of a mod N = p·q (p, q Blum primes) that is itself a quadratic residue, or
 * `undefined` if a is not a QR mod N; `crt` is the key's context over (p, q). Applying it twice gives the 4th root Πmod needs (§4.3).
 */
export function blumSqrt(a: bigint, crt: Crt): bigint | undefined {
  const p = crt.m1;
  const q = crt.m2;
  const ap = mod(a, p);
  const aq = mod(a, q);
  const rp = sqrtModBlumPrime(ap, crt.ctx1);
  const rq = sqrtModBlumPrime(aq, crt.ctx2);
  if ((rp * rp) % p !== ap || (rq * rq) % q !== aq) return undefined;
  return crtCombine(crt, rp, rq);
}
