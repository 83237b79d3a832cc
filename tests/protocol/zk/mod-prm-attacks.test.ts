/**
 * Attack regressions for Πmod and Πprm (SECURITY.md §1.2, §1.3, §1.5, §1.6, §1.12; test list items
 * 2, 4, 5, 6). Each test builds the attack for real and shows what stops it:
 * 1. BitForge / tss-lib #323: N = P·Q_1·…·Q_k with a non-invertible w passes a verifier without
 *    the CGGMP24 checks on w, and is rejected by verifyMod at `w`.
 * 2. taurus d51b737: the m challenges are pairwise distinct; k < m honest rounds fail; lists of the
 *    wrong length are rejected.
 * 3. TSSHOCK c-guess on Πprm: s ∉ ⟨t⟩, the forger guesses the bits; about half the rounds fail.
 * 4. Replay into another session / under another prover index.
 */
import { checkPrimeSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DecodeError } from '../../../protocol/errors.js';
import { bitLength } from '../../../protocol/math/bytes.js';
import { gcd, jacobi, mod, modInverse, modPow } from '../../../protocol/math/modular.js';
import { sampleBelow, sampleUnit } from '../../../protocol/math/sample.js';
import { validatePublicModulus } from '../../../protocol/paillier/paillier.js';
import type { RingPedersenParams } from '../../../protocol/paillier/ring-pedersen.js';
import { LEVEL128, type SecurityLevel } from '../../../protocol/params.js';
import { isUnitMod, proofTranscript, type ProofContext } from '../../../protocol/zk/common.js';
import {
  decodeModProof,
  encodeModProof,
  proveMod,
  verifyMod,
  verifyModStatement,
  type ModEntry,
  type ModProof,
} from '../../../protocol/zk/mod.js';
import {
  decodePrmProof,
  encodePrmProof,
  provePrm,
  verifyPrm,
  verifyPrmStatement,
  type PrmEntry,
  type PrmProof,
} from '../../../protocol/zk/prm.js';
import {
  BOTH_LEVELS,
  fixtureKey,
  fixturePrimes,
  fixtureRingPedersen,
} from '../../helpers/fixtures.js';
import { seededRng } from '../../helpers/rng.js';

const ctx: ProofContext = { sessionId: new Uint8Array(32).fill(9), prover: 3 };

/** Πmod's challenges, re-derived independently (this also pins the transcript layout). */
function modChallenges(level: SecurityLevel, c: ProofContext, N: bigint, w: bigint): bigint[] {
  const tr = proofTranscript('mod', c);
  tr.enc.nat(N).nat(w);
  return tr.xof().challengeUnits(N, level.m);
}

/** Πprm's challenge bits, re-derived independently. */
function prmChallenges(
  level: SecurityLevel,
  c: ProofContext,
  R: RingPedersenParams,
  As: bigint[]
): number[] {
  const tr = proofTranscript('prm', c);
  tr.enc
    .nat(R.N)
    .nat(R.s)
    .nat(R.t)
    .list(As, (e, A) => e.nat(A));
  return tr.xof().challengeBits(level.m);
}

/** Πmod's two equations for entry i against given challenges (no membership checks at all). */
function modEquationsHold(N: bigint, w: bigint, e: ModEntry, y: bigint): boolean {
  const rhs = mod((e.a === 1 ? -1n : 1n) * (e.b === 1 ? w : 1n) * y, N);
  return modPow(e.z, N, N) === y && modPow(e.x, 4n, N) === rhs;
}

/**
 * TEST-ONLY: a Πmod verifier as the 2021 figure and the dfns paillier-zk 2024-03 snapshot have
 * it — statement checks, m entries, everything in [1, N), bits in {0,1}, the two equations — but
 * WITHOUT gcd(w, N) = 1, Jacobi(w, N) = −1 and the coprimality of x_i, z_i (CGGMP24).
 */
function laxVerifyMod(level: SecurityLevel, c: ProofContext, N: bigint, proof: ModProof): boolean {
  if (!verifyModStatement(level, { N }).ok || proof.entries.length !== level.m) return false;
  const inRange = (v: bigint): boolean => v > 0n && v < N;
  if (!inRange(proof.w)) return false;
  const ys = modChallenges(level, c, N, proof.w);
  return proof.entries.every(
    (e, i) =>
      inRange(e.x) &&
      inRange(e.z) &&
      (e.a === 0 || e.a === 1) &&
      (e.b === 0 || e.b === 1) &&
      modEquationsHold(N, proof.w, e, ys[i]!)
  );
}

/** The `count` smallest primes ≥ 2^32 − 2^24: 32-bit, and their product has exactly 32·count bits. */
function smallPrimes(count: number): bigint[] {
  const out: bigint[] = [];
  for (let c = 0xff000001n; out.length < count; c += 2n) if (checkPrimeSync(c)) out.push(c);
  return out;
}

describe.each(BOTH_LEVELS)(
  'BitForge / tss-lib #323 at %s: N = P·∏Q_j with w ≡ 0 mod every Q_j',
  (_n, level) => {
    // P: a 1536-bit prime ≡ 3 (mod 4) — a fixture safe prime, so nothing is generated; the rest of
    // the modulus is 32-bit primes: 16 of them at level112 (the "6ix1een" shape), 48 at level128.
    const P = fixturePrimes(LEVEL128, 9).p;
    const Qs = smallPrimes((level.modulusBits - bitLength(P)) / 32);
    const Qprod = Qs.reduce((acc, Q) => acc * Q, 1n);
    const N = P * Qprod;
    const phi = Qs.reduce((acc, Q) => acc * (Q - 1n), P - 1n); // φ(N)
    let forged: ModProof;

    beforeAll(() => {
      // w ≡ 1 (mod P), w ≡ 0 (mod every Q_j): not invertible.
      const w = (Qprod * modInverse(Qprod, P)) % N;
      const ys = modChallenges(level, ctx, N, w);
      const nInv = modInverse(N, phi); // N^{−1} mod φ(N): exists since gcd(N, φ(N)) = 1
      const entries = ys.map((y): ModEntry => {
        // One of ±y is a QR mod P (P ≡ 3 mod 4); its QR square root has a QR square root.
        const a: 0 | 1 = jacobi(y, P) === 1 ? 0 : 1;
        const yP = mod(a === 1 ? -y : y, P);
        const r = modPow(modPow(yP, (P + 1n) / 4n, P), (P + 1n) / 4n, P); // r^4 ≡ ±y (mod P)
        // x = w·r: x ≡ r (mod P) and x ≡ 0 ≡ w·y (mod every Q_j), so x^4 ≡ ±w·y (mod N), b = 1.
        return { x: (w * r) % N, a, b: 1, z: modPow(y, nInv, N) };
      });
      forged = { w, entries };
    });

    it('the modulus has the attack’s shape and passes every statement check', () => {
      expect((P & 3n) === 3n && checkPrimeSync(P)).toBe(true);
      expect(Qs.every((Q) => bitLength(Q) === 32 && N % Q === 0n)).toBe(true);
      expect(gcd(N, phi)).toBe(1n);
      expect(bitLength(N)).toBeGreaterThanOrEqual(level.modulusBits - 1);
      expect(bitLength(N)).toBeLessThanOrEqual(level.modulusBits);
      // Composite and not a perfect power: the statement checks alone accept it.
      expect(verifyModStatement(level, { N })).toEqual({ ok: true });
      expect(() => validatePublicModulus(N, level)).not.toThrow();
    });

    it('the lax verifier is a working verifier: it accepts honest proofs and rejects tampering', () => {
      const key = fixtureKey(level, 2);
      const honest = proveMod(level, ctx, { N: key.N }, key, seededRng('lax'));
      expect(laxVerifyMod(level, ctx, key.N, honest)).toBe(true);
      const tampered = {
        ...honest,
        entries: honest.entries.map((e, i) => (i === 5 ? { ...e, z: e.z + 1n } : e)),
      };
      expect(laxVerifyMod(level, ctx, key.N, tampered)).toBe(false);
    });

    it('the forged proof PASSES a verifier without the checks on w', () => {
      expect(laxVerifyMod(level, ctx, N, forged)).toBe(true);
    });

    it('verifyMod rejects it at the w check (gcd(w, N) ≠ 1)', () => {
      expect(gcd(forged.w, N)).toBe(Qprod);
      expect(verifyMod(level, ctx, { N }, forged)).toEqual({
        ok: false,
        failure: { proof: 'mod', kind: 'membership', check: 'w' },
      });
      // It survives the wire format: the decoder is not what stops it.
      expect(
        verifyMod(level, ctx, { N }, decodeModProof(encodeModProof(forged), level))
      ).toMatchObject({
        failure: { check: 'w' },
      });
    });

    it('each CGGMP24 check would stop it on its own: Jacobi(w, N) = 0 and the x_i are not units', () => {
      expect(jacobi(forged.w, N)).toBe(0);
      expect(forged.entries.every(({ x }) => !isUnitMod(x, N))).toBe(true);
    });
  }
);

describe.each(BOTH_LEVELS)('repetitions at %s (taurus d51b737, SECURITY.md §1.2)', (_n, level) => {
  const key = fixtureKey(level, 3);
  const R = fixtureRingPedersen(level, 3);
  const N = key.N;
  let mp: ModProof;
  let pp: PrmProof;
  beforeAll(() => {
    mp = proveMod(level, ctx, { N }, key, seededRng(`rep/mod/${level.name}`));
    pp = provePrm(level, ctx, R, { ...R, key }, seededRng(`rep/prm/${level.name}`));
  });

  it('the m Πmod challenges are pairwise distinct units, and the proof answers exactly them', () => {
    const ys = modChallenges(level, ctx, N, mp.w);
    expect(ys).toHaveLength(level.m);
    expect(new Set(ys).size).toBe(level.m);
    expect(ys.every((y) => isUnitMod(y, N))).toBe(true);
    expect(mp.entries.every((e, i) => modEquationsHold(N, mp.w, e, ys[i]!))).toBe(true);
  });

  it('one honest round repeated m times passes a verifier with equal challenges, not verifyMod', () => {
    const ys = modChallenges(level, ctx, N, mp.w);
    const repeated: ModProof = {
      w: mp.w,
      entries: Array.from({ length: level.m }, () => mp.entries[0]!),
    };
    // The bug: every y_i equal to y_1 — then one answer serves all m rounds (soundness 1/2).
    expect(repeated.entries.every((e) => modEquationsHold(N, mp.w, e, ys[0]!))).toBe(true);
    expect(verifyMod(level, ctx, { N }, repeated)).toEqual({
      ok: false,
      failure: { proof: 'mod', kind: 'equation', check: 'eq1[1]' },
    });
  });

  const HONEST_ROUNDS: Array<[string, (m: number) => number]> = [
    ['none', () => 0],
    ['one', () => 1],
    ['half', (m) => m / 2],
    ['all but the last', (m) => m - 1],
  ];

  it.each(HONEST_ROUNDS)('a Πmod proof with only k < m honest rounds fails (k: %s)', (_f, kOf) => {
    const k = kOf(level.m);
    const rng = seededRng(`garbage/mod/${k}`);
    const entries = mp.entries.map((e, i): ModEntry => {
      if (i < k) return e;
      const bits = rng(1)[0]!;
      return {
        x: sampleUnit(rng, N),
        a: (bits & 1) as 0 | 1,
        b: ((bits >> 1) & 1) as 0 | 1,
        z: sampleUnit(rng, N),
      };
    });
    expect(verifyMod(level, ctx, { N }, { w: mp.w, entries })).toEqual({
      ok: false,
      failure: { proof: 'mod', kind: 'equation', check: `eq1[${k}]` },
    });
  });

  it.each(HONEST_ROUNDS)('a Πprm proof with only k < m honest rounds fails (k: %s)', (_f, kOf) => {
    const k = kOf(level.m);
    const rng = seededRng(`garbage/prm/${k}`);
    // Garbage keeps the honest A_i (so the challenge bits are unchanged) and random z_i.
    const entries = pp.entries.map((e, i): PrmEntry =>
      i < k ? e : { A: e.A, z: sampleBelow(rng, N) }
    );
    expect(verifyPrm(level, ctx, R, { entries })).toEqual({
      ok: false,
      failure: { proof: 'prm', kind: 'equation', check: `eq1[${k}]` },
    });
  });

  it.each<[string, (n: number) => number[]]>([
    ['truncated (m − 1)', (m) => Array.from({ length: m - 1 }, (_, i) => i)],
    ['duplicated entry (m + 1)', (m) => [...Array.from({ length: m }, (_, i) => i), 0]],
    ['duplicated list (2m)', (m) => Array.from({ length: 2 * m }, (_, i) => i % m)],
  ])('a %s list is rejected by the decoders and by verify', (_f, pick) => {
    const idx = pick(level.m);
    const badMod: ModProof = { w: mp.w, entries: idx.map((i) => mp.entries[i]!) };
    const badPrm: PrmProof = { entries: idx.map((i) => pp.entries[i]!) };
    expect(() => decodeModProof(encodeModProof(badMod), level)).toThrow(DecodeError);
    expect(() => decodePrmProof(encodePrmProof(badPrm), level)).toThrow(DecodeError);
    expect(verifyMod(level, ctx, { N }, badMod)).toMatchObject({
      failure: { kind: 'length', check: 'entries' },
    });
    expect(verifyPrm(level, ctx, R, badPrm)).toMatchObject({
      failure: { kind: 'length', check: 'entries' },
    });
  });
});

describe.each(BOTH_LEVELS)(
  'forged Πprm with s ∉ ⟨t⟩ at %s (TSSHOCK c-guess, SECURITY.md test 5)',
  (_n, level) => {
    const N = fixtureKey(level, 4).N;
    const rng = seededRng(`prm-forge/${level.name}`);
    // t a QR, s sampled independently with Jacobi(s, N) = −1: every power of t has Jacobi +1, so
    // s ∉ ⟨t⟩ and no λ with s = t^λ exists.
    const r = sampleUnit(rng, N);
    const t = (r * r) % N;
    let s: bigint;
    do s = sampleUnit(rng, N);
    while (jacobi(s, N) !== -1);
    const R: RingPedersenParams = { N, s, t };
    // The forger guesses each bit g_i and answers z_i ← [0, N) with A_i = t^{z_i}·s^{−g_i}.
    const guesses = Array.from({ length: level.m }, () => rng(1)[0]! & 1);
    const zs = guesses.map(() => sampleBelow(rng, N));
    let entries: PrmEntry[];
    let forged: PrmProof;
    beforeAll(() => {
      const sInv = modInverse(s, N);
      entries = zs.map((z, i): PrmEntry => {
        const tz = modPow(t, z, N);
        return { A: guesses[i] === 1 ? (tz * sInv) % N : tz, z };
      });
      forged = { entries };
    });

    it('s really is outside ⟨t⟩ and the parameters pass the sanity checks', () => {
      expect(jacobi(t, N)).toBe(1);
      expect(jacobi(s, N)).toBe(-1);
      expect(verifyPrmStatement(level, R)).toEqual({ ok: true });
    });

    it('each round holds exactly when the guess matches the challenge bit', () => {
      const e = prmChallenges(
        level,
        ctx,
        R,
        entries.map((en) => en.A)
      );
      for (let i = 0; i < level.m; i++) {
        const holds =
          modPow(t, zs[i]!, N) === (e[i] === 1 ? (entries[i]!.A * s) % N : entries[i]!.A);
        expect(holds).toBe(guesses[i] === e[i]);
      }
      // Against the forger's own guesses every round would hold: the bits are the only obstacle.
      expect(
        entries.every((en, i) => modPow(t, en.z, N) === (guesses[i] ? (en.A * s) % N : en.A))
      ).toBe(true);
    });

    it('the forgery fails verification, and about half of the m rounds fail', () => {
      const e = prmChallenges(
        level,
        ctx,
        R,
        entries.map((en) => en.A)
      );
      const failing = e.map((bit, i) => (bit !== guesses[i] ? i : -1)).filter((i) => i >= 0);
      console.log(`forged Πprm ${level.name}: ${failing.length} of ${level.m} rounds fail`);
      // Binomial(m, 1/2): mean m/2, standard deviation ≈ 5.5; [m/4, 3m/4] is > 5 deviations wide.
      expect(failing.length).toBeGreaterThan(level.m / 4);
      expect(failing.length).toBeLessThan((3 * level.m) / 4);
      expect(verifyPrm(level, ctx, R, forged)).toEqual({
        ok: false,
        failure: { proof: 'prm', kind: 'equation', check: `eq1[${failing[0]}]` },
      });
    });
  }
);

describe.each(BOTH_LEVELS)('replay at %s (SECURITY.md §1.12, test 6)', (_n, level) => {
  const key = fixtureKey(level, 5);
  const R = fixtureRingPedersen(level, 5);
  const N = key.N;
  const made: ProofContext = { sessionId: new Uint8Array(32).fill(0x11), prover: 4 };
  let mp: ModProof;
  let pp: PrmProof;
  beforeAll(() => {
    mp = proveMod(level, made, { N }, key, seededRng(`replay/mod/${level.name}`));
    pp = provePrm(level, made, R, { ...R, key }, seededRng(`replay/prm/${level.name}`));
  });

  it('both proofs verify where they were made', () => {
    expect(verifyMod(level, made, { N }, mp)).toEqual({ ok: true });
    expect(verifyPrm(level, made, R, pp)).toEqual({ ok: true });
  });

  it.each<[string, ProofContext]>([
    ['another session', { ...made, sessionId: new Uint8Array(32).fill(0x12) }],
    ['another prover index (a party copying the proof)', { ...made, prover: 5 }],
    ['a swapped session and prover', { sessionId: new Uint8Array(32).fill(0x12), prover: 0 }],
  ])('both fail when replayed into %s', (_f, other) => {
    expect(verifyMod(level, other, { N }, mp)).toMatchObject({
      ok: false,
      failure: { kind: 'equation' },
    });
    expect(verifyPrm(level, other, R, pp)).toMatchObject({
      ok: false,
      failure: { kind: 'equation' },
    });
  });

  it('a party cannot present another party’s Πprm for its own parameters', () => {
    const mine = fixtureRingPedersen(level, 6);
    expect(verifyPrm(level, { ...made, prover: 6 }, mine, pp).ok).toBe(false);
  });
});
