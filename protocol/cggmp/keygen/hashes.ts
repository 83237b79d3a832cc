/**
 * The three hashes of a keygen session (CGGMP.md §2.2 with C11/C12, §5.1–5.2, C17): the round-1
 * commitment V_i, the ssid of C12, and the round-4 confirmation of the public outcome. All are
 * SHAKE256 over the canonical encoding E(·) with their own tags — never raw concatenation.
 * @module
 */
import { hashTagged } from '../../hash/transcript.js';
import { KEYGEN_TAGS, RANDOM_BYTES } from './messages.js';

/** V_i = SHAKE256(E(tag, sid, i, E(decommitment_i))) — binding, and hiding through u_i. */
export function commitment(sid: Uint8Array, i: number, decommitment: Uint8Array): Uint8Array {
  return hashTagged(KEYGEN_TAGS.commit, (e) => e.bytes(sid).u32(i).bytes(decommitment));
}

/**
 * ssid = SHAKE256(E(tag, sid, [nonce_0..nonce_{n−1}], rid, ρ)) with rid = ⊕ rid_j, ρ = ⊕ ρ_j
 * (C12). Putting rid and ρ in the ssid binds every later proof (Πsch, Πmod, Πfac) to the
 * coin-tossed values, as the paper's "ctx ‖ i ‖ ρ" and "e_i = H(ctx, i, rid, …)" do
 * (SECURITY.md §1.12).
 */
export function computeSsid(
  sid: Uint8Array,
  nonces: readonly Uint8Array[],
  rid: Uint8Array,
  rho: Uint8Array
): Uint8Array {
  return hashTagged(KEYGEN_TAGS.ssid, (e) =>
    e
      .bytes(sid)
      .list(nonces, (x, v) => x.bytes(v))
      .bytes(rid)
      .bytes(rho)
  );
}

/** The public outcome every party confirms in round 4. */
export interface Outcome {
  readonly ssid: Uint8Array;
  readonly t: number;
  readonly n: number;
  /** pk, compressed. */
  readonly publicKey: Uint8Array;
  /** X_k for every k, compressed. */
  readonly publicShares: readonly Uint8Array[];
  /** (N_j, s_j, t_j) for every j. */
  readonly aux: readonly { readonly N: bigint; readonly s: bigint; readonly t: bigint }[];
  readonly rid: Uint8Array;
  readonly chainCode: Uint8Array;
}

/** The round-4 confirmation: SHAKE256 of the whole public outcome (C17's signed "all OK"). */
export function confirmationHash(o: Outcome): Uint8Array {
  return hashTagged(KEYGEN_TAGS.confirm, (e) =>
    e
      .bytes(o.ssid)
      .u32(o.t)
      .u32(o.n)
      .bytes(o.publicKey)
      .list(o.publicShares, (x, X) => x.bytes(X))
      .list(o.aux, (x, a) => x.nat(a.N).nat(a.s).nat(a.t))
      .bytes(o.rid)
      .bytes(o.chainCode)
  );
}

/** XOR of 32-byte values (rid = ⊕ rid_j, c = ⊕ c_j, ρ = ⊕ ρ_j). */
export function xorAll(values: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(RANDOM_BYTES);
  for (const v of values) for (let k = 0; k < RANDOM_BYTES; k++) out[k]! ^= v[k]!;
  return out;
}
