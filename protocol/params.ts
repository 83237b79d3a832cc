/**
 * Security parameters of mpcd's CGGMP21 (CGGMP.md "Decisions" and §1, corrections C1, C9, C10).
 *
 * Two named levels share the zero-knowledge parameters (ℓ, ε, ℓ', Q, s) and differ only in the
 * Paillier modulus size (8κ bits) and the repetition count m of Πmod/Πprm. Every inequality the
 * design requires is asserted when this module loads, for every threshold t ≤ {@link MAX_PARTIES},
 * so a bad edit to a constant cannot ship.
 * @module
 */
import { Bug, InvalidArgs } from './errors.js';

/** Largest party count (n) mpcd supports; the abort-path bounds of C1 depend on ⌈log₂ t⌉. */
export const MAX_PARTIES = 16;

/** Name of a security level. `level128` is the default. */
export type SecurityLevelName = 'level128' | 'level112';

/** The parameter set of one security level. All sizes are in bits. */
export interface SecurityLevel {
  readonly name: SecurityLevelName;
  /** κ: the modulus size / 8 (384 or 256). Primes have 4κ bits, N has 8κ bits. */
  readonly kappa: number;
  /** 8κ: Paillier / ring-Pedersen modulus size. A peer's N must have 8κ−1 or 8κ bits. */
  readonly modulusBits: number;
  /** 4κ: size of each safe prime. */
  readonly primeBits: number;
  /** m: repetitions of the binary-challenge proofs Πmod and Πprm (soundness 2^−m). */
  readonly m: number;
  /** ℓ: bound (bits) on honest small secrets k, γ, x. */
  readonly ell: number;
  /** ε: slack (bits) — proofs only guarantee ±2^{ℓ+ε}. */
  readonly epsilon: number;
  /** ℓ': bound (bits) on the MtA masks β. */
  readonly ellPrime: number;
  /** log₂ Q: challenges of the Paillier proofs are drawn from ±Q, Q = 2^128 (C10). */
  readonly challengeBits: number;
  /** s: statistical security parameter. */
  readonly statistical: number;
}

const ZK = { ell: 256, epsilon: 230, ellPrime: 848, challengeBits: 128, statistical: 100 } as const;

/** 3072-bit N from two 1536-bit safe primes, m = 128 (dfns SecurityLevel128). The default. */
export const LEVEL128: SecurityLevel = Object.freeze({
  name: 'level128',
  kappa: 384,
  modulusBits: 3072,
  primeBits: 1536,
  m: 128,
  ...ZK,
});

/** 2048-bit N from two 1024-bit safe primes, m = 112 (not 80: see CGGMP.md Decisions). */
export const LEVEL112: SecurityLevel = Object.freeze({
  name: 'level112',
  kappa: 256,
  modulusBits: 2048,
  primeBits: 1024,
  m: 112,
  ...ZK,
});

/** Every supported level, by name. */
export const LEVELS: Readonly<Record<SecurityLevelName, SecurityLevel>> = Object.freeze({
  level128: LEVEL128,
  level112: LEVEL112,
});

/** The level a new key gets when none is named. */
export const DEFAULT_LEVEL: SecurityLevel = LEVEL128;

/** Bit size of the curve order (λ). */
export const CURVE_BITS = 256;

/** ⌈log₂ t⌉ for t ≥ 1. */
export function ceilLog2(t: number): number {
  let b = 0;
  while (1 << b < t) b++;
  return b;
}

/**
 * B_y of correction C1, the bit bound on the plaintext y that Πdec proves in an abort:
 * `delta` (U_i of the bad-δ procedure): ℓ'+ε+1+⌈log₂t⌉; `sigma` (the σ ciphertext):
 * ℓ+ℓ'+ε+3+⌈log₂t⌉.
 */
export function decBoundBits(level: SecurityLevel, kind: 'delta' | 'sigma', t: number): number {
  const lg = ceilLog2(t);
  return kind === 'delta'
    ? level.ellPrime + level.epsilon + 1 + lg
    : level.ell + level.ellPrime + level.epsilon + 3 + lg;
}

/**
 * Assert every inequality CGGMP.md requires of a level (dfns "Security Guidelines", C9, C1) for
 * all t ≤ MAX_PARTIES. Run at module load for both levels.
 * @throws Bug naming the violated inequality.
 */
export function assertLevelSound(level: SecurityLevel): void {
  const { ell, epsilon: eps, ellPrime, challengeBits: logQ, statistical: s, kappa } = level;
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new Bug(`security level ${level.name} violates ${what}`);
  };
  check(level.modulusBits === 8 * kappa && level.primeBits === 4 * kappa, 'N = 8κ, primes = 4κ');
  check(ell >= CURVE_BITS, 'ℓ ≥ λ');
  check(eps >= 2 + s + logQ, 'ε ≥ 2 + s + log₂Q');
  check(ellPrime >= 2 * CURVE_BITS + eps + s, "ℓ' ≥ 2λ + ε + s");
  check(ellPrime <= 8 * kappa, "ℓ' ≤ 8κ");
  check(eps >= 8 + logQ, 'ε ≥ 8 + log₂Q (C9)');
  // The smallest N we accept has 8κ−1 bits; C9 is stated for that n.
  const n = level.modulusBits - 1;
  check(n - 2 >= Math.max(2 * (ell + eps) + 1, ellPrime + eps + 1), 'C9 MtA no-wrap');
  for (let t = 1; t <= MAX_PARTIES; t++) {
    for (const kind of ['delta', 'sigma'] as const) {
      check(
        n - 2 >= decBoundBits(level, kind, t) + eps + 1,
        `C1/C9 Πdec no-wrap (${kind}, t=${t})`
      );
    }
  }
  check(level.m >= 112, 'm ≥ 112 (Fiat–Shamir grinding, CGGMP.md Decisions)');
}

for (const level of Object.values(LEVELS)) assertLevelSound(level);

/**
 * Look up a level by name.
 * @throws InvalidArgs for an unknown name.
 */
export function levelByName(name: string): SecurityLevel {
  // Own keys only: a plain lookup would also find toString, constructor, __proto__…
  if (!Object.hasOwn(LEVELS, name)) {
    throw new InvalidArgs('level', `unknown security level ${JSON.stringify(name)}`);
  }
  return LEVELS[name as SecurityLevelName];
}
