/**
 * The error families of `protocol/` (STYLE.md habit 7), never mixed:
 * - {@link InvalidArgs}: our own caller misused an API (wrong size, out-of-range argument).
 * - {@link Bug}: an impossible state was reached (our own key fails its own check, …).
 * - {@link DecodeError}: bytes from the wire are not the canonical encoding of a value of the
 *   expected shape. The caller attributes it to the sender of the signed envelope.
 * - Proof verification never throws for a bad proof: it returns a {@link VerifyResult} naming the
 *   failed check (see `protocol/zk/common.ts`). Protocol aborts with culprits arrive with the rounds.
 *
 * Messages never contain secret values: they name the field and the rule, not the number.
 * @module
 */

/** The caller passed an argument that violates the API contract. */
export class InvalidArgs extends Error {
  override readonly name = 'InvalidArgs';
  /** @param field the argument's name; @param rule what it must satisfy */
  constructor(
    readonly field: string,
    readonly rule: string
  ) {
    super(`invalid argument ${field}: ${rule}`);
  }
}

/** An internal invariant failed: this is a defect in mpcd, not a peer's fault. */
export class Bug extends Error {
  override readonly name = 'Bug';
  constructor(message: string) {
    super(`internal error (bug): ${message}`);
  }
}

/** Bytes that are not the canonical encoding of the expected value. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  /** @param field dotted path of the value being decoded; @param rule what was violated */
  constructor(
    readonly field: string,
    readonly rule: string
  ) {
    super(`cannot decode ${field}: ${rule}`);
  }
}
