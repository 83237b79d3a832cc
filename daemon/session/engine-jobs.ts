/**
 * The messages between the session runner (main thread) and the engine workers. Everything here is
 * structured-clone data: bigint and Uint8Array travel as they are.
 *
 * Why workers: a round's `finalize` verifies zero-knowledge proofs synchronously — one peer's
 * Πmod + Πprm at level128 is ~1.4 s of modular exponentiation (STACK.md). On the main thread that
 * would stall libp2p keep-alives, gossip heartbeats and the admin API for seconds. A worker hosts
 * the whole {@link RoundEngine} of a session, so the main thread only moves bytes.
 * @module
 */
import type { KeyShare } from '../../protocol/cggmp/key-share.js';
import type { RosterEntry } from '../../protocol/hash/session-id.js';
import type { SecurityLevelName } from '../../protocol/params.js';
import type { Outgoing } from '../../protocol/round/engine.js';
import type { AbortInfo, PartyIndex } from '../../protocol/round/types.js';

/** What a worker needs to build one party's engine. */
export type EngineSpec =
  | {
      readonly kind: 'keygen';
      readonly level: SecurityLevelName;
      readonly roster: readonly RosterEntry[];
      readonly self: PartyIndex;
      readonly t: number;
      readonly sessionId: Uint8Array;
      readonly primes: { readonly p: bigint; readonly q: bigint };
      readonly secretKey: Uint8Array;
    }
  | {
      readonly kind: 'sign';
      readonly keyShare: KeyShare;
      readonly signers: readonly PartyIndex[];
      readonly digest: Uint8Array;
      readonly sessionId: Uint8Array;
      readonly secretKey: Uint8Array;
    };

/** A request to a worker (`id` pairs it with its reply). */
export type EngineRequest =
  | {
      readonly id: number;
      readonly op: 'create';
      readonly session: string;
      readonly spec: EngineSpec;
    }
  | {
      readonly id: number;
      readonly op: 'receive';
      readonly session: string;
      readonly envelopes: readonly Uint8Array[];
    }
  | { readonly id: number; readonly op: 'expire'; readonly session: string }
  | { readonly id: number; readonly op: 'dispose'; readonly session: string };

/** A refused envelope (never attributed: an unverifiable envelope proves nothing). */
export interface Rejection {
  readonly index: number;
  readonly reason: string;
}

/** Where an engine stands after a request. */
export interface EngineStatus {
  readonly round: number;
  readonly outgoing: readonly Outgoing[];
  readonly rejected: readonly Rejection[];
  /** Senders the current round still waits for. */
  readonly missing: readonly PartyIndex[];
  readonly finished: boolean;
  readonly result?: unknown;
  readonly abort?: AbortInfo;
  /** Milliseconds the worker spent on this request (proof work shows up here). */
  readonly busyMs: number;
}

/** A worker's reply. */
export type EngineReply =
  | { readonly id: number; readonly ok: true; readonly status?: EngineStatus }
  | { readonly id: number; readonly ok: false; readonly error: string };
