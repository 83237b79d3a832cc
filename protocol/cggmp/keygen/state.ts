/**
 * Keygen round state (plain data: `protocol/round/state-codec.ts`) and the step builders every
 * round shares.
 *
 * **How an abort travels (CGGMP.md §5.2 "Blame", §6 step 7; C8, C17).** A broadcast value is only
 * known to be the same at every honest party once the *next* round's echo hashes were checked by
 * the engine. So no round before the last aborts on what it just received; it always sends the
 * next round, and:
 * - a failure in broadcast data (decommitment, modulus, Πprm, Πsch, Πmod, a malformed payload) is
 *   derived identically by every honest party: it is recorded as {@link Blame} and the party sends
 *   an empty complaint; the next finalize — after the engine checked that everyone saw the same
 *   broadcasts — aborts with exactly that list everywhere;
 * - a failure in point-to-point data (σ_{j,i}, Πfac for me) is known only to its victim, who
 *   broadcasts a complaint holding the culprit's signed envelope; every party re-checks it in the
 *   next round (`complaints.ts`) and names the culprit, or the complainer if the accusation is
 *   false. That verdict is again broadcast-derived, so it is recorded as Blame and acted on one
 *   round later (or at once in round 4, the last round).
 * An equivocation on any broadcast of rounds 1–3 is named by the engine's echo dispute instead.
 * @module
 */
import type { RosterEntry } from '../../hash/session-id.js';
import { levelByName, type SecurityLevel, type SecurityLevelName } from '../../params.js';
import { abortStep } from '../../round/blame.js';
import type { Culprit, OutMsg, PartyIndex, Step } from '../../round/types.js';
import type { KeyShare } from '../key-share.js';
import {
  encodeFac,
  encodeRound2,
  encodeRound3,
  encodeRound4,
  encodeShare,
  type CodecParams,
  type ComplaintItem,
} from './messages.js';

/** Protocol name (envelopes, aborts). */
export const KEYGEN = 'keygen';

/** A party's decommitted public values (points as 33-byte compressed encodings). */
export interface PartyPublic {
  /** rid_j */
  readonly rid: Uint8Array;
  /** S_j = (a_{j,k}·G)_{k<t} */
  readonly S: readonly Uint8Array[];
  /** A_j = τ_j·G */
  readonly A: Uint8Array;
  /** c_j (chain-code share) */
  readonly c: Uint8Array;
  /** ρ_j */
  readonly rho: Uint8Array;
  /** N_j = N̂_j */
  readonly N: bigint;
  readonly s: bigint;
  readonly t: bigint;
}

/** Own secrets (SECRET): Paillier primes, ring-Pedersen λ, f_i's coefficients, Schnorr nonce τ_i. */
export interface OwnSecrets {
  readonly p: bigint;
  readonly q: bigint;
  readonly lambda: bigint;
  /** a_{i,0..t−1}: f_i(z) = Σ_k a_{i,k}·z^k */
  readonly coeffs: readonly bigint[];
  /** τ_i with A_i = τ_i·G */
  readonly tau: bigint;
}

/** Culprits every honest party derived identically in `round`; reported at the next finalize. */
export interface Blame {
  readonly round: number;
  readonly culprits: readonly Culprit[];
}

/** The keygen state of one party. `round` = the round whose messages it waits for. */
export interface KeygenState {
  readonly round: 1 | 2 | 3 | 4;
  readonly level: SecurityLevelName;
  /** sid (C12): the envelope session id and the context of round-1 proofs. */
  readonly sid: Uint8Array;
  readonly t: number;
  readonly n: number;
  readonly self: PartyIndex;
  readonly roster: readonly RosterEntry[];
  readonly secret: OwnSecrets;
  /** Own decommitted values. */
  readonly own: PartyPublic;
  /** E(decommitment_i), sent in round 2 (dropped afterwards). */
  readonly decommitment?: Uint8Array;
  /** Own round-1 nonce (C12). */
  readonly nonce: Uint8Array;
  /** Set once culprits are known; the next finalize aborts with them. */
  readonly blame?: Blame;
  /** The complaint this party posted in the current round (judged like everyone else's). */
  readonly complaint?: readonly ComplaintItem[];
  /** Round ≥ 2: V_j and nonce_j of every party, by index. */
  readonly commitments?: readonly Uint8Array[];
  readonly nonces?: readonly Uint8Array[];
  /** Round ≥ 3: every party's decommitted values (all valid), by index. */
  readonly parties?: readonly PartyPublic[];
  /** Round ≥ 3 on the honest path: the key material. */
  readonly ssid?: Uint8Array;
  /** x_i = Σ_j σ_{j,i} (SECRET) */
  readonly x?: bigint;
  /** X_k = Σ_j F_j(k+1), compressed */
  readonly publicShares?: readonly Uint8Array[];
  /** pk = Σ_j S_{j,0}, compressed */
  readonly publicKey?: Uint8Array;
  /** rid = ⊕ rid_j */
  readonly rid?: Uint8Array;
  /** c = ⊕ c_j */
  readonly chainCode?: Uint8Array;
  /** Round 4 on the honest path: own confirmation hash. */
  readonly confirmation?: Uint8Array;
}

/** One keygen step. */
export type KeygenStep = Step<KeygenState, KeyShare>;

/** The level object of a state. */
export function levelOf(s: KeygenState): SecurityLevel {
  return levelByName(s.level);
}

/** Codec parameters of a state. */
export function codecParams(s: KeygenState): CodecParams {
  return { level: levelOf(s), t: s.t, n: s.n };
}

/** Every roster index but self, ascending. */
export function others(s: KeygenState): PartyIndex[] {
  const out: PartyIndex[] = [];
  for (let j = 0; j < s.n; j++) if (j !== s.self) out.push(j);
  return out;
}

/** One entry per party (the first reason found wins), in party order. */
export function mergeCulprits(...lists: ReadonlyArray<readonly Culprit[]>): Culprit[] {
  const byParty = new Map<PartyIndex, Culprit>();
  for (const list of lists)
    for (const c of list) if (!byParty.has(c.party)) byParty.set(c.party, c);
  return [...byParty.values()].sort((a, b) => a.party - b.party);
}

/** Abort with identified culprits. */
export function abortWith(round: number, culprits: readonly Culprit[]): KeygenStep {
  return abortStep(KEYGEN, round, 'misbehaviour', culprits);
}

/** The complaint messages of `round`: broadcast complaint, and ⊥ to every peer if p2p. */
function complaintMessages(
  s: KeygenState,
  round: 2 | 3 | 4,
  items: readonly ComplaintItem[]
): OutMsg[] {
  const posted = { kind: 'complaint', items } as const;
  const bcast =
    round === 2 ? encodeRound2(posted) : round === 3 ? encodeRound3(posted) : encodeRound4(posted);
  const out: OutMsg[] = [{ payload: bcast }];
  if (round === 2) for (const to of others(s)) out.push({ to, payload: encodeShare(undefined) });
  if (round === 3) for (const to of others(s)) out.push({ to, payload: encodeFac(undefined) });
  return out;
}

/**
 * Finalize of round r found culprits everyone derives alike: record them and send round r+1 as
 * an empty complaint; at round 4 (no round follows) abort at once.
 */
export function blameStep(
  s: KeygenState,
  r: 1 | 2 | 3 | 4,
  culprits: readonly Culprit[]
): KeygenStep {
  if (r === 4) return abortWith(4, culprits);
  const next = (r + 1) as 2 | 3 | 4;
  const { complaint: _c, decommitment: _d, ...rest } = s;
  return {
    kind: 'next',
    state: { ...rest, round: next, blame: { round: r, culprits } },
    outgoing: complaintMessages(s, next, []),
  };
}

/**
 * Finalize of round r found point-to-point culprits only this party can see: broadcast the
 * evidence in round r+1 for everyone to judge (CGGMP.md §5.2 "Blame for a bad σ_{j,i}").
 */
export function complaintStep(
  s: KeygenState,
  r: 2 | 3,
  items: readonly ComplaintItem[],
  extra: Partial<KeygenState> = {}
): KeygenStep {
  const next = (r + 1) as 3 | 4;
  const { complaint: _c, decommitment: _d, ...rest } = s;
  return {
    kind: 'next',
    state: { ...rest, ...extra, round: next, complaint: items },
    outgoing: complaintMessages(s, next, items),
  };
}
