/**
 * Threshold key generation for CGGMP21 on secp256k1: auxiliary info (Paillier N_i = N̂_i,
 * ring-Pedersen (s_i, t_i), Πprm, Πmod, Πfac — CGGMP.md §5.1) and Feldman-VSS keygen with Πsch
 * (§5.2), run as ONE session that ends with a signed confirmation round (Decisions, C17).
 *
 * | round | P_i sends                                                            | channel         |
 * |-------|----------------------------------------------------------------------|-----------------|
 * | 1     | nonce_i (C12), V_i = H(sid, i, E(rid_i, S_i, A_i, u_i, c_i, N_i, s_i, t_i, ψ̂_i, ρ_i)) | B-echo |
 * | 2     | the decommitment; σ_{i,j} = f_i(j+1) to each P_j                     | B-echo + P2P    |
 * | 3     | Πsch response for X_i (A_i committed), Πmod; Πfac for each P_j       | B-echo + P2P    |
 * | 4     | H(ssid, t, n, pk, all X_k, all (N_j, s_j, t_j), rid, c)             | B (signed)      |
 *
 * - Round-1 proofs (Πprm) use the sid; rounds 3 on use ssid = H(sid, all nonces, rid, ρ), so rid
 *   and ρ (the coin-tossed values of §5.1/§5.2) are bound into Πsch, Πmod and Πfac (C12; this
 *   replaces the paper's "ctx ‖ i ‖ ρ" and e_i = H(ctx, i, rid, X_i, A_i)).
 * - Every check runs over all senders; failures become culprits with signed evidence. Rounds 1–3
 *   are B-echo (the engine names equivocators), nobody aborts before the next round's echo was
 *   checked, and point-to-point failures (σ, Πfac) travel as complaints every party re-checks —
 *   so every honest party ends with the same culprit list (see `state.ts`, `complaints.ts`).
 * - Output: {@link KeyShare} (epoch 0). Aux info is fresh per key (Decisions).
 *
 * Requirements on the caller: `primes` must be fresh for every keygen (a reused modulus is public
 * before round 1, and a colluder that copies it *with its own Πprm* gets the later of the two
 * blamed as `duplicate-modulus`); the sid must be fresh (C12, the keystore refuses repeats).
 *
 * Not supported: reusing aux info across keys, threshold refresh (later work, CGGMP.md §5.3).
 * @module
 */
import { InvalidArgs } from '../../errors.js';
import type { RosterEntry } from '../../hash/session-id.js';
import { systemRng, type Rng } from '../../math/sample.js';
import { paillierKeyFromPrimes } from '../../paillier/paillier.js';
import { LEVELS, levelByName, type SecurityLevel, type SecurityLevelName } from '../../params.js';
import type { Protocol, RoundSpec, Step } from '../../round/types.js';
import type { KeyShare } from '../key-share.js';
import { finalizeRound1, startRound1 } from './round1.js';
import { finalizeRound2 } from './round2.js';
import { finalizeRound3 } from './round3.js';
import { finalizeRound4 } from './round4.js';
import { KEYGEN, type KeygenState } from './state.js';
import { validateRoster } from './validate.js';

export type { KeygenState } from './state.js';
export {
  decodeKeyShare,
  encodeKeyShare,
  keyShareSummary,
  validateKeyShare,
  type KeyShareSummary,
} from './share.js';

/** What each round expects (rounds 1–3 B-echo, C8/C17; round 4 is the signed confirmation). */
const SPECS: Readonly<Record<KeygenState['round'], RoundSpec>> = Object.freeze({
  1: { broadcast: true, p2p: false, echo: true },
  2: { broadcast: true, p2p: true, echo: true },
  3: { broadcast: true, p2p: true, echo: true },
  4: { broadcast: true, p2p: false, echo: false },
});

/**
 * The keygen {@link Protocol} (stateless apart from the RNG it closes over: use this to restore an
 * engine from a snapshot).
 * @param rng randomness for the round-3 proofs (default: the system CSPRNG)
 */
export function keygenProtocol(rng: Rng = systemRng): Protocol<KeygenState, KeyShare> {
  return {
    name: KEYGEN,
    round: (s) => s.round,
    spec: (s) => SPECS[s.round],
    finalize(info, s, inbox) {
      switch (s.round) {
        case 1:
          return finalizeRound1(info, s, inbox);
        case 2:
          return finalizeRound2(info, s, inbox, rng);
        case 3:
          return finalizeRound3(info, s, inbox);
        case 4:
          return finalizeRound4(info, s, inbox);
      }
    },
  };
}

/** Inputs of {@link startKeygen}. */
export interface KeygenArgs {
  /** Security level (object or name); recorded in the key. */
  readonly level: SecurityLevel | SecurityLevelName;
  /** The n parties, sorted by party-id bytes; index = position, evaluation point = index + 1. */
  readonly roster: readonly RosterEntry[];
  /** This party's roster index. */
  readonly self: number;
  /** Signers needed (polynomials of degree t−1), 2 ≤ t ≤ n. */
  readonly t: number;
  /** The sid of C12 (`computeSessionId` with protocol `keygen`), 32 bytes. */
  readonly sessionId: Uint8Array;
  /** Two fresh safe primes of the level's size (own Paillier key N = p·q). */
  readonly primes: { readonly p: bigint; readonly q: bigint };
  /** Randomness (default: the system CSPRNG). */
  readonly rng?: Rng;
}

function resolveLevel(level: SecurityLevel | SecurityLevelName): SecurityLevel {
  if (typeof level === 'string') return levelByName(level);
  if (typeof level !== 'object' || level === null || !Object.hasOwn(LEVELS, level.name))
    throw new InvalidArgs('level', 'unknown security level');
  const known = LEVELS[level.name];
  // A hand-made level object with other numbers would silently weaken every check.
  for (const k of Object.keys(known) as Array<keyof SecurityLevel>) {
    if (known[k] !== level[k]) throw new InvalidArgs('level', `${k} differs from ${known.name}`);
  }
  return known;
}

/**
 * Start one party's keygen session.
 * @returns the protocol and the round-1 step, for `new RoundEngine(protocol, cfg, first)` with
 *   `cfg.parties` = every roster index and `cfg.sessionId` = `sessionId`
 * @throws InvalidArgs naming the field: `level`, `roster`/`roster[i].*` (2 ≤ n ≤ 16, sorted, no
 *   duplicates, 32-byte Ed25519 keys), `t` (2 ≤ t ≤ n), `self`, `sessionId` (32 bytes),
 *   `primes.p`/`primes.q`/`primes.p·q` (safe primes of the level's size), `rng`
 * @example
 * const { protocol, first } = startKeygen({ level: 'level128', roster, self: 0, t: 2, sessionId, primes });
 * const engine = new RoundEngine(protocol, { sessionId, self: 0, parties: [0, 1, 2], rosterKeys, secretKey }, first);
 */
export function startKeygen(args: KeygenArgs): {
  protocol: Protocol<KeygenState, KeyShare>;
  first: Step<KeygenState, KeyShare>;
} {
  if (typeof args !== 'object' || args === null) throw new InvalidArgs('args', 'must be an object');
  const level = resolveLevel(args.level);
  validateRoster(args.roster);
  const n = args.roster.length;
  const { t, self, sessionId, primes } = args;
  if (!Number.isInteger(t) || t < 2 || t > n) throw new InvalidArgs('t', 'must be in [2, n]');
  if (!Number.isInteger(self) || self < 0 || self >= n)
    throw new InvalidArgs('self', 'must be a roster index');
  if (!(sessionId instanceof Uint8Array) || sessionId.length !== 32)
    throw new InvalidArgs('sessionId', 'must be 32 bytes');
  if (typeof primes !== 'object' || primes === null)
    throw new InvalidArgs('primes', 'must be { p, q }');
  if (typeof primes.p !== 'bigint') throw new InvalidArgs('primes.p', 'must be a bigint');
  if (typeof primes.q !== 'bigint') throw new InvalidArgs('primes.q', 'must be a bigint');
  const rng = args.rng ?? systemRng;
  if (typeof rng !== 'function') throw new InvalidArgs('rng', 'must be a function');
  let key;
  try {
    key = paillierKeyFromPrimes(primes.p, primes.q, level);
  } catch (err) {
    if (err instanceof InvalidArgs) throw new InvalidArgs(`primes.${err.field}`, err.rule);
    throw err;
  }
  const first = startRound1({ level, roster: args.roster, self, t, sessionId, key, rng });
  return { protocol: keygenProtocol(rng), first };
}
