/**
 * In-memory network for n parties of any protocol: delivers every signed envelope from the
 * engines' outboxes to their recipients until nothing moves (used by tests, benchmarks and
 * `npm run demo`).
 *
 * Misbehaviour is injected with {@link TamperRule}s that rewrite what a chosen party sends, per
 * recipient, *before* it is signed again with that party's key — exactly what a malicious
 * participant could do (taurus `TestRule`, synedrion `modify_*`, SECURITY.md §2). A rule can
 * change a protocol body, send different bodies to different peers (equivocation), drop a
 * message, or replace the whole envelope (replays, forgeries).
 * @module
 */
import { decodeEnvelope, signEnvelope } from './envelope.js';
import { unwrapBody, wrapBody, type RoundEngine } from './engine.js';
import type { AbortInfo, PartyIndex } from './types.js';

/** A message as a tamper rule sees it. */
export interface TamperTarget {
  readonly from: PartyIndex;
  /** The recipient this copy goes to. */
  readonly to: PartyIndex;
  readonly round: number;
  readonly broadcast: boolean;
  /** The protocol body (without the engine's echo wrapper). */
  readonly body: Uint8Array;
  /** The echo hashes the engine attached, if any. */
  readonly echo: Uint8Array[] | undefined;
  /** The original signed envelope. */
  readonly envelope: Uint8Array;
}

/**
 * What a rule returns: a new body (re-wrapped with the same echo and re-signed by the sender),
 * `{ envelope }` to deliver raw bytes as they are (forgery, replay), `null` to drop, or
 * `undefined` to leave the message alone.
 */
export type TamperResult =
  | Uint8Array
  | { readonly envelope: Uint8Array }
  | { readonly echo: Uint8Array[]; readonly body: Uint8Array }
  | null
  | undefined;

/** A rule applied to every copy of every message `from` sends. */
export interface TamperRule {
  readonly from: PartyIndex;
  readonly apply: (m: TamperTarget) => TamperResult;
}

/** One delivery, for tests that inspect what crossed the wire. */
export interface Delivery {
  readonly from: PartyIndex;
  readonly to: PartyIndex;
  readonly round: number;
  readonly broadcast: boolean;
  readonly envelope: Uint8Array;
}

/** Outcome of a simulated run. */
export interface SimulationResult<R> {
  readonly results: Map<PartyIndex, R>;
  readonly aborts: Map<PartyIndex, AbortInfo>;
  /** Parties that neither finished nor aborted (waiting for a message that never came). */
  readonly stuck: PartyIndex[];
  readonly deliveries: Delivery[];
}

/** Options of {@link simulate}. */
export interface SimulationOptions {
  readonly tamper?: readonly TamperRule[];
  /** Ed25519 secret keys by roster index: needed to re-sign tampered messages. */
  readonly secretKeys?: ReadonlyMap<PartyIndex, Uint8Array>;
  /** Deliver in reverse order within each wave (shuffles arrival order; the protocol must not care). */
  readonly reverse?: boolean;
}

/**
 * Run the engines to completion over a lossless in-memory network.
 * @param engines one engine per participant, keyed by roster index
 */
export function simulate<S, R>(
  engines: ReadonlyMap<PartyIndex, RoundEngine<S, R>>,
  opts: SimulationOptions = {}
): SimulationResult<R> {
  const deliveries: Delivery[] = [];
  const parties = [...engines.keys()];
  let moved = true;
  while (moved) {
    moved = false;
    const wave: Array<{
      from: PartyIndex;
      to: PartyIndex;
      bytes: Uint8Array;
      round: number;
      broadcast: boolean;
    }> = [];
    for (const [from, engine] of engines) {
      for (const out of engine.drain()) {
        const targets = out.to === undefined ? parties.filter((p) => p !== from) : [out.to];
        for (const to of targets) {
          const bytes = tamper(opts, from, to, out.round, out.to === undefined, out.bytes);
          if (bytes)
            wave.push({ from, to, bytes, round: out.round, broadcast: out.to === undefined });
        }
      }
    }
    if (opts.reverse) wave.reverse();
    for (const d of wave) {
      moved = true;
      deliveries.push({
        from: d.from,
        to: d.to,
        round: d.round,
        broadcast: d.broadcast,
        envelope: d.bytes,
      });
      engines.get(d.to)?.receive(d.bytes);
    }
  }
  const results = new Map<PartyIndex, R>();
  const aborts = new Map<PartyIndex, AbortInfo>();
  const stuck: PartyIndex[] = [];
  for (const [p, e] of engines) {
    if (e.result !== undefined) results.set(p, e.result);
    else if (e.aborted) aborts.set(p, e.aborted);
    else stuck.push(p);
  }
  return { results, aborts, stuck, deliveries };
}

function tamper(
  opts: SimulationOptions,
  from: PartyIndex,
  to: PartyIndex,
  round: number,
  broadcast: boolean,
  envelope: Uint8Array
): Uint8Array | null {
  let bytes: Uint8Array | null = envelope;
  for (const rule of opts.tamper ?? []) {
    if (rule.from !== from || bytes === null) continue;
    const env = decodeEnvelope(bytes);
    let echo: Uint8Array[] | undefined;
    let body: Uint8Array;
    try {
      ({ echo, body } = unwrapBody(env.payload));
    } catch {
      // a dispute message or an already-mangled one: offer the raw payload as the body
      body = env.payload;
    }
    const r = rule.apply({ from, to, round, broadcast, body, echo, envelope: bytes });
    if (r === undefined) continue;
    if (r === null) {
      bytes = null;
      continue;
    }
    if ('envelope' in r) {
      bytes = r.envelope;
      continue;
    }
    const key = opts.secretKeys?.get(from);
    if (!key) throw new Error(`simulate: tampering with party ${from} needs its secret key`);
    const [newEcho, newBody] = r instanceof Uint8Array ? [echo, r] : [r.echo, r.body];
    bytes = signEnvelope(
      {
        sessionId: env.sessionId,
        round: env.round,
        from,
        ...(env.to === undefined ? {} : { to: env.to }),
        payload: env.round >= 1000 ? newBody : wrapBody(newEcho, newBody),
      },
      key
    );
  }
  return bytes;
}
