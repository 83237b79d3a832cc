import { beforeAll, describe, expect, it } from 'vitest';
import { DecodeError } from '../../../protocol/errors.js';
import type { RingPedersenParams } from '../../../protocol/paillier/ring-pedersen.js';
import type { ProofContext } from '../../../protocol/zk/common.js';
import {
  decodePrmProof,
  encodePrmProof,
  provePrm,
  verifyPrm,
  verifyPrmStatement,
  type PrmEntry,
  type PrmProof,
} from '../../../protocol/zk/prm.js';
import { BOTH_LEVELS, fixtureKey, fixtureRingPedersen } from '../../helpers/fixtures.js';
import { seededRng } from '../../helpers/rng.js';

const ctx: ProofContext = { sessionId: new Uint8Array(32).fill(5), prover: 1 };
const I = 3; // the entry the tamper tests modify

function patchEntry(proof: PrmProof, patch: Partial<PrmEntry>): PrmProof {
  return { entries: proof.entries.map((e, i) => (i === I ? { ...e, ...patch } : e)) };
}

describe.each(BOTH_LEVELS)('Πprm at %s', (_name, level) => {
  const key = fixtureKey(level, 0);
  const secret = fixtureRingPedersen(level, 0);
  const R: RingPedersenParams = { N: secret.N, s: secret.s, t: secret.t };
  const { N } = R;
  let proof: PrmProof;
  let proveMs = 0;

  beforeAll(() => {
    const started = performance.now();
    proof = provePrm(level, ctx, R, { ...secret, key }, seededRng(`prm/${level.name}`));
    proveMs = performance.now() - started;
  });

  it('an honest proof verifies and survives encode → decode', () => {
    const started = performance.now();
    expect(verifyPrm(level, ctx, R, proof)).toEqual({ ok: true });
    const verifyMs = performance.now() - started;
    console.log(
      `Πprm ${level.name}: prove ${proveMs.toFixed(0)} ms (CRT), verify ${verifyMs.toFixed(0)} ms`
    );
    const again = decodePrmProof(encodePrmProof(proof), level);
    expect(again).toEqual(proof);
    expect(verifyPrm(level, ctx, R, again)).toEqual({ ok: true });
  });

  it('has exactly m entries with z_i < φ(N̂)', () => {
    expect(proof.entries).toHaveLength(level.m);
    expect(proof.entries.every(({ z }) => z >= 0n && z < secret.phi)).toBe(true);
  });

  it('a proof without the Paillier key (no CRT) verifies too', () => {
    const plain = provePrm(
      level,
      ctx,
      R,
      { lambda: secret.lambda, phi: secret.phi },
      seededRng('plain')
    );
    expect(verifyPrm(level, ctx, R, plain)).toEqual({ ok: true });
  });

  it.each<[string, () => RingPedersenParams, string]>([
    ['N̂ too small', () => ({ ...R, N: N >> 2n }), 'N-size'],
    ['N̂ too large', () => ({ ...R, N: N << 2n }), 'N-size'],
    ['s = 0', () => ({ ...R, s: 0n }), 's-not-unit'],
    ['s = N̂', () => ({ ...R, s: N }), 's-not-unit'],
    ['s = p (not a unit)', () => ({ ...R, s: key.p }), 's-not-unit'],
    ['t = q (not a unit)', () => ({ ...R, t: key.q }), 't-not-unit'],
    ['s = 1', () => ({ ...R, s: 1n }), 's-trivial'],
    ['s = N̂ − 1', () => ({ ...R, s: N - 1n }), 's-trivial'],
    ['t = 1', () => ({ ...R, t: 1n }), 't-trivial'],
    ['t = N̂ − 1', () => ({ ...R, t: N - 1n }), 't-trivial'],
    ['s = t', () => ({ ...R, s: R.t }), 's-equals-t'],
  ])('rejects the statement: %s', (_f, bad, check) => {
    const r = verifyPrm(level, ctx, bad(), proof);
    expect(r).toEqual({ ok: false, failure: { proof: 'prm', kind: 'statement', check } });
  });

  it('the statement checks accept honest parameters', () => {
    expect(verifyPrmStatement(level, R)).toEqual({ ok: true });
  });

  it.each<[string, () => RingPedersenParams]>([
    ['s and t swapped', () => ({ N, s: R.t, t: R.s })],
    ['another s', () => ({ ...R, s: (R.s * R.t) % N })],
    ['another party’s parameters', () => fixtureRingPedersen(level, 1)],
  ])('fails for a different statement (%s)', (_f, other) => {
    expect(verifyPrm(level, ctx, other(), proof).ok).toBe(false);
  });

  it.each<[string, (pr: PrmProof) => PrmProof, string, string]>([
    ['A = 0', (pr) => patchEntry(pr, { A: 0n }), 'membership', `A[${I}]`],
    ['A = N̂', (pr) => patchEntry(pr, { A: N }), 'membership', `A[${I}]`],
    ['A = p (not a unit)', (pr) => patchEntry(pr, { A: key.p }), 'membership', `A[${I}]`],
    ['z = N̂ (one past the bound)', (pr) => patchEntry(pr, { z: N }), 'bound', `z[${I}]`],
    ['z = −1', (pr) => patchEntry(pr, { z: -1n }), 'bound', `z[${I}]`],
    ['z = N̂ − 1 (at the bound)', (pr) => patchEntry(pr, { z: N - 1n }), 'equation', `eq1[${I}]`],
    ['z + 1', (pr) => patchEntry(pr, { z: pr.entries[I]!.z + 1n }), 'equation', `eq1[${I}]`],
    ['one entry fewer', (pr) => ({ entries: pr.entries.slice(1) }), 'length', 'entries'],
    ['one entry more', (pr) => ({ entries: [...pr.entries, pr.entries[0]!] }), 'length', 'entries'],
    ['no entries', () => ({ entries: [] }), 'length', 'entries'],
  ])('a tampered proof (%s) is rejected', (_f, tamper, kind, check) => {
    const r = verifyPrm(level, ctx, R, tamper(proof));
    expect(r).toEqual({ ok: false, failure: { proof: 'prm', kind, check } });
  });

  it.each<[string, (pr: PrmProof) => PrmProof]>([
    ['A changed (new challenges)', (pr) => patchEntry(pr, { A: (pr.entries[I]!.A * R.t) % N })],
    [
      'two entries swapped',
      (pr) => {
        const entries = [...pr.entries];
        [entries[0], entries[1]] = [entries[1]!, entries[0]!];
        return { entries };
      },
    ],
  ])('a tampered proof (%s) fails an equation', (_f, tamper) => {
    expect(verifyPrm(level, ctx, R, tamper(proof))).toMatchObject({
      ok: false,
      failure: { proof: 'prm', kind: 'equation' },
    });
  });

  it.each<[string, ProofContext]>([
    ['session id', { ...ctx, sessionId: new Uint8Array(32).fill(6) }],
    ['prover index', { ...ctx, prover: 2 }],
    ['verifier index', { ...ctx, verifier: 0 }],
    ['variant', { ...ctx, variant: 'other' }],
  ])('is bound to the %s', (_f, other) => {
    expect(verifyPrm(level, other, R, proof)).toMatchObject({
      ok: false,
      failure: { proof: 'prm', kind: 'equation' },
    });
  });

  it.each<[string, () => { lambda: bigint; phi: bigint }]>([
    ['λ + 1', () => ({ lambda: secret.lambda + 1n, phi: secret.phi })],
    ['φ replaced by N̂ (no reduction mod φ)', () => ({ lambda: secret.lambda, phi: N })],
  ])('a wrong witness (%s) gives a proof the verifier rejects', (_f, witness) => {
    const bad = provePrm(level, ctx, R, { ...witness(), key }, seededRng('bad-witness'));
    expect(verifyPrm(level, ctx, R, bad)).toMatchObject({
      ok: false,
      failure: { kind: 'equation' },
    });
  });

  describe('decoding', () => {
    const bits = BigInt(level.modulusBits);

    it('rejects truncated input, trailing bytes and a wrong tag', () => {
      const bytes = encodePrmProof(proof);
      expect(() => decodePrmProof(bytes.subarray(0, bytes.length - 1), level)).toThrow(DecodeError);
      expect(() => decodePrmProof(new Uint8Array([...bytes, 0]), level)).toThrow(DecodeError);
      const badTag = bytes.slice();
      badTag[4 + 'mpcd/cggmp21/v1/zk/'.length]! ^= 1; // one letter of "prm"
      expect(() => decodePrmProof(badTag, level)).toThrow(/tag/);
    });

    it.each<[string, (pr: PrmProof) => PrmProof, RegExp]>([
      ['m − 1 entries', (pr) => ({ entries: pr.entries.slice(1) }), /exactly/],
      ['m + 1 entries', (pr) => ({ entries: [...pr.entries, pr.entries[0]!] }), /exactly/],
      ['an oversized A', (pr) => patchEntry(pr, { A: 1n << bits }), /exceeds/],
      ['an oversized z', (pr) => patchEntry(pr, { z: 1n << (bits + 64n) }), /exceeds/],
    ])('rejects %s', (_f, tamper, message) => {
      const bytes = encodePrmProof(tamper(proof));
      expect(() => decodePrmProof(bytes, level)).toThrow(DecodeError);
      expect(() => decodePrmProof(bytes, level)).toThrow(message);
    });

    it('accepts a z of 8κ bits that is ≥ N̂ (the verifier rejects it as a bound)', () => {
      const big = patchEntry(proof, { z: (1n << bits) - 1n });
      const decoded = decodePrmProof(encodePrmProof(big), level);
      expect(verifyPrm(level, ctx, R, decoded)).toEqual({
        ok: false,
        failure: { proof: 'prm', kind: 'bound', check: `z[${I}]` },
      });
    });

    it('rejects a proof of the other level (m differs)', () => {
      const other = BOTH_LEVELS.find(([, l]) => l !== level)![1];
      expect(() => decodePrmProof(encodePrmProof(proof), other)).toThrow(DecodeError);
    });
  });
});
