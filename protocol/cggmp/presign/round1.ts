/**
 * Presign round 1 (CGGMP.md §5.5 row 1) and its finalize, which produces round 2 (row 2, with C3's
 * sign convention and C8's channels).
 *
 * Round 1: k_i, γ_i ← Z_q \ {0}; ρ_i, ν_i ← Z*_{N_i}; K_i = enc_i(k_i; ρ_i), G_i = enc_i(γ_i; ν_i);
 * broadcast (B-echo) nonce_i, K_i, G_i; to each P_j, ψ⁰_{j,i} = Πenc on K_i against R_j
 * (context: the sid, since no ssid exists yet — C12).
 * @module
 */
import { encodePoint, encodeScalar, G as BASE, mulBase } from '../../math/curve.js';
import { sampleNonZeroScalar, samplePm, sampleUnit, type Rng } from '../../math/sample.js';
import { abortStep, decodeEach } from '../../round/blame.js';
import type { Culprit, Inbox, OutMsg, SessionInfo, Step } from '../../round/types.js';
import { proveAffG } from '../../zk/aff-g.js';
import { pow2 } from '../../zk/common.js';
import { proveEnc, verifyEnc } from '../../zk/enc.js';
import { proveLogStar } from '../../zk/log-star.js';
import { computeSsid, proofReason, type SigningContext } from './context.js';
import {
  decodeR1Broadcast,
  decodeR1P2p,
  encodeR1Broadcast,
  encodeR1P2p,
  encodeR2Broadcast,
  encodeR2P2p,
} from './messages.js';
import type { Presignature, PresignRound1, PresignRound2, PresignState } from './types.js';

/** The protocol name used in aborts. */
export const PRESIGN = 'presign';

/**
 * Round 1's messages and state.
 * - sample k_i, γ_i (non-zero, SECURITY.md §1.10), ρ_i, ν_i and a fresh 32-byte nonce (C12);
 * - K_i = enc_i(k_i; ρ_i), G_i = enc_i(γ_i; ν_i) (CRT encryption under our own key);
 * - broadcast (nonce_i, K_i, G_i); to each P_j, Πenc on K_i made against R_j with ctx (sid, i, j).
 */
export function startRound1(
  ctx: SigningContext,
  sid: Uint8Array,
  rng: Rng
): Step<PresignState, Presignature> {
  const { sk, self, level } = ctx;
  const k = sampleNonZeroScalar(rng); // k_i ← Z_q
  const gamma = sampleNonZeroScalar(rng); // γ_i ← Z_q
  const rho = sampleUnit(rng, sk.N); // ρ_i ← Z*_{N_i}
  const nu = sampleUnit(rng, sk.N); // ν_i ← Z*_{N_i}
  const nonce = rng(32).slice();
  const K = sk.encrypt(k, rho); // K_i = enc_i(k_i; ρ_i)
  const G = sk.encrypt(gamma, nu); // G_i = enc_i(γ_i; ν_i)
  const outgoing: OutMsg[] = [{ payload: encodeR1Broadcast({ nonce, tweak: ctx.tweak, K, G }) }];
  for (const j of ctx.others) {
    const psi0 = proveEnc(
      level,
      { sessionId: sid, prover: self, verifier: j },
      ctx.aux(j),
      { key: sk, K },
      { k, rho },
      rng
    );
    outgoing.push({ to: j, payload: encodeR1P2p(psi0) });
  }
  const state: PresignRound1 = {
    round: 1,
    share: ctx.share,
    signers: [...ctx.signers],
    tweak: ctx.tweak,
    nonce,
    k,
    gamma,
    rho,
    nu,
    K,
    G,
  };
  return { kind: 'next', state, outgoing };
}

/**
 * Finalize round 1 → round 2.
 * - decode every (nonce_j, δ_HD, K_j, G_j) and ψ⁰_{i,j}: K_j, G_j must be units of Z*_{N_j²};
 *   a signer presigning for another tweak than ours is a culprit (`tweak-mismatch`);
 * - verify every ψ⁰_{i,j} = Πenc on K_j with MY R_i (SECURITY.md §1.4: nothing is computed on a
 *   K_j before all of them verify); culprit = j, evidence = j's broadcast and p2p envelopes;
 * - ssid = SHAKE256(E(sid, nonces, pk, X, aux, rid, S, δ_HD)) (C12);
 * - Γ_i = γ_i·G; for each j: β_{i,j}, β̂_{i,j} ← ±2^{ℓ'}, s ← Z*_{N_j}, r, r̂ ← Z*_{N_i};
 *   D_{j,i} = (γ_i ⊙ K_j) ⊕ enc_j(−β_{i,j}; s), F_{j,i} = enc_i(−β_{i,j}; r) (C3),
 *   F̂_{j,i} = enc_i(−β̂_{i,j}; r̂) (D̂_{j,i} follows in round 3);
 * - ψ_{j,i} = Πaff-g/delta with witness (γ_i, −β_{i,j}, s, r) (C3), ψ′_{j,i} = Πlog* (gamma) on
 *   (G_i, Γ_i, G), both against R_j with ctx (ssid, i, j);
 * - broadcast (B-echo, C8) Γ_i, all F_{j,i}, F̂_{j,i}; to each P_j (D_{j,i}, ψ, ψ′).
 */
export function finalizeRound1(
  ctx: SigningContext,
  info: SessionInfo,
  s: PresignRound1,
  inbox: Inbox,
  rng: Rng
): Step<PresignState, Presignature> {
  const { level, self, sk } = ctx;
  const bc = decodeEach(inbox.broadcast, (b, from) =>
    decodeR1Broadcast(b, level, ctx.paillier(from))
  );
  const pp = decodeEach(inbox.p2p, (b) => decodeR1P2p(b, level));
  const bad = [...bc.culprits, ...pp.culprits];
  if (bad.length > 0) return abortStep(PRESIGN, 1, 'decode', bad);

  // Πenc on every K_j, verified with my own ring-Pedersen parameters (the proof is for me).
  const culprits: Culprit[] = [];
  for (const j of ctx.others) {
    const reason =
      bc.values.get(j)!.tweak !== s.tweak
        ? 'tweak-mismatch'
        : proofReason(
            'enc',
            verifyEnc(
              level,
              { sessionId: info.sessionId, prover: j, verifier: self },
              ctx.aux(self),
              { key: ctx.paillier(j), K: bc.values.get(j)!.K },
              pp.values.get(j)!
            )
          );
    if (reason) {
      const evidence = [inbox.broadcast.get(j)!.envelope, inbox.p2p.get(j)!.envelope];
      culprits.push({ party: j, reason, evidence });
    }
  }
  if (culprits.length > 0) {
    const reason = culprits.every((c) => c.reason === 'tweak-mismatch')
      ? 'input-mismatch'
      : 'bad-proof';
    return abortStep(PRESIGN, 1, reason, culprits);
  }

  const own = { nonce: s.nonce, K: s.K, G: s.G };
  const r1 = ctx.signers.map((j) => (j === self ? own : bc.values.get(j)!));
  const ssid = computeSsid(
    'presign',
    info.sessionId,
    r1.map((m) => m.nonce),
    ctx.share,
    ctx.signers,
    [encodeScalar(s.tweak)]
  );
  const Gamma = mulBase(s.gamma); // Γ_i = γ_i·G
  const t = ctx.t;
  const zeros = (): bigint[] => new Array<bigint>(t).fill(0n);
  const [beta, betaHat, rHat, F, Fhat] = [zeros(), zeros(), zeros(), zeros(), zeros()];
  const masks = pow2(level.ellPrime); // β ← ±2^{ℓ'}: hides k_j·γ_i statistically (§1.4)
  const outgoing: OutMsg[] = [];
  const p2p: OutMsg[] = [];
  for (const j of ctx.others) {
    const a = ctx.pos(j);
    const Nj = ctx.paillier(j);
    const Kj = r1[a]!.K;
    beta[a] = samplePm(rng, masks);
    betaHat[a] = samplePm(rng, masks);
    const sj = sampleUnit(rng, Nj.N); // s ← Z*_{N_j}
    const r = sampleUnit(rng, sk.N); // r ← Z*_{N_i}
    rHat[a] = sampleUnit(rng, sk.N); // r̂ ← Z*_{N_i}
    // C3: D_{j,i} = (γ_i ⊙ K_j) ⊕ enc_j(−β_{i,j}; s), F_{j,i} = enc_i(−β_{i,j}; r)
    const D = Nj.add(Nj.mul(s.gamma, Kj), Nj.encrypt(-beta[a]!, sj));
    F[a] = sk.encrypt(-beta[a]!, r);
    Fhat[a] = sk.encrypt(-betaHat[a]!, rHat[a]!); // F̂_{j,i} = enc_i(−β̂_{i,j}; r̂)
    const pctx = { sessionId: ssid, prover: self, verifier: j };
    const psi = proveAffG(
      level,
      { ...pctx, variant: 'delta' },
      ctx.aux(j),
      { key0: Nj, key1: sk, C: Kj, D, Y: F[a]!, X: Gamma },
      { x: s.gamma, y: -beta[a]!, rho: sj, rhoY: r },
      rng
    );
    const psiPrime = proveLogStar(
      level,
      { ...pctx, variant: 'gamma' },
      ctx.aux(j),
      { key: sk, C: s.G, X: Gamma, B: BASE },
      { x: s.gamma, rho: s.nu },
      rng
    );
    p2p.push({ to: j, payload: encodeR2P2p({ D, psi, psiPrime }) });
  }
  const others = ctx.others.map((j) => ctx.pos(j));
  outgoing.push({
    payload: encodeR2Broadcast({
      Gamma,
      F: others.map((a) => F[a]!),
      Fhat: others.map((a) => Fhat[a]!),
    }),
  });
  outgoing.push(...p2p);
  const next: PresignRound2 = {
    ...s,
    round: 2,
    ssid,
    Ks: r1.map((m) => m.K),
    Gs: r1.map((m) => m.G),
    r1Env: ctx.signers.map((j) =>
      j === self ? new Uint8Array(0) : inbox.broadcast.get(j)!.envelope
    ),
    beta,
    betaHat,
    rHat,
    Gamma: encodePoint(Gamma),
    F,
    Fhat,
  };
  return { kind: 'next', state: next, outgoing };
}
