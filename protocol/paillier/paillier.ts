/**
 * Paillier encryption (Paillier 1999) with g = N + 1, as CGGMP.md §3 uses it.
 *
 * - enc_N(m; ρ) = (1+N)^m · ρ^N mod N² = (1 + (m mod N)·N) · ρ^N mod N². The nonce ρ ∈ Z*_N is always
 *   explicit: the zero-knowledge proofs need it as a witness.
 * - dec returns the **centred** representative in (−N/2, N/2], via CRT mod p² and q²
 *   (dfns spec §CRT): m_p = L_p(c^{p−1} mod p²)·h_p mod p with L_p(u) = (u−1)/p and, for g = N+1,
 *   h_p = (−q)^{−1} mod p; likewise for q; then Garner recombination mod N.
 * - ⊕ (add plaintexts) is the product mod N²; a ⊙ C (scale the plaintext) is C^a mod N², for any
 *   integer a (negative a uses the inverse).
 * - Validation of peer data: ciphertexts need 0 < C < N² and gcd(C, N) = 1; a public modulus must
 *   be in the level's size window, odd, composite and not a perfect power (Πmod/Πfac are verified
 *   separately, SECURITY.md §1.5–1.7).
 *
 * Own-key operations (encrypt, decrypt, nonce recovery) use CRT and the fast modexp: ~3× over a
 * plain modexp mod N² (STACK.md). The secret moduli p, q, p², q² get exponentiation contexts owned
 * by the key (never the shared cache of `modPow`, which is for public moduli). JavaScript BigInt is not constant-time; see docs/math.md.
 * @module
 */
import { checkPrimeSync } from 'node:crypto';
import { InvalidArgs } from '../errors.js';
import { bitLength } from '../math/bytes.js';
import {
  crtCombine,
  crtContext,
  gcd,
  isPerfectPower,
  mod,
  modInverse,
  modPow,
  type Crt,
} from '../math/modular.js';
import type { SecurityLevel } from '../params.js';

/** Why a public modulus or ciphertext was refused; stable codes for tests and blame. */
export type PaillierRejection =
  | 'modulus-too-small'
  | 'modulus-too-large'
  | 'modulus-even'
  | 'modulus-prime'
  | 'modulus-perfect-power'
  | 'ciphertext-out-of-range'
  | 'ciphertext-not-unit';

/** A refused Paillier value (peer input); `code` says which rule. */
export class PaillierError extends Error {
  override readonly name = 'PaillierError';
  constructor(
    readonly code: PaillierRejection,
    message: string
  ) {
    super(message);
  }
}

/**
 * Check a peer's public modulus N against a security level: bitlen(N) ∈ [8κ−1, 8κ] (C17), N odd,
 * N not prime (probabilistic), N not a perfect power.
 * @throws PaillierError naming the first violated rule.
 */
export function validatePublicModulus(N: bigint, level: SecurityLevel): void {
  const bits = bitLength(N);
  if (bits < level.modulusBits - 1) {
    throw new PaillierError(
      'modulus-too-small',
      `modulus has ${bits} bits, below ${level.modulusBits - 1}`
    );
  }
  if (bits > level.modulusBits) {
    throw new PaillierError(
      'modulus-too-large',
      `modulus has ${bits} bits, above ${level.modulusBits}`
    );
  }
  if ((N & 1n) === 0n) throw new PaillierError('modulus-even', 'modulus is even');
  if (checkPrimeSync(N, { checks: 20 }))
    throw new PaillierError('modulus-prime', 'modulus is prime');
  if (isPerfectPower(N))
    throw new PaillierError('modulus-perfect-power', 'modulus is a perfect power');
}

/** A Paillier public key (ours or a peer's), with the homomorphic operations. */
export class PaillierPublicKey {
  /** N² */
  readonly N2: bigint;

  /**
   * Wraps N without validation: callers validate peer moduli with {@link validatePublicModulus}
   * (and Πmod/Πfac) first.
   */
  constructor(readonly N: bigint) {
    if (N < 3n) throw new InvalidArgs('N', 'modulus too small');
    this.N2 = N * N;
  }

  /** (1+N)^m mod N² = 1 + (m mod N)·N. */
  private gm(m: bigint): bigint {
    return (1n + mod(m, this.N) * this.N) % this.N2;
  }

  /**
   * enc_N(m; ρ) = (1+N)^m·ρ^N mod N², for any integer m (taken mod N) and ρ ∈ Z*_N.
   * @throws InvalidArgs if ρ is not in Z*_N.
   */
  encrypt(m: bigint, rho: bigint): bigint {
    this.assertNonce(rho);
    return (this.gm(m) * modPow(rho, this.N, this.N2)) % this.N2;
  }

  /** C1 ⊕ C2: a ciphertext of the sum of the plaintexts. */
  add(c1: bigint, c2: bigint): bigint {
    return (c1 * c2) % this.N2;
  }

  /** C1 ⊖ C2: a ciphertext of the difference of the plaintexts. */
  sub(c1: bigint, c2: bigint): bigint {
    return (c1 * modInverse(c2, this.N2)) % this.N2;
  }

  /** a ⊙ C = C^a mod N²: a ciphertext of a·plaintext (a may be negative). */
  mul(a: bigint, c: bigint): bigint {
    return modPow(c, a, this.N2);
  }

  /** ρ^N mod N², the randomiser of enc(·; ρ). */
  nonceToN(rho: bigint): bigint {
    return modPow(rho, this.N, this.N2);
  }

  /** Whether C is a valid ciphertext: 0 < C < N² and gcd(C, N) = 1. */
  isValidCiphertext(c: bigint): boolean {
    return c > 0n && c < this.N2 && gcd(c, this.N) === 1n;
  }

  /**
   * @throws PaillierError if C is not a valid ciphertext (peer input, CGGMP.md §3).
   */
  validateCiphertext(c: bigint): void {
    if (c <= 0n || c >= this.N2) {
      throw new PaillierError('ciphertext-out-of-range', 'ciphertext not in (0, N²)');
    }
    if (gcd(c, this.N) !== 1n)
      throw new PaillierError('ciphertext-not-unit', 'gcd(ciphertext, N) ≠ 1');
  }

  /** Whether x ∈ Z*_N. */
  isUnit(x: bigint): boolean {
    return x > 0n && x < this.N && gcd(x, this.N) === 1n;
  }

  private assertNonce(rho: bigint): void {
    if (!this.isUnit(rho)) throw new InvalidArgs('rho', 'nonce must be in Z*_N');
  }
}

/**
 * Our own Paillier key pair from two safe primes p ≠ q (p ≡ q ≡ 3 mod 4). Build it with
 * {@link paillierKeyFromPrimes}, which checks the primes.
 */
export class PaillierSecretKey extends PaillierPublicKey {
  /** φ(N) = (p−1)(q−1) */
  readonly phi: bigint;
  /** CRT context mod (p, q) */
  readonly crtN: Crt;
  /** CRT context mod (p², q²) */
  readonly crtN2: Crt;
  private readonly p2: bigint;
  private readonly q2: bigint;
  /** h_p = (−q)^{−1} mod p, h_q = (−p)^{−1} mod q (decryption constants for g = N+1). */
  private readonly hp: bigint;
  private readonly hq: bigint;
  /** N^{−1} mod φ(N): the exponent that takes N-th roots (nonce recovery, Πmod's z_i). */
  readonly nInvPhi: bigint;

  constructor(
    readonly p: bigint,
    readonly q: bigint
  ) {
    super(p * q);
    this.phi = (p - 1n) * (q - 1n);
    this.crtN = crtContext(p, q);
    this.p2 = p * p;
    this.q2 = q * q;
    this.crtN2 = crtContext(this.p2, this.q2);
    this.hp = modInverse(mod(-q, p), p);
    this.hq = modInverse(mod(-p, q), q);
    this.nInvPhi = modInverse(this.N, this.phi);
  }

  /** The public part. */
  publicKey(): PaillierPublicKey {
    return new PaillierPublicKey(this.N);
  }

  /** ρ^N mod N² via CRT (ρ coprime to N, so exponents reduce mod p(p−1) and q(q−1)). */
  override nonceToN(rho: bigint): bigint {
    const rp = this.crtN2.ctx1.pow(rho, this.N % (this.p * (this.p - 1n)));
    const rq = this.crtN2.ctx2.pow(rho, this.N % (this.q * (this.q - 1n)));
    return crtCombine(this.crtN2, rp, rq);
  }

  /**
   * a ⊙ C = C^a mod N² via CRT over p² and q² (two quarter-cost exponentiations instead of one
   * mod N²). No exponent reduction, so it is exact for every base; a < 0 inverts C first.
   */
  override mul(a: bigint, c: bigint): bigint {
    if (a < 0n) return this.mul(-a, modInverse(c, this.N2));
    return crtCombine(this.crtN2, this.crtN2.ctx1.pow(c, a), this.crtN2.ctx2.pow(c, a));
  }

  /** enc_N(m; ρ) with the CRT speed-up; same result as the public {@link PaillierPublicKey.encrypt}. */
  override encrypt(m: bigint, rho: bigint): bigint {
    if (!this.isUnit(rho)) throw new InvalidArgs('rho', 'nonce must be in Z*_N');
    return ((1n + mod(m, this.N) * this.N) * this.nonceToN(rho)) % this.N2;
  }

  /** Plaintext in [0, N). @throws InvalidArgs on an invalid ciphertext. */
  decryptRaw(c: bigint): bigint {
    if (!this.isValidCiphertext(c)) throw new InvalidArgs('ciphertext', 'not a valid ciphertext');
    const { p, q } = this;
    const up = this.crtN2.ctx1.pow(c, p - 1n);
    const uq = this.crtN2.ctx2.pow(c, q - 1n);
    const mp = mod(((up - 1n) / p) * this.hp, p);
    const mq = mod(((uq - 1n) / q) * this.hq, q);
    return crtCombine(this.crtN, mp, mq);
  }

  /** Centred plaintext in (−N/2, N/2] (CGGMP.md notation: dec). */
  decrypt(c: bigint): bigint {
    const m = this.decryptRaw(c);
    return m > this.N >> 1n ? m - this.N : m;
  }

  /**
   * The nonce ρ of a ciphertext C = enc(y; ρ) for a known plaintext y (C7):
   * ρ = (C·(1+N)^{−y} mod N)^{N^{−1} mod φ(N)} mod N.
   */
  recoverNonce(c: bigint, y: bigint): bigint {
    const r = mod((c * (1n + mod(-y, this.N) * this.N)) % this.N2, this.N);
    return this.rootN(r);
  }

  /** The unique N-th root of x ∈ Z*_N modulo N (CRT over p, q). */
  rootN(x: bigint): bigint {
    const e = this.nInvPhi;
    const rp = this.crtN.ctx1.pow(x, e % (this.p - 1n));
    const rq = this.crtN.ctx2.pow(x, e % (this.q - 1n));
    return crtCombine(this.crtN, rp, rq);
  }
}

/**
 * Checks a safe prime for our own key: p prime, (p−1)/2 prime, p ≡ 3 (mod 4), exactly `bits` bits.
 * Run on every prime loaded from storage or fixtures (SECURITY.md §1.16), not only generated ones.
 * @throws InvalidArgs naming the failed rule (never the value).
 */
export function assertSafePrime(p: bigint, bits: number, field = 'p'): void {
  if (bitLength(p) !== bits) throw new InvalidArgs(field, `must have exactly ${bits} bits`);
  if ((p & 3n) !== 3n) throw new InvalidArgs(field, 'must be ≡ 3 (mod 4)');
  if (!checkPrimeSync(p, { checks: 32 })) throw new InvalidArgs(field, 'is not prime');
  if (!checkPrimeSync((p - 1n) >> 1n, { checks: 32 }))
    throw new InvalidArgs(field, 'is not a safe prime');
}

/**
 * Our Paillier key from two safe primes of the level's size, after checking them.
 * @throws InvalidArgs if a prime fails its check, p = q, or N falls outside the level's window.
 */
export function paillierKeyFromPrimes(
  p: bigint,
  q: bigint,
  level: SecurityLevel
): PaillierSecretKey {
  if (p === q) throw new InvalidArgs('q', 'must differ from p');
  assertSafePrime(p, level.primeBits, 'p');
  assertSafePrime(q, level.primeBits, 'q');
  const bits = bitLength(p * q);
  if (bits < level.modulusBits - 1 || bits > level.modulusBits) {
    throw new InvalidArgs(
      'p·q',
      `modulus must have ${level.modulusBits - 1} or ${level.modulusBits} bits`
    );
  }
  return new PaillierSecretKey(p, q);
}
