import { checkPrimeSync, generatePrimeSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DecodeError, InvalidArgs } from '../../../protocol/errors.js';
import { jacobi } from '../../../protocol/math/modular.js';
import type { ProofContext } from '../../../protocol/zk/common.js';
import {
  decodeModProof,
  encodeModProof,
  proveMod,
  verifyMod,
  verifyModStatement,
  type ModEntry,
  type ModProof,
} from '../../../protocol/zk/mod.js';
import { BOTH_LEVELS, fixtureKey, fixturePrimes } from '../../helpers/fixtures.js';
import { seededRng } from '../../helpers/rng.js';

/** The largest prime below 2^bits is 2^bits − k (asserted with checkPrimeSync where used). */
const PRIME_BELOW_POW2: Record<number, bigint> = { 2048: 1557n, 3072: 47n };

const ctx: ProofContext = { sessionId: new Uint8Array(32).fill(3), prover: 2 };
const I = 3; // the entry the tamper tests modify

/** The proof with entry I patched. */
function patchEntry(
  proof: ModProof,
  patch: Partial<Record<keyof ModEntry, bigint | number>>
): ModProof {
  const entries = proof.entries.map((e, i) => (i === I ? ({ ...e, ...patch } as ModEntry) : e));
  return { ...proof, entries };
}

describe.each(BOTH_LEVELS)('Πmod at %s', (_name, level) => {
  const key = fixtureKey(level, 0);
  const { N, p, q } = key;
  let proof: ModProof;
  let proveMs = 0;

  beforeAll(() => {
    const started = performance.now();
    proof = proveMod(level, ctx, { N }, key, seededRng(`mod/${level.name}`));
    proveMs = performance.now() - started;
  });

  it('an honest proof verifies and survives encode → decode', () => {
    const started = performance.now();
    expect(verifyMod(level, ctx, { N }, proof)).toEqual({ ok: true });
    const verifyMs = performance.now() - started;
    console.log(
      `Πmod ${level.name}: prove ${proveMs.toFixed(0)} ms, verify ${verifyMs.toFixed(0)} ms`
    );
    const again = decodeModProof(encodeModProof(proof), level);
    expect(again).toEqual(proof);
    expect(verifyMod(level, ctx, { N }, again)).toEqual({ ok: true });
  });

  it('has exactly m entries, w with Jacobi −1, and 4th roots that are QRs', () => {
    expect(proof.entries).toHaveLength(level.m);
    expect(jacobi(proof.w, N)).toBe(-1);
    for (const { x } of proof.entries.slice(0, 8)) {
      expect([jacobi(x, p), jacobi(x, q)]).toEqual([1, 1]);
    }
  });

  it('a proof from the bare factors {p, q} verifies too', () => {
    const bare = proveMod(level, ctx, { N }, { p, q }, seededRng(`mod/bare/${level.name}`));
    expect(verifyMod(level, ctx, { N }, bare)).toEqual({ ok: true });
  });

  it.each<[string, () => bigint, string]>([
    ['N even', () => N + 1n, 'N-even'],
    ['N too small', () => N >> 2n, 'N-size'],
    ['N too large', () => (N << 2n) | 1n, 'N-size'],
    ['N = 1', () => 1n, 'N-size'],
    [
      'N prime',
      () => (1n << BigInt(level.modulusBits)) - PRIME_BELOW_POW2[level.modulusBits]!,
      'N-prime',
    ],
    ['N a perfect power (p²)', () => p * p, 'N-power'],
  ])('rejects the statement: %s', (_f, badN, check) => {
    const bad = badN();
    if (check === 'N-prime') expect(checkPrimeSync(bad, { checks: 32 })).toBe(true);
    const r = verifyMod(level, ctx, { N: bad }, proof);
    expect(r).toEqual({ ok: false, failure: { proof: 'mod', kind: 'statement', check } });
  });

  it('the statement checks accept an honest modulus', () => {
    expect(verifyModStatement(level, { N })).toEqual({ ok: true });
  });

  it('fails for a different statement (another key’s N)', () => {
    expect(verifyMod(level, ctx, { N: fixtureKey(level, 1).N }, proof).ok).toBe(false);
  });

  it.each<[string, (pr: ModProof) => ModProof, string, string]>([
    ['w = 0', (pr) => ({ ...pr, w: 0n }), 'membership', 'w'],
    ['w = N', (pr) => ({ ...pr, w: N }), 'membership', 'w'],
    ['w = p (not a unit)', (pr) => ({ ...pr, w: p }), 'membership', 'w'],
    ['w² (Jacobi +1)', (pr) => ({ ...pr, w: (pr.w * pr.w) % N }), 'membership', 'jacobi-w'],
    [
      'w → N − w (Jacobi −1, other challenges)',
      (pr) => ({ ...pr, w: N - pr.w }),
      'equation',
      'eq1[0]',
    ],
    ['x = 0', (pr) => patchEntry(pr, { x: 0n }), 'membership', `x[${I}]`],
    ['x = N (one past the range)', (pr) => patchEntry(pr, { x: N }), 'membership', `x[${I}]`],
    ['x = q (not a unit)', (pr) => patchEntry(pr, { x: q }), 'membership', `x[${I}]`],
    [
      'x = N − 1 (at the range end)',
      (pr) => patchEntry(pr, { x: N - 1n }),
      'equation',
      `eq2[${I}]`,
    ],
    ['x + 1', (pr) => patchEntry(pr, { x: pr.entries[I]!.x + 1n }), 'equation', `eq2[${I}]`],
    ['z = 0', (pr) => patchEntry(pr, { z: 0n }), 'membership', `z[${I}]`],
    ['z = N (one past the range)', (pr) => patchEntry(pr, { z: N }), 'membership', `z[${I}]`],
    ['z = p (not a unit)', (pr) => patchEntry(pr, { z: p }), 'membership', `z[${I}]`],
    [
      'z = N − 1 (at the range end)',
      (pr) => patchEntry(pr, { z: N - 1n }),
      'equation',
      `eq1[${I}]`,
    ],
    ['z + 1', (pr) => patchEntry(pr, { z: pr.entries[I]!.z + 1n }), 'equation', `eq1[${I}]`],
    ['a flipped', (pr) => patchEntry(pr, { a: 1 - pr.entries[I]!.a }), 'equation', `eq2[${I}]`],
    ['b flipped', (pr) => patchEntry(pr, { b: 1 - pr.entries[I]!.b }), 'equation', `eq2[${I}]`],
    ['a = 2', (pr) => patchEntry(pr, { a: 2 }), 'range', `a[${I}]`],
    ['b = −1', (pr) => patchEntry(pr, { b: -1 }), 'range', `b[${I}]`],
    ['one entry fewer', (pr) => ({ ...pr, entries: pr.entries.slice(1) }), 'length', 'entries'],
    [
      'one entry more',
      (pr) => ({ ...pr, entries: [...pr.entries, pr.entries[0]!] }),
      'length',
      'entries',
    ],
    ['no entries', (pr) => ({ ...pr, entries: [] }), 'length', 'entries'],
    [
      'two entries swapped',
      (pr) => {
        const entries = [...pr.entries];
        [entries[I], entries[I + 1]] = [entries[I + 1]!, entries[I]!];
        return { ...pr, entries };
      },
      'equation',
      `eq1[${I}]`,
    ],
  ])('a tampered proof (%s) is rejected', (_f, tamper, kind, check) => {
    const r = verifyMod(level, ctx, { N }, tamper(proof));
    expect(r).toEqual({ ok: false, failure: { proof: 'mod', kind, check } });
  });

  it.each<[string, ProofContext]>([
    ['session id', { ...ctx, sessionId: new Uint8Array(32).fill(4) }],
    ['prover index', { ...ctx, prover: 1 }],
    ['verifier index', { ...ctx, verifier: 0 }],
    ['variant', { ...ctx, variant: 'other' }],
  ])('is bound to the %s', (_f, other) => {
    const r = verifyMod(level, other, { N }, proof);
    expect(r).toEqual({ ok: false, failure: { proof: 'mod', kind: 'equation', check: 'eq1[0]' } });
  });

  it('a witness that does not factor N gives a proof the verifier rejects', () => {
    const other = fixturePrimes(level, 1);
    const bad = proveMod(level, ctx, { N }, other, seededRng(`mod/wrong/${level.name}`));
    expect(verifyMod(level, ctx, { N }, bad).ok).toBe(false);
  });

  it('a non-Blum modulus (p ≡ 1 mod 4) passes the statement checks but not the proof', () => {
    const p1 = generatePrimeSync(level.primeBits, { bigint: true, add: 4n, rem: 1n });
    const badN = p1 * q;
    expect(verifyModStatement(level, { N: badN })).toEqual({ ok: true });
    const bad = proveMod(
      level,
      ctx,
      { N: badN },
      { p: p1, q },
      seededRng(`mod/nonblum/${level.name}`)
    );
    expect(verifyMod(level, ctx, { N: badN }, bad).ok).toBe(false);
  });

  it('refuses a witness with p = q (no N-th roots exist)', () => {
    expect(() => proveMod(level, ctx, { N: p * p }, { p, q: p })).toThrow(InvalidArgs);
  });

  describe('decoding', () => {
    const bits = BigInt(level.modulusBits);

    it('rejects truncated input, trailing bytes and a wrong tag', () => {
      const bytes = encodeModProof(proof);
      expect(() => decodeModProof(bytes.subarray(0, bytes.length - 1), level)).toThrow(DecodeError);
      expect(() => decodeModProof(new Uint8Array([...bytes, 0]), level)).toThrow(DecodeError);
      const badTag = bytes.slice();
      badTag[4 + 'mpcd/cggmp21/v1/zk/'.length]! ^= 1; // one letter of "mod"
      expect(() => decodeModProof(badTag, level)).toThrow(/tag/);
    });

    it.each<[string, (pr: ModProof) => ModProof, RegExp]>([
      ['m − 1 entries', (pr) => ({ ...pr, entries: pr.entries.slice(1) }), /exactly/],
      ['m + 1 entries', (pr) => ({ ...pr, entries: [...pr.entries, pr.entries[0]!] }), /exactly/],
      ['an oversized w', (pr) => ({ ...pr, w: 1n << bits }), /exceeds/],
      ['an oversized x', (pr) => patchEntry(pr, { x: (1n << bits) + 1n }), /exceeds/],
      ['an oversized z', (pr) => patchEntry(pr, { z: 1n << (bits + 8n) }), /exceeds/],
      ['a = 2', (pr) => patchEntry(pr, { a: 2 }), /0 or 1/],
      ['b = 255', (pr) => patchEntry(pr, { b: 255 }), /0 or 1/],
    ])('rejects %s', (_f, tamper, message) => {
      const bytes = encodeModProof(tamper(proof));
      expect(() => decodeModProof(bytes, level)).toThrow(DecodeError);
      expect(() => decodeModProof(bytes, level)).toThrow(message);
    });

    it('accepts an integer of 8κ bits that is ≥ N (the verifier rejects it as membership)', () => {
      const big = patchEntry(proof, { x: (1n << bits) - 1n });
      const decoded = decodeModProof(encodeModProof(big), level);
      expect(verifyMod(level, ctx, { N }, decoded)).toMatchObject({
        ok: false,
        failure: { kind: 'membership', check: `x[${I}]` },
      });
    });

    it('rejects a proof of the other level (m differs)', () => {
      const other = BOTH_LEVELS.find(([, l]) => l !== level)![1];
      expect(() => decodeModProof(encodeModProof(proof), other)).toThrow(DecodeError);
    });
  });
});
