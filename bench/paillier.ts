/**
 * Paillier with g = N+1: own-key encrypt/decrypt (CRT + OpenSSL route), encryption under a peer's
 * public key, and paillier-bigint 3.4 on the same primes for comparison (docs/paillier.md).
 */
import * as paillierBigint from 'paillier-bigint';
import { XofStream } from '../protocol/hash/transcript.js';
import { sampleBelow, samplePmBits, sampleUnit } from '../protocol/math/sample.js';
import { LEVEL112, LEVEL128 } from '../protocol/params.js';
import { fixtureKey } from '../tests/helpers/fixtures.js';
import { measure, note, report, round } from './harness.js';

export function benchPaillier(): void {
  const rng = new XofStream(new TextEncoder().encode('bench/paillier')).rng;
  for (const level of [LEVEL112, LEVEL128]) {
    note(`paillier ${level.name}`);
    const key = fixtureKey(level, 0);
    const pub = key.publicKey();
    const m = samplePmBits(rng, 256);
    const rho = sampleUnit(rng, key.N);
    const c = key.encrypt(m, rho);
    const own = measure(() => key.encrypt(m, rho));
    const peer = measure(() => pub.encrypt(m, rho));
    const dec = measure(() => key.decrypt(c));
    const scalar = sampleBelow(rng, 1n << 256n);
    const mul = measure(() => pub.mul(scalar, c));
    // paillier-bigint on the same primes: the independent oracle of the tests, here for speed.
    const pbPub = new paillierBigint.PublicKey(key.N, key.N + 1n);
    const lambda = key.phi;
    const pbPriv = new paillierBigint.PrivateKey(
      lambda,
      modInv(lambda, key.N),
      pbPub,
      key.p,
      key.q
    );
    const mm = ((m % key.N) + key.N) % key.N;
    const pbEnc = measure(() => pbPub.encrypt(mm, rho), { samples: 3 });
    const pbDec = measure(() => pbPriv.decrypt(c), { samples: 3 });
    report({
      bench: 'paillier',
      level: level.name,
      ownEncryptMs: round(own.medianMs),
      peerEncryptMs: round(peer.medianMs),
      decryptMs: round(dec.medianMs),
      mulBy256BitScalarMs: round(mul.medianMs),
      paillierBigintEncryptMs: round(pbEnc.medianMs),
      paillierBigintDecryptMs: round(pbDec.medianMs),
    });
  }
}

function modInv(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return ((s0 % m) + m) % m;
}
