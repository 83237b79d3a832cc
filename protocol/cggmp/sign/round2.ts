/**
 * Sign round 2: the bad-σ verdict (CGGMP.md §5.6 "Identifiable abort when the signature is
 * invalid", C1, C5). Reached only when Σσ_j did not verify; the session always aborts, naming
 * every signer whose Πmul* or Πdec fails.
 * @module
 */
import { decodePoint } from '../../math/curve.js';
import { abortStep, decodeEach } from '../../round/blame.js';
import type { Culprit, Inbox, Step } from '../../round/types.js';
import type { SigningContext } from '../presign/context.js';
import { checkBadSigma } from './bad-sigma.js';
import { messageScalar, rOf, type EcdsaSignature } from './combine.js';
import { decodeSignR2 } from './messages.js';
import { SIGN } from './round1.js';
import type { SignRound2, SignState } from './types.js';

/**
 * Finalize round 2.
 * - decode every bad-σ message (Ĥ_j ∈ Z*_{N_j²}, t−1 envelopes, t−1 proof pairs);
 * - check each with {@link checkBadSigma} (envelopes, Πmul*, Πdec/sigma made for me);
 * - abort `bad-sigma` with every culprit; evidence = P_j's σ_j and bad-σ envelopes plus its
 *   presign broadcasts (K_j, F̂), so a third party can recompute the statement.
 */
export function finalizeSignRound2(
  ctx: SigningContext,
  s: SignRound2,
  inbox: Inbox
): Step<SignState, EcdsaSignature> {
  const { level, t } = ctx;
  const dec = decodeEach(inbox.broadcast, (b, from) =>
    decodeSignR2(b, level, ctx.paillier(from), t - 1)
  );
  if (dec.culprits.length > 0) return abortStep(SIGN, 2, 'decode', dec.culprits);
  const m = messageScalar(s.digest);
  const { r } = rOf(decodePoint(s.presig.R, 'R'));
  const culprits: Culprit[] = [];
  for (const [j, msg] of dec.values) {
    const a = ctx.pos(j);
    const reason = checkBadSigma(ctx, s, m, r, j, msg);
    if (reason) {
      const evidence = [
        s.r1Env[a]!,
        inbox.broadcast.get(j)!.envelope,
        s.presig.broadcasts.r1[a]!,
        s.presig.broadcasts.r2[a]!,
      ];
      culprits.push({ party: j, reason, evidence });
    }
  }
  return abortStep(SIGN, 2, 'bad-sigma', culprits);
}
