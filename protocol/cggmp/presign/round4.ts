/**
 * Finalize of presign round 4 (CGGMP.md Decisions "presign ends with an echo confirmation";
 * §5.5 "Identifiable abort when δ·G ≠ Σ_j Δ_j").
 *
 * Before this runs the engine has compared every signer's echo of the round-3 broadcasts (δ_j,
 * Δ_j) with its own (C8) and resolved any mismatch by naming the equivocator, so every honest
 * signer reached the same verdict on δ·G = ΣΔ_j and is in the same mode.
 * @module
 */
import { abortStep, decodeEach } from '../../round/blame.js';
import type { Culprit, Inbox, PartyIndex, SessionInfo, Step } from '../../round/types.js';
import { checkBadDelta } from './bad-delta.js';
import type { SigningContext } from './context.js';
import { decodeR4, type R4Message } from './messages.js';
import { PRESIGN } from './round1.js';
import type {
  Presignature,
  PresignRound4BadDelta,
  PresignRound4Confirm,
  PresignState,
} from './types.js';

/**
 * Finalize round 4.
 * - decode every round-4 message (empty = confirmation, else a bad-δ message);
 * - confirm mode: every signer must have confirmed (a bad-δ message contradicts the echoed
 *   round-3 values every honest signer checked: culprit); then output the presignature;
 * - bad-δ mode: every signer must have sent the bad-δ message (a confirmation is a refusal to
 *   prove its δ_j: culprit); check each with {@link checkBadDelta} and abort naming every signer
 *   whose proofs fail.
 */
export function finalizeRound4(
  ctx: SigningContext,
  info: SessionInfo,
  s: PresignRound4Confirm | PresignRound4BadDelta,
  inbox: Inbox
): Step<PresignState, Presignature> {
  const { level, t } = ctx;
  const dec = decodeEach(inbox.broadcast, (b, from) =>
    decodeR4(b, level, ctx.paillier(from), t - 1)
  );
  if (dec.culprits.length > 0) return abortStep(PRESIGN, 4, 'decode', dec.culprits);
  const envelope = (j: PartyIndex): Uint8Array => inbox.broadcast.get(j)!.envelope;

  if (s.mode === 'confirm') {
    const culprits: Culprit[] = [];
    for (const [j, m] of dec.values) {
      if (m.kind !== 'confirm') {
        culprits.push({ party: j, reason: 'unexpected:bad-delta', evidence: [envelope(j)] });
      }
    }
    if (culprits.length > 0) return abortStep(PRESIGN, 4, 'unexpected-abort', culprits);
    return { kind: 'done', result: s.presignature, outgoing: [] };
  }

  const culprits: Culprit[] = [];
  for (const [j, m] of dec.values as Map<PartyIndex, R4Message>) {
    const a = ctx.pos(j);
    // P_j's own signed values the verdict rests on: K_j, G_j (r1), F_{·,j} (r2), δ_j (r3), r4.
    const evidence = [s.r1Env[a]!, s.r2Env[a]!, s.r3Env[a]!, envelope(j)];
    const reason =
      m.kind === 'confirm'
        ? 'missing:bad-delta-proof'
        : checkBadDelta(ctx, info.sessionId, s, j, m);
    if (reason) culprits.push({ party: j, reason, evidence });
  }
  return abortStep(PRESIGN, 4, 'bad-delta', culprits);
}
