/**
 * Tagged hashing and the Fiat–Shamir transcript (CGGMP.md §2.2–2.4, corrections C11/C12).
 *
 * - Hash: SHAKE256 everywhere (`@noble/hashes`): 32-byte output for commitments and ids, the XOF
 *   stream for challenges.
 * - Every hash input is `E(tag, fields…)` with the canonical {@link Encoder}: never raw concatenation.
 * - Challenges are drawn from one XOF stream by rejection sampling (no modulo bias): e ∈ ±Q, e ∈ Z_q,
 *   m bits for Πprm, m units of Z*_N for Πmod. Drawing all m values from a single continuing stream
 *   is what makes them independent (the taurus Πmod bug of SECURITY.md §1.2 re-read one state).
 * @module
 */
import { shake256 } from '@noble/hashes/sha3.js';
import { InvalidArgs } from '../errors.js';
import { allUnits } from '../math/modular.js';
import { sampleBelow, samplePm, sampleScalar, sampleUnit, type Rng } from '../math/sample.js';
import { Encoder } from './encoding.js';

/** Prefix of every domain tag. */
export const TAG_PREFIX = 'mpcd/cggmp21/v1/';

/** Output length of ids and commitments. */
export const DIGEST_BYTES = 32;

/** A squeezing SHAKE256 stream; also usable as an {@link Rng} for the rejection samplers. */
export class XofStream {
  private h: ReturnType<typeof shake256.create>;

  constructor(input: Uint8Array) {
    this.h = shake256.create({});
    this.h.update(input);
  }

  /** The next `length` bytes of the stream. */
  read(length: number): Uint8Array {
    return this.h.xof(length);
  }

  /** This stream as an {@link Rng}. */
  readonly rng: Rng = (length) => this.read(length);

  /** A challenge e uniform in ±2^bits (Paillier proofs: bits = 128, C10). */
  challengePm(bits: number): bigint {
    return samplePm(this.rng, 1n << BigInt(bits));
  }

  /** A challenge e uniform in Z_q (Schnorr). */
  challengeScalar(): bigint {
    return sampleScalar(this.rng);
  }

  /** The next m bits of the stream, as 0/1 numbers (Πprm's binary challenges). */
  challengeBits(m: number): number[] {
    const bytes = this.read(Math.ceil(m / 8));
    const out: number[] = [];
    for (let i = 0; i < m; i++) out.push((bytes[i >> 3]! >> (7 - (i & 7))) & 1);
    return out;
  }

  /**
   * m values uniform in Z*_N (Πmod's y_i), each drawn by rejection from this stream: y_i is the
   * first value of [1, N) coprime to N after y_{i−1}.
   *
   * Fast path, same output: draw m candidates in [0, N) from a clone of the stream and check them
   * all with one gcd ({@link allUnits}); only if one is 0 or not a unit (negligible for an honest
   * N) run the per-value rejection from the saved state.
   */
  challengeUnits(N: bigint, m: number): bigint[] {
    const saved = this.h.clone();
    const fast: bigint[] = [];
    for (let i = 0; i < m; i++) fast.push(sampleBelow(this.rng, N));
    if (allUnits(fast, N)) return fast;
    this.h = saved;
    const out: bigint[] = [];
    for (let i = 0; i < m; i++) out.push(sampleUnit(this.rng, N));
    return out;
  }
}

/**
 * A transcript: a tag followed by canonically encoded fields. Absorb with {@link Transcript.enc},
 * then take a {@link Transcript.digest} or a challenge {@link Transcript.xof}.
 */
export class Transcript {
  /** The encoder fields are appended to. */
  readonly enc = new Encoder();

  /** @param tag full domain tag; must start with {@link TAG_PREFIX}. */
  constructor(tag: string) {
    if (!tag.startsWith(TAG_PREFIX)) throw new InvalidArgs('tag', `must start with ${TAG_PREFIX}`);
    this.enc.tag(tag);
  }

  /** SHAKE256 of the encoding, 32 bytes. */
  digest(): Uint8Array {
    return shake256(this.enc.finish(), { dkLen: DIGEST_BYTES });
  }

  /** A fresh XOF stream over the encoding. */
  xof(): XofStream {
    return new XofStream(this.enc.finish());
  }
}

/**
 * 32-byte tagged hash: SHAKE256(E(tag, fields…)).
 * @example hashTagged('mpcd/cggmp21/v1/keygen/commit', (e) => e.u32(i).point(A))
 */
export function hashTagged(tag: string, write: (enc: Encoder) => void): Uint8Array {
  const t = new Transcript(tag);
  write(t.enc);
  return t.digest();
}
