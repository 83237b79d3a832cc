import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { ethereumAddress } from '../../protocol/cggmp/key-share.js';
import { ethersRecover, nobleVerify, opensslVerify } from './verify.js';

// The verifiers themselves must accept good and reject bad signatures, or tests built on them
// prove nothing. Checked against single-key signatures from @noble.
describe('independent verifiers', () => {
  const sk = new Uint8Array(32).fill(7);
  const pk = secp256k1.getPublicKey(sk, true);
  const digest = new Uint8Array(32).map((_, i) => i);
  const sig = secp256k1.Signature.fromBytes(
    secp256k1.sign(digest, sk, { prehash: false, format: 'recovered' }),
    'recovered'
  );

  it('accept a valid signature', () => {
    expect(opensslVerify(pk, digest, sig.r, sig.s)).toBe(true);
    expect(nobleVerify(pk, digest, sig.r, sig.s)).toBe(true);
    expect(ethersRecover(digest, sig.r, sig.s, sig.recovery!)).toBe(ethereumAddress(pk));
  });

  it('reject a wrong s, a wrong digest and a wrong key', () => {
    expect(opensslVerify(pk, digest, sig.r, sig.s + 1n)).toBe(false);
    const other = digest.slice();
    other[0] = 99;
    expect(opensslVerify(pk, other, sig.r, sig.s)).toBe(false);
    expect(
      opensslVerify(secp256k1.getPublicKey(new Uint8Array(32).fill(8), true), digest, sig.r, sig.s)
    ).toBe(false);
    expect(nobleVerify(pk, other, sig.r, sig.s)).toBe(false);
    expect(ethersRecover(other, sig.r, sig.s, sig.recovery!)).not.toBe(ethereumAddress(pk));
  });
});
