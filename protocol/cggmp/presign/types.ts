/**
 * Plain-data types of the CGGMP21 presigning protocol (CGGMP.md §5.5, Decisions; C3, C8, C12):
 * the {@link Presignature} it outputs and the per-round states the round engine persists.
 *
 * Everything here is plain data (bigint, number, string, boolean, Uint8Array, arrays, plain
 * objects — `protocol/round/state-codec.ts`): points are 33-byte compressed encodings and the
 * Paillier secret key lives inside the {@link KeyShare} as its primes. Arrays indexed "by signer
 * position" follow the sorted signer set S: entry a belongs to roster index S[a]; the entry of
 * this party itself is a placeholder (0n or an empty byte string) where a value only exists for
 * the *other* signers.
 * @module
 */
import type { KeyShare } from '../key-share.js';
import type { SecurityLevelName } from '../../params.js';

/** Version of the {@link Presignature} layout. */
export const PRESIGNATURE_VERSION = 1;

/**
 * One party's presignature: what the 1-round sign needs (R, k_i, χ_i) and what the bad-σ
 * identifiable-abort procedure needs (CGGMP.md §5.6, C1, C5): every K_j, every F̂ broadcast and
 * the D̂_{i,j} received, each still inside its author's signed envelope so that a disputed D̂ is
 * attributed to whoever signed it.
 *
 * SECRET: `k`, `chi`. A presignature is single use (SECURITY.md §1.15): `sign` refuses one whose
 * `consumed` flag is set and sets it before computing σ_i. The durable guarantee across crashes is
 * the keystore's (one synced write that turns the record into a tombstone before σ_i is released).
 */
export interface Presignature {
  readonly version: number;
  /** Hex of the presign ssid (C12): the presignature's id, bound into the sign session (Decisions). */
  readonly id: string;
  /** The presign session's sid: the envelopes in {@link Presignature.chiEnvelopes} carry it. */
  readonly sessionId: Uint8Array;
  readonly keyId: string;
  /** The key epoch the presignature was made under (refuse it under any other). */
  readonly epoch: number;
  readonly level: SecurityLevelName;
  /** The signer set S: sorted roster indices, |S| = t. */
  readonly signers: readonly number[];
  /** This party's roster index. */
  readonly index: number;
  /** The additive HD tweak δ_HD (§5.4, C16; 0 = none), bound into the ssid. */
  readonly tweak: bigint;
  /** The key the signature verifies under: pk + δ_HD·G, compressed. */
  readonly publicKey: Uint8Array;
  /** R = δ^{-1}·Γ (≠ O), compressed. */
  readonly R: Uint8Array;
  /** k_i (SECRET). */
  readonly k: bigint;
  /** χ_i = k_i·w_i + Σ_j(α̂_{i,j} + β̂_{i,j}) mod q (SECRET). */
  readonly chi: bigint;
  /** R̄_j = δ^{-1}·Δ_j by signer position, compressed. */
  readonly Rbar: readonly Uint8Array[];
  /** K_j = enc_j(k_j; ρ_j) by signer position (round-1 broadcasts). */
  readonly K: readonly bigint[];
  /**
   * F̂ by author: `Fhat[a][b]` = F̂_{S[b],S[a]} = enc_{S[a]}(−β̂_{S[a],S[b]}), the value signer S[a]
   * broadcast (B-echo, C8) for signer S[b]; 0n on the diagonal.
   */
  readonly Fhat: readonly (readonly bigint[])[];
  /**
   * The round-3 point-to-point envelopes signer S[b] sent to this party (carrying D̂_{i,S[b]}),
   * signed under {@link Presignature.sessionId}; empty at this party's own position.
   */
  readonly chiEnvelopes: readonly Uint8Array[];
  /**
   * Each other signer's signed round-1 and round-2 broadcast envelopes (K_j, G_j; Γ_j, F, F̂) by
   * signer position (empty at this party's own position): the evidence a bad-σ verdict cites so a
   * third party can recompute the statement.
   */
  readonly broadcasts: { readonly r1: readonly Uint8Array[]; readonly r2: readonly Uint8Array[] };
  /** Set by `sign` before σ_i is computed; a consumed presignature is refused. */
  consumed: boolean;
}

/** What every presign round state carries (round-1 secrets and own ciphertexts). */
export interface PresignBase {
  readonly share: KeyShare;
  readonly signers: readonly number[];
  /** The additive HD tweak δ_HD (0 = none); the lowest signer adds it to w and W (§5.4). */
  readonly tweak: bigint;
  /** This party's fresh round-1 nonce (C12). */
  readonly nonce: Uint8Array;
  /** k_i, γ_i ∈ Z_q \ {0} (SECRET). */
  readonly k: bigint;
  readonly gamma: bigint;
  /** ρ_i, ν_i ∈ Z*_{N_i}: nonces of K_i and G_i (SECRET: either opens its ciphertext). */
  readonly rho: bigint;
  readonly nu: bigint;
  /** K_i = enc_i(k_i; ρ_i), G_i = enc_i(γ_i; ν_i). */
  readonly K: bigint;
  readonly G: bigint;
}

/** Waiting for round 1 (everyone's K_j, G_j and my Πenc proofs). */
export interface PresignRound1 extends PresignBase {
  readonly round: 1;
}

/** Values fixed by round 1, kept by every later round. */
export interface PresignAfter1 extends PresignBase {
  /** ssid = SHAKE256(E(sid, nonces, pk, X, aux, rid, S)) (C12): the context of every later proof. */
  readonly ssid: Uint8Array;
  /** K_j, G_j by signer position (own included). */
  readonly Ks: readonly bigint[];
  readonly Gs: readonly bigint[];
  /** Other signers' round-1 broadcast envelopes by position (evidence). */
  readonly r1Env: readonly Uint8Array[];
  /** β̂_{i,j} ∈ ±2^{ℓ'} by position (SECRET until χ_i is computed). */
  readonly betaHat: readonly bigint[];
}

/**
 * Exactly the {@link PresignAfter1} fields of a later state. Rounds build their successor from
 * this instead of spreading the whole state, so a round's private secrets (β, r̂, …) are dropped
 * as soon as they are no longer needed.
 */
export function keepAfter1(s: PresignAfter1): PresignAfter1 {
  return {
    share: s.share,
    signers: s.signers,
    tweak: s.tweak,
    nonce: s.nonce,
    k: s.k,
    gamma: s.gamma,
    rho: s.rho,
    nu: s.nu,
    K: s.K,
    G: s.G,
    ssid: s.ssid,
    Ks: s.Ks,
    Gs: s.Gs,
    r1Env: s.r1Env,
    betaHat: s.betaHat,
  };
}

/** Waiting for round 2 (Γ_j, F, F̂ broadcasts; D_{i,j}, ψ, ψ′ point-to-point). */
export interface PresignRound2 extends PresignAfter1 {
  readonly round: 2;
  /** β_{i,j} ∈ ±2^{ℓ'} by position (SECRET). */
  readonly beta: readonly bigint[];
  /** r̂_j: the nonce of own F̂_{j,i} by position (witness of ψ̂ sent in round 3). */
  readonly rHat: readonly bigint[];
  /** Own Γ_i = γ_i·G. */
  readonly Gamma: Uint8Array;
  /** Own broadcast F_{j,i} and F̂_{j,i} by position. */
  readonly F: readonly bigint[];
  readonly Fhat: readonly bigint[];
}

/** Waiting for round 3 (δ_j, Δ_j broadcasts; D̂_{i,j}, ψ̂, ψ″ point-to-point). */
export interface PresignRound3 extends PresignAfter1 {
  readonly round: 3;
  /** Γ = Σ_j Γ_j. */
  readonly GammaSum: Uint8Array;
  /** δ_i (SECRET until broadcast; kept for the bad-δ procedure) and own Δ_i = k_i·Γ. */
  readonly delta: bigint;
  readonly Delta: Uint8Array;
  /** F and F̂ by author: `Fby[a][b]` = what S[a] broadcast for S[b] (see {@link Presignature.Fhat}). */
  readonly Fby: readonly (readonly bigint[])[];
  readonly FhatBy: readonly (readonly bigint[])[];
  /** Received D_{i,j} by position and the signed round-2 p2p envelopes carrying them. */
  readonly D: readonly bigint[];
  readonly r2P2pEnv: readonly Uint8Array[];
  /** Other signers' round-2 broadcast envelopes by position (evidence). */
  readonly r2Env: readonly Uint8Array[];
}

/** Round 4, all confirmed: the presignature is output once every signer confirmed (C8 echo). */
export interface PresignRound4Confirm {
  readonly round: 4;
  readonly mode: 'confirm';
  readonly share: KeyShare;
  readonly signers: readonly number[];
  readonly presignature: Presignature;
}

/** Round 4 after δ·G ≠ ΣΔ_j: everyone's bad-δ proofs are checked (CGGMP.md §5.5, C1, C3, C6, C7). */
export interface PresignRound4BadDelta extends PresignAfter1 {
  readonly round: 4;
  readonly mode: 'bad-delta';
  /** δ_j by position (echo-checked in round 4). */
  readonly deltas: readonly bigint[];
  readonly Fby: readonly (readonly bigint[])[];
  readonly r2Env: readonly Uint8Array[];
  /** Other signers' round-3 broadcast envelopes (δ_j, Δ_j) by position (evidence). */
  readonly r3Env: readonly Uint8Array[];
}

/** The state of a presign session between rounds. */
export type PresignState =
  PresignRound1 | PresignRound2 | PresignRound3 | PresignRound4Confirm | PresignRound4BadDelta;
