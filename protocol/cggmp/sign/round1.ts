/**
 * Sign round 1 (CGGMP.md §5.6 steps 1–5, Decisions): σ_i = k_i·m + r·χ_i mod q to every other
 * signer; each signer combines, verifies and either outputs the signature or starts the bad-σ
 * procedure (round 2).
 * @module
 */
import { decodePoint } from '../../math/curve.js';
import type { Rng } from '../../math/sample.js';
import { bytesEqual } from '../../math/bytes.js';
import { abortStep, decodeEach } from '../../round/blame.js';
import type { Culprit, Inbox, SessionInfo, Step } from '../../round/types.js';
import { computeSsid, type SigningContext } from '../presign/context.js';
import { buildBadSigma } from './bad-sigma.js';
import { finishSignature, messageScalar, rOf, type EcdsaSignature } from './combine.js';
import { decodeSignR1, encodeSignR2 } from './messages.js';
import type { SignRound1, SignRound2, SignState } from './types.js';

/** The protocol name used in aborts. */
export const SIGN = 'sign';

/**
 * Finalize round 1.
 * - decode every (nonce_j, presignature id, digest, σ_j); a signer that claims another
 *   presignature or digest in this session is a culprit (Decisions);
 * - ssid = SHAKE256(E(sid, nonces, pk, X, aux, rid, S, presignature id, digest)) (C12);
 * - s = Σ_j σ_j; finish (r, s): non-zero, low-s, recid, verified against pk and recovered
 *   (`combine.ts`) → done;
 * - otherwise broadcast the bad-σ message (`bad-sigma.ts`) and wait for everyone's.
 */
export function finalizeSignRound1(
  ctx: SigningContext,
  info: SessionInfo,
  s: SignRound1,
  inbox: Inbox,
  rng: Rng
): Step<SignState, EcdsaSignature> {
  const { self } = ctx;
  const dec = decodeEach(inbox.broadcast, (b) => decodeSignR1(b));
  if (dec.culprits.length > 0) return abortStep(SIGN, 1, 'decode', dec.culprits);
  const presigId = Buffer.from(s.presig.id, 'hex');
  const culprits: Culprit[] = [];
  for (const [j, m] of dec.values) {
    const reason = !bytesEqual(m.presignatureId, presigId)
      ? 'presignature-mismatch'
      : !bytesEqual(m.digest, s.digest)
        ? 'digest-mismatch'
        : undefined;
    if (reason) culprits.push({ party: j, reason, evidence: [inbox.broadcast.get(j)!.envelope] });
  }
  if (culprits.length > 0) return abortStep(SIGN, 1, 'input-mismatch', culprits);

  const msgs = ctx.signers.map((j) =>
    j === self ? { nonce: s.nonce, sigma: s.sigma } : dec.values.get(j)!
  );
  const sigmas = msgs.map((m) => m.sigma);
  const R = decodePoint(s.presig.R, 'R');
  const finished = finishSignature(
    R,
    sigmas.reduce((x, y) => x + y, 0n), // s = Σ_j σ_j (reduced mod q inside)
    s.digest,
    s.presig.publicKey // pk, or pk + δ_HD·G with an HD tweak (C16)
  );
  if (finished.ok) return { kind: 'done', result: finished.signature, outgoing: [] };

  const ssid = computeSsid(
    'sign',
    info.sessionId,
    msgs.map((m) => m.nonce),
    s.share,
    ctx.signers,
    [presigId, s.digest]
  );
  const next: SignRound2 = {
    ...s,
    round: 2,
    ssid,
    sigmas,
    r1Env: ctx.signers.map((j) =>
      j === self ? new Uint8Array(0) : inbox.broadcast.get(j)!.envelope
    ),
  };
  const message = buildBadSigma(ctx, next, messageScalar(s.digest), rOf(R).r, rng);
  return { kind: 'next', state: next, outgoing: [{ payload: encodeSignR2(message) }] };
}
