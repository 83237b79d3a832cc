/**
 * A keygen waits for a party that is still generating primes: the others' wait for the start is
 * bounded by the invitation's expiry, not by `timeouts.joinMs`. Found by the compose smoke run
 * (issue 7), where nodes started with empty prime pools: two parties with pooled primes were
 * ready at once, the third needed seconds for fresh level128 primes, and with the old rule the
 * first two gave up `joinMs` after their own primes were ready.
 *
 * Here A and B take the fixture primes and have joinMs = 1 s; C has no pool and no fixtures, so it
 * generates a fresh level128 pair (several seconds: the test checks it took longer than joinMs, or
 * it would prove nothing). The keygen must complete on all three.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlDriver, coordinatorKey } from '../helpers/control-driver.js';
import { Cluster, FIXTURE_PRIMES, type DaemonProcess } from '../helpers/daemons.js';

const JOIN_MS = 1_000;
let cluster: Cluster;
let driver: ControlDriver;
let A: DaemonProcess, B: DaemonProcess, C: DaemonProcess;

beforeAll(async () => {
  const coordinator = await coordinatorKey();
  cluster = await Cluster.create(['A', 'B', 'C']);
  [A, B, C] = cluster.daemons as [DaemonProcess, DaemonProcess, DaemonProcess];
  const fast = ['--join-timeout-ms', String(JOIN_MS)];
  await A.start(cluster.flags(A, coordinator.peerId, [], fast));
  await B.start(cluster.flags(B, coordinator.peerId, [A], fast));
  // C: fresh primes on demand (pool size 0, no fixtures).
  const cFlags = cluster.flags(C, coordinator.peerId, [A]);
  const at = cFlags.indexOf('--insecure-test-primes');
  expect(cFlags[at + 1]).toBe(FIXTURE_PRIMES);
  cFlags.splice(at, 2);
  await C.start(cFlags);
  driver = await ControlDriver.start(coordinator, [A.peerId, B.peerId, C.peerId]);
  await Promise.all([A, B, C].map((d) => driver.connect(d.address)));
}, 90_000);

afterAll(async () => {
  await driver?.stop();
  await cluster?.cleanup();
}, 60_000);

describe('keygen with a party generating fresh primes', () => {
  it('the parties with primes at hand wait past joinMs, until the slow one is ready', async () => {
    const out = await driver.run(
      [A.peerId, B.peerId, C.peerId],
      { kind: 'keygen', threshold: 2, level: 'level128' },
      { expiresInMs: 120_000, reportTimeoutMs: 180_000 }
    );
    const primes = await C.waitLog((l) => l.msg === 'primes ready');
    expect(primes.source).toBe('generated');
    expect(primes.ms as number, 'C must have needed longer than joinMs').toBeGreaterThan(JOIN_MS);
    for (const d of [A, B, C]) {
      const r = out.reports.get(d.peerId);
      expect(r, `${d.name} reported`).toBeDefined();
      expect(r!.outcome, `${d.name}: ${r!.reason} ${r!.detail}`).toBe('completed');
    }
    const keys = new Set([A, B, C].map((d) => JSON.stringify(out.reports.get(d.peerId)!.output)));
    expect(keys.size).toBe(1);
  }, 200_000);
});
