/**
 * The shape every CGGMP21 protocol (keygen+aux, presign, sign) takes for the round engine
 * (`engine.ts`): a state machine whose state is plain serializable data (`state-codec.ts`), with
 * one `finalize` per round that turns the round's inbox into the next round's messages, a result,
 * or an abort naming culprits with signed evidence (STYLE.md habits 1, 7, 8).
 *
 * A protocol never sees transport details: the engine verifies envelopes (signature, session id,
 * sender in the session, recipient), deduplicates, buffers early messages, runs the echo checks of
 * B-echo rounds (C8) and hands `finalize` exactly one decoded-envelope message per expected
 * (sender, channel).
 * @module
 */

/** A roster index (0-based position in the key's roster, CGGMP.md Decisions). */
export type PartyIndex = number;

/** A received message as a round sees it. */
export interface Msg {
  readonly from: PartyIndex;
  readonly round: number;
  /** Present for point-to-point messages (always = self). */
  readonly to?: PartyIndex;
  /** The protocol payload (the round's canonical encoding). */
  readonly payload: Uint8Array;
  /** The complete signed envelope: transferable evidence against `from`. */
  readonly envelope: Uint8Array;
}

/** A message a round wants sent; the engine wraps and signs it. */
export interface OutMsg {
  /** Absent: broadcast to every other session participant. */
  readonly to?: PartyIndex;
  readonly payload: Uint8Array;
}

/** What one round expects from each other participant. */
export interface RoundSpec {
  /** One broadcast message from every other participant. */
  readonly broadcast: boolean;
  /** One point-to-point message from every other participant. */
  readonly p2p: boolean;
  /**
   * The broadcast values of this round are B-echo (C8): every party must have received the same
   * ones. The engine attaches the hashes of what it received to its next round's messages (or to
   * a final confirmation) and aborts, naming the equivocator, when views differ.
   */
  readonly echo: boolean;
}

/** One identified culprit with signed evidence (envelopes from the culprit, or that it sent). */
export interface Culprit {
  readonly party: PartyIndex;
  /** Stable reason code, e.g. `bad-proof:enc`, `feldman`, `decode`, `equivocation`. */
  readonly reason: string;
  /** Signed envelopes that prove the misbehaviour to a third party. */
  readonly evidence: readonly Uint8Array[];
}

/** Why a protocol run ended without output. */
export interface AbortInfo {
  readonly protocol: string;
  /** The round whose processing found the problem. */
  readonly round: number;
  /** Stable reason code of the abort as a whole. */
  readonly reason: string;
  /** Every identified culprit (empty when the abort is not attributable, e.g. a timeout). */
  readonly culprits: readonly Culprit[];
}

/** The messages of one round, one per (sender, channel), already decoded from envelopes. */
export interface Inbox {
  readonly broadcast: ReadonlyMap<PartyIndex, Msg>;
  readonly p2p: ReadonlyMap<PartyIndex, Msg>;
}

/** The outcome of starting a protocol or finalizing a round. */
export type Step<S, R> =
  /** Move to the next round with new state; send `outgoing` (that round's own messages). */
  | { readonly kind: 'next'; readonly state: S; readonly outgoing: readonly OutMsg[] }
  /** Finished; a last round of messages may still go out (e.g. a confirmation). */
  | { readonly kind: 'done'; readonly result: R; readonly outgoing: readonly OutMsg[] }
  | { readonly kind: 'abort'; readonly abort: AbortInfo };

/** Facts every round knows about its session. */
export interface SessionInfo {
  /** The sid (C12), 32 bytes. */
  readonly sessionId: Uint8Array;
  /** This party's roster index. */
  readonly self: PartyIndex;
  /** Roster indices taking part in this session (all n for keygen, the signers for presign/sign). */
  readonly parties: readonly PartyIndex[];
}

/**
 * A protocol: `start` produces round 1's messages; `spec(state)` says what the current round
 * expects; `finalize` consumes the complete inbox of the current round. State is plain data
 * (bigint, number, string, boolean, Uint8Array, arrays and plain objects only).
 */
export interface Protocol<S, R> {
  readonly name: string;
  /** Round number of a state (1-based). */
  round(state: S): number;
  /** Expectations of the current round. */
  spec(state: S): RoundSpec;
  /** Finalize the current round with its complete inbox. */
  finalize(info: SessionInfo, state: S, inbox: Inbox): Step<S, R>;
}
