/**
 * Keygen round 2: open the commitments, check every party's aux info and Feldman share, derive
 * the key, and answer with the round-3 proofs (CGGMP.md §5.1 rounds 2–3, §5.2 rounds 2–3, §6;
 * SECURITY.md §1.5–1.7, §1.9, §1.10, §1.12).
 *
 * Receiver checks, per sender P_j, in this order (the first failure names j):
 * 1. `decommitment` — SHAKE256(sid, j, E(decommitment_j)) = V_j (hashed before it is parsed);
 * 2. `decode:<field>` — strict decoding: |S_j| = t, every point valid and ≠ O, N_j/s_j/t_j ≤ 8κ
 *    bits, Πprm with exactly m entries;
 * 3. `modulus-*` — `validatePublicModulus(N_j)`: 8κ−1 ≤ bitlen ≤ 8κ, odd, not prime, not a power;
 * 4. `ring-pedersen:*` — s_j, t_j ∈ Z*_N, ∉ {1, N−1}, s_j ≠ t_j;
 * 5. `bad-proof:prm:<check>` — ψ̂_j = Πprm verifies with ctx (sid, prover j);
 * 6. `duplicate-modulus` — N_j equals the N of a party earlier in roster order (the later one is
 *    blamed, SECURITY.md test 7). It runs after Πprm, which binds the prover index, so copying
 *    another party's (N, s, t, ψ̂) fails at Πprm and names the copier whatever its position;
 * 7. point-to-point, only if 1–6 passed for everyone: `feldman` — σ_{j,i}·G = Σ_k (i+1)^k·S_{j,k}
 *    (or `missing-share` / `decode:*`), reported by complaint (`complaints.ts`).
 * @module
 */
import { Bug, DecodeError } from '../../errors.js';
import { bytesEqual } from '../../math/bytes.js';
import {
  decodePoint,
  encodePoint,
  IDENTITY,
  isIdentity,
  modQ,
  mulBase,
  mulPublic,
  type Point,
} from '../../math/curve.js';
import type { Rng } from '../../math/sample.js';
import {
  PaillierError,
  PaillierSecretKey,
  validatePublicModulus,
} from '../../paillier/paillier.js';
import { RingPedersenError, validateRingPedersen } from '../../paillier/ring-pedersen.js';
import { abortStep, decodeEach } from '../../round/blame.js';
import type { Culprit, Inbox, OutMsg, PartyIndex, SessionInfo } from '../../round/types.js';
import { proveFac } from '../../zk/fac.js';
import { proveMod } from '../../zk/mod.js';
import { verifyPrm } from '../../zk/prm.js';
import { schRespond } from '../../zk/sch.js';
import { judgeComplaints, postedComplaints } from './complaints.js';
import {
  decodeDecommitment,
  decodeRound2,
  decodeShare,
  encodeFac,
  encodeRound3,
  type ComplaintItem,
} from './messages.js';
import { commitment, computeSsid, xorAll } from './hashes.js';
import { evalPoly } from './round1.js';
import {
  abortWith,
  blameStep,
  codecParams,
  complaintStep,
  KEYGEN,
  levelOf,
  mergeCulprits,
  others,
  type KeygenState,
  type KeygenStep,
  type PartyPublic,
} from './state.js';

/** A reason string for a failed proof: `bad-proof:<proof>:<check>`. */
export function proofReason(failure: { proof: string; check: string }): string {
  return `bad-proof:${failure.proof}:${failure.check}`;
}

/**
 * Checks 1–5 on P_j's decommitment bytes.
 * @returns j's public values, or the reason j is a culprit
 */
export function checkDecommitment(
  s: KeygenState,
  j: PartyIndex,
  bytes: Uint8Array
): { party: PartyPublic } | { reason: string } {
  const level = levelOf(s);
  if (!bytesEqual(commitment(s.sid, j, bytes), s.commitments![j]!))
    return { reason: 'decommitment' };
  let d;
  try {
    d = decodeDecommitment(bytes, codecParams(s));
  } catch (err) {
    if (err instanceof DecodeError) return { reason: `decode:${err.field}` };
    throw err;
  }
  try {
    validatePublicModulus(d.N, level);
    validateRingPedersen({ N: d.N, s: d.s, t: d.t });
  } catch (err) {
    if (err instanceof PaillierError) return { reason: err.code };
    if (err instanceof RingPedersenError) return { reason: `ring-pedersen:${err.code}` };
    throw err;
  }
  const prm = verifyPrm(level, { sessionId: s.sid, prover: j }, { N: d.N, s: d.s, t: d.t }, d.prm);
  if (!prm.ok) return { reason: proofReason(prm.failure) };
  return {
    party: {
      rid: d.rid,
      S: d.S.map((P) => encodePoint(P)),
      A: encodePoint(d.A),
      c: d.c,
      rho: d.rho,
      N: d.N,
      s: d.s,
      t: d.t,
    },
  };
}

/** F(x) = Σ_k x^k·S_k (Horner; public points and scalars). */
export function evalCommitments(S: readonly Point[], x: bigint): Point {
  let acc = IDENTITY;
  for (let k = S.length - 1; k >= 0; k--) acc = mulPublic(acc, x).add(S[k]!);
  return acc;
}

/**
 * Check 7: the share σ_{j,to} in a round-2 point-to-point body against S_j (Feldman VSS, §5.2).
 * @returns the culprit reason, or undefined if the share is consistent
 */
export function checkShare(
  parties: readonly PartyPublic[],
  j: PartyIndex,
  to: PartyIndex,
  body: Uint8Array
): string | undefined {
  let sigma: bigint | undefined;
  try {
    sigma = decodeShare(body);
  } catch (err) {
    if (err instanceof DecodeError) return `decode:${err.field}`;
    throw err;
  }
  if (sigma === undefined) return 'missing-share';
  const S = parties[j]!.S.map((b) => decodePoint(b, 'S'));
  // σ_{j,to}·G = F_j(to+1) = Σ_k (to+1)^k·S_{j,k}; the evaluation point comes from the roster.
  return mulBase(sigma).equals(evalCommitments(S, BigInt(to + 1))) ? undefined : 'feldman';
}

/**
 * Finalize round 2 (decommitments and shares received; round-1 views checked by the engine).
 * - abort if round 1 left Blame; judge round-2 complaints (any is false: round 1 had no
 *   point-to-point messages);
 * - checks 1–6 for every sender (Blame on failure), then check 7 (complaint on failure);
 * - rid = ⊕ rid_j, ρ = ⊕ ρ_j, c = ⊕ c_j; ssid = H(sid, nonces, rid, ρ) (C12);
 * - x_i = Σ_j σ_{j,i}; X_k = Σ_j F_j(k+1) for every k; pk = Σ_j S_{j,0} (≠ O, every X_k ≠ O);
 * - broadcast ψ_i = Πsch response for X_i with the committed A_i, and ψ_i = Πmod (ctx ssid);
 *   send each P_j Πfac against R_j (ctx ssid, verifier j).
 */
export function finalizeRound2(
  _info: SessionInfo,
  s: KeygenState,
  inbox: Inbox,
  rng: Rng
): KeygenStep {
  if (s.blame) return abortWith(s.blame.round, s.blame.culprits);
  const cp = codecParams(s);
  const decoded = decodeEach(inbox.broadcast, (b) => decodeRound2(b, cp));
  const complaints = postedComplaints(s, decoded.values, inbox.broadcast);
  if (complaints.size > 0) {
    const judged = judgeComplaints(s, 2, complaints, () => undefined);
    return blameStep(s, 2, mergeCulprits(decoded.culprits, judged));
  }

  // Checks 1–5 per sender.
  const common: Culprit[] = [...decoded.culprits];
  const parties: Array<PartyPublic | undefined> = [];
  parties[s.self] = s.own;
  for (const [j, p] of decoded.values) {
    if (p.kind !== 'ok') continue;
    const r = checkDecommitment(s, j, p.value);
    if ('reason' in r)
      common.push({ party: j, reason: r.reason, evidence: [inbox.broadcast.get(j)!.envelope] });
    else parties[j] = r.party;
  }
  // Check 6: distinct moduli; the later party in roster order is blamed — self included, so all
  // honest parties keep one list (with fresh primes nobody can copy ours: V_j binds N_j before
  // N_i is opened; a self-blame means our own primes were reused).
  for (let j = 0; j < s.n; j++) {
    const pj = parties[j];
    if (!pj) continue;
    const k = parties.findIndex((pk, idx) => idx < j && pk !== undefined && pk.N === pj.N);
    if (k < 0) continue;
    const ev = [j, k].flatMap((x) => (x === s.self ? [] : [inbox.broadcast.get(x)!.envelope]));
    common.push({ party: j, reason: 'duplicate-modulus', evidence: ev });
  }
  if (common.length > 0) return blameStep(s, 2, mergeCulprits(common));
  const all = parties as PartyPublic[];

  // Check 7: Feldman shares (point-to-point → complaint with the signed envelope).
  const items: ComplaintItem[] = [];
  const sigmas = new Map<PartyIndex, bigint>();
  for (const j of others(s)) {
    const msg = inbox.p2p.get(j)!;
    const reason = checkShare(all, j, s.self, msg.payload);
    if (reason !== undefined) {
      items.push({ envelope: msg.envelope, context: [inbox.broadcast.get(j)!.envelope] });
    } else {
      sigmas.set(j, decodeShare(msg.payload)!);
    }
  }
  if (items.length > 0) return complaintStep(s, 2, items, { parties: all });

  return deriveAndProve(s, all, sigmas, rng);
}

/** The key material and the round-3 messages (all checks passed). */
function deriveAndProve(
  s: KeygenState,
  parties: readonly PartyPublic[],
  sigmas: ReadonlyMap<PartyIndex, bigint>,
  rng: Rng
): KeygenStep {
  const level = levelOf(s);
  const rid = xorAll(parties.map((p) => p.rid)); // rid = ⊕ rid_j
  const rho = xorAll(parties.map((p) => p.rho)); // ρ = ⊕ ρ_j
  const chainCode = xorAll(parties.map((p) => p.c)); // c = ⊕ c_j
  const ssid = computeSsid(s.sid, s.nonces!, rid, rho);
  // x_i = Σ_j σ_{j,i} (own σ_{i,i} = f_i(i+1))
  let x = evalPoly(s.secret.coeffs, BigInt(s.self + 1));
  for (const v of sigmas.values()) x = modQ(x + v);
  // Σ_j S_{j,k}, then X_k = Σ_m (k+1)^m·(Σ_j S_{j,m}) = Σ_j F_j(k+1)
  const Ssum: Point[] = [];
  for (let m = 0; m < s.t; m++) {
    let acc = IDENTITY;
    for (const p of parties) acc = acc.add(decodePoint(p.S[m]!, 'S'));
    Ssum.push(acc);
  }
  const X = Array.from({ length: s.n }, (_, k) => evalCommitments(Ssum, BigInt(k + 1)));
  const pk = Ssum[0]!; // pk = Σ_j S_{j,0}
  // Not forceable by anyone (every S_j was committed before any was opened): probability 2^−256.
  if (isIdentity(pk) || X.some(isIdentity)) return abortStep(KEYGEN, 2, 'degenerate-key', []);
  if (!mulBase(x).equals(X[s.self]!)) {
    throw new Bug('keygen: x_i·G ≠ X_i after every Feldman check passed');
  }
  const key = new PaillierSecretKey(s.secret.p, s.secret.q);
  const ctx = { sessionId: ssid, prover: s.self };
  const A = decodePoint(s.own.A, 'A');
  // ψ_i: Πsch response with the committed A_i; the challenge binds ssid (rid, ρ) and i.
  const { z } = schRespond(ctx, { X: X[s.self]! }, { x }, { alpha: s.secret.tau, A });
  const mod = proveMod(level, ctx, { N: key.N }, key, rng);
  const outgoing: OutMsg[] = [{ payload: encodeRound3({ kind: 'ok', value: { z, mod } }) }];
  for (const j of others(s)) {
    const Rj = { N: parties[j]!.N, s: parties[j]!.s, t: parties[j]!.t };
    const fac = proveFac(level, { ...ctx, verifier: j }, Rj, { N0: key.N }, key, rng);
    outgoing.push({ to: j, payload: encodeFac(fac) });
  }
  const { decommitment: _d, ...rest } = s;
  return {
    kind: 'next',
    state: {
      ...rest,
      round: 3,
      parties,
      ssid,
      x,
      publicShares: X.map((P) => encodePoint(P)),
      publicKey: encodePoint(pk),
      rid,
      chainCode,
    },
    outgoing,
  };
}
