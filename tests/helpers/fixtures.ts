/**
 * Loads the TEST-ONLY prime fixtures (tests/fixtures/primes.json, written by
 * scripts/gen-fixtures.ts) and builds Paillier keys and ring-Pedersen parameters from them, cached
 * per (level, index). The default suite never generates safe primes.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PaillierSecretKey } from '../../protocol/paillier/paillier.js';
import { paillierKeyFromPrimes } from '../../protocol/paillier/paillier.js';
import {
  generateRingPedersen,
  type RingPedersenSecret,
} from '../../protocol/paillier/ring-pedersen.js';
import {
  LEVEL112,
  LEVEL128,
  type SecurityLevel,
  type SecurityLevelName,
} from '../../protocol/params.js';
import { seededRng } from './rng.js';

interface PrimesFile {
  level112: Array<{ p: string; q: string }>;
  level128: Array<{ p: string; q: string }>;
}

let primes: PrimesFile | undefined;
function load(): PrimesFile {
  primes ??= JSON.parse(
    readFileSync(fileURLToPath(new URL('../fixtures/primes.json', import.meta.url)), 'utf8')
  ) as PrimesFile;
  return primes;
}

/** Number of fixture prime pairs available at a level. */
export function fixtureCount(level: SecurityLevel): number {
  return load()[level.name].length;
}

/** The i-th fixture prime pair at a level. */
export function fixturePrimes(level: SecurityLevel, i: number): { p: bigint; q: bigint } {
  const pair = load()[level.name][i];
  if (!pair) throw new Error(`no fixture prime pair ${i} at ${level.name}`);
  return { p: BigInt('0x' + pair.p), q: BigInt('0x' + pair.q) };
}

const keys = new Map<string, PaillierSecretKey>();
/** The i-th fixture Paillier key (primes re-checked on first load). */
export function fixtureKey(level: SecurityLevel, i: number): PaillierSecretKey {
  const id = `${level.name}/${i}`;
  let key = keys.get(id);
  if (!key) {
    const { p, q } = fixturePrimes(level, i);
    key = paillierKeyFromPrimes(p, q, level);
    keys.set(id, key);
  }
  return key;
}

const rps = new Map<string, RingPedersenSecret>();
/** Deterministic ring-Pedersen parameters over the i-th fixture key. */
export function fixtureRingPedersen(level: SecurityLevel, i: number): RingPedersenSecret {
  const id = `${level.name}/${i}`;
  let rp = rps.get(id);
  if (!rp) {
    rp = generateRingPedersen(fixtureKey(level, i), seededRng(`rp/${id}`));
    rps.set(id, rp);
  }
  return rp;
}

/** Both levels, for `describe.each`. */
export const BOTH_LEVELS: ReadonlyArray<[SecurityLevelName, SecurityLevel]> = [
  ['level112', LEVEL112],
  ['level128', LEVEL128],
];
