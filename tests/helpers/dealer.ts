/**
 * TEST-ONLY trusted dealer: key shares of a random secret, so presign/sign can be tested without
 * running keygen (the dfns `trusted_dealer` pattern). Never used outside tests: the dealer knows
 * the secret key.
 *
 * - x ← Z_q \ {0}; f(z) = x + a_1·z + … + a_{t−1}·z^{t−1}; party i gets x_i = f(i + 1);
 *   X_i = x_i·G; pk = x·G.
 * - Roster of n deterministic Ed25519 identities (`identitySecretKey(i)`), party id = "party-ii"
 *   so the roster order is the index order.
 * - Aux info from the fixture Paillier keys 0..n−1 and ring-Pedersen parameters from
 *   `generateRingPedersen(key, seededRng(...))` (`fixtureRingPedersen`).
 * - keyId = computeKeyId(pk, roster, t); rid and chain code random.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { RosterEntry } from '../../protocol/hash/session-id.js';
import { encodePoint, modQ, mulBase } from '../../protocol/math/curve.js';
import { sampleNonZeroScalar, sampleScalar, type Rng } from '../../protocol/math/sample.js';
import type { SecurityLevel } from '../../protocol/params.js';
import { ed25519PublicKey } from '../../protocol/round/envelope.js';
import { computeKeyId, KEY_SHARE_VERSION, type KeyShare } from '../../protocol/cggmp/key-share.js';
import { fixtureKey, fixtureRingPedersen } from './fixtures.js';

/** The deterministic Ed25519 identity secret key (32-byte seed) of roster index i. */
export function identitySecretKey(i: number): Uint8Array {
  return sha256(new TextEncoder().encode(`mpcd-test-identity:${i}`));
}

/** The identity secret keys of roster indices 0..n−1, as the simulator wants them. */
export function identitySecretKeys(n: number): Map<number, Uint8Array> {
  return new Map(Array.from({ length: n }, (_, i) => [i, identitySecretKey(i)]));
}

/** The deterministic roster of n parties. */
export function dealerRoster(n: number): RosterEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    partyId: new TextEncoder().encode(`party-${String(i).padStart(2, '0')}`),
    publicKey: ed25519PublicKey(identitySecretKey(i)),
  }));
}

/** Options of {@link dealKeyShares}. */
export interface DealOptions {
  readonly level: SecurityLevel;
  readonly n: number;
  readonly t: number;
  readonly rng: Rng;
  /** The secret key to share (random if absent). */
  readonly secret?: bigint;
}

/**
 * Shamir shares (degree t − 1, evaluation points i + 1) of a random secret, as n key shares.
 * @example const shares = dealKeyShares({ level: LEVEL112, n: 3, t: 2, rng: seededRng('k') });
 */
export function dealKeyShares(opts: DealOptions): KeyShare[] {
  const { level, n, t, rng } = opts;
  const secret = opts.secret ?? sampleNonZeroScalar(rng);
  const coeffs = [secret, ...Array.from({ length: t - 1 }, () => sampleScalar(rng))];
  const f = (z: bigint): bigint => modQ(coeffs.reduceRight((acc, c) => acc * z + c, 0n));
  const xs = Array.from({ length: n }, (_, i) => f(BigInt(i + 1)));
  const publicShares = xs.map((x) => encodePoint(mulBase(x)));
  const publicKey = encodePoint(mulBase(secret));
  const roster = dealerRoster(n);
  const aux = Array.from({ length: n }, (_, i) => {
    const rp = fixtureRingPedersen(level, i);
    return { N: rp.N, s: rp.s, t: rp.t };
  });
  const keyId = computeKeyId(publicKey, roster, t);
  const rid = rng(32).slice();
  const chainCode = rng(32).slice();
  return xs.map((x, i) => {
    const key = fixtureKey(level, i);
    return {
      version: KEY_SHARE_VERSION,
      level: level.name,
      keyId,
      epoch: 0,
      t,
      n,
      roster,
      index: i,
      x,
      publicShares,
      publicKey,
      rid,
      chainCode,
      aux,
      ownAux: { p: key.p, q: key.q, lambda: fixtureRingPedersen(level, i).lambda },
    };
  });
}
