/**
 * Signed envelopes presented inside abort messages (CGGMP.md §5.5 "Include them in the abort
 * message, with the *creator's* envelope signatures, so a disputed D is attributed to its
 * author"; the same for D̂ in §5.6).
 *
 * P_i cannot alter the D_{i,j} it received without forging P_j's Ed25519 signature, so once the
 * envelope checks out the value inside is P_j's, and any failure of P_i's proofs over it is P_i's.
 * @module
 */
import { DecodeError } from '../../errors.js';
import { unwrapBody } from '../../round/engine.js';
import { EnvelopeError, openEnvelope } from '../../round/envelope.js';
import type { PartyIndex } from '../../round/types.js';
import type { KeyShare } from '../key-share.js';

/** Where an embedded envelope must come from. */
export interface EmbeddedExpectation {
  /** The session the envelope belongs to (the presign sid). */
  readonly sessionId: Uint8Array;
  readonly signers: readonly PartyIndex[];
  /** Its author and recipient, and the round it was sent in. */
  readonly from: PartyIndex;
  readonly to: PartyIndex;
  readonly round: number;
}

/**
 * Verify an embedded point-to-point envelope (signature under the roster key of `from`, session,
 * round, sender, recipient) and return its protocol body (echo wrapper removed).
 * @throws DecodeError (field `envelope`) when any check fails: the presenter is to blame
 */
export function openEmbedded(
  share: KeyShare,
  bytes: Uint8Array,
  exp: EmbeddedExpectation
): Uint8Array {
  try {
    const env = openEnvelope(bytes, {
      sessionId: exp.sessionId,
      rosterKeys: share.roster.map((r) => r.publicKey),
      parties: exp.signers,
    });
    if (env.from !== exp.from || env.to !== exp.to || env.round !== exp.round) {
      throw new DecodeError('envelope', 'wrong sender, recipient or round');
    }
    return unwrapBody(env.payload, exp.signers.length).body;
  } catch (err) {
    if (err instanceof EnvelopeError) throw new DecodeError('envelope', err.code);
    if (err instanceof DecodeError) throw new DecodeError('envelope', err.rule);
    throw err;
  }
}
