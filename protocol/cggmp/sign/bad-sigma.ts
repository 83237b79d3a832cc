/**
 * The bad-σ identifiable-abort procedure (CGGMP.md §5.6 "Identifiable abort when the signature is
 * invalid", paper 2021; corrections C1, C5, C6, C7).
 *
 * Run when Σσ_j does not give a valid signature. Each P_i broadcasts
 * - Ĥ_i = (w_i ⊙ K_i)·ρ̂^{N_i}, an encryption of the INTEGER k_i·w_i (C5, C6);
 * - the signed presign round-3 envelopes carrying the D̂_{i,j} it received (their authors'
 *   signatures attribute them);
 * - for each verifier P_j (against R_j): Πmul* that Ĥ_i = (w_i ⊙ K_i)·ρ̂^{N_i} with W_i = w_i·G
 *   (witness (w_i, ρ̂), C5), and Πdec/sigma that
 *   C_i = (m ⊙ K_i) ⊕ (r ⊙ (Ĥ_i ⊕ ⨁_j(D̂_{i,j} ⊖ F̂_{j,i}))) decrypts to y ≡ σ_i (mod q) with
 *   |y| ≤ 2^{B_y}, B_y = ℓ+ℓ'+ε+3+⌈log₂t⌉ (C1); witness y = dec_i(C_i) centred and its recovered
 *   nonce (C7).
 * Everyone recomputes C_j and names every P_j whose proofs fail. Nothing else leaves the party:
 * no k_i, χ_i, w_i, plaintext or nonce. The presignature is already consumed.
 * @module
 */
import { Bug, DecodeError, InvalidArgs } from '../../errors.js';
import type { Point } from '../../math/curve.js';
import { sampleUnit, type Rng } from '../../math/sample.js';
import type { PaillierPublicKey } from '../../paillier/paillier.js';
import { decBoundBits } from '../../params.js';
import type { PartyIndex } from '../../round/types.js';
import { proveDec, verifyDec } from '../../zk/dec.js';
import { proveMulStar, verifyMulStar } from '../../zk/mul-star.js';
import { combineU } from '../presign/bad-delta.js';
import { proofReason, type SigningContext } from '../presign/context.js';
import { openEmbedded } from '../presign/evidence.js';
import { decodeR3P2p } from '../presign/messages.js';
import type { SignR2BadSigma } from './messages.js';
import type { PresignaturePublic, SignRound2 } from './types.js';

/** C = (m ⊙ K) ⊕ (r ⊙ (Ĥ ⊕ ⨁_j(D̂_j ⊖ F̂_j))): the ciphertext of σ's integer form (§5.6). */
export function sigmaCiphertext(
  key: PaillierPublicKey,
  m: bigint,
  r: bigint,
  K: bigint,
  Hhat: bigint,
  Dhat: readonly bigint[],
  Fhat: readonly bigint[]
): bigint {
  return key.add(key.mul(m, K), key.mul(r, combineU(key, Hhat, Dhat, Fhat)));
}

/**
 * The D̂_{j,k} P_j received, from the signed presign round-3 envelopes in the order of
 * S \ {j}: each must be P_k's envelope to P_j in the presign session.
 * @throws DecodeError naming the bad envelope (the presenter is to blame)
 */
export function dhatFromEnvelopes(
  ctx: SigningContext,
  presig: PresignaturePublic,
  j: PartyIndex,
  envelopes: readonly Uint8Array[]
): bigint[] {
  const theirOthers = ctx.signers.filter((k) => k !== j);
  return theirOthers.map((k, idx) => {
    try {
      const body = openEmbedded(ctx.share, envelopes[idx]!, {
        sessionId: presig.sessionId,
        signers: ctx.signers,
        from: k,
        to: j,
        round: 3,
      });
      return decodeR3P2p(body, ctx.level, ctx.paillier(j)).Dhat;
    } catch (err) {
      if (err instanceof DecodeError) throw new DecodeError(`envelopes[${idx}]`, err.rule);
      throw err;
    }
  });
}

/**
 * P_i's bad-σ message.
 * - ρ̂ ← Z*_{N_i}; Ĥ_i = (w_i ⊙ K_i)·ρ̂^{N_i};
 * - C_i from m, r, K_i, Ĥ_i, the D̂_{i,j} (own stored envelopes) and own F̂_{j,i};
 * - y = dec_i(C_i) centred, ρ recovered (C7); for each P_j: Πmul* and Πdec/sigma against R_j.
 * @throws Bug if |y| > 2^{B_y}: impossible once every Πaff-g/chi of presigning verified (C1)
 */
export function buildBadSigma(
  ctx: SigningContext,
  s: SignRound2,
  m: bigint,
  r: bigint,
  rng: Rng
): SignR2BadSigma {
  const { level, sk, self } = ctx;
  const me = ctx.pos(self);
  const p = s.presig;
  const Ki = p.K[me]!;
  const rhoHat = sampleUnit(rng, sk.N);
  const Hhat = sk.add(sk.mul(ctx.w, Ki), sk.nonceToN(rhoHat)); // Ĥ_i = (w_i ⊙ K_i)·ρ̂^{N_i}
  const others = ctx.others;
  const envelopes = others.map((j) => p.chiEnvelopes[ctx.pos(j)]!);
  const Dhat = dhatFromEnvelopes(ctx, p, self, envelopes);
  const Fhat = others.map((j) => p.Fhat[me]![ctx.pos(j)]!);
  const C = sigmaCiphertext(sk, m, r, Ki, Hhat, Dhat, Fhat);
  const y = sk.decrypt(C); // centred (C7)
  const rho = sk.recoverNonce(C, y);
  const yBits = decBoundBits(level, 'sigma', ctx.t);
  const Wi = ctx.W(self);
  try {
    const proofs = others.map((j) => {
      const pctx = { sessionId: s.ssid, prover: self, verifier: j };
      return {
        mulStar: proveMulStar(
          level,
          pctx,
          ctx.aux(j),
          { key: sk, C: Ki, D: Hhat, X: Wi },
          { x: ctx.w, rho: rhoHat },
          rng
        ),
        dec: proveDec(
          level,
          { ...pctx, variant: 'sigma' },
          ctx.aux(j),
          { key: sk, C, x: s.sigma, yBits },
          { y, rho },
          rng
        ),
      };
    });
    return { Hhat, envelopes, proofs };
  } catch (err) {
    if (err instanceof InvalidArgs) throw new Bug(`bad-σ witness out of range: ${err.message}`);
    throw err;
  }
}

/**
 * Check P_j's bad-σ message as P_i: embedded envelopes, then Πmul* on (K_j, Ĥ_j, W_j) and the
 * Πdec/sigma made for me on (C_j, σ_j).
 * @returns undefined if P_j's proofs hold, else the culprit reason
 */
export function checkBadSigma(
  ctx: SigningContext,
  s: SignRound2,
  m: bigint,
  r: bigint,
  j: PartyIndex,
  msg: SignR2BadSigma
): string | undefined {
  const { level, self } = ctx;
  const a = ctx.pos(j);
  const p = s.presig;
  const Nj = ctx.paillier(j);
  let Dhat: bigint[];
  try {
    Dhat = dhatFromEnvelopes(ctx, p, j, msg.envelopes);
  } catch (err) {
    if (err instanceof DecodeError) return `bad-evidence:${err.field}`;
    throw err;
  }
  const theirOthers = ctx.signers.filter((k) => k !== j);
  const Fhat = theirOthers.map((k) => p.Fhat[a]![ctx.pos(k)]!);
  const C = sigmaCiphertext(Nj, m, r, p.K[a]!, msg.Hhat, Dhat, Fhat);
  const proofs = msg.proofs[theirOthers.indexOf(self)]!;
  const pctx = { sessionId: s.ssid, prover: j, verifier: self };
  const Wj: Point = ctx.W(j);
  return (
    proofReason(
      'mul-star',
      verifyMulStar(
        level,
        pctx,
        ctx.aux(self),
        { key: Nj, C: p.K[a]!, D: msg.Hhat, X: Wj },
        proofs.mulStar
      )
    ) ??
    proofReason(
      'dec/sigma',
      verifyDec(
        level,
        { ...pctx, variant: 'sigma' },
        ctx.aux(self),
        { key: Nj, C, x: s.sigmas[a]!, yBits: decBoundBits(level, 'sigma', ctx.t) },
        proofs.dec
      )
    )
  );
}
