/**
 * A small Prometheus registry — counters, gauges, histograms — rendered in the text exposition
 * format 0.0.4 for the admin server's `/metrics` (ARCHITECTURE.md "Observability and operations").
 * Written here rather than depended on: the format is a page long and the daemon needs only these
 * three types.
 *
 * Guarantees a scrape can rely on:
 * - metric and label names are checked against the Prometheus grammar when registered, and every
 *   sample name (a histogram's `_bucket`, `_sum`, `_count` too) is unique in the registry;
 * - each update names exactly the declared labels, so one metric never mixes label shapes;
 * - **bounded cardinality**: at most `maxSeriesPerMetric` (1000) label sets per metric. A new label
 *   set beyond that is dropped and counted in `metrics_dropped_series_total{metric}`, so a bug that
 *   puts an unbounded value in a label costs a counter, never the process's memory.
 *
 * Nothing here names the daemon; the coordinator uses the same registry.
 * @module
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** Label values of one series: exactly the declared label names, string or number values. */
export type Labels<L extends string = string> = Readonly<Record<L, string | number>>;

/** A monotonically increasing count. */
export interface Counter<L extends string = string> {
  /** Add `by` (default 1, must be ≥ 0) to the unlabelled series. */
  inc(by?: number): void;
  /** Add `by` (default 1, must be ≥ 0) to the series of `labels`. */
  inc(labels: Labels<L> | undefined, by?: number): void;
}

/** A value that goes up and down. */
export interface Gauge<L extends string = string> {
  set(value: number): void;
  set(labels: Labels<L> | undefined, value: number): void;
  inc(by?: number): void;
  inc(labels: Labels<L> | undefined, by?: number): void;
  dec(by?: number): void;
  dec(labels: Labels<L> | undefined, by?: number): void;
  /**
   * Compute the gauge at render time instead of pushing updates (e.g. connected peers, read from
   * libp2p when scraped). `fn` returns the unlabelled value, or every labelled sample — which then
   * replace all series of the gauge. One collector per gauge; a later call replaces it. If `fn`
   * throws, the previous values stay and `metrics_collect_errors_total{metric}` is incremented.
   */
  collect(fn: () => number | readonly GaugeSample<L>[]): void;
}

/** One labelled value returned by a {@link Gauge.collect} callback. */
export interface GaugeSample<L extends string = string> {
  labels: Labels<L>;
  value: number;
}

/** Observations counted into fixed buckets, with their sum and count. */
export interface Histogram<L extends string = string> {
  observe(value: number): void;
  observe(labels: Labels<L> | undefined, value: number): void;
  /**
   * Start timing now. The returned function observes the elapsed seconds (monotonic clock) and
   * returns them; a timer observes once — later calls return the same value without observing.
   */
  startTimer(labels?: Labels<L>): () => number;
}

/** Options of {@link Registry}. */
export interface RegistryOptions {
  /** Most label sets one metric keeps (default {@link MAX_SERIES_PER_METRIC}). */
  maxSeriesPerMetric?: number;
}

/** Default cap on the label sets of one metric. */
export const MAX_SERIES_PER_METRIC = 1000;

/** Seconds buckets for operation durations: 5 ms up to 2 min (keygen with fresh primes is slow). */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
]);

// The Prometheus data model's name grammar (prometheus.io "Data model").
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type Kind = 'counter' | 'gauge' | 'histogram';

/** Shared bookkeeping of one metric: label checking, the series map and the cardinality cap. */
abstract class Metric<S> {
  /** Series by label-value key, in first-seen order (which is the render order). */
  protected readonly series = new Map<string, { values: readonly string[]; state: S }>();
  /** Set on the built-in counters only: their label values are metric names, a bounded set. */
  uncapped = false;

  constructor(
    protected readonly registry: Registry,
    readonly name: string,
    readonly help: string,
    readonly kind: Kind,
    readonly labelNames: readonly string[]
  ) {}

  /** The series of `labels`, created on first use; undefined when the cap drops it. */
  protected seriesOf(labels: Labels | undefined): S | undefined {
    const values = this.labelValues(labels);
    const key = JSON.stringify(values);
    const found = this.series.get(key);
    if (found) return found.state;
    if (this.series.size >= this.registry.maxSeriesPerMetric && !this.uncapped) {
      this.registry.droppedSeries(this.name);
      return undefined;
    }
    const state = this.initial();
    this.series.set(key, { values, state });
    return state;
  }

  /** Check that `labels` names exactly the declared labels; return the values in declared order. */
  protected labelValues(labels: Labels | undefined): string[] {
    const given = labels ?? {};
    if (typeof given !== 'object' || given === null) {
      throw new TypeError(`metric ${this.name}: labels must be an object`);
    }
    const keys = Object.keys(given);
    const missing = this.labelNames.filter((n) => !Object.hasOwn(given, n));
    const extra = keys.filter((k) => !this.labelNames.includes(k));
    if (missing.length > 0 || extra.length > 0) {
      throw new TypeError(
        `metric ${this.name}: expected labels [${this.labelNames.join(', ')}], got [${keys.join(', ')}]`
      );
    }
    return this.labelNames.map((n) => {
      const v = (given as Record<string, unknown>)[n];
      if (typeof v === 'string') return v;
      if (typeof v === 'number') return String(v);
      throw new TypeError(`metric ${this.name}: label ${n} must be a string or number`);
    });
  }

  /** Unlabelled metrics expose a zero sample before the first update, as Prometheus clients do. */
  protected ensureUnlabelled(): void {
    if (this.labelNames.length === 0) this.seriesOf(undefined);
  }

  protected abstract initial(): S;
  /** Sample lines of this metric (without HELP/TYPE). */
  abstract samples(): string[];
}

class CounterImpl extends Metric<{ v: number }> implements Counter {
  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[]) {
    super(registry, name, help, 'counter', labelNames);
    this.ensureUnlabelled();
  }
  protected initial(): { v: number } {
    return { v: 0 };
  }
  inc(labelsOrBy?: Labels | number, by = 1): void {
    const [labels, amount] = split(labelsOrBy, by);
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
      throw new RangeError(`counter ${this.name}: increment must be a finite number ≥ 0`);
    }
    const s = this.seriesOf(labels);
    if (s) s.v += amount;
  }
  samples(): string[] {
    return [...this.series.values()].map(
      ({ values, state }) => `${this.name}${labelText(this.labelNames, values)} ${num(state.v)}`
    );
  }
}

class GaugeImpl extends Metric<{ v: number }> implements Gauge {
  private collector: (() => number | readonly GaugeSample[]) | undefined;
  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[]) {
    super(registry, name, help, 'gauge', labelNames);
    this.ensureUnlabelled();
  }
  protected initial(): { v: number } {
    return { v: 0 };
  }
  set(labelsOrValue: Labels | number | undefined, value?: number): void {
    const [labels, v] = split(labelsOrValue, value);
    if (typeof v !== 'number') throw new TypeError(`gauge ${this.name}: value must be a number`);
    const s = this.seriesOf(labels);
    if (s) s.v = v;
  }
  inc(labelsOrBy?: Labels | number, by = 1): void {
    const [labels, amount] = split(labelsOrBy, by);
    if (typeof amount !== 'number') throw new TypeError(`gauge ${this.name}: by must be a number`);
    const s = this.seriesOf(labels);
    if (s) s.v += amount;
  }
  dec(labelsOrBy?: Labels | number, by = 1): void {
    const [labels, amount] = split(labelsOrBy, by);
    if (typeof amount !== 'number') throw new TypeError(`gauge ${this.name}: by must be a number`);
    const s = this.seriesOf(labels);
    if (s) s.v -= amount;
  }
  collect(fn: () => number | readonly GaugeSample[]): void {
    if (typeof fn !== 'function')
      throw new TypeError(`gauge ${this.name}: collect needs a function`);
    this.collector = fn;
  }
  /** Run the collector (render time). Returns false when it threw or returned a bad result. */
  refresh(): boolean {
    if (!this.collector) return true;
    let samples: readonly GaugeSample[];
    try {
      const result = this.collector();
      if (typeof result === 'number') {
        this.set(result);
        return true;
      }
      if (!Array.isArray(result)) return false;
      samples = result;
      // Check every sample before replacing anything, so a bad result keeps the old values.
      for (const sample of samples) {
        this.labelValues(sample.labels);
        if (typeof sample.value !== 'number') return false;
      }
    } catch {
      return false;
    }
    this.series.clear();
    this.ensureUnlabelled();
    for (const sample of samples) this.set(sample.labels, sample.value);
    return true;
  }
  samples(): string[] {
    return [...this.series.values()].map(
      ({ values, state }) => `${this.name}${labelText(this.labelNames, values)} ${num(state.v)}`
    );
  }
}

interface HistogramState {
  /** Non-cumulative count per finite bucket, plus one slot for values above the last bound. */
  counts: number[];
  sum: number;
  count: number;
}

class HistogramImpl extends Metric<HistogramState> implements Histogram {
  constructor(
    registry: Registry,
    name: string,
    help: string,
    private readonly buckets: readonly number[],
    labelNames: readonly string[]
  ) {
    super(registry, name, help, 'histogram', labelNames);
    this.ensureUnlabelled();
  }
  protected initial(): HistogramState {
    return { counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
  }
  observe(labelsOrValue: Labels | number | undefined, value?: number): void {
    const [labels, v] = split(labelsOrValue, value);
    if (typeof v !== 'number' || Number.isNaN(v)) {
      throw new TypeError(`histogram ${this.name}: observed value must be a number, not NaN`);
    }
    const s = this.seriesOf(labels);
    if (!s) return;
    // Prometheus buckets are upper-inclusive: v falls in the first bucket with v ≤ le.
    let i = this.buckets.findIndex((le) => v <= le);
    if (i < 0) i = this.buckets.length;
    s.counts[i]! += 1;
    s.sum += v;
    s.count += 1;
  }
  startTimer(labels?: Labels): () => number {
    this.labelValues(labels); // fail at the start, not when the timed work is done
    const start = process.hrtime.bigint();
    let seconds: number | undefined;
    return () => {
      if (seconds === undefined) {
        seconds = Number(process.hrtime.bigint() - start) / 1e9;
        this.observe(labels, seconds);
      }
      return seconds;
    };
  }
  samples(): string[] {
    const lines: string[] = [];
    const les = [...this.buckets.map(num), '+Inf'];
    for (const { values, state } of this.series.values()) {
      let cumulative = 0;
      les.forEach((le, i) => {
        cumulative += state.counts[i]!;
        const labels = labelText([...this.labelNames, 'le'], [...values, le]);
        lines.push(`${this.name}_bucket${labels} ${cumulative}`);
      });
      const labels = labelText(this.labelNames, values);
      lines.push(`${this.name}_sum${labels} ${num(state.sum)}`);
      lines.push(`${this.name}_count${labels} ${state.count}`);
    }
    return lines;
  }
}

/**
 * A set of metrics rendered together. Two built-in counters are always present:
 * `metrics_dropped_series_total{metric}` and `metrics_collect_errors_total{metric}`; they are exempt
 * from the series cap (one series per registered metric at most).
 * @example
 * const reg = new Registry();
 * const sessions = reg.counter('sessions_total', 'Sessions finished.', ['protocol', 'outcome']);
 * sessions.inc({ protocol: 'sign', outcome: 'ok' });
 * reg.render(); // '# HELP metrics_dropped_series_total ...'
 */
export class Registry {
  readonly maxSeriesPerMetric: number;
  private readonly metrics: Metric<unknown>[] = [];
  /** Every sample name taken (a histogram takes four), for the uniqueness rule. */
  private readonly sampleNames = new Set<string>();
  private readonly dropped: CounterImpl;
  private readonly collectErrors: CounterImpl;

  constructor(opts: RegistryOptions = {}) {
    const max = opts.maxSeriesPerMetric ?? MAX_SERIES_PER_METRIC;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError('maxSeriesPerMetric: expected a positive integer');
    }
    this.maxSeriesPerMetric = max;
    this.dropped = this.counter(
      'metrics_dropped_series_total',
      'New label sets dropped because a metric reached its series limit.',
      ['metric']
    ) as CounterImpl;
    this.dropped.uncapped = true;
    this.collectErrors = this.counter(
      'metrics_collect_errors_total',
      'Gauge collectors that threw at render time (the previous values were kept).',
      ['metric']
    ) as CounterImpl;
    this.collectErrors.uncapped = true;
  }

  /**
   * Register a counter.
   * @throws TypeError on an invalid or already-registered name, or invalid label names
   */
  counter<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = []
  ): Counter<L> {
    this.claim('counter', name, help, labelNames, ['']);
    return this.add(new CounterImpl(this, name, help, [...labelNames]));
  }

  /**
   * Register a gauge.
   * @throws TypeError on an invalid or already-registered name, or invalid label names
   */
  gauge<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = []
  ): Gauge<L> {
    this.claim('gauge', name, help, labelNames, ['']);
    return this.add(new GaugeImpl(this, name, help, [...labelNames]));
  }

  /**
   * Register a histogram with the given finite, strictly increasing upper bounds (`+Inf` is
   * implicit; a trailing `Infinity` is accepted and ignored).
   * @throws TypeError on bad names or labels (including the reserved `le`), RangeError on bad buckets
   */
  histogram<L extends string = never>(
    name: string,
    help: string,
    buckets: readonly number[],
    labelNames: readonly L[] = []
  ): Histogram<L> {
    const bounds = buckets.at(-1) === Infinity ? buckets.slice(0, -1) : [...buckets];
    if (bounds.length === 0) throw new RangeError(`histogram ${name}: buckets must not be empty`);
    bounds.forEach((b, i) => {
      if (!Number.isFinite(b) || (i > 0 && !(b > bounds[i - 1]!))) {
        throw new RangeError(`histogram ${name}: buckets must be finite and strictly increasing`);
      }
    });
    if ((labelNames as readonly string[]).includes('le')) {
      throw new TypeError(`histogram ${name}: label name "le" is reserved`);
    }
    this.claim('histogram', name, help, labelNames, ['_bucket', '_sum', '_count']);
    return this.add(new HistogramImpl(this, name, help, bounds, [...labelNames]));
  }

  /**
   * The text exposition format 0.0.4: per metric `# HELP`, `# TYPE`, then its samples, in
   * registration order; gauge collectors run first. Ends with a newline.
   */
  render(): string {
    for (const m of this.metrics) {
      if (m instanceof GaugeImpl && !m.refresh()) this.collectErrors.inc({ metric: m.name });
    }
    const lines: string[] = [];
    for (const m of this.metrics) {
      lines.push(`# HELP ${m.name} ${escapeHelp(m.help)}`, `# TYPE ${m.name} ${m.kind}`);
      lines.push(...m.samples());
    }
    return lines.join('\n') + '\n';
  }

  /** Count a dropped label set (called by metrics at their cap). */
  droppedSeries(metric: string): void {
    this.dropped.inc({ metric });
  }

  private add<M extends Metric<unknown>>(m: M): M {
    this.metrics.push(m);
    return m;
  }

  /** Validate a registration and reserve its sample names. */
  private claim(
    kind: Kind,
    name: string,
    help: string,
    labelNames: readonly string[],
    suffixes: readonly string[]
  ): void {
    if (typeof name !== 'string' || !METRIC_NAME.test(name)) {
      throw new TypeError(`${kind} name ${JSON.stringify(name)} is not a valid Prometheus name`);
    }
    if (typeof help !== 'string') throw new TypeError(`${kind} ${name}: help must be a string`);
    const seen = new Set<string>();
    for (const l of labelNames) {
      if (typeof l !== 'string' || !LABEL_NAME.test(l) || l.startsWith('__')) {
        throw new TypeError(`${kind} ${name}: label name ${JSON.stringify(l)} is not valid`);
      }
      if (seen.has(l)) throw new TypeError(`${kind} ${name}: label name "${l}" repeated`);
      seen.add(l);
    }
    const names = suffixes.map((s) => name + s);
    for (const n of names) {
      if (this.sampleNames.has(n)) throw new TypeError(`metric name "${n}" is already registered`);
    }
    for (const n of names) this.sampleNames.add(n);
  }
}

/** Handle of {@link processMetrics}. */
export interface ProcessMetrics {
  /** Stop the event-loop delay sampler (call on shutdown). */
  stop(): void;
}

/**
 * Register the process gauges, all computed at render time: `process_resident_memory_bytes`,
 * `process_heap_used_bytes`, `process_uptime_seconds` and `nodejs_eventloop_lag_seconds` (mean
 * event-loop delay since the previous scrape, sampled every 20 ms).
 * @param registry - where to register
 * @returns a handle whose `stop()` disables the event-loop sampler
 * @throws TypeError when the names are already registered
 * @example const pm = processMetrics(registry); // ... on shutdown: pm.stop();
 */
export function processMetrics(registry: Registry): ProcessMetrics {
  const rss = registry.gauge('process_resident_memory_bytes', 'Resident set size in bytes.');
  const heap = registry.gauge('process_heap_used_bytes', 'V8 heap in use, in bytes.');
  const uptime = registry.gauge('process_uptime_seconds', 'Seconds since the process started.');
  const lag = registry.gauge(
    'nodejs_eventloop_lag_seconds',
    'Mean event-loop delay since the previous scrape, in seconds.'
  );
  // The delay monitor runs on a libuv timer that does not keep the process alive on its own.
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  rss.collect(() => process.memoryUsage.rss());
  heap.collect(() => process.memoryUsage().heapUsed);
  uptime.collect(() => process.uptime());
  lag.collect(() => {
    const meanNs = delay.mean; // NaN before the first sample
    delay.reset();
    return Number.isFinite(meanNs) ? meanNs / 1e9 : 0;
  });
  return { stop: () => delay.disable() };
}

/** Split the `(value)` / `(labels, value)` overloads. */
function split(
  labelsOrValue: Labels | number | undefined,
  value: number | undefined
): [Labels | undefined, number | undefined] {
  return typeof labelsOrValue === 'number' ? [undefined, labelsOrValue] : [labelsOrValue, value];
}

/** `{a="x",b="y"}` or the empty string when there are no labels. */
function labelText(names: readonly string[], values: readonly string[]): string {
  if (names.length === 0) return '';
  return `{${names.map((n, i) => `${n}="${escapeLabel(values[i]!)}"`).join(',')}}`;
}

/** Label values escape backslash, double quote and line feed (format 0.0.4). */
function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text escapes backslash and line feed only. */
function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Sample values: Go-style `+Inf`, `-Inf`, `NaN`; otherwise JavaScript's shortest round-trip form. */
function num(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
