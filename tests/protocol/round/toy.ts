/**
 * A toy two-round protocol for engine tests: round 1 broadcasts a number (B-echo), round 2 sends
 * each peer (point-to-point) the sum of what it received; the result is the sum of the sums.
 */
import { decodeAll, encode } from '../../../protocol/hash/encoding.js';
import { abortStep, decodeEach } from '../../../protocol/round/blame.js';
import type { Protocol, Step } from '../../../protocol/round/types.js';

export interface ToyState {
  round: number;
  value: bigint;
  sum?: bigint;
}

export const toy: Protocol<ToyState, bigint> = {
  name: 'toy',
  round: (s) => s.round,
  spec: (s) =>
    s.round === 1
      ? { broadcast: true, p2p: false, echo: true }
      : { broadcast: false, p2p: true, echo: false },
  finalize(info, s, inbox): Step<ToyState, bigint> {
    const read = (b: Uint8Array): bigint => decodeAll(b, (d) => d.int('v'));
    const chan = s.round === 1 ? inbox.broadcast : inbox.p2p;
    const { values, culprits } = decodeEach(chan, read);
    if (culprits.length > 0) return abortStep('toy', s.round, 'decode', culprits);
    if (s.round === 1) {
      let sum = s.value;
      for (const v of values.values()) sum += v;
      const outgoing = info.parties
        .filter((p) => p !== info.self)
        .map((to) => ({ to, payload: encode((e) => e.int(sum)) }));
      return { kind: 'next', state: { round: 2, value: s.value, sum }, outgoing };
    }
    let total = s.sum!;
    for (const m of inbox.p2p.values()) {
      const v = values.get(m.from)!;
      if (v !== s.sum) {
        return {
          kind: 'abort',
          abort: {
            protocol: 'toy',
            round: 2,
            reason: 'sum',
            culprits: [{ party: m.from, reason: 'sum', evidence: [m.envelope] }],
          },
        };
      }
      total += v;
    }
    return { kind: 'done', result: total, outgoing: [] };
  },
};

export function toyStart(value: bigint): Step<ToyState, bigint> {
  return {
    kind: 'next',
    state: { round: 1, value },
    outgoing: [{ payload: encode((e) => e.int(value)) }],
  };
}
