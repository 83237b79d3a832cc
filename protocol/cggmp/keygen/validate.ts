/**
 * Input validation shared by `startKeygen` and `validateKeyShare` (STYLE.md habit 7: every
 * public function names the bad argument).
 * @module
 */
import { InvalidArgs } from '../../errors.js';
import type { RosterEntry } from '../../hash/session-id.js';
import { bytesEqual, compareBytes } from '../../math/bytes.js';
import { MAX_PARTIES } from '../../params.js';

/**
 * A roster of n entries (2 ≤ n ≤ {@link MAX_PARTIES}), strictly sorted by party-id bytes (so no
 * duplicate ids), 1..128-byte ids, 32-byte Ed25519 keys, no key used twice.
 * @throws InvalidArgs naming `roster`, `roster[i].partyId` or `roster[i].publicKey`
 */
export function validateRoster(roster: readonly RosterEntry[], n = roster?.length): void {
  if (!Array.isArray(roster)) throw new InvalidArgs('roster', 'must be an array');
  if (roster.length < 2 || roster.length > MAX_PARTIES)
    throw new InvalidArgs('roster', `must have 2 to ${MAX_PARTIES} entries (n)`);
  if (roster.length !== n) throw new InvalidArgs('roster', 'must have n entries');
  roster.forEach((r, i) => {
    if (!(r?.partyId instanceof Uint8Array) || r.partyId.length < 1 || r.partyId.length > 128)
      throw new InvalidArgs(`roster[${i}].partyId`, 'must be 1..128 bytes');
    if (!(r.publicKey instanceof Uint8Array) || r.publicKey.length !== 32)
      throw new InvalidArgs(`roster[${i}].publicKey`, 'must be a 32-byte Ed25519 public key');
    if (i > 0 && compareBytes(roster[i - 1]!.partyId, r.partyId) >= 0)
      throw new InvalidArgs('roster', 'must be sorted by party id with no duplicates');
    for (let k = 0; k < i; k++) {
      if (bytesEqual(roster[k]!.publicKey, r.publicKey))
        throw new InvalidArgs(`roster[${i}].publicKey`, 'is used by another party');
    }
  });
}
