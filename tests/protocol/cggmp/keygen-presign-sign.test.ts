/**
 * End to end without a dealer: keygen (aux info + Feldman VSS, `protocol/cggmp/keygen`) →
 * presign → sign, and keygen → signDigest, over the in-memory network. Every signature is checked
 * by @noble/curves, the OpenSSL CLI and ethers address recovery against the address keygen
 * reported.
 */
import { describe, expect, it } from 'vitest';
import { ethereumAddress, type KeyShare } from '../../../protocol/cggmp/key-share.js';
import { LEVEL112 } from '../../../protocol/params.js';
import { keygenSetup, runKeygen } from '../../helpers/keygen.js';
import { seededRng } from '../../helpers/rng.js';
import { runPresign, runSign, runSignDigest } from '../../helpers/signing.js';
import { ethersRecover, nobleVerify, opensslVerify } from '../../helpers/verify.js';

describe('keygen → presign → sign (2-of-3 at level112)', () => {
  it('signs with two different subsets and with signDigest; all verify for the keygen key', () => {
    const setup = keygenSetup(LEVEL112, 3, 2, 'e2e');
    const kg = runKeygen(setup, {}, 'e2e');
    expect(kg.aborts.size).toBe(0);
    const shares: KeyShare[] = setup.parties.map((i) => kg.results.get(i)!);
    const pk = shares[0]!.publicKey;
    for (const s of shares) expect(s.publicKey).toEqual(pk);
    const address = ethereumAddress(pk);
    const digest = seededRng('e2e/digest')(32);
    const opts = { secretKeys: setup.secretKeys };
    const sigs = [];
    for (const signers of [
      [0, 1],
      [1, 2],
    ]) {
      const pre = runPresign(shares, signers, { ...opts, label: `e2e/${signers.join('')}` });
      expect(pre.aborts.size).toBe(0);
      expect(pre.results.size).toBe(2);
      const run = runSign(shares, pre.results, digest, {
        ...opts,
        label: `e2e/s${signers.join('')}`,
      });
      expect(run.aborts.size).toBe(0);
      const sig = run.results.get(signers[0]!)!;
      expect(run.results.get(signers[1]!)).toEqual(sig);
      sigs.push(sig);
    }
    const composite = runSignDigest(shares, [0, 2], digest, { ...opts, label: 'e2e/sd' });
    expect(composite.aborts.size).toBe(0);
    sigs.push(composite.results.get(0)!.signature);
    for (const sig of sigs) {
      expect(nobleVerify(pk, digest, sig.r, sig.s)).toBe(true);
      expect(opensslVerify(pk, digest, sig.r, sig.s)).toBe(true);
      expect(ethersRecover(digest, sig.r, sig.s, sig.recid)).toBe(address);
    }
    expect(new Set(sigs.map((s) => s.r)).size).toBe(3);
  });
});
