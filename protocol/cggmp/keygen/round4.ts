/**
 * Keygen round 4: the signed confirmation (C17's "all OK", CGGMP.md Decisions) and the output.
 *
 * Every party that saw nothing wrong broadcasts H(ssid, t, n, pk, all X_k, all (N_j, s_j, t_j),
 * rid, c). A party outputs its key share only if every other party confirmed exactly its own hash,
 * so no honest party keeps a share built on a view another party rejected. A different hash names
 * its (signed) sender: `confirmation-mismatch`. A complaint (a bad Πfac for its sender) is judged
 * by everyone with the presented envelope.
 *
 * Limit: round 4 is the last round, so its own broadcasts are not echo-checked. A malicious party
 * that confirms to some parties and complains to others makes the first output and the second
 * abort naming it; it cannot make anyone output a key that differs from another party's.
 * @module
 */
import { decodeEach } from '../../round/blame.js';
import { bytesEqual } from '../../math/bytes.js';
import type { Culprit, Inbox, SessionInfo } from '../../round/types.js';
import { computeKeyId, KEY_SHARE_VERSION, type KeyShare } from '../key-share.js';
import { judgeComplaints, postedComplaints } from './complaints.js';
import { decodeRound4 } from './messages.js';
import { checkFac } from './round3.js';
import {
  abortWith,
  codecParams,
  mergeCulprits,
  type KeygenState,
  type KeygenStep,
} from './state.js';

/**
 * Finalize round 4 (confirmations received; round-3 views checked by the engine).
 * - abort if round 3 left Blame;
 * - if anyone (me included) complained about a Πfac: judge (re-verify the presented proof against
 *   the complainer's R) and abort with the verdict;
 * - every confirmation must equal mine (`confirmation-mismatch` otherwise);
 * - output the {@link KeyShare}: epoch 0, keyId = computeKeyId(pk, roster, t).
 */
export function finalizeRound4(_info: SessionInfo, s: KeygenState, inbox: Inbox): KeygenStep {
  if (s.blame) return abortWith(s.blame.round, s.blame.culprits);
  const decoded = decodeEach(inbox.broadcast, (b) => decodeRound4(b, codecParams(s)));
  const complaints = postedComplaints(s, decoded.values, inbox.broadcast);
  if (complaints.size > 0) {
    const judged = judgeComplaints(s, 4, complaints, (j, k, body) => checkFac(s, j, k, body));
    return abortWith(4, mergeCulprits(decoded.culprits, judged));
  }
  const mismatch: Culprit[] = [];
  for (const [j, p] of decoded.values) {
    if (p.kind === 'ok' && !bytesEqual(p.value, s.confirmation!)) {
      mismatch.push({
        party: j,
        reason: 'confirmation-mismatch',
        evidence: [inbox.broadcast.get(j)!.envelope],
      });
    }
  }
  const culprits = mergeCulprits(decoded.culprits, mismatch);
  if (culprits.length > 0) return abortWith(4, culprits);
  return { kind: 'done', result: keyShareOf(s), outgoing: [] };
}

/** The key share of a finished session. */
function keyShareOf(s: KeygenState): KeyShare {
  const parties = s.parties!;
  const publicKey = s.publicKey!;
  return {
    version: KEY_SHARE_VERSION,
    level: s.level,
    keyId: computeKeyId(publicKey, s.roster, s.t),
    epoch: 0,
    t: s.t,
    n: s.n,
    roster: s.roster,
    index: s.self,
    x: s.x!,
    publicShares: s.publicShares!,
    publicKey,
    rid: s.rid!,
    chainCode: s.chainCode!,
    aux: parties.map((p) => ({ N: p.N, s: p.s, t: p.t })),
    ownAux: { p: s.secret.p, q: s.secret.q, lambda: s.secret.lambda },
  };
}
