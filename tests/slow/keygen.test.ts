/**
 * Slow suite (`npm run test:slow`): keygen at the largest shape (9-of-16 at level112) and the
 * level128 table (2-of-3, 3-of-5, 4-of-7). Primes: fixture pairs 0..n−1 of the level. Each run
 * checks agreement, x_i·G = X_i, interpolation over several t-subsets, validateKeyShare and the
 * codec, and logs the wall time (all parties in one process).
 */
import { computeAddress } from 'ethers';
import { describe, expect, it } from 'vitest';
import { lagrange, type KeyShare } from '../../protocol/cggmp/key-share.js';
import {
  decodeKeyShare,
  encodeKeyShare,
  keyShareSummary,
  validateKeyShare,
} from '../../protocol/cggmp/keygen/index.js';
import { decodePoint, modQ, mulBase } from '../../protocol/math/curve.js';
import { LEVEL112, LEVEL128, type SecurityLevel } from '../../protocol/params.js';
import { keygenSetup, runKeygen } from '../helpers/keygen.js';

const SHAPES: ReadonlyArray<[string, SecurityLevel, number, number]> = [
  ['9-of-16 level112', LEVEL112, 9, 16],
  ['2-of-3 level128', LEVEL128, 2, 3],
  ['3-of-5 level128', LEVEL128, 3, 5],
  ['4-of-7 level128', LEVEL128, 4, 7],
];

/** A few t-subsets: the first t, the last t, every other party, and a rotation. */
function someSubsets(n: number, t: number): number[][] {
  const first = Array.from({ length: t }, (_, k) => k);
  const last = Array.from({ length: t }, (_, k) => n - t + k);
  const spread = Array.from({ length: t }, (_, k) => Math.floor((k * n) / t));
  const rotated = Array.from({ length: t }, (_, k) => (k + Math.floor(n / 2)) % n).sort(
    (a, b) => a - b
  );
  return [first, last, spread, rotated];
}

describe.each(SHAPES)('keygen %s', (name, level, t, n) => {
  it('every party outputs the same key; shares interpolate; validate and codec pass', () => {
    const setup = keygenSetup(level, n, t, 'slow');
    const run = runKeygen(setup, {}, 'slow');
    console.log(`keygen ${name}: ${Math.round(run.ms)} ms (all ${n} parties in one process)`);
    expect(run.aborts.size).toBe(0);
    expect(run.stuck).toEqual([]);
    const shares: KeyShare[] = setup.parties.map((p) => run.results.get(p)!);
    const pk = decodePoint(shares[0]!.publicKey);
    for (const s of shares) {
      expect(s.publicKey).toEqual(shares[0]!.publicKey);
      expect(s.keyId).toBe(shares[0]!.keyId);
      expect(s.publicShares).toEqual(shares[0]!.publicShares);
      expect(s.aux).toEqual(shares[0]!.aux);
      expect(mulBase(s.x).toBytes(true)).toEqual(s.publicShares[s.index]);
      expect(() => validateKeyShare(s)).not.toThrow();
      expect(decodeKeyShare(encodeKeyShare(s))).toEqual(s);
    }
    for (const S of someSubsets(n, t)) {
      const sk = S.reduce((acc, j) => modQ(acc + lagrange(S, j) * shares[j]!.x), 0n);
      expect(mulBase(sk).equals(pk)).toBe(true);
    }
    const summary = keyShareSummary(shares[0]!);
    expect(summary.address).toBe(computeAddress('0x' + summary.publicKey));
  });
});
