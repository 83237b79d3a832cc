/**
 * The Prometheus registry: exact rendered text (whole strings) for each metric type with labels,
 * escaping, name and label validation, label-set checking, cumulative histogram buckets, the
 * cardinality cap and its drop counter, gauge collectors (including a throwing one), timers, and
 * the process metrics.
 */
import { describe, expect, it } from 'vitest';
import { MAX_SERIES_PER_METRIC, Registry, processMetrics } from '../../daemon/metrics.js';

/** The HELP/TYPE lines the two built-in counters always contribute, first in every render. */
const BUILTINS =
  '# HELP metrics_dropped_series_total New label sets dropped because a metric reached its series limit.\n' +
  '# TYPE metrics_dropped_series_total counter\n' +
  '# HELP metrics_collect_errors_total Gauge collectors that threw at render time (the previous values were kept).\n' +
  '# TYPE metrics_collect_errors_total counter\n';

describe('render', () => {
  it('renders a labelled counter exactly', () => {
    const reg = new Registry();
    const c = reg.counter('sessions_total', 'Sessions finished.', ['protocol', 'outcome']);
    c.inc({ protocol: 'sign', outcome: 'ok' });
    c.inc({ protocol: 'sign', outcome: 'ok' }, 2);
    c.inc({ outcome: 'abort', protocol: 'keygen' }, 0.5);
    expect(reg.render()).toBe(
      BUILTINS +
        '# HELP sessions_total Sessions finished.\n' +
        '# TYPE sessions_total counter\n' +
        'sessions_total{protocol="sign",outcome="ok"} 3\n' +
        'sessions_total{protocol="keygen",outcome="abort"} 0.5\n'
    );
  });

  it('renders unlabelled metrics at zero before any update', () => {
    const reg = new Registry();
    reg.counter('a_total', 'A.');
    reg.gauge('b', 'B.');
    reg.histogram('c_seconds', 'C.', [1]);
    expect(reg.render()).toBe(
      BUILTINS +
        '# HELP a_total A.\n# TYPE a_total counter\na_total 0\n' +
        '# HELP b B.\n# TYPE b gauge\nb 0\n' +
        '# HELP c_seconds C.\n# TYPE c_seconds histogram\n' +
        'c_seconds_bucket{le="1"} 0\nc_seconds_bucket{le="+Inf"} 0\n' +
        'c_seconds_sum 0\nc_seconds_count 0\n'
    );
  });

  it('renders a gauge with set, inc and dec, including special values', () => {
    const reg = new Registry();
    const g = reg.gauge('peers', 'Peers by state.', ['state']);
    g.set({ state: 'connected' }, 5);
    g.inc({ state: 'connected' });
    g.dec({ state: 'connected' }, 3);
    g.inc({ state: 'dialing' }, 2.5);
    g.set({ state: 'up' }, Infinity);
    g.set({ state: 'down' }, -Infinity);
    g.set({ state: 'unknown' }, NaN);
    const plain = reg.gauge('temperature', 'Plain.');
    plain.set(-4);
    plain.inc(1);
    expect(reg.render()).toBe(
      BUILTINS +
        '# HELP peers Peers by state.\n' +
        '# TYPE peers gauge\n' +
        'peers{state="connected"} 3\n' +
        'peers{state="dialing"} 2.5\n' +
        'peers{state="up"} +Inf\n' +
        'peers{state="down"} -Inf\n' +
        'peers{state="unknown"} NaN\n' +
        '# HELP temperature Plain.\n' +
        '# TYPE temperature gauge\n' +
        'temperature -3\n'
    );
  });

  it('renders a labelled histogram with cumulative buckets, +Inf, sum and count', () => {
    const reg = new Registry();
    const h = reg.histogram('round_seconds', 'Round time.', [0.1, 0.5, 2], ['protocol']);
    // 0.1 is upper-inclusive: it falls in le="0.1".
    for (const v of [0.05, 0.1, 0.3, 0.3, 1, 7]) h.observe({ protocol: 'presign' }, v);
    h.observe({ protocol: 'sign' }, 0.5);
    expect(reg.render()).toBe(
      BUILTINS +
        '# HELP round_seconds Round time.\n' +
        '# TYPE round_seconds histogram\n' +
        'round_seconds_bucket{protocol="presign",le="0.1"} 2\n' +
        'round_seconds_bucket{protocol="presign",le="0.5"} 4\n' +
        'round_seconds_bucket{protocol="presign",le="2"} 5\n' +
        'round_seconds_bucket{protocol="presign",le="+Inf"} 6\n' +
        'round_seconds_sum{protocol="presign"} 8.75\n' +
        'round_seconds_count{protocol="presign"} 6\n' +
        'round_seconds_bucket{protocol="sign",le="0.1"} 0\n' +
        'round_seconds_bucket{protocol="sign",le="0.5"} 1\n' +
        'round_seconds_bucket{protocol="sign",le="2"} 1\n' +
        'round_seconds_bucket{protocol="sign",le="+Inf"} 1\n' +
        'round_seconds_sum{protocol="sign"} 0.5\n' +
        'round_seconds_count{protocol="sign"} 1\n'
    );
  });

  it('accepts a trailing Infinity bucket without doubling +Inf', () => {
    const reg = new Registry();
    reg.histogram('h', 'H.', [1, Infinity]).observe(3);
    const text = reg.render();
    expect(text.match(/le="\+Inf"/g)).toHaveLength(1);
    expect(text).toContain('h_bucket{le="1"} 0\nh_bucket{le="+Inf"} 1\n');
  });

  it('escapes label values (\\, ", newline) and help text (\\, newline)', () => {
    const reg = new Registry();
    const c = reg.counter('errors_total', 'Errors; path C:\\x\nsecond "line"', ['reason']);
    c.inc({ reason: 'a\\b "quoted"\nnext' });
    expect(reg.render()).toBe(
      BUILTINS +
        '# HELP errors_total Errors; path C:\\\\x\\nsecond "line"\n' +
        '# TYPE errors_total counter\n' +
        'errors_total{reason="a\\\\b \\"quoted\\"\\nnext"} 1\n'
    );
  });

  it('accepts number label values as their decimal string', () => {
    const reg = new Registry();
    reg.counter('r_total', 'R.', ['round']).inc({ round: 3 });
    expect(reg.render()).toContain('r_total{round="3"} 1\n');
  });
});

describe('registration', () => {
  it('rejects invalid metric names, naming them', () => {
    const reg = new Registry();
    for (const bad of ['', '1abc', 'a-b', 'a b', 'é']) {
      expect(() => reg.counter(bad, 'x'), bad).toThrow(`${JSON.stringify(bad)} is not a valid`);
    }
    expect(() => reg.gauge('ns:sub_metric', 'colons are valid')).not.toThrow();
  });

  it('rejects invalid, reserved and repeated label names, naming them', () => {
    const reg = new Registry();
    expect(() => reg.counter('a_total', 'x', ['ok', 'not-ok'])).toThrow('"not-ok" is not valid');
    expect(() => reg.counter('b_total', 'x', ['__reserved'])).toThrow('"__reserved"');
    expect(() => reg.counter('c_total', 'x', ['9lives'])).toThrow('"9lives"');
    expect(() => reg.counter('d_total', 'x', ['a', 'a'])).toThrow('"a" repeated');
    expect(() => reg.histogram('e', 'x', [1], ['le'])).toThrow('"le" is reserved');
  });

  it('rejects duplicate names, including histogram sample names and the built-ins', () => {
    const reg = new Registry();
    reg.counter('x_total', 'x');
    expect(() => reg.gauge('x_total', 'again')).toThrow('"x_total" is already registered');
    reg.histogram('lat', 'x', [1]);
    expect(() => reg.counter('lat_count', 'x')).toThrow('"lat_count" is already registered');
    reg.gauge('q_sum', 'x');
    expect(() => reg.histogram('q', 'x', [1])).toThrow('"q_sum" is already registered');
    expect(() => reg.counter('metrics_dropped_series_total', 'x')).toThrow('already registered');
    // A failed registration reserves nothing.
    expect(() => reg.histogram('q', 'x', [1])).toThrow();
    expect(() => reg.gauge('q_bucket', 'x')).not.toThrow();
  });

  it('rejects empty, unordered and non-finite buckets', () => {
    const reg = new Registry();
    expect(() => reg.histogram('h1', 'x', [])).toThrow(/h1: buckets must not be empty/);
    expect(() => reg.histogram('h2', 'x', [1, 1])).toThrow(/h2: buckets must be .*increasing/);
    expect(() => reg.histogram('h3', 'x', [2, 1])).toThrow(/increasing/);
    expect(() => reg.histogram('h4', 'x', [NaN])).toThrow(/finite/);
    expect(() => reg.histogram('h5', 'x', [-Infinity, 1])).toThrow(/finite/);
  });
});

describe('updates', () => {
  it('requires exactly the declared label names', () => {
    const reg = new Registry();
    const c = reg.counter('l_total', 'x', ['a', 'b']);
    expect(() => c.inc({ a: '1' } as never)).toThrow('l_total: expected labels [a, b], got [a]');
    expect(() => c.inc({ a: '1', b: '2', c: '3' } as never)).toThrow('got [a, b, c]');
    expect(() => c.inc()).toThrow('expected labels [a, b], got []');
    expect(() => c.inc({ a: '1', b: true } as never)).toThrow('label b must be a string or number');
    const plain = reg.counter('p_total', 'x');
    expect(() => plain.inc({ a: 'x' } as never)).toThrow('expected labels [], got [a]');
    expect(reg.render()).not.toMatch(/^l_total/m);
  });

  it('rejects negative, NaN and infinite counter increments', () => {
    const c = new Registry().counter('n_total', 'x');
    expect(() => c.inc(-1)).toThrow('n_total: increment must be a finite number ≥ 0');
    expect(() => c.inc(undefined, NaN)).toThrow(/finite/);
    expect(() => c.inc(Infinity)).toThrow(/finite/);
    c.inc(undefined, 4);
    c.inc(0);
    c.inc();
  });

  it('rejects NaN observations and missing values', () => {
    const h = new Registry().histogram('o', 'x', [1]);
    expect(() => h.observe(NaN)).toThrow('o: observed value must be a number');
    expect(() => h.observe({}, undefined as unknown as number)).toThrow(/must be a number/);
  });
});

describe('cardinality cap', () => {
  it(`keeps at most ${MAX_SERIES_PER_METRIC} label sets per metric by default`, () => {
    const reg = new Registry();
    const c = reg.counter('ids_total', 'x', ['id']);
    for (let i = 0; i < MAX_SERIES_PER_METRIC + 5; i++) c.inc({ id: i });
    const text = reg.render();
    expect(text.match(/^ids_total\{/gm)).toHaveLength(MAX_SERIES_PER_METRIC);
    expect(text).toContain(`ids_total{id="${MAX_SERIES_PER_METRIC - 1}"} 1\n`);
    expect(text).not.toContain(`ids_total{id="${MAX_SERIES_PER_METRIC}"}`);
    expect(text).toContain('metrics_dropped_series_total{metric="ids_total"} 5\n');
  });

  it('still updates existing series at the cap and counts drops per metric and type', () => {
    const reg = new Registry({ maxSeriesPerMetric: 2 });
    const c = reg.counter('c_total', 'x', ['k']);
    const g = reg.gauge('g', 'x', ['k']);
    const h = reg.histogram('h', 'x', [1], ['k']);
    for (const k of ['a', 'b', 'c', 'd']) {
      c.inc({ k });
      g.set({ k }, 1);
      h.observe({ k }, 0.5);
    }
    c.inc({ k: 'a' }, 10);
    const text = reg.render();
    expect(text).toContain('c_total{k="a"} 11\nc_total{k="b"} 1\n# HELP g');
    expect(text).not.toContain('k="c"');
    expect(text).toContain(
      'metrics_dropped_series_total{metric="c_total"} 2\n' +
        'metrics_dropped_series_total{metric="g"} 2\n' +
        'metrics_dropped_series_total{metric="h"} 2\n'
    );
  });

  it('rejects a bad cap', () => {
    expect(() => new Registry({ maxSeriesPerMetric: 0 })).toThrow('maxSeriesPerMetric');
  });
});

describe('gauge collectors', () => {
  it('evaluates an unlabelled collector at each render', () => {
    const reg = new Registry();
    let peers = 2;
    reg.gauge('peers_connected', 'Peers.').collect(() => peers);
    expect(reg.render()).toContain('\npeers_connected 2\n');
    peers = 7;
    expect(reg.render()).toContain('\npeers_connected 7\n');
  });

  it('replaces all series with the labelled samples a collector returns', () => {
    const reg = new Registry();
    const g = reg.gauge('sessions_active', 'Active.', ['protocol']);
    g.set({ protocol: 'stale' }, 9);
    let samples = [
      { labels: { protocol: 'sign' }, value: 3 },
      { labels: { protocol: 'keygen' }, value: 1 },
    ];
    g.collect(() => samples);
    expect(reg.render()).toMatch(
      /sessions_active gauge\nsessions_active\{protocol="sign"\} 3\nsessions_active\{protocol="keygen"\} 1\n$/
    );
    samples = [];
    expect(reg.render()).toMatch(/# TYPE sessions_active gauge\n$/);
  });

  it('keeps the previous values and counts an error when a collector throws or misbehaves', () => {
    const reg = new Registry();
    let mode: 'ok' | 'throw' | 'bad-labels' | 'bad-result' = 'ok';
    reg.gauge('flaky', 'x', ['k']).collect(() => {
      if (mode === 'throw') throw new Error('libp2p stopped');
      if (mode === 'bad-labels') return [{ labels: { other: 'x' } as never, value: 1 }];
      if (mode === 'bad-result') return undefined as never;
      return [{ labels: { k: 'a' }, value: 4 }];
    });
    expect(reg.render()).toContain('flaky{k="a"} 4\n');
    for (const m of ['throw', 'bad-labels', 'bad-result'] as const) {
      mode = m;
      const text = reg.render();
      expect(text, m).toContain('flaky{k="a"} 4\n');
      expect(text, m).not.toContain('other');
    }
    expect(reg.render()).toContain('metrics_collect_errors_total{metric="flaky"} 4\n');
  });
});

describe('startTimer', () => {
  it('observes the elapsed seconds once and returns them', async () => {
    const reg = new Registry();
    const h = reg.histogram('op_seconds', 'x', [0.001, 10], ['op']);
    const stop = h.startTimer({ op: 'wait' });
    await new Promise((r) => setTimeout(r, 20));
    const s = stop();
    expect(s).toBeGreaterThanOrEqual(0.015);
    expect(s).toBeLessThan(10);
    expect(stop()).toBe(s);
    const text = reg.render();
    expect(text).toContain('op_seconds_bucket{op="wait",le="0.001"} 0\n');
    expect(text).toContain('op_seconds_bucket{op="wait",le="10"} 1\n');
    expect(text).toContain(`op_seconds_sum{op="wait"} ${s}\n`);
    expect(text).toContain('op_seconds_count{op="wait"} 1\n');
  });

  it('checks labels when the timer starts', () => {
    const h = new Registry().histogram('t', 'x', [1], ['op']);
    expect(() => h.startTimer()).toThrow('t: expected labels [op], got []');
  });
});

describe('processMetrics', () => {
  it('registers the process gauges, computed at render time', async () => {
    const reg = new Registry();
    const pm = processMetrics(reg);
    try {
      const value = (text: string, name: string): number => {
        const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
        expect(m, name).not.toBeNull();
        return Number(m![1]);
      };
      const text = reg.render();
      expect(text).toContain('# TYPE process_resident_memory_bytes gauge\n');
      expect(value(text, 'process_resident_memory_bytes')).toBeGreaterThan(1 << 20);
      expect(value(text, 'process_heap_used_bytes')).toBeGreaterThan(1 << 20);
      expect(value(text, 'process_uptime_seconds')).toBeGreaterThan(0);
      // Block the loop, then let the 20 ms sampler tick; a scrape with no sample yet reads 0, so
      // retry a bounded number of times (each render resets the sampler).
      let lag = 0;
      for (let attempt = 0; attempt < 20 && lag === 0; attempt++) {
        const until = Date.now() + 40;
        while (Date.now() < until);
        await new Promise((r) => setTimeout(r, 50));
        lag = value(reg.render(), 'nodejs_eventloop_lag_seconds');
      }
      expect(lag).toBeGreaterThan(0);
      expect(lag).toBeLessThan(5);
      expect(() => processMetrics(reg)).toThrow('already registered');
    } finally {
      pm.stop();
    }
  });
});
