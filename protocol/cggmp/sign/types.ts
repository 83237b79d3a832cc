/**
 * Plain-data states of the 1-round sign protocol (CGGMP.md §5.6) and its bad-σ round.
 *
 * A sign state never holds k_i or χ_i: σ_i is computed before the first state exists, and the
 * bad-σ procedure only needs public presignature data, w_i and the Paillier secret key.
 * @module
 */
import type { KeyShare } from '../key-share.js';
import type { Presignature } from '../presign/types.js';

/** A presignature without its secrets (k_i, χ_i) and without the single-use flag. */
export type PresignaturePublic = Omit<Presignature, 'k' | 'chi' | 'consumed'>;

/** What every sign state carries. */
export interface SignBase {
  readonly share: KeyShare;
  readonly presig: PresignaturePublic;
  /** The 32-byte digest being signed. */
  readonly digest: Uint8Array;
  /** Own fresh nonce (C12). */
  readonly nonce: Uint8Array;
  /** Own σ_i = k_i·m + r·χ_i mod q (already released). */
  readonly sigma: bigint;
}

/** Waiting for every σ_j. */
export interface SignRound1 extends SignBase {
  readonly round: 1;
}

/** The signature did not verify: waiting for everyone's bad-σ message (§5.6, C1, C5). */
export interface SignRound2 extends SignBase {
  readonly round: 2;
  /** The sign ssid (C12; binds the presignature id and the digest). */
  readonly ssid: Uint8Array;
  /** σ_j by signer position. */
  readonly sigmas: readonly bigint[];
  /** Other signers' round-1 envelopes by position (evidence: σ_j). */
  readonly r1Env: readonly Uint8Array[];
}

/** The state of a sign session between rounds. */
export type SignState = SignRound1 | SignRound2;
