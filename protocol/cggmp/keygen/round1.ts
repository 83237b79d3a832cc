/**
 * Keygen round 1: sample everything P_i will ever reveal and commit to it with one hash
 * (CGGMP.md §5.1 round 1 and §5.2 round 1 merged, Decisions "Keygen = … as one session"; C12).
 *
 * P_i broadcasts (B-echo) a fresh nonce_i and V_i = H(sid, i, E(rid_i, S_i, A_i, u_i, c_i, N_i,
 * s_i, t_i, ψ̂_i, ρ_i)). Committing before anything is opened is what stops a rushing party from
 * choosing its polynomial, rid, chain code or modulus after seeing the others' (the commitment is
 * binding by SHAKE256 and hiding by the 256-bit u_i).
 * @module
 */
import { InvalidArgs } from '../../errors.js';
import type { RosterEntry } from '../../hash/session-id.js';
import { encodePoint, modQ, mulBase } from '../../math/curve.js';
import { sampleNonZeroScalar, type Rng } from '../../math/sample.js';
import type { PaillierSecretKey } from '../../paillier/paillier.js';
import { generateRingPedersen, ringPedersenPublic } from '../../paillier/ring-pedersen.js';
import type { SecurityLevel } from '../../params.js';
import { decodeEach } from '../../round/blame.js';
import type { Inbox, OutMsg, SessionInfo } from '../../round/types.js';
import { provePrm } from '../../zk/prm.js';
import {
  decodeRound1,
  encodeDecommitment,
  encodeRound1,
  encodeRound2,
  encodeShare,
  RANDOM_BYTES,
} from './messages.js';
import { commitment } from './hashes.js';
import { blameStep, others, type KeygenState, type KeygenStep } from './state.js';

/** Validated inputs of a keygen session (see `startKeygen`). */
export interface Round1Input {
  readonly level: SecurityLevel;
  readonly roster: readonly RosterEntry[];
  readonly self: number;
  readonly t: number;
  readonly sessionId: Uint8Array;
  /** Own Paillier key N_i = p·q (primes already checked). */
  readonly key: PaillierSecretKey;
  readonly rng: Rng;
}

/** f(x) = Σ_k a_k·x^k mod q, by Horner. */
export function evalPoly(coeffs: readonly bigint[], x: bigint): bigint {
  let acc = 0n;
  for (let k = coeffs.length - 1; k >= 0; k--) acc = modQ(acc * x + coeffs[k]!);
  return acc;
}

function randomBytes32(rng: Rng): Uint8Array {
  const b = rng(RANDOM_BYTES);
  if (b.length !== RANDOM_BYTES) throw new InvalidArgs('rng', 'returned the wrong number of bytes');
  return b.slice();
}

/**
 * Start: the round-1 state and message.
 * - ring-Pedersen over the own modulus (dfns: N̂_i = N_i): t_i = r², λ ← Z_φ, s_i = t_i^λ (§3);
 *   ψ̂_i = Πprm(ctx = sid, prover i) (§5.1: round-1 proofs use the sid, C12);
 * - f_i(z) = Σ_{k<t} a_{i,k}·z^k with a_{i,k} ← Z_q∖{0}; S_i = (a_{i,k}·G)_k (§5.2; no identity
 *   point is ever sent, C11);
 * - τ_i ← Z_q∖{0}, A_i = τ_i·G (Πsch commitment, §4.1);
 * - rid_i, u_i, c_i, ρ_i, nonce_i ← {0,1}^256;
 * - V_i = commitment(sid, i, E(decommitment_i)); broadcast (nonce_i, V_i).
 */
export function startRound1(a: Round1Input): KeygenStep {
  const { level, key, rng, self, t } = a;
  const rp = generateRingPedersen(key, rng);
  const R = ringPedersenPublic(rp);
  const prm = provePrm(level, { sessionId: a.sessionId, prover: self }, R, { ...rp, key }, rng);
  const coeffs = Array.from({ length: t }, () => sampleNonZeroScalar(rng)); // a_{i,k}
  const S = coeffs.map((ak) => mulBase(ak)); // S_{i,k} = a_{i,k}·G
  const tau = sampleNonZeroScalar(rng); // τ_i
  const A = mulBase(tau); // A_i = τ_i·G
  const [rid, u, c, rho, nonce] = Array.from({ length: 5 }, () => randomBytes32(rng));
  const decommitment = encodeDecommitment({
    rid: rid!,
    S,
    A,
    u: u!,
    c: c!,
    N: R.N,
    s: R.s,
    t: R.t,
    prm,
    rho: rho!,
  });
  const V = commitment(a.sessionId, self, decommitment);
  const state: KeygenState = {
    round: 1,
    level: level.name,
    sid: a.sessionId.slice(),
    t,
    n: a.roster.length,
    self,
    roster: a.roster.map((r) => ({ partyId: r.partyId.slice(), publicKey: r.publicKey.slice() })),
    secret: { p: key.p, q: key.q, lambda: rp.lambda, coeffs, tau },
    own: {
      rid: rid!,
      S: S.map((P) => encodePoint(P)),
      A: encodePoint(A),
      c: c!,
      rho: rho!,
      N: R.N,
      s: R.s,
      t: R.t,
    },
    decommitment,
    nonce: nonce!,
  };
  return { kind: 'next', state, outgoing: [{ payload: encodeRound1({ nonce: nonce!, V }) }] };
}

/**
 * Finalize round 1 (every (nonce_j, V_j) received; the engine checks in round 2 that all parties
 * received the same ones, C8).
 * - decode every (nonce_j, V_j) — a malformed one is Blame (everyone sees the same bytes);
 * - broadcast the decommitment (opened in round 2, B-echo);
 * - send σ_{i,j} = f_i(j+1) to each P_j point-to-point (confidential: the daemon's channel is
 *   Noise-encrypted, ARCHITECTURE.md).
 */
export function finalizeRound1(_info: SessionInfo, s: KeygenState, inbox: Inbox): KeygenStep {
  const { values, culprits } = decodeEach(inbox.broadcast, (b) => decodeRound1(b));
  if (culprits.length > 0) return blameStep(s, 1, culprits);
  const commitments: Uint8Array[] = [];
  const nonces: Uint8Array[] = [];
  for (let j = 0; j < s.n; j++) {
    const m = j === s.self ? undefined : values.get(j)!;
    commitments.push(m ? m.V : commitment(s.sid, s.self, s.decommitment!));
    nonces.push(m ? m.nonce : s.nonce);
  }
  const outgoing: OutMsg[] = [{ payload: encodeRound2({ kind: 'ok', value: s.decommitment! }) }];
  for (const j of others(s)) {
    // σ_{i,j} = f_i(j+1): evaluation point = roster index + 1, never from the wire (§1.9)
    outgoing.push({ to: j, payload: encodeShare(evalPoly(s.secret.coeffs, BigInt(j + 1))) });
  }
  return { kind: 'next', state: { ...s, round: 2, commitments, nonces }, outgoing };
}
