/**
 * Πaff-g (CGGMP.md §4.6; C3, C6, C10, C11, C17; SECURITY.md §1.4 and test 16), at both levels:
 * honest proofs, encode → decode, every tampered field with its expected {kind, check}, statement
 * and context binding, out-of-range witnesses, exact ranges and C17 bounds, strict decoding, and
 * the presign MtA use (δ path with γ_i, χ path with w_i) ending in the identity α + β ≡ k·x (mod q).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DecodeError, InvalidArgs } from '../../../protocol/errors.js';
import { G, IDENTITY, modQ, mulBase } from '../../../protocol/math/curve.js';
import { samplePmBits, sampleScalar, sampleUnit } from '../../../protocol/math/sample.js';
import { PaillierPublicKey } from '../../../protocol/paillier/paillier.js';
import {
  ringPedersenPublic,
  type RingPedersenParams,
} from '../../../protocol/paillier/ring-pedersen.js';
import { LEVEL112, LEVEL128, type SecurityLevel } from '../../../protocol/params.js';
import {
  decodeAffGProof,
  encodeAffGProof,
  proveAffG,
  verifyAffG,
  type AffGProof,
  type AffGStatement,
  type AffGWitness,
} from '../../../protocol/zk/aff-g.js';
import {
  boundBits,
  pow2,
  responseBound,
  type ProofContext,
  type VerifyResult,
} from '../../../protocol/zk/common.js';
import { BOTH_LEVELS, fixtureKey, fixtureRingPedersen } from '../../helpers/fixtures.js';
import { seededRng } from '../../helpers/rng.js';

const PROVER = 0; // P_i
const VERIFIER = 1; // P_j: N₀ and R_j are P_j's
const OTHER = 2; // P_b: a third party

const failure = (kind: string, check: string): object => ({
  ok: false,
  failure: { proof: 'aff-g', kind, check },
});

/** A statement built honestly from (x, y) — x and y may be out of range on purpose. */
function instance(
  level: SecurityLevel,
  x: bigint,
  y: bigint,
  label: string
): { stmt: AffGStatement; witness: AffGWitness } {
  const rng = seededRng(`aff-g/instance/${label}/${level.name}`);
  const key0 = fixtureKey(level, VERIFIER).publicKey();
  const key1 = fixtureKey(level, PROVER); // the prover's own key (CRT encryption)
  const C = key0.encrypt(sampleScalar(rng), sampleUnit(rng, key0.N));
  const rho = sampleUnit(rng, key0.N);
  const rhoY = sampleUnit(rng, key1.N);
  const D = key0.add(key0.mul(x, C), key0.encrypt(y, rho)); // (x ⊙ C) ⊕ enc₀(y; ρ)
  const Y = key1.encrypt(y, rhoY); // enc₁(y; ρ_y)
  return { stmt: { key0, key1, C, D, Y, X: mulBase(x) }, witness: { x, y, rho, rhoY } };
}

describe.each(BOTH_LEVELS)('Πaff-g at %s', (_name, level) => {
  const ctx: ProofContext = {
    sessionId: new Uint8Array(32).fill(5),
    prover: PROVER,
    verifier: VERIFIER,
    variant: 'delta',
  };
  const rz1 = pow2(level.ell + level.epsilon); // exact range of z1
  const rz2 = pow2(level.ellPrime + level.epsilon); // exact range of z2
  let aux: RingPedersenParams;
  let stmt: AffGStatement;
  let witness: AffGWitness;
  let proof: AffGProof;
  let N0: bigint, N1: bigint, Nh: bigint, bz34: bigint;
  const verify = (p: Partial<AffGProof>, s: Partial<AffGStatement> = {}, c = ctx): VerifyResult =>
    verifyAffG(level, c, aux, { ...stmt, ...s }, { ...proof, ...p });

  beforeAll(() => {
    aux = ringPedersenPublic(fixtureRingPedersen(level, VERIFIER));
    const rng = seededRng(`aff-g/witness/${level.name}`);
    ({ stmt, witness } = instance(
      level,
      samplePmBits(rng, level.ell),
      samplePmBits(rng, level.ellPrime),
      'main'
    ));
    proof = proveAffG(level, ctx, aux, stmt, witness, seededRng(`aff-g/prove/${level.name}`));
    [N0, N1, Nh] = [stmt.key0.N, stmt.key1.N, aux.N];
    bz34 = responseBound(level, rz1 * Nh, pow2(level.ell) * Nh);
  });

  it('an honest proof verifies and survives encode → decode', () => {
    expect(verify({})).toEqual({ ok: true });
    const bytes = encodeAffGProof(proof);
    const again = decodeAffGProof(bytes, level);
    expect(again).toEqual(proof);
    expect(verifyAffG(level, ctx, aux, stmt, again)).toEqual({ ok: true });
    expect(encodeAffGProof(again)).toEqual(bytes);
  });

  it.each<[string, (p: AffGProof) => Partial<AffGProof>, string]>([
    // Every first-message field is in the challenge, so changing one breaks eq1 first.
    ['A', (p) => ({ A: (p.A * (1n + N0)) % (N0 * N0) }), 'eq1'],
    ['Bx', (p) => ({ Bx: p.Bx.add(G) }), 'eq1'],
    ['By', (p) => ({ By: (p.By * (1n + N1)) % (N1 * N1) }), 'eq1'],
    ['E', (p) => ({ E: (p.E * aux.s) % Nh }), 'eq1'],
    ['S', (p) => ({ S: (p.S * aux.s) % Nh }), 'eq1'],
    ['F', (p) => ({ F: (p.F * aux.s) % Nh }), 'eq1'],
    ['T', (p) => ({ T: (p.T * aux.s) % Nh }), 'eq1'],
    ['z1', (p) => ({ z1: p.z1 + 1n }), 'eq1'],
    ['z2', (p) => ({ z2: p.z2 + 1n }), 'eq1'],
    ['w', (p) => ({ w: (p.w * 2n) % N0 }), 'eq1'],
    ['wy', (p) => ({ wy: (p.wy * 2n) % N1 }), 'eq3'],
    ['z3', (p) => ({ z3: p.z3 + 1n }), 'eq4'],
    ['z4', (p) => ({ z4: p.z4 - 1n }), 'eq5'],
  ])('a tampered %s fails the equation %s', (_f, patch, check) => {
    expect(verify(patch(proof))).toMatchObject(failure('equation', check));
  });

  it.each<[string, () => Partial<AffGProof>]>([
    ['A', () => ({ A: 0n })],
    ['A', () => ({ A: N0 })],
    ['A', () => ({ A: N0 * N0 })],
    ['Bx', () => ({ Bx: IDENTITY })],
    ['By', () => ({ By: N1 * 3n })],
    ['By', () => ({ By: N1 * N1 + 1n })],
    ['E', () => ({ E: 0n })],
    ['S', () => ({ S: Nh })],
    ['F', () => ({ F: Nh + 1n })],
    ['T', () => ({ T: -1n })],
    ['w', () => ({ w: N0 })],
    ['w', () => ({ w: 0n })],
    ['wy', () => ({ wy: N1 + 1n })],
  ])('rejects %s outside its group as a membership failure', (check, patch) => {
    expect(verify(patch())).toMatchObject(failure('membership', check));
  });

  it.each<[string, () => Partial<AffGStatement>]>([
    ['N0', () => ({ key0: new PaillierPublicKey(N0 >> 8n) })],
    ['N1', () => ({ key1: new PaillierPublicKey(N1 << 2n) })],
    ['C', () => ({ C: N0 })],
    ['D', () => ({ D: 0n })],
    ['Y', () => ({ Y: N1 * N1 })],
    ['X', () => ({ X: IDENTITY })],
  ])('rejects a malformed statement (%s)', (check, patch) => {
    expect(verify({}, patch())).toMatchObject(failure('statement', check));
  });

  it.each<[string, () => Partial<AffGStatement>]>([
    ['C', () => ({ C: (stmt.C * (1n + N0)) % (N0 * N0) })],
    ['D', () => ({ D: (stmt.D * (1n + N0)) % (N0 * N0) })],
    ['Y', () => ({ Y: (stmt.Y * (1n + N1)) % (N1 * N1) })],
    ['X', () => ({ X: stmt.X.add(G) })],
  ])(
    'fails for a different statement (%s) at eq1: the statement is in the challenge',
    (_f, patch) => {
      // Y and X enter only eq3/eq2 directly; failing at eq1 shows they are bound through e.
      expect(verify({}, patch())).toMatchObject(failure('equation', 'eq1'));
    }
  );

  it.each<[string, ProofContext]>([
    ['session id', { ...ctx, sessionId: new Uint8Array(32).fill(6) }],
    ['prover index', { ...ctx, prover: OTHER }],
    ['verifier index', { ...ctx, verifier: OTHER }],
    ['variant (delta → chi)', { ...ctx, variant: 'chi' }],
  ])('is bound to the %s', (_f, other) => {
    expect(verify({}, {}, other)).toMatchObject(failure('equation', 'eq1'));
  });

  it("is bound to the verifier's ring-Pedersen parameters", () => {
    const otherAux = ringPedersenPublic(fixtureRingPedersen(level, OTHER));
    expect(verifyAffG(level, ctx, otherAux, stmt, proof).ok).toBe(false);
  });

  it('requires a delta/chi variant and a verifier index (C11)', () => {
    for (const bad of [
      { ...ctx, variant: undefined },
      { ...ctx, variant: 'gamma' },
      { ...ctx, verifier: undefined },
    ]) {
      expect(() => verifyAffG(level, bad, aux, stmt, proof)).toThrow(InvalidArgs);
      expect(() => proveAffG(level, bad, aux, stmt, witness)).toThrow(InvalidArgs);
    }
  });

  it('an honest prover with X ≠ x·G fails eq2, with Y ≠ enc₁(y) fails eq3', () => {
    const rng = seededRng(`aff-g/mismatch/${level.name}`);
    const badX = { ...stmt, X: mulBase(witness.x + 1n) };
    expect(
      verifyAffG(level, ctx, aux, badX, proveAffG(level, ctx, aux, badX, witness, rng))
    ).toMatchObject(failure('equation', 'eq2'));
    const badY = { ...stmt, Y: stmt.key1.encrypt(witness.y + 1n, witness.rhoY) };
    expect(
      verifyAffG(level, ctx, aux, badY, proveAffG(level, ctx, aux, badY, witness, rng))
    ).toMatchObject(failure('equation', 'eq3'));
  });

  it("SECURITY.md 16: x = 2^{ℓ+ε+2} fails at range z1, |y| = 2^{ℓ'+ε+2} at range z2", () => {
    const rng = seededRng(`aff-g/out-of-range/${level.name}`);
    const bigX = instance(level, pow2(level.ell + level.epsilon + 2), witness.y, 'big-x');
    const p1 = proveAffG(level, ctx, aux, bigX.stmt, bigX.witness, rng);
    expect(verifyAffG(level, ctx, aux, bigX.stmt, p1)).toMatchObject(failure('range', 'z1'));
    const bigY = instance(level, witness.x, -pow2(level.ellPrime + level.epsilon + 2), 'big-y');
    const p2 = proveAffG(level, ctx, aux, bigY.stmt, bigY.witness, rng);
    expect(verifyAffG(level, ctx, aux, bigY.stmt, p2)).toMatchObject(failure('range', 'z2'));
  });

  it.each<[string, () => bigint, string, string]>([
    ['z1', () => rz1, 'range', 'eq1'],
    ['z2', () => rz2, 'range', 'eq1'],
    ['z3', () => bz34, 'bound', 'eq4'],
    ['z4', () => bz34, 'bound', 'eq5'],
  ])(
    '%s: ±bound passes its check (fails only at an equation), ±(bound+1) does not',
    (f, b, kind, eq) => {
      const bound = b();
      for (const v of [bound, -bound])
        expect(verify({ [f]: v })).toMatchObject(failure('equation', eq));
      for (const v of [bound + 1n, -bound - 1n])
        expect(verify({ [f]: v })).toMatchObject(failure(kind, f));
    }
  );

  it('the decoder bounds every integer; verify bounds what the decoder lets through', () => {
    const enc = (p: Partial<AffGProof>): Uint8Array => encodeAffGProof({ ...proof, ...p });
    const n = level.modulusBits;
    const z34Bits = boundBits(responseBound(level, rz1 * pow2(n), pow2(level.ell + n)));
    for (const p of [
      { z1: rz1 * 2n },
      { z2: -rz2 * 2n },
      { z3: pow2(z34Bits) },
      { z4: -pow2(z34Bits) },
      { A: pow2(2 * n) },
      { By: pow2(2 * n) },
      { E: pow2(n) },
      { w: pow2(n) },
      { wy: pow2(n) },
    ]) {
      expect(() => decodeAffGProof(enc(p), level)).toThrow(DecodeError);
    }
    // Past the exact bound but within the decoder's bits: decoded, then refused by verify.
    const z1 = decodeAffGProof(enc({ z1: rz1 + 1n }), level);
    expect(verifyAffG(level, ctx, aux, stmt, z1)).toMatchObject(failure('range', 'z1'));
    const z3 = decodeAffGProof(enc({ z3: bz34 + 1n }), level);
    expect(verifyAffG(level, ctx, aux, stmt, z3)).toMatchObject(failure('bound', 'z3'));
  });

  it('rejects truncated, trailing, mis-tagged and cross-level encodings', () => {
    const bytes = encodeAffGProof(proof);
    expect(() => decodeAffGProof(bytes.subarray(0, bytes.length - 1), level)).toThrow(DecodeError);
    expect(() => decodeAffGProof(new Uint8Array([...bytes, 0]), level)).toThrow(DecodeError);
    const badTag = bytes.slice();
    const at = 4 + 'mpcd/cggmp21/v1/zk/'.length; // 'a' of aff-g, after the u32 length
    badTag[at] = bytes[at]! ^ 1;
    expect(() => decodeAffGProof(badTag, level)).toThrow(DecodeError);
    // A level128 proof carries 6144-bit ciphertexts, beyond level112's limits.
    if (level === LEVEL128) expect(() => decodeAffGProof(bytes, LEVEL112)).toThrow(DecodeError);
  });

  describe('presign MtA use (C3): P_i proves for P_j, P_j verifies and decrypts', () => {
    const ski = (): ReturnType<typeof fixtureKey> => fixtureKey(level, PROVER);
    const skj = (): ReturnType<typeof fixtureKey> => fixtureKey(level, VERIFIER);

    /** Round 1 (P_j): K_j; round 2 (P_i): D_{j,i}, F_{j,i}, ψ; round 3 (P_j): verify, α_{j,i}. */
    function mta(variant: 'delta' | 'chi', x: bigint, betaOverride?: bigint) {
      const rng = seededRng(`aff-g/presign/${variant}/${level.name}`);
      const Nj = skj().publicKey();
      const Ni = ski().publicKey();
      const kj = sampleScalar(rng); // k_j
      const Kj = skj().encrypt(kj, sampleUnit(rng, Nj.N)); // K_j = enc_j(k_j; ρ_j)
      const beta = betaOverride ?? samplePmBits(rng, level.ellPrime); // β_{i,j} ← ±2^{ℓ'}
      const s = sampleUnit(rng, Nj.N);
      const r = sampleUnit(rng, Ni.N);
      const D = Nj.add(Nj.mul(x, Kj), Nj.encrypt(-beta, s)); // (x ⊙ K_j) ⊕ enc_j(−β; s)
      const F = ski().encrypt(-beta, r); // enc_i(−β; r)
      const X = mulBase(x); // Γ_i or W_i
      const c: ProofContext = { ...ctx, variant };
      const Rj = ringPedersenPublic(fixtureRingPedersen(level, VERIFIER));
      const psi = proveAffG(
        level,
        c,
        Rj,
        { key0: Nj, key1: ski(), C: Kj, D, Y: F, X },
        { x, y: -beta, rho: s, rhoY: r },
        rng
      );
      const wire = encodeAffGProof(psi); // ψ_{j,i} travels point-to-point (C8)
      // P_j's view: its own key as N₀, P_i's public key as N₁, its own R_j.
      const seen: AffGStatement = { key0: skj(), key1: Ni, C: Kj, D, Y: F, X };
      return { c, Rj, seen, psi, wire, kj, beta, alpha: skj().decrypt(D) };
    }

    it.each<['delta' | 'chi', string]>([
      ['delta', 'γ_i'],
      ['chi', 'w_i'],
    ])('%s path (x = %s): ψ verifies and α_{j,i} + β_{i,j} ≡ k_j·x (mod q)', (variant) => {
      const x = sampleScalar(seededRng(`aff-g/presign/x/${variant}/${level.name}`)); // γ_i or w_i ∈ [0, q)
      const { c, Rj, seen, wire, kj, beta, alpha } = mta(variant, x);
      const psi = decodeAffGProof(wire, level);
      expect(verifyAffG(level, c, Rj, seen, psi)).toEqual({ ok: true });
      expect(modQ(alpha + beta)).toBe(modQ(kj * x));
      expect(alpha + beta).toBe(kj * x); // no wrap: |k·x| < 2^512, |β| ≤ 2^{ℓ'} ≪ N/2 (C9)
      // The other variant's tag does not accept it (C11: ψ vs ψ̂).
      const swapped = { ...c, variant: variant === 'delta' ? 'chi' : 'delta' };
      expect(verifyAffG(level, swapped, Rj, seen, psi)).toMatchObject(failure('equation', 'eq1'));
    });

    it('a proof made for P_j is rejected by P_b (its own key, K_b and R_b)', () => {
      const x = sampleScalar(seededRng(`aff-g/presign/x/b/${level.name}`));
      const { c, seen, psi } = mta('delta', x);
      const skb = fixtureKey(level, OTHER);
      const rngB = seededRng(`aff-g/presign/b/${level.name}`);
      const Kb = skb.encrypt(sampleScalar(rngB), sampleUnit(rngB, skb.N));
      const Rb = ringPedersenPublic(fixtureRingPedersen(level, OTHER));
      const cb = { ...c, verifier: OTHER };
      const asB = { ...seen, key0: skb, C: Kb };
      const r = verifyAffG(level, cb, Rb, asB, psi);
      expect(r.ok).toBe(false);
      // Even with P_j's statement, P_b's context and parameters refuse it.
      expect(verifyAffG(level, cb, Rb, seen, psi).ok).toBe(false);
      expect(
        verifyAffG(level, cb, ringPedersenPublic(fixtureRingPedersen(level, VERIFIER)), seen, psi)
      ).toMatchObject(failure('equation', 'eq1'));
    });

    it("SECURITY.md 16 in the MtA: γ_i = 2^{ℓ+ε+2} fails at z1, β = 2^{ℓ'+ε+2} at z2", () => {
      const bigGamma = mta('delta', pow2(level.ell + level.epsilon + 2));
      expect(verifyAffG(level, bigGamma.c, bigGamma.Rj, bigGamma.seen, bigGamma.psi)).toMatchObject(
        failure('range', 'z1')
      );
      const w = sampleScalar(seededRng(`aff-g/presign/x/big-beta/${level.name}`));
      const bigBeta = mta('chi', w, pow2(level.ellPrime + level.epsilon + 2));
      expect(verifyAffG(level, bigBeta.c, bigBeta.Rj, bigBeta.seen, bigBeta.psi)).toMatchObject(
        failure('range', 'z2')
      );
      // On the wire such a z1/z2 (≈ |e|·2^{ℓ+ε+2}) does not even decode: the decoder's limit is the
      // range's bit length, so the sender is blamed for a DecodeError before verify runs.
      expect(() => decodeAffGProof(bigGamma.wire, level)).toThrow(/aff-g\.z1/);
      expect(() => decodeAffGProof(bigBeta.wire, level)).toThrow(/aff-g\.z2/);
    });
  });
});
