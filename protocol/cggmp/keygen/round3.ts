/**
 * Keygen round 3: verify every party's Schnorr proof for X_j, Πmod for N_j and the Πfac it made
 * for me, then confirm the outcome (CGGMP.md §5.1 round 3, §5.2 round 3, §4.1, §4.3, §4.4;
 * C12, C14, C17; SECURITY.md §1.5, §1.6, §1.12).
 *
 * Receiver checks, per sender P_j (the first failure names j):
 * 1. `decode:<field>` — strict decoding (Πmod with exactly m entries, every integer ≤ 8κ bits);
 * 2. `bad-proof:sch:<check>` — z_j·G = A_j + e_j·X_j with A_j from j's decommitment and
 *    e_j = H(ssid, j, X_j, A_j): the ssid carries rid and ρ, so a response made for another rid,
 *    session or index fails;
 * 3. `bad-proof:mod:<check>` — Πmod(ctx ssid, prover j) for N_j, with the CGGMP24 checks on w;
 * 4. point-to-point, only if 1–3 passed for everyone: `bad-proof:fac:<check>` (or `missing-fac`,
 *    `decode:*`) — Πfac(ctx ssid, prover j, verifier i) for N_j against MY R_i, reported by
 *    complaint in round 4.
 * @module
 */
import { DecodeError } from '../../errors.js';
import { decodePoint } from '../../math/curve.js';
import { decodeEach } from '../../round/blame.js';
import type { Culprit, Inbox, PartyIndex, SessionInfo } from '../../round/types.js';
import { verifyFac } from '../../zk/fac.js';
import { verifyMod } from '../../zk/mod.js';
import { verifySch } from '../../zk/sch.js';
import { judgeComplaints, postedComplaints } from './complaints.js';
import { decodeFac, decodeRound3, encodeRound4, type ComplaintItem } from './messages.js';
import { confirmationHash } from './hashes.js';
import { checkShare, proofReason } from './round2.js';
import {
  abortWith,
  blameStep,
  codecParams,
  complaintStep,
  levelOf,
  mergeCulprits,
  others,
  type KeygenState,
  type KeygenStep,
} from './state.js';

/**
 * Check 4: the Πfac P_j made for P_to, in a round-3 point-to-point body.
 * @returns the culprit reason, or undefined if the proof verifies
 */
export function checkFac(
  s: KeygenState,
  j: PartyIndex,
  to: PartyIndex,
  body: Uint8Array
): string | undefined {
  let proof;
  try {
    proof = decodeFac(body, codecParams(s));
  } catch (err) {
    if (err instanceof DecodeError) return `decode:${err.field}`;
    throw err;
  }
  if (proof === undefined) return 'missing-fac';
  const parties = s.parties!;
  const R = { N: parties[to]!.N, s: parties[to]!.s, t: parties[to]!.t };
  const ctx = { sessionId: s.ssid!, prover: j, verifier: to };
  const r = verifyFac(levelOf(s), ctx, R, { N0: parties[j]!.N }, proof);
  return r.ok ? undefined : proofReason(r.failure);
}

/**
 * Finalize round 3 (proofs received; round-2 views checked by the engine).
 * - abort if round 2 left Blame;
 * - if anyone (me included) complained about a round-2 share: judge the complaints (Feldman
 *   re-check on the presented envelopes) and record the verdict as Blame;
 * - checks 1–3 for every sender (Blame on failure), then check 4 (complaint on failure);
 * - broadcast the confirmation hash of (ssid, t, n, pk, all X_k, all (N_j, s_j, t_j), rid, c).
 */
export function finalizeRound3(_info: SessionInfo, s: KeygenState, inbox: Inbox): KeygenStep {
  if (s.blame) return abortWith(s.blame.round, s.blame.culprits);
  const level = levelOf(s);
  const decoded = decodeEach(inbox.broadcast, (b) => decodeRound3(b, codecParams(s)));
  const complaints = postedComplaints(s, decoded.values, inbox.broadcast);
  if (complaints.size > 0) {
    const parties = s.parties!;
    const judged = judgeComplaints(s, 3, complaints, (j, k, body) =>
      checkShare(parties, j, k, body)
    );
    return blameStep(s, 3, mergeCulprits(decoded.culprits, judged));
  }

  // Checks 1–3 per sender.
  const common: Culprit[] = [...decoded.culprits];
  const parties = s.parties!;
  const X = s.publicShares!.map((b) => decodePoint(b, 'X'));
  for (const [j, p] of decoded.values) {
    if (p.kind !== 'ok') continue;
    const ctx = { sessionId: s.ssid!, prover: j };
    const evidence = [inbox.broadcast.get(j)!.envelope];
    const A = decodePoint(parties[j]!.A, 'A');
    const sch = verifySch(ctx, { X: X[j]! }, { A, z: p.value.z });
    if (!sch.ok) {
      common.push({ party: j, reason: proofReason(sch.failure), evidence });
      continue;
    }
    const mod = verifyMod(level, ctx, { N: parties[j]!.N }, p.value.mod);
    if (!mod.ok) common.push({ party: j, reason: proofReason(mod.failure), evidence });
  }
  if (common.length > 0) return blameStep(s, 3, mergeCulprits(common));

  // Check 4: Πfac for me (point-to-point → complaint with the signed envelope).
  const items: ComplaintItem[] = [];
  for (const j of others(s)) {
    const msg = inbox.p2p.get(j)!;
    if (checkFac(s, j, s.self, msg.payload) !== undefined)
      items.push({ envelope: msg.envelope, context: [] });
  }
  if (items.length > 0) return complaintStep(s, 3, items);

  const confirmation = confirmationHash({
    ssid: s.ssid!,
    t: s.t,
    n: s.n,
    publicKey: s.publicKey!,
    publicShares: s.publicShares!,
    aux: parties.map((p) => ({ N: p.N, s: p.s, t: p.t })),
    rid: s.rid!,
    chainCode: s.chainCode!,
  });
  return {
    kind: 'next',
    state: { ...s, round: 4, confirmation },
    outgoing: [{ payload: encodeRound4({ kind: 'ok', value: confirmation }) }],
  };
}
