/**
 * Tests of protocol/params.ts: both levels satisfy every inequality of CGGMP.md (§1, C1, C9, the
 * Decisions), a mutated level is refused with a `Bug` naming the violated inequality, and the Πdec
 * bound B_y of C1.
 */
import { describe, expect, it } from 'vitest';
import { Bug, InvalidArgs } from '../../protocol/errors.js';
import {
  assertLevelSound,
  ceilLog2,
  decBoundBits,
  DEFAULT_LEVEL,
  LEVEL112,
  LEVEL128,
  LEVELS,
  levelByName,
  MAX_PARTIES,
  type SecurityLevel,
} from '../../protocol/params.js';

describe('security levels', () => {
  it('hold the values of the Decisions', () => {
    expect(LEVEL128).toMatchObject({
      kappa: 384,
      modulusBits: 3072,
      primeBits: 1536,
      m: 128,
      ell: 256,
      epsilon: 230,
      ellPrime: 848,
      challengeBits: 128,
      statistical: 100,
    });
    expect(LEVEL112).toMatchObject({
      kappa: 256,
      modulusBits: 2048,
      primeBits: 1024,
      m: 112,
      ell: 256,
      epsilon: 230,
      ellPrime: 848,
      challengeBits: 128,
      statistical: 100,
    });
    expect(DEFAULT_LEVEL).toBe(LEVEL128);
    expect(MAX_PARTIES).toBe(16);
    expect(Object.isFrozen(LEVEL128) && Object.isFrozen(LEVEL112) && Object.isFrozen(LEVELS)).toBe(
      true
    );
  });

  it('both pass assertLevelSound', () => {
    expect(() => assertLevelSound(LEVEL128)).not.toThrow();
    expect(() => assertLevelSound(LEVEL112)).not.toThrow();
  });

  const mutate = (base: SecurityLevel, patch: Partial<SecurityLevel>): SecurityLevel => ({
    ...base,
    ...patch,
  });

  it.each<[string, SecurityLevel, RegExp]>([
    ['ε = 229 (< 2 + s + log₂Q)', mutate(LEVEL128, { epsilon: 229 }), /ε ≥ 2 \+ s \+ log₂Q/],
    ['s = 101 (ε too small for it)', mutate(LEVEL128, { statistical: 101 }), /ε ≥ 2 \+ s \+ log₂Q/],
    ["ℓ' = 841 (< 2λ + ε + s)", mutate(LEVEL112, { ellPrime: 841 }), /ℓ' ≥ 2λ \+ ε \+ s/],
    ['m = 80', mutate(LEVEL112, { m: 80 }), /m ≥ 112/],
    ['m = 111', mutate(LEVEL128, { m: 111 }), /m ≥ 112/],
    ['modulusBits ≠ 8κ', mutate(LEVEL128, { modulusBits: 2048 }), /N = 8κ, primes = 4κ/],
    ['primeBits ≠ 4κ', mutate(LEVEL112, { primeBits: 1023 }), /N = 8κ, primes = 4κ/],
    ['κ without the sizes', mutate(LEVEL112, { kappa: 384 }), /N = 8κ, primes = 4κ/],
    ['ℓ = 255 (< λ)', mutate(LEVEL128, { ell: 255 }), /ℓ ≥ λ/],
    // κ = 128 (1024-bit N): ℓ' ≤ 8κ holds but the MtA no-wrap of C9 does not (1021 < 1079).
    [
      'κ = 128',
      mutate(LEVEL112, { kappa: 128, modulusBits: 1024, primeBits: 512 }),
      /C9 MtA no-wrap/,
    ],
    // κ = 96: ℓ' = 848 > 8κ = 768.
    ['κ = 96', mutate(LEVEL112, { kappa: 96, modulusBits: 768, primeBits: 384 }), /ℓ' ≤ 8κ/],
    // κ = 192 (1536-bit N): MtA fits (1533 ≥ 1079) but the σ abort of Πdec does not (1568 > 1533).
    [
      'κ = 192',
      mutate(LEVEL112, { kappa: 192, modulusBits: 1536, primeBits: 768 }),
      /C1\/C9 Πdec no-wrap \(sigma, t=1\)/,
    ],
    // κ = 197, ℓ = 260: n − 2 = 1573; σ needs 1572 + ⌈log₂t⌉, so t = 1, 2 pass and t = 3 fails.
    [
      'κ = 197, ℓ = 260',
      mutate(LEVEL112, { kappa: 197, modulusBits: 1576, primeBits: 788, ell: 260 }),
      /C1\/C9 Πdec no-wrap \(sigma, t=3\)/,
    ],
    [
      'log₂Q = 223 (ε < 8 + log₂Q)',
      mutate(LEVEL112, { challengeBits: 223, statistical: 0 }),
      /C9\)/,
    ],
  ])('a level with %s throws Bug naming the inequality', (_n, level, rule) => {
    let err: unknown;
    try {
      assertLevelSound(level);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Bug);
    expect((err as Error).message).toMatch(rule);
    expect((err as Error).message).toContain(level.name);
  });
});

describe('decBoundBits (C1)', () => {
  // B_y = ℓ'+ε+1+⌈log₂t⌉ (δ abort, U_i) and ℓ+ℓ'+ε+3+⌈log₂t⌉ (σ abort), with ℓ = 256, ε = 230,
  // ℓ' = 848: 1079 + ⌈log₂t⌉ and 1337 + ⌈log₂t⌉.
  it.each<[number, number, number, number]>([
    [1, 0, 1079, 1337],
    [2, 1, 1080, 1338],
    [3, 2, 1081, 1339],
    [4, 2, 1081, 1339],
    [5, 3, 1082, 1340],
    [16, 4, 1083, 1341],
  ])('t = %i: ⌈log₂t⌉ = %i, delta %i, sigma %i', (t, lg, delta, sigma) => {
    expect(ceilLog2(t)).toBe(lg);
    for (const level of [LEVEL112, LEVEL128]) {
      expect(decBoundBits(level, 'delta', t)).toBe(delta);
      expect(decBoundBits(level, 'sigma', t)).toBe(sigma);
      expect(decBoundBits(level, 'delta', t)).toBe(level.ellPrime + level.epsilon + 1 + lg);
      expect(decBoundBits(level, 'sigma', t)).toBe(
        level.ell + level.ellPrime + level.epsilon + 3 + lg
      );
    }
  });

  it('the C9 condition n − 2 ≥ B_y + ε + 1 holds with margin at both levels for t ≤ 16', () => {
    for (const level of [LEVEL112, LEVEL128]) {
      const n = level.modulusBits - 1;
      expect(n - 2).toBeGreaterThanOrEqual(
        decBoundBits(level, 'sigma', MAX_PARTIES) + level.epsilon + 1
      );
    }
  });
});

describe('levelByName', () => {
  it('finds both levels', () => {
    expect(levelByName('level128')).toBe(LEVEL128);
    expect(levelByName('level112')).toBe(LEVEL112);
  });

  it('throws InvalidArgs on unknown names', () => {
    for (const name of ['', 'level80', 'LEVEL128', 'level128 ', 'level256']) {
      expect(() => levelByName(name), name).toThrow(InvalidArgs);
    }
  });

  it('throws InvalidArgs on names inherited from Object.prototype', () => {
    // `LEVELS` is an ordinary object: a plain index lookup finds toString, constructor, __proto__…
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
      expect(() => levelByName(name), name).toThrow(InvalidArgs);
    }
  });
});
