/**
 * Judging complaints (CGGMP.md §5.2 "Blame for a bad σ_{j,i}: P_i publishes the signed envelope
 * carrying σ_{j,i}. Everyone re-checks the Feldman equation", extended to Πfac; SECURITY.md §3
 * test 10).
 *
 * A complaint posted in round r by P_k lists accusations; each holds the accused P_j's signed
 * point-to-point envelope of round r−1 addressed to P_k. Every party — the complainer included —
 * opens the envelope (signature under j's roster key, sid, round r−1, from j ≠ k, to k) and re-runs
 * on its body the very check P_k ran (`judge`), with its own copy of the public data it needs
 * (S_j, N_j, R_k, ssid: all echo-checked broadcast data, identical at every honest party). Then:
 * - the check fails → P_j is the culprit, with the envelope (and the context envelopes P_k added)
 *   as transferable evidence;
 * - the check passes, or the envelope is not a valid round-(r−1) message from j to k, or the
 *   complaint is empty → P_k is the culprit (`false-complaint`), with its complaint as evidence.
 * An empty complaint is only honest while Blame is pending, and then nobody judges (the round
 * aborts first), so here it is always false.
 * Revealing σ_{j,k} is harmless: the session aborts and f_j is discarded.
 * @module
 */
import { DecodeError } from '../../errors.js';
import { unwrapBody } from '../../round/engine.js';
import { EnvelopeError, openEnvelope } from '../../round/envelope.js';
import type { Culprit, Msg, PartyIndex } from '../../round/types.js';
import type { ComplaintItem, Posted } from './messages.js';
import type { KeygenState } from './state.js';

/** Re-check one accused body: a culprit reason, or undefined if the body is fine. */
export type Judge = (
  accused: PartyIndex,
  complainer: PartyIndex,
  body: Uint8Array
) => string | undefined;

/**
 * Open an envelope of `round` that `from` must have sent to `to` in this session.
 * @returns the sender and protocol body, or undefined if any check fails
 */
export function openPointToPoint(
  s: KeygenState,
  bytes: Uint8Array,
  round: number,
  to: PartyIndex
): { from: PartyIndex; body: Uint8Array } | undefined {
  try {
    const env = openEnvelope(bytes, {
      sessionId: s.sid,
      rosterKeys: s.roster.map((r) => r.publicKey),
      parties: s.roster.map((_, i) => i),
      self: to,
    });
    if (env.round !== round || env.to !== to || env.from === to) return undefined;
    return { from: env.from, body: unwrapBody(env.payload, s.n).body };
  } catch (err) {
    if (err instanceof EnvelopeError || err instanceof DecodeError) return undefined;
    throw err;
  }
}

/** Whether `bytes` is a valid broadcast envelope of `round` signed by `from` in this session. */
function isBroadcastOf(
  s: KeygenState,
  bytes: Uint8Array,
  round: number,
  from: PartyIndex
): boolean {
  try {
    const env = openEnvelope(bytes, {
      sessionId: s.sid,
      rosterKeys: s.roster.map((r) => r.publicKey),
      parties: s.roster.map((_, i) => i),
    });
    return env.from === from && env.round === round && env.to === undefined;
  } catch (err) {
    if (err instanceof EnvelopeError) return false;
    throw err;
  }
}

/**
 * Judge every complaint of round `round` (about round `round − 1` point-to-point messages).
 * @param posted complainer → its complaint items and signed complaint envelope (own: no envelope)
 * @returns the culprits, one per party, first verdict first (complainers in index order)
 */
export function judgeComplaints(
  s: KeygenState,
  round: number,
  posted: ReadonlyMap<PartyIndex, { items: readonly ComplaintItem[]; msg?: Msg }>,
  judge: Judge
): Culprit[] {
  const out: Culprit[] = [];
  const complainers = [...posted.keys()].sort((a, b) => a - b);
  for (const k of complainers) {
    const { items, msg } = posted.get(k)!;
    const falseComplaint = (): void => {
      out.push({ party: k, reason: 'false-complaint', evidence: msg ? [msg.envelope] : [] });
    };
    if (items.length === 0) {
      falseComplaint();
      continue;
    }
    for (const item of items) {
      const opened = openPointToPoint(s, item.envelope, round - 1, k);
      const reason = opened && judge(opened.from, k, opened.body);
      if (!opened || reason === undefined) {
        falseComplaint();
        continue;
      }
      // Context is for third parties; keep only genuine round-(r−1) broadcasts of the accused.
      const context = item.context.filter((c) => isBroadcastOf(s, c, round - 1, opened.from));
      out.push({ party: opened.from, reason, evidence: [item.envelope, ...context] });
    }
  }
  return out;
}

/** The complaints posted in a round (received, plus our own). */
export function postedComplaints<T>(
  s: KeygenState,
  values: ReadonlyMap<PartyIndex, Posted<T>>,
  broadcast: ReadonlyMap<PartyIndex, Msg>
): Map<PartyIndex, { items: readonly ComplaintItem[]; msg?: Msg }> {
  const out = new Map<PartyIndex, { items: readonly ComplaintItem[]; msg?: Msg }>();
  for (const [k, p] of values) {
    if (p.kind === 'complaint') out.set(k, { items: p.items, msg: broadcast.get(k)! });
  }
  if (s.complaint) out.set(s.self, { items: s.complaint });
  return out;
}
