/**
 * Keygen test harness: a roster of n parties with deterministic Ed25519 identities, the sid of
 * C12, one engine per party (primes = fixture pairs 0..n−1 of the level, seeded RNGs), and a
 * helper that runs them over the in-memory simulator.
 */
import type { KeyShare } from '../../protocol/cggmp/key-share.js';
import { startKeygen, type KeygenState } from '../../protocol/cggmp/keygen/index.js';
import { computeSessionId, type RosterEntry } from '../../protocol/hash/session-id.js';
import type { SecurityLevel } from '../../protocol/params.js';
import { RoundEngine, type EngineConfig } from '../../protocol/round/engine.js';
import { ed25519PublicKey } from '../../protocol/round/envelope.js';
import {
  simulate,
  type SimulationOptions,
  type SimulationResult,
} from '../../protocol/round/simulation.js';
import type { PartyIndex } from '../../protocol/round/types.js';
import { fixturePrimes } from './fixtures.js';
import { seededRng } from './rng.js';

export type KeygenEngine = RoundEngine<KeygenState, KeyShare>;

/** A keygen session's fixed setup. */
export interface KeygenSetup {
  readonly level: SecurityLevel;
  readonly n: number;
  readonly t: number;
  readonly roster: RosterEntry[];
  readonly secretKeys: Map<PartyIndex, Uint8Array>;
  readonly rosterKeys: Uint8Array[];
  readonly sid: Uint8Array;
  readonly parties: number[];
}

/** Roster + identities + sid for an n-party session (`label` varies the coordinator nonce). */
export function keygenSetup(level: SecurityLevel, n: number, t: number, label = 'a'): KeygenSetup {
  const secretKeys = new Map<PartyIndex, Uint8Array>();
  const roster: RosterEntry[] = [];
  for (let i = 0; i < n; i++) {
    const sk = seededRng(`identity/${i}`)(32);
    secretKeys.set(i, sk);
    // party ids 0x10, 0x11, …: sorted by construction
    roster.push({ partyId: new Uint8Array([0x10 + i]), publicKey: ed25519PublicKey(sk) });
  }
  const nonce = seededRng(`coordinator-nonce/${label}/${level.name}/${t}/${n}`)(32);
  const sid = computeSessionId({
    protocol: 'keygen',
    keyEpoch: 0,
    roster,
    t,
    n,
    level: level.name,
    nonce,
  });
  return {
    level,
    n,
    t,
    roster,
    secretKeys,
    rosterKeys: roster.map((r) => r.publicKey),
    sid,
    parties: Array.from({ length: n }, (_, i) => i),
  };
}

/** The engine configuration of party `self`. */
export function engineConfig(setup: KeygenSetup, self: PartyIndex): EngineConfig {
  return {
    sessionId: setup.sid,
    self,
    parties: setup.parties,
    rosterKeys: setup.rosterKeys,
    secretKey: setup.secretKeys.get(self)!,
  };
}

/** One started engine per party (fixture primes 0..n−1, seeded RNG per party). */
export function keygenEngines(setup: KeygenSetup, label = 'a'): Map<PartyIndex, KeygenEngine> {
  const engines = new Map<PartyIndex, KeygenEngine>();
  for (const self of setup.parties) {
    const rng = seededRng(`keygen/${label}/${setup.level.name}/${setup.t}-${setup.n}/${self}`);
    const { protocol, first } = startKeygen({
      level: setup.level,
      roster: setup.roster,
      self,
      t: setup.t,
      sessionId: setup.sid,
      primes: fixturePrimes(setup.level, self),
      rng,
    });
    engines.set(self, new RoundEngine(protocol, engineConfig(setup, self), first));
  }
  return engines;
}

/** Run a whole keygen over the simulator. */
export function runKeygen(
  setup: KeygenSetup,
  opts: Omit<SimulationOptions, 'secretKeys'> = {},
  label = 'a'
): SimulationResult<KeyShare> & { engines: Map<PartyIndex, KeygenEngine>; ms: number } {
  const engines = keygenEngines(setup, label);
  const t0 = performance.now();
  const r = simulate(engines, { ...opts, secretKeys: setup.secretKeys });
  return { ...r, engines, ms: performance.now() - t0 };
}
