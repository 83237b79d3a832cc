/**
 * The outputs of key generation and presigning, as plain serializable data (bigint, number,
 * string, Uint8Array, arrays, plain objects — see `protocol/round/state-codec.ts`), plus the
 * helpers every protocol shares: Lagrange coefficients (CGGMP.md §5.4), the compressed public key
 * and the Ethereum address.
 *
 * Threshold semantics (ARCHITECTURE.md): `t` is the number of parties needed to sign; polynomials
 * have degree t − 1; party i's evaluation point is i + 1 and never comes from the wire.
 * @module
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { InvalidArgs } from '../errors.js';
import { hashTagged, TAG_PREFIX } from '../hash/transcript.js';
import type { RosterEntry } from '../hash/session-id.js';
import { CURVE_ORDER, decodePoint, modQ, type Point } from '../math/curve.js';
import { modInverse } from '../math/modular.js';
import type { SecurityLevelName } from '../params.js';
import type { PartyIndex } from '../round/types.js';

/** Version of the {@link KeyShare} layout. */
export const KEY_SHARE_VERSION = 1;

/** One party's public auxiliary info: Paillier modulus N_j = N̂_j and ring-Pedersen (s_j, t_j). */
export interface PartyAux {
  readonly N: bigint;
  readonly s: bigint;
  readonly t: bigint;
}

/** Own auxiliary secrets: the Paillier primes and the ring-Pedersen trapdoor λ (s = t^λ). */
export interface OwnAux {
  readonly p: bigint;
  readonly q: bigint;
  readonly lambda: bigint;
}

/** A party's share of a threshold key, with everything presigning needs. Secret: x and aux. */
export interface KeyShare {
  readonly version: number;
  readonly level: SecurityLevelName;
  /** Non-secret key id: hex of a tagged hash of (public key, roster, t). */
  readonly keyId: string;
  /** Incremented by each refresh. */
  readonly epoch: number;
  /** Signers needed. */
  readonly t: number;
  readonly n: number;
  /** The roster, sorted by party id bytes. */
  readonly roster: readonly RosterEntry[];
  /** This party's roster index. */
  readonly index: PartyIndex;
  /** x_i = F(i + 1), the secret share (SECRET). */
  readonly x: bigint;
  /** X_k = x_k·G for every k, compressed. */
  readonly publicShares: readonly Uint8Array[];
  /** pk = Σ_j S_{j,0}, compressed (33 bytes). */
  readonly publicKey: Uint8Array;
  /** rid = ⊕ rid_j (bound into presign/sign ssids). */
  readonly rid: Uint8Array;
  /** Chain code c = ⊕ c_j for later (non-hardened) HD derivation. */
  readonly chainCode: Uint8Array;
  /** Public aux info of every party (index = roster index). */
  readonly aux: readonly PartyAux[];
  /** Own aux secrets (SECRET). */
  readonly ownAux: OwnAux;
}

/**
 * λ_j = Π_{m ∈ S, m ≠ j} I(m) / (I(m) − I(j)) mod q with I(i) = i + 1 (CGGMP.md §5.4).
 * @throws InvalidArgs if j ∉ S or S has duplicates
 */
export function lagrange(signers: readonly PartyIndex[], j: PartyIndex): bigint {
  if (!signers.includes(j)) throw new InvalidArgs('j', 'must be one of the signers');
  if (new Set(signers).size !== signers.length)
    throw new InvalidArgs('signers', 'must be distinct');
  let num = 1n;
  let den = 1n;
  const xj = BigInt(j + 1);
  for (const m of signers) {
    if (m === j) continue;
    const xm = BigInt(m + 1);
    num = modQ(num * xm);
    den = modQ(den * (xm - xj));
  }
  return modQ(num * modInverse(den, CURVE_ORDER));
}

/** The 20-byte Ethereum address of a public key: keccak256(uncompressed x‖y)[12..]. */
export function ethereumAddress(pk: Point | Uint8Array): string {
  const P = pk instanceof Uint8Array ? decodePoint(pk, 'publicKey') : pk;
  const raw = P.toBytes(false).subarray(1);
  const h = keccak_256(raw).subarray(12);
  const hex = Buffer.from(h).toString('hex');
  // EIP-55 checksum
  const check = Buffer.from(keccak_256(new TextEncoder().encode(hex))).toString('hex');
  let out = '0x';
  for (let i = 0; i < hex.length; i++) {
    out += parseInt(check[i]!, 16) >= 8 ? hex[i]!.toUpperCase() : hex[i]!;
  }
  return out;
}

/** The key id: first 16 bytes (hex) of SHAKE256(E(tag, pk, roster, t)). */
export function computeKeyId(
  publicKey: Uint8Array,
  roster: readonly RosterEntry[],
  t: number
): string {
  const h = hashTagged(`${TAG_PREFIX}key-id`, (e) =>
    e
      .bytes(publicKey)
      .list(roster, (x, r) => x.bytes(r.partyId).bytes(r.publicKey))
      .u32(t)
  );
  return Buffer.from(h.subarray(0, 16)).toString('hex');
}
