/**
 * Deterministic randomness for tests (STYLE.md habit 4): a SHAKE256 stream seeded by a label, so
 * every party/test gets its own reproducible RNG. Never used outside tests.
 */
import { XofStream } from '../../protocol/hash/transcript.js';
import type { Rng } from '../../protocol/math/sample.js';

/** A reproducible {@link Rng} for `seed`. */
export function seededRng(seed: string): Rng {
  return new XofStream(new TextEncoder().encode(`mpcd-test-rng:${seed}`)).rng;
}
