/**
 * Slow suite (`npm run test:slow`): keygen at the largest shape (9-of-16 at level112) and the
 * whole level128 table (2-of-3, 3-of-5, 4-of-7, 3-of-3, 5-of-5). Primes: fixture pairs 0..n−1 of
 * the level. Each run checks agreement, x_i·G = X_i, interpolation over several t-subsets,
 * validateKeyShare and the codec, then signs with two different signer subsets (signDigest =
 * presign + sign in one session) and verifies every signature with @noble, the OpenSSL CLI and
 * ethers address recovery. Wall times are logged (all parties in one process).
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
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
import { runSignDigest } from '../helpers/signing.js';
import { ethersRecover, nobleVerify, opensslVerify } from '../helpers/verify.js';

const SHAPES: ReadonlyArray<[string, SecurityLevel, number, number]> = [
  ['9-of-16 level112', LEVEL112, 9, 16],
  ['2-of-3 level128', LEVEL128, 2, 3],
  ['3-of-5 level128', LEVEL128, 3, 5],
  ['4-of-7 level128', LEVEL128, 4, 7],
  ['3-of-3 level128', LEVEL128, 3, 3],
  ['5-of-5 level128', LEVEL128, 5, 5],
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

    // Sign the same digest with two different subsets: two valid signatures for one key.
    const digest = keccak_256(new TextEncoder().encode(`slow ${name}`));
    const subsets = someSubsets(n, t).slice(0, 2);
    const signatures = new Set<string>();
    for (const S of subsets) {
      const started = performance.now();
      const sd = runSignDigest(shares, S, digest, {
        label: `slow/${name}/${S.join(',')}`,
        secretKeys: setup.secretKeys,
      });
      console.log(
        `signDigest ${name} signers ${S.join(',')}: ${Math.round(performance.now() - started)} ms`
      );
      expect(sd.aborts.size).toBe(0);
      expect(sd.results.size).toBe(t);
      const sig = sd.results.get(S[0]!)!.signature;
      for (const r of sd.results.values()) expect(r.signature.signature65).toEqual(sig.signature65);
      expect(nobleVerify(shares[0]!.publicKey, digest, sig.r, sig.s)).toBe(true);
      expect(opensslVerify(shares[0]!.publicKey, digest, sig.r, sig.s)).toBe(true);
      expect(ethersRecover(digest, sig.r, sig.s, sig.recid)).toBe(summary.address);
      signatures.add(Buffer.from(sig.signature65).toString('hex'));
    }
    if (subsets[0]!.join() !== subsets[1]!.join()) expect(signatures.size).toBe(2);
  });
});
