/**
 * A small benchmark harness: each figure is one JSON line on stdout (`npm run bench`), so runs can
 * be diffed and collected by scripts. Progress goes to stderr.
 *
 * A figure times `fn` in several samples (each ≥ `minSampleMs`, after one warm-up call) and
 * reports the median time per operation and ops/s; medians resist the noise of a shared machine.
 */

/** Options of one measurement. */
export interface MeasureOptions {
  /** Number of timed samples (median taken). */
  samples?: number;
  /** Minimum duration of one sample, in ms (the op repeats until reached). */
  minSampleMs?: number;
}

/** Fields every figure carries. */
export interface Figure {
  bench: string;
  [field: string]: unknown;
}

/** Scale factor from `--quick` (fewer/shorter samples for smoke runs). */
export const QUICK = process.argv.includes('--quick');

/** Median time per call of `fn`, in milliseconds. */
export function measure(
  fn: () => unknown,
  opts: MeasureOptions = {}
): { medianMs: number; samples: number } {
  const samples = opts.samples ?? (QUICK ? 3 : 5);
  const minSampleMs = opts.minSampleMs ?? (QUICK ? 100 : 400);
  fn(); // warm-up (JIT, caches)
  const perOp: number[] = [];
  for (let s = 0; s < samples; s++) {
    let n = 0;
    const start = performance.now();
    let elapsed: number;
    do {
      fn();
      n++;
      elapsed = performance.now() - start;
    } while (elapsed < minSampleMs);
    perOp.push(elapsed / n);
  }
  perOp.sort((a, b) => a - b);
  return { medianMs: perOp[Math.floor(perOp.length / 2)]!, samples };
}

/**
 * {@link measure} for an async `fn` (each call awaited before the next): median ms per operation.
 * `ops` is how many times `fn` ran, warm-up included, for benchmarks that use up a resource.
 * (`measure` on an async function would time only the creation of its promises.)
 */
export async function measureAsync(
  fn: () => Promise<unknown>,
  opts: MeasureOptions = {}
): Promise<{ medianMs: number; samples: number; ops: number }> {
  const samples = opts.samples ?? (QUICK ? 3 : 5);
  const minSampleMs = opts.minSampleMs ?? (QUICK ? 100 : 400);
  await fn(); // warm-up
  let ops = 1;
  const perOp: number[] = [];
  for (let s = 0; s < samples; s++) {
    let n = 0;
    const start = performance.now();
    let elapsed: number;
    do {
      await fn();
      n++;
      elapsed = performance.now() - start;
    } while (elapsed < minSampleMs);
    ops += n;
    perOp.push(elapsed / n);
  }
  perOp.sort((a, b) => a - b);
  return { medianMs: perOp[Math.floor(perOp.length / 2)]!, samples, ops };
}

/** Print one figure as a JSON line (with the runtime version). */
export function report(figure: Figure): void {
  process.stdout.write(JSON.stringify({ ...figure, node: process.version }) + '\n');
}

/** Round for display. */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Progress note on stderr. */
export function note(msg: string): void {
  process.stderr.write(`# ${msg}\n`);
}
