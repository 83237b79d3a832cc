/**
 * Finalize of presign round 2 → round 3 (CGGMP.md §5.5 rows 2–3, with C3 and C8).
 *
 * The engine has already checked the round-1 echo (every round-2 message carries its sender's
 * hashes of the round-1 broadcasts, C8), so every honest signer holds the same (K_j, G_j).
 * @module
 */
import { encodePoint, G as BASE, isIdentity, modQ, mulPoint } from '../../math/curve.js';
import { sampleUnit, type Rng } from '../../math/sample.js';
import { abortStep, decodeEach } from '../../round/blame.js';
import type { Culprit, Inbox, OutMsg, SessionInfo, Step } from '../../round/types.js';
import { proveAffG, verifyAffG } from '../../zk/aff-g.js';
import { proveLogStar, verifyLogStar } from '../../zk/log-star.js';
import { proofReason, type SigningContext } from './context.js';
import {
  decodeR2Broadcast,
  decodeR2P2p,
  encodeR3Broadcast,
  encodeR3P2p,
  type R2Broadcast,
} from './messages.js';
import { PRESIGN } from './round1.js';
import {
  keepAfter1,
  type Presignature,
  type PresignRound2,
  type PresignRound3,
  type PresignState,
} from './types.js';

/**
 * Spread a sender's broadcast list (one entry per OTHER signer, increasing) over all t positions,
 * 0n at the sender's own position.
 */
export function byPosition(list: readonly bigint[], senderPos: number, t: number): bigint[] {
  const out: bigint[] = [];
  let k = 0;
  for (let b = 0; b < t; b++) out.push(b === senderPos ? 0n : list[k++]!);
  return out;
}

/**
 * Finalize round 2 → round 3.
 * - decode every (Γ_j, F, F̂) broadcast (t−1 ciphertexts each, under N_j) and every
 *   (D_{i,j}, ψ, ψ′) (D_{i,j} under MY key N_i);
 * - verify ψ_{i,j} = Πaff-g/delta on (N_i, N_j, K_i, D_{i,j}, F_{i,j}, Γ_j) and
 *   ψ′_{i,j} = Πlog* (gamma) on (N_j, G_j, Γ_j, G), with MY R_i and ctx (ssid, j, i); culprit = j;
 * - Γ = Σ_j Γ_j (≠ O, §1.10); Δ_i = k_i·Γ;
 *   α_{i,j} = dec_i(D_{i,j}) centred; δ_i = k_i·γ_i + Σ_j(α_{i,j} + β_{i,j}) mod q (C3);
 * - for each j: ŝ ← Z*_{N_j}; D̂_{j,i} = (w_i ⊙ K_j) ⊕ enc_j(−β̂_{i,j}; ŝ); ψ̂_{j,i} = Πaff-g/chi
 *   with witness (w_i, −β̂_{i,j}, ŝ, r̂) and X = W_i; ψ″_{j,i} = Πlog* (delta) on (K_i, Δ_i, Γ);
 * - broadcast (B-echo) δ_i, Δ_i; to each P_j (D̂_{j,i}, ψ̂, ψ″).
 */
export function finalizeRound2(
  ctx: SigningContext,
  _info: SessionInfo,
  s: PresignRound2,
  inbox: Inbox,
  rng: Rng
): Step<PresignState, Presignature> {
  const { level, self, sk, t } = ctx;
  const me = ctx.pos(self);
  const bc = decodeEach(inbox.broadcast, (b, from) =>
    decodeR2Broadcast(b, level, ctx.paillier(from), t - 1)
  );
  const pp = decodeEach(inbox.p2p, (b) => decodeR2P2p(b, level, sk));
  const bad = [...bc.culprits, ...pp.culprits];
  if (bad.length > 0) return abortStep(PRESIGN, 2, 'decode', bad);

  // F and F̂ by author (row a = what S[a] broadcast); my own row is what I sent.
  const row = (j: number, pick: (m: R2Broadcast) => readonly bigint[], mine: readonly bigint[]) =>
    j === self ? [...mine] : byPosition(pick(bc.values.get(j)!), ctx.pos(j), t);
  const Fby = ctx.signers.map((j) => row(j, (m) => m.F, s.F));
  const FhatBy = ctx.signers.map((j) => row(j, (m) => m.Fhat, s.Fhat));

  const culprits: Culprit[] = [];
  for (const j of ctx.others) {
    const a = ctx.pos(j);
    const m = bc.values.get(j)!;
    const d = pp.values.get(j)!;
    const pctx = { sessionId: s.ssid, prover: j, verifier: self };
    const reason =
      proofReason(
        'aff-g/delta',
        verifyAffG(
          level,
          { ...pctx, variant: 'delta' },
          ctx.aux(self),
          { key0: sk, key1: ctx.paillier(j), C: s.K, D: d.D, Y: Fby[a]![me]!, X: m.Gamma },
          d.psi
        )
      ) ??
      proofReason(
        'log-star/gamma',
        verifyLogStar(
          level,
          { ...pctx, variant: 'gamma' },
          ctx.aux(self),
          { key: ctx.paillier(j), C: s.Gs[a]!, X: m.Gamma, B: BASE },
          d.psiPrime
        )
      );
    if (reason) {
      const evidence = [inbox.broadcast.get(j)!.envelope, inbox.p2p.get(j)!.envelope];
      culprits.push({ party: j, reason, evidence });
    }
  }
  if (culprits.length > 0) return abortStep(PRESIGN, 2, 'bad-proof', culprits);

  // Γ = Σ_j Γ_j. Each Γ_j is bound to G_j (echoed before any Γ was revealed), so Γ = O happens
  // only with negligible probability and blames no one.
  const ownGamma = mulPoint(BASE, s.gamma);
  const Gamma = ctx.others.reduce((acc, j) => acc.add(bc.values.get(j)!.Gamma), ownGamma);
  if (isIdentity(Gamma)) {
    return abortStep(PRESIGN, 2, 'degenerate:Gamma', []);
  }
  const Delta = mulPoint(Gamma, s.k); // Δ_i = k_i·Γ
  // δ_i = k_i·γ_i + Σ_j (α_{i,j} + β_{i,j}) mod q, α_{i,j} the centred dec_i(D_{i,j}) (C3).
  let delta = s.k * s.gamma;
  const D = new Array<bigint>(t).fill(0n);
  for (const j of ctx.others) {
    const a = ctx.pos(j);
    D[a] = pp.values.get(j)!.D;
    delta += sk.decrypt(D[a]!) + s.beta[a]!;
  }
  delta = modQ(delta);

  const Wi = ctx.W(self);
  const outgoing: OutMsg[] = [{ payload: encodeR3Broadcast({ delta, Delta }) }];
  for (const j of ctx.others) {
    const a = ctx.pos(j);
    const Nj = ctx.paillier(j);
    const Kj = s.Ks[a]!;
    const sHat = sampleUnit(rng, Nj.N); // ŝ ← Z*_{N_j}
    // D̂_{j,i} = (w_i ⊙ K_j) ⊕ enc_j(−β̂_{i,j}; ŝ) (C3 on the χ path)
    const Dhat = Nj.add(Nj.mul(ctx.w, Kj), Nj.encrypt(-s.betaHat[a]!, sHat));
    const pctx = { sessionId: s.ssid, prover: self, verifier: j };
    const psiHat = proveAffG(
      level,
      { ...pctx, variant: 'chi' },
      ctx.aux(j),
      { key0: Nj, key1: sk, C: Kj, D: Dhat, Y: s.Fhat[a]!, X: Wi },
      { x: ctx.w, y: -s.betaHat[a]!, rho: sHat, rhoY: s.rHat[a]! },
      rng
    );
    const psiDoublePrime = proveLogStar(
      level,
      { ...pctx, variant: 'delta' },
      ctx.aux(j),
      { key: sk, C: s.K, X: Delta, B: Gamma },
      { x: s.k, rho: s.rho },
      rng
    );
    outgoing.push({ to: j, payload: encodeR3P2p({ Dhat, psiHat, psiDoublePrime }) });
  }
  const env = (pick: 'broadcast' | 'p2p') =>
    ctx.signers.map((j) => (j === self ? new Uint8Array(0) : inbox[pick].get(j)!.envelope));
  const next: PresignRound3 = {
    round: 3,
    ...keepAfter1(s),
    GammaSum: encodePoint(Gamma),
    delta,
    Delta: encodePoint(Delta),
    Fby,
    FhatBy,
    D,
    r2P2pEnv: env('p2p'),
    r2Env: env('broadcast'),
  };
  return { kind: 'next', state: next, outgoing };
}
