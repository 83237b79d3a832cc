/**
 * The bad-δ identifiable-abort procedure of presigning (CGGMP.md §5.5 "Identifiable abort when
 * δ·G ≠ Σ_j Δ_j", paper 2021; corrections C1, C3, C6, C7).
 *
 * Run when every proof of rounds 1–3 verified but δ·G ≠ ΣΔ_j (or δ = 0): some P_j broadcast a δ_j
 * that is not k_j·γ_j + Σ_k(α_{j,k} + β_{j,k}) mod q. Each P_i broadcasts
 * - H_i = (k_i ⊙ G_i)·ρ^{N_i}, an encryption of the INTEGER k_i·γ_i (C6), with Πmul on (K_i, G_i, H_i);
 * - the signed round-2 envelopes carrying the D_{i,j} it received (their authors' signatures
 *   attribute them, §5.5);
 * - for each verifier P_j, Πdec/delta (against R_j) that U_i = H_i ⊕ ⨁_j(D_{i,j} ⊖ F_{j,i})
 *   decrypts to y ≡ δ_i (mod q) with |y| ≤ 2^{B_y}, B_y = ℓ'+ε+1+⌈log₂t⌉ (C1). The witness is the
 *   centred y = dec_i(U_i) and its nonce recovered with the secret key (C7).
 * Everyone recomputes U_j from the public F_{j,k} (round-2 B-echo) and the presented D_{j,k}, and
 * names every P_j whose proofs fail. Nothing else leaves the party: no plaintext, no nonce, no
 * k_i or γ_i, nothing from the χ path (the D̂ travel in round-3 envelopes, never shown here).
 * The presignature is discarded either way. No reveal procedure is implemented (C13).
 * @module
 */
import { Bug, DecodeError, InvalidArgs } from '../../errors.js';
import { sampleUnit, type Rng } from '../../math/sample.js';
import type { PaillierPublicKey } from '../../paillier/paillier.js';
import { decBoundBits } from '../../params.js';
import type { PartyIndex } from '../../round/types.js';
import { proveDec, verifyDec } from '../../zk/dec.js';
import { proveMul, verifyMul } from '../../zk/mul.js';
import { proofReason, type SigningContext } from './context.js';
import { openEmbedded } from './evidence.js';
import { decodeR2P2p, type R4BadDelta } from './messages.js';
import type { PresignRound3, PresignRound4BadDelta } from './types.js';

/**
 * U = H ⊕ ⨁_j (D_j ⊖ F_j) under one key (C3): the ciphertext of δ_i's integer form when H encrypts
 * k_i·γ_i, D_j = D_{i,j} and F_j = F_{j,i}.
 */
export function combineU(
  key: PaillierPublicKey,
  H: bigint,
  D: readonly bigint[],
  F: readonly bigint[]
): bigint {
  let U = H;
  for (let k = 0; k < D.length; k++) U = key.add(U, key.sub(D[k]!, F[k]!));
  return U;
}

/**
 * P_i's bad-δ message.
 * - ρ ← Z*_{N_i}; H_i = (k_i ⊙ G_i)·ρ^{N_i} (C6); Πmul with witness (k_i, ρ_i, ρ);
 * - U_i = H_i ⊕ ⨁_j(D_{i,j} ⊖ F_{j,i}); y = dec_i(U_i) centred, its nonce recovered (C7);
 * - Πdec/delta for every other signer P_j against R_j, with x = δ_i and B_y of C1.
 * @throws Bug if |y| > 2^{B_y}: impossible once every Πaff-g of round 2 verified (C1, C9)
 */
export function buildBadDelta(ctx: SigningContext, s: PresignRound3, rng: Rng): R4BadDelta {
  const { level, sk, self } = ctx;
  const me = ctx.pos(self);
  const rhoH = sampleUnit(rng, sk.N);
  const H = sk.add(sk.mul(s.k, s.G), sk.nonceToN(rhoH)); // H_i = (k_i ⊙ G_i)·ρ^{N_i}
  const mul = proveMul(
    level,
    { sessionId: s.ssid, prover: self },
    { key: sk, X: s.K, Y: s.G, C: H },
    { x: s.k, rhoX: s.rho, rho: rhoH },
    rng
  );
  const others = ctx.others.map((j) => ctx.pos(j));
  const U = combineU(
    sk,
    H,
    others.map((a) => s.D[a]!),
    others.map((a) => s.Fby[me]![a]!)
  );
  const y = sk.decrypt(U); // the centred plaintext, not δ_i (C7)
  const rho = sk.recoverNonce(U, y);
  const yBits = decBoundBits(level, 'delta', ctx.t);
  let dec;
  try {
    dec = ctx.others.map((j) =>
      proveDec(
        level,
        { sessionId: s.ssid, prover: self, verifier: j, variant: 'delta' },
        ctx.aux(j),
        { key: sk, C: U, x: s.delta, yBits },
        { y, rho },
        rng
      )
    );
  } catch (err) {
    if (err instanceof InvalidArgs) throw new Bug(`bad-δ witness out of range: ${err.message}`);
    throw err;
  }
  return { H, mul, envelopes: others.map((a) => s.r2P2pEnv[a]!), dec };
}

/**
 * Check P_j's bad-δ message as P_i.
 * - every embedded envelope is P_k's signed round-2 p2p envelope to P_j in this session
 *   (k over S \ {j}, increasing) and decodes to a D_{j,k} ∈ Z*_{N_j²};
 * - U_j = H_j ⊕ ⨁_k(D_{j,k} ⊖ F_{k,j}) with F_{k,j} from P_j's echoed round-2 broadcast;
 * - Πmul on (K_j, G_j, H_j) and the Πdec/delta made for me on (U_j, δ_j) verify.
 * @returns undefined if P_j's proofs hold, else the culprit reason
 */
export function checkBadDelta(
  ctx: SigningContext,
  sid: Uint8Array,
  s: PresignRound4BadDelta,
  j: PartyIndex,
  m: R4BadDelta
): string | undefined {
  const { level, self } = ctx;
  const a = ctx.pos(j);
  const Nj = ctx.paillier(j);
  const theirOthers = ctx.signers.filter((k) => k !== j);
  const D: bigint[] = [];
  for (let idx = 0; idx < theirOthers.length; idx++) {
    const k = theirOthers[idx]!;
    try {
      const body = openEmbedded(ctx.share, m.envelopes[idx]!, {
        sessionId: sid,
        signers: ctx.signers,
        from: k,
        to: j,
        round: 2,
      });
      D.push(decodeR2P2p(body, level, Nj).D);
    } catch (err) {
      if (err instanceof DecodeError) return `bad-evidence:envelopes[${idx}]`;
      throw err;
    }
  }
  const U = combineU(
    Nj,
    m.H,
    D,
    theirOthers.map((k) => s.Fby[a]![ctx.pos(k)]!)
  );
  return (
    proofReason(
      'mul',
      verifyMul(
        level,
        { sessionId: s.ssid, prover: j },
        { key: Nj, X: s.Ks[a]!, Y: s.Gs[a]!, C: m.H },
        m.mul
      )
    ) ??
    proofReason(
      'dec/delta',
      verifyDec(
        level,
        { sessionId: s.ssid, prover: j, verifier: self, variant: 'delta' },
        ctx.aux(self),
        { key: Nj, C: U, x: s.deltas[a]!, yBits: decBoundBits(level, 'delta', ctx.t) },
        m.dec[theirOthers.indexOf(self)]!
      )
    )
  );
}
