/**
 * Blame helpers (STYLE.md habit 8: check everyone, then abort with the full list).
 * @module
 */
import { DecodeError } from '../errors.js';
import type { AbortInfo, Culprit, Msg, PartyIndex, Step } from './types.js';

/**
 * Decode every message of a channel; a message that does not decode (or fails `read`'s own
 * structural checks by throwing DecodeError) makes its signed sender a culprit.
 */
export function decodeEach<T>(
  msgs: ReadonlyMap<PartyIndex, Msg>,
  read: (payload: Uint8Array, from: PartyIndex) => T
): { values: Map<PartyIndex, T>; culprits: Culprit[] } {
  const values = new Map<PartyIndex, T>();
  const culprits: Culprit[] = [];
  for (const [from, msg] of msgs) {
    try {
      values.set(from, read(msg.payload, from));
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      culprits.push({ party: from, reason: `decode:${err.field}`, evidence: [msg.envelope] });
    }
  }
  return { values, culprits };
}

/** Run `check` for every sender; collect a culprit for each failure (reason from `check`). */
export function collectBlame<T>(
  entries: ReadonlyMap<PartyIndex, T>,
  evidence: (from: PartyIndex) => readonly Uint8Array[],
  check: (from: PartyIndex, value: T) => string | undefined
): Culprit[] {
  const out: Culprit[] = [];
  for (const [from, v] of entries) {
    const reason = check(from, v);
    if (reason !== undefined) out.push({ party: from, reason, evidence: evidence(from) });
  }
  return out;
}

/** An abort step. */
export function abortStep(
  protocol: string,
  round: number,
  reason: string,
  culprits: readonly Culprit[]
): Step<never, never> {
  const abort: AbortInfo = {
    protocol,
    round,
    reason,
    culprits: [...culprits].sort((a, b) => a.party - b.party),
  };
  return { kind: 'abort', abort };
}
