import { describe, expect, it } from 'vitest';
import { encode } from '../../../protocol/hash/encoding.js';
import { ed25519PublicKey, signEnvelope } from '../../../protocol/round/envelope.js';
import { RoundEngine, type EngineConfig } from '../../../protocol/round/engine.js';
import { simulate } from '../../../protocol/round/simulation.js';
import { deserializeState, serializeState } from '../../../protocol/round/state-codec.js';
import type { PartyIndex } from '../../../protocol/round/types.js';
import { toy, toyStart, type ToyState } from './toy.js';

const n = 3;
const parties = [0, 1, 2];
const secretKeys = new Map<PartyIndex, Uint8Array>(
  parties.map((p) => [p, new Uint8Array(32).fill(p + 1)])
);
const rosterKeys = parties.map((p) => ed25519PublicKey(secretKeys.get(p)!));
const sid = new Uint8Array(32).fill(9);
const cfg = (self: PartyIndex, sessionId = sid): EngineConfig => ({
  sessionId,
  self,
  parties,
  rosterKeys,
  secretKey: secretKeys.get(self)!,
});
const engines = (values = [1n, 2n, 3n]) =>
  new Map(
    parties.map((p) => [p, new RoundEngine<ToyState, bigint>(toy, cfg(p), toyStart(values[p]!))])
  );

describe('round engine over the simulator', () => {
  it('runs an honest session: every party gets n × the total', () => {
    const r = simulate(engines());
    expect(r.aborts.size).toBe(0);
    expect(r.stuck).toEqual([]);
    for (const p of parties) expect(r.results.get(p)).toBe(18n); // 3 parties × sum 6
  });

  it('does not care about arrival order', () => {
    const r = simulate(engines(), { reverse: true });
    for (const p of parties) expect(r.results.get(p)).toBe(18n);
  });

  it('names a party that sends different round-1 broadcasts to different peers (echo dispute)', () => {
    const r = simulate(engines(), {
      secretKeys,
      tamper: [
        {
          from: 1,
          apply: (m) => (m.round === 1 && m.to === 2 ? encode((e) => e.int(5n)) : undefined),
        },
      ],
    });
    expect(r.results.size).toBe(0);
    for (const p of [0, 2]) {
      const a = r.aborts.get(p)!;
      expect(a.reason).toBe('echo-mismatch');
      expect(a.culprits.map((c) => [c.party, c.reason])).toEqual([[1, 'equivocation']]);
      expect(a.culprits[0]!.evidence).toHaveLength(2);
    }
  });

  it('names a party that lies in its echo (false echo)', () => {
    const r = simulate(engines(), {
      secretKeys,
      tamper: [
        {
          from: 2,
          apply: (m) =>
            m.round === 2 && m.echo
              ? { echo: m.echo.map(() => new Uint8Array(32)), body: m.body }
              : undefined,
        },
      ],
    });
    for (const p of [0, 1]) {
      expect(r.aborts.get(p)!.culprits.map((c) => [c.party, c.reason])).toEqual([
        [2, 'false-echo'],
      ]);
    }
  });

  it('names the sender of a malformed body (decode) with its envelope', () => {
    const r = simulate(engines(), {
      secretKeys,
      tamper: [{ from: 0, apply: (m) => (m.round === 2 ? new Uint8Array([7, 7, 7]) : undefined) }],
    });
    expect(r.aborts.get(1)!.culprits[0]).toMatchObject({ party: 0 });
  });

  it('drops exact duplicates, refuses other sessions, unknown senders and forged signatures', () => {
    const es = engines();
    const e0 = es.get(0)!;
    const out1 = es.get(1)!.drain()[0]!;
    expect(e0.receive(out1.bytes)).toEqual({ accepted: true });
    expect(e0.receive(out1.bytes)).toEqual({ accepted: true, duplicate: true });
    const other = signEnvelope(
      { sessionId: new Uint8Array(32).fill(8), round: 1, from: 2, payload: new Uint8Array(1) },
      secretKeys.get(2)!
    );
    expect(e0.receive(other)).toEqual({ accepted: false, rejection: 'wrong-session' });
    const stranger = signEnvelope(
      { sessionId: sid, round: 1, from: 7, payload: new Uint8Array(1) },
      secretKeys.get(2)!
    );
    expect(e0.receive(stranger)).toEqual({ accepted: false, rejection: 'unknown-sender' });
    const forged = signEnvelope(
      { sessionId: sid, round: 1, from: 2, payload: new Uint8Array(1) },
      secretKeys.get(1)!
    );
    expect(e0.receive(forged)).toEqual({ accepted: false, rejection: 'bad-signature' });
    const tampered = out1.bytes.slice();
    tampered[tampered.length - 70]! ^= 1;
    expect(e0.receive(tampered).accepted).toBe(false);
    expect(e0.aborted).toBeUndefined();
  });

  it('aborts on two different signed envelopes for one round and channel', () => {
    const es = engines();
    const e0 = es.get(0)!;
    const a = signEnvelope(
      { sessionId: sid, round: 1, from: 1, payload: new Uint8Array([1]) },
      secretKeys.get(1)!
    );
    const b = signEnvelope(
      { sessionId: sid, round: 1, from: 1, payload: new Uint8Array([2]) },
      secretKeys.get(1)!
    );
    e0.receive(a);
    e0.receive(b);
    expect(e0.aborted?.culprits).toEqual([{ party: 1, reason: 'equivocation', evidence: [a, b] }]);
  });

  it('buffers messages that arrive early, and survives snapshot → serialize → restore mid-run', () => {
    const es = engines();
    // Deliver round 1 to everyone but party 0, let the others send round 2 early to party 0.
    const r1 = new Map(parties.map((p) => [p, es.get(p)!.drain()]));
    for (const [from, outs] of r1)
      for (const o of outs)
        for (const to of parties) if (to !== from && to !== 0) es.get(to)!.receive(o.bytes);
    for (const p of [1, 2])
      for (const o of es.get(p)!.drain())
        if (o.to === 0) expect(es.get(0)!.receive(o.bytes).accepted).toBe(true);
    const snap = deserializeState<ReturnType<RoundEngine<ToyState, bigint>['snapshot']>>(
      serializeState(es.get(0)!.snapshot())
    );
    const restored = RoundEngine.restore(toy, cfg(0), snap);
    expect(restored.round).toBe(1);
    for (const p of [1, 2]) for (const o of r1.get(p)!) restored.receive(o.bytes);
    expect(restored.result).toBe(18n);
  });

  it('refuses a snapshot that is not plain data', () => {
    expect(() => serializeState({ x: new Map() })).toThrow(/plain data/);
  });
});
void n;
