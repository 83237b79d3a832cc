import { describe, expect, it } from 'vitest';
import { CURVE_ORDER, G, mulBase } from '../../../protocol/math/curve.js';
import { DecodeError } from '../../../protocol/errors.js';
import {
  decodeSchProof,
  encodeSchProof,
  proveSch,
  verifySch,
  type SchProof,
} from '../../../protocol/zk/sch.js';
import type { ProofContext } from '../../../protocol/zk/common.js';
import { seededRng } from '../../helpers/rng.js';

const rng = seededRng('sch');
const ctx: ProofContext = { sessionId: new Uint8Array(32).fill(7), prover: 1 };
const x = 0x1234567890abcdefn;
const X = mulBase(x);

describe('Πsch', () => {
  const proof = proveSch(ctx, { X }, { x }, rng);

  it('an honest proof verifies and survives encode → decode', () => {
    expect(verifySch(ctx, { X }, proof)).toEqual({ ok: true });
    const again = decodeSchProof(encodeSchProof(proof));
    expect(verifySch(ctx, { X }, again)).toEqual({ ok: true });
  });

  it.each<[string, Partial<SchProof>]>([
    ['A', { A: proof.A.add(G) }],
    ['z', { z: (proof.z + 1n) % CURVE_ORDER }],
  ])('a tampered %s fails the equation', (_f, patch) => {
    const r = verifySch(ctx, { X }, { ...proof, ...patch });
    expect(r).toMatchObject({
      ok: false,
      failure: { proof: 'sch', kind: 'equation', check: 'eq1' },
    });
  });

  it('rejects z ≥ q as a range failure, exactly at the bound', () => {
    const r = verifySch(ctx, { X }, { ...proof, z: proof.z + CURVE_ORDER });
    expect(r).toMatchObject({ ok: false, failure: { kind: 'range', check: 'z' } });
    // q − 1 and 0 pass the range check (and fail only the equation); q and −1 do not.
    for (const z of [CURVE_ORDER - 1n, 0n]) {
      expect(verifySch(ctx, { X }, { ...proof, z })).toMatchObject({
        failure: { kind: 'equation' },
      });
    }
    for (const z of [CURVE_ORDER, -1n]) {
      expect(verifySch(ctx, { X }, { ...proof, z })).toMatchObject({ failure: { kind: 'range' } });
    }
  });

  it('rejects the identity as A (membership) and as X (statement)', () => {
    const O = mulBase(0n);
    expect(verifySch(ctx, { X }, { ...proof, A: O })).toMatchObject({
      failure: { kind: 'membership', check: 'A' },
    });
    expect(verifySch(ctx, { X: O }, proof)).toMatchObject({
      failure: { kind: 'statement', check: 'X' },
    });
  });

  it.each<[string, ProofContext]>([
    ['session id', { ...ctx, sessionId: new Uint8Array(32).fill(8) }],
    ['prover index', { ...ctx, prover: 2 }],
    ['verifier index', { ...ctx, verifier: 0 }],
    ['variant', { ...ctx, variant: 'other' }],
  ])('is bound to the %s', (_f, other) => {
    expect(verifySch(other, { X }, proof).ok).toBe(false);
  });

  it('fails for a different statement', () => {
    expect(verifySch(ctx, { X: X.add(G) }, proof).ok).toBe(false);
  });

  it('refuses a witness that does not match', () => {
    expect(() => proveSch(ctx, { X }, { x: x + 1n }, rng)).toThrow(/witness/);
  });

  it('rejects non-canonical encodings', () => {
    const bytes = encodeSchProof(proof);
    expect(() => decodeSchProof(bytes.subarray(0, bytes.length - 1))).toThrow(DecodeError);
    expect(() => decodeSchProof(new Uint8Array([...bytes, 0]))).toThrow(DecodeError);
    const bad = bytes.slice();
    bad.fill(0xff, bad.length - 32); // z = 2^256 − 1 ≥ q
    expect(() => decodeSchProof(bad)).toThrow(/curve order/);
  });
});
