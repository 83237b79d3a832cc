/**
 * Finalize of presign round 3 → round 4 (CGGMP.md §5.5 rows 3 and "out", C3; Decisions: the echo
 * confirmation). Round 4 is either everyone's confirmation (empty body; the engine attaches the
 * echo of the round-3 broadcasts and checks everyone's) or, after δ·G ≠ ΣΔ_j, the bad-δ
 * procedure (`bad-delta.ts`).
 * @module
 */
import {
  CURVE_ORDER,
  encodePoint,
  G as BASE,
  decodePoint,
  IDENTITY,
  isIdentity,
  modQ,
  mulPublic,
} from '../../math/curve.js';
import { modInverse } from '../../math/modular.js';
import type { Rng } from '../../math/sample.js';
import { abortStep, decodeEach } from '../../round/blame.js';
import type { Culprit, Inbox, SessionInfo, Step } from '../../round/types.js';
import { verifyAffG } from '../../zk/aff-g.js';
import { verifyLogStar } from '../../zk/log-star.js';
import { buildBadDelta } from './bad-delta.js';
import { proofReason, toHex, type SigningContext } from './context.js';
import { decodeR3Broadcast, decodeR3P2p, encodeR4BadDelta } from './messages.js';
import { PRESIGN } from './round1.js';
import {
  keepAfter1,
  PRESIGNATURE_VERSION,
  type Presignature,
  type PresignRound3,
  type PresignRound4BadDelta,
  type PresignRound4Confirm,
  type PresignState,
} from './types.js';

/**
 * Finalize round 3 → round 4.
 * - decode every (δ_j, Δ_j) and (D̂_{i,j}, ψ̂, ψ″) (D̂_{i,j} under MY key);
 * - verify ψ̂_{i,j} = Πaff-g/chi on (N_i, N_j, K_i, D̂_{i,j}, F̂_{i,j}, W_j) and
 *   ψ″_{i,j} = Πlog* (delta) on (N_j, K_j, Δ_j, Γ), with MY R_i and ctx (ssid, j, i); culprit = j;
 * - χ_i = k_i·w_i + Σ_j(α̂_{i,j} + β̂_{i,j}) mod q with α̂ the centred dec_i(D̂_{i,j}) (C3);
 * - δ = Σ_j δ_j; if δ ≠ 0 and δ·G = Σ_j Δ_j: R = δ^{-1}·Γ (≠ O), R̄_j = δ^{-1}·Δ_j, and send the
 *   (empty) confirmation — the presignature is output only once every signer confirmed the same
 *   round-3 view (Decisions);
 * - otherwise run the bad-δ procedure: broadcast H_i, Πmul, the D_{i,j} envelopes, Πdec.
 */
export function finalizeRound3(
  ctx: SigningContext,
  info: SessionInfo,
  s: PresignRound3,
  inbox: Inbox,
  rng: Rng
): Step<PresignState, Presignature> {
  const { level, self, sk } = ctx;
  const me = ctx.pos(self);
  const bc = decodeEach(inbox.broadcast, (b) => decodeR3Broadcast(b));
  const pp = decodeEach(inbox.p2p, (b) => decodeR3P2p(b, level, sk));
  const bad = [...bc.culprits, ...pp.culprits];
  if (bad.length > 0) return abortStep(PRESIGN, 3, 'decode', bad);

  const Gamma = decodePoint(s.GammaSum, 'Gamma');
  const culprits: Culprit[] = [];
  for (const j of ctx.others) {
    const a = ctx.pos(j);
    const m = bc.values.get(j)!;
    const d = pp.values.get(j)!;
    const pctx = { sessionId: s.ssid, prover: j, verifier: self };
    const reason =
      proofReason(
        'log-star/delta',
        verifyLogStar(
          level,
          { ...pctx, variant: 'delta' },
          ctx.aux(self),
          { key: ctx.paillier(j), C: s.Ks[a]!, X: m.Delta, B: Gamma },
          d.psiDoublePrime
        )
      ) ??
      proofReason(
        'aff-g/chi',
        verifyAffG(
          level,
          { ...pctx, variant: 'chi' },
          ctx.aux(self),
          { key0: sk, key1: ctx.paillier(j), C: s.K, D: d.Dhat, Y: s.FhatBy[a]![me]!, X: ctx.W(j) },
          d.psiHat
        )
      );
    if (reason) {
      const evidence = [inbox.broadcast.get(j)!.envelope, inbox.p2p.get(j)!.envelope];
      culprits.push({ party: j, reason, evidence });
    }
  }
  if (culprits.length > 0) return abortStep(PRESIGN, 3, 'bad-proof', culprits);

  const deltas = ctx.signers.map((j) => (j === self ? s.delta : bc.values.get(j)!.delta));
  const Deltas = ctx.signers.map((j) =>
    j === self ? decodePoint(s.Delta, 'Delta') : bc.values.get(j)!.Delta
  );
  const delta = modQ(deltas.reduce((x, y) => x + y, 0n)); // δ = Σ_j δ_j
  const sumDelta = Deltas.reduce((P, Q) => P.add(Q), IDENTITY); // Σ_j Δ_j
  const r3Env = ctx.signers.map((j) =>
    j === self ? new Uint8Array(0) : inbox.broadcast.get(j)!.envelope
  );

  if (delta === 0n || !mulPublic(BASE, delta).equals(sumDelta)) {
    const message = buildBadDelta(ctx, s, rng);
    const next: PresignRound4BadDelta = {
      round: 4,
      mode: 'bad-delta',
      ...keepAfter1(s),
      deltas,
      Fby: s.Fby,
      r2Env: s.r2Env,
      r3Env,
    };
    return { kind: 'next', state: next, outgoing: [{ payload: encodeR4BadDelta(message) }] };
  }

  // χ_i = k_i·w_i + Σ_j (α̂_{i,j} + β̂_{i,j}) mod q (C3, α̂ centred).
  let chi = s.k * ctx.w;
  for (const j of ctx.others) {
    chi += sk.decrypt(pp.values.get(j)!.Dhat) + s.betaHat[ctx.pos(j)]!;
  }
  chi = modQ(chi);
  const deltaInv = modInverse(delta, CURVE_ORDER);
  const R = mulPublic(Gamma, deltaInv); // R = δ^{-1}·Γ (public: δ and Γ are broadcast)
  if (isIdentity(R)) return abortStep(PRESIGN, 3, 'degenerate:R', []);
  const presignature: Presignature = {
    version: PRESIGNATURE_VERSION,
    id: toHex(s.ssid),
    sessionId: info.sessionId,
    keyId: s.share.keyId,
    epoch: s.share.epoch,
    level: s.share.level,
    signers: [...s.signers],
    index: self,
    tweak: s.tweak,
    publicKey: encodePoint(ctx.target),
    R: encodePoint(R),
    k: s.k,
    chi,
    Rbar: Deltas.map((D) => encodePoint(mulPublic(D, deltaInv))), // R̄_j = δ^{-1}·Δ_j
    K: [...s.Ks],
    Fhat: s.FhatBy.map((row) => [...row]),
    chiEnvelopes: ctx.signers.map((j) =>
      j === self ? new Uint8Array(0) : inbox.p2p.get(j)!.envelope
    ),
    broadcasts: { r1: [...s.r1Env], r2: [...s.r2Env] },
    consumed: false,
  };
  const next: PresignRound4Confirm = {
    round: 4,
    mode: 'confirm',
    share: s.share,
    signers: s.signers,
    presignature,
  };
  return { kind: 'next', state: next, outgoing: [{ payload: new Uint8Array(0) }] };
}
