/**
 * Πmul* (CGGMP.md §4.8 with C5, C6, C10, C17; §5.6 bad-σ abort; SECURITY.md test 21), at both
 * levels: honest proofs, encode → decode, every tampered field with its expected {kind, check},
 * statement and context binding, out-of-range witnesses, exact ranges and C17 bounds, strict
 * decoding, and the abort use: Ĥ_i = (w_i ⊙ K_i)·ρ̂^{N_i} proved against W_i, including a cheater
 * who puts w' ≠ w_i in Ĥ_i and a proof made for one verifier shown to another.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DecodeError, InvalidArgs } from '../../../protocol/errors.js';
import { encode } from '../../../protocol/hash/encoding.js';
import { CURVE_ORDER, G, IDENTITY, modQ, mulBase, mulPoint } from '../../../protocol/math/curve.js';
import { modPow } from '../../../protocol/math/modular.js';
import { sampleNonZeroScalar, sampleScalar, sampleUnit } from '../../../protocol/math/sample.js';
import { PaillierPublicKey, type PaillierSecretKey } from '../../../protocol/paillier/paillier.js';
import {
  ringPedersenPublic,
  rpCommit,
  type RingPedersenParams,
} from '../../../protocol/paillier/ring-pedersen.js';
import { LEVEL112, LEVEL128, type SecurityLevel } from '../../../protocol/params.js';
import {
  boundBits,
  pow2,
  proofTranscript,
  responseBound,
  type ProofContext,
} from '../../../protocol/zk/common.js';
import {
  decodeMulStarProof,
  encodeMulStarProof,
  mulStarResponseBounds,
  proveMulStar,
  verifyMulStar,
  type MulStarProof,
  type MulStarStatement,
  type MulStarWitness,
} from '../../../protocol/zk/mul-star.js';
import { BOTH_LEVELS, fixtureKey, fixtureRingPedersen } from '../../helpers/fixtures.js';
import { seededRng } from '../../helpers/rng.js';

const PROOF_TAG = 'mpcd/cggmp21/v1/zk/mul-star/proof';
const PROVER = 0; // P_i: N₀ = N_i is the prover's own key
const VERIFIER = 1; // P_a = P_j: the proof is made against R_j
const OTHER = 2; // P_b: another signer

const failure = (kind: string, check: string): object => ({
  ok: false,
  failure: { proof: 'mul-star', kind, check },
});

/** The challenge, re-derived from the documented transcript layout (not the module's code). */
function challengeOf(
  c: ProofContext,
  R: RingPedersenParams,
  s: MulStarStatement,
  p: MulStarProof
): bigint {
  const tr = proofTranscript('mul-star', c, R);
  tr.enc.nat(s.key.N).nat(s.C).nat(s.D).point(s.X).nat(p.A).point(p.Bx).nat(p.E).nat(p.S);
  return tr.xof().challengePm(128);
}

describe.each(BOTH_LEVELS)('Πmul* at %s', (name, level: SecurityLevel) => {
  const ctx: ProofContext = {
    sessionId: new Uint8Array(32).fill(9),
    prover: PROVER,
    verifier: VERIFIER,
  };
  const rz1 = pow2(level.ell + level.epsilon); // exact range of z1
  let sk: PaillierSecretKey; // P_i's key (the prover computes with CRT)
  let pk: PaillierPublicKey; // what the verifier holds
  let aux: RingPedersenParams; // R_j of the verifier P_j
  let N0: bigint, Nh: bigint, bz2: bigint;
  // Presign round 1 and the bad-σ abort of P_i (CGGMP.md §5.5, §5.6):
  let k: bigint; // k_i
  let K: bigint; // K_i = enc_i(k_i; ρ_i)
  let w: bigint; // w_i: the signer's additive share (λ_i·x_i mod q)
  let stmt: MulStarStatement; // (N_i, K_i, Ĥ_i, W_i), as P_j sees it
  let witness: MulStarWitness; // (w_i, ρ̂)
  let proof: MulStarProof;

  const verify = (p: Partial<MulStarProof>, s: Partial<MulStarStatement> = {}, c = ctx) =>
    verifyMulStar(level, c, aux, { ...stmt, ...s }, { ...proof, ...p });
  /** Ĥ = (x ⊙ K_i)·ρ̂^{N_i}, X = W for an arbitrary x (possibly wrong or out of range). */
  const hhat = (x: bigint, rhoHat: bigint): bigint => sk.add(sk.mul(x, K), sk.nonceToN(rhoHat));
  const prove = (s: MulStarStatement, wit: MulStarWitness, label: string, c = ctx) =>
    proveMulStar(level, c, aux, { ...s, key: sk }, wit, seededRng(`mul-star/${label}/${name}`));

  beforeAll(() => {
    const rng = seededRng(`mul-star/setup/${name}`);
    sk = fixtureKey(level, PROVER);
    pk = sk.publicKey();
    aux = ringPedersenPublic(fixtureRingPedersen(level, VERIFIER));
    [N0, Nh] = [sk.N, aux.N];
    bz2 = responseBound(level, rz1 * Nh, pow2(level.ell) * Nh);
    k = sampleScalar(rng); // k_i ← Z_q
    K = sk.encrypt(k, sampleUnit(rng, N0)); // K_i = enc_i(k_i; ρ_i)
    w = sampleNonZeroScalar(rng); // w_i ∈ [1, q)
    const rhoHat = sampleUnit(rng, N0); // ρ̂ ← Z*_{N_i} (C5: the witness nonce)
    stmt = { key: pk, C: K, D: hhat(w, rhoHat), X: mulBase(w) };
    witness = { x: w, rho: rhoHat };
    proof = prove(stmt, witness, 'main');
  });

  it('an honest proof verifies and survives encode → decode', () => {
    expect(verify({})).toEqual({ ok: true });
    const bytes = encodeMulStarProof(proof);
    const again = decodeMulStarProof(bytes, level);
    expect(again).toEqual(proof);
    expect(again.Bx.equals(proof.Bx)).toBe(true);
    expect(verifyMulStar(level, ctx, aux, stmt, again)).toEqual({ ok: true });
    expect(encodeMulStarProof(again)).toEqual(bytes);
  });

  it('Ĥ_i = (w_i ⊙ K_i)·ρ̂^{N_i} encrypts the integer k_i·w_i (C6), and P_j accepts the proof', () => {
    // Exact, not mod q: |k_i·w_i| < 2^512 ≪ N/2, so the centred decryption is the product itself.
    expect(sk.decrypt(stmt.D)).toBe(k * w);
    // Its Paillier nonce is ρ_i^{w_i}·ρ̂; recovered with the secret key it re-encrypts to Ĥ_i.
    const nonce = sk.recoverNonce(stmt.D, k * w);
    expect(pk.encrypt(k * w, nonce)).toBe(stmt.D);
    // The wire round trip, verified by P_j with P_i's public key and its own R_j.
    const seen = decodeMulStarProof(encodeMulStarProof(proof), level);
    expect(verifyMulStar(level, ctx, aux, { key: pk, C: K, D: stmt.D, X: stmt.X }, seen)).toEqual({
      ok: true,
    });
  });

  it('derives e ∈ ±Q from E(ctx, R_j, N₀, C, D, X, A, B_x, E, S) exactly (CGGMP.md §2.3)', () => {
    const e = challengeOf(ctx, aux, stmt, proof);
    expect(e >= -(1n << 128n) && e <= 1n << 128n).toBe(true);
    const N2 = N0 * N0;
    const lhs1 = (modPow(K, proof.z1, N2) * modPow(proof.w, N0, N2)) % N2;
    expect(lhs1).toBe((proof.A * modPow(stmt.D, e, N2)) % N2);
    expect(mulPoint(G, proof.z1).equals(proof.Bx.add(mulPoint(stmt.X, e)))).toBe(true);
    expect(rpCommit(aux, proof.z1, proof.z2)).toBe((proof.E * modPow(proof.S, e, Nh)) % Nh);
  });

  it.each<[string, (p: MulStarProof) => Partial<MulStarProof>, string]>([
    // Every first-message field is in the challenge, so changing one breaks eq1 first.
    ['A', (p) => ({ A: (p.A * (1n + N0)) % (N0 * N0) }), 'eq1'],
    ['Bx', (p) => ({ Bx: p.Bx.add(G) }), 'eq1'],
    ['E', (p) => ({ E: (p.E * aux.s) % Nh }), 'eq1'],
    ['S', (p) => ({ S: (p.S * aux.t) % Nh }), 'eq1'],
    ['z1', (p) => ({ z1: p.z1 + 1n }), 'eq1'],
    ['z1 (− q: eq2 still holds, eq1 does not)', (p) => ({ z1: p.z1 - CURVE_ORDER }), 'eq1'],
    ['w', (p) => ({ w: (p.w * 2n) % N0 }), 'eq1'],
    ['z2', (p) => ({ z2: p.z2 + 1n }), 'eq3'],
  ])('a tampered %s fails the equation %s', (_f, patch, check) => {
    expect(verify(patch(proof))).toMatchObject(failure('equation', check));
  });

  it.each<[string, () => Partial<MulStarProof>]>([
    ['A', () => ({ A: 0n })],
    ['A', () => ({ A: N0 })],
    ['A', () => ({ A: N0 * N0 })],
    ['A', () => ({ A: sk.q * 3n })],
    ['E', () => ({ E: 0n })],
    ['E', () => ({ E: Nh + proof.E })],
    ['E', () => ({ E: fixtureKey(level, VERIFIER).p, S: Nh })], // both bad: E is named
    ['S', () => ({ S: Nh })],
    ['S', () => ({ S: fixtureKey(level, VERIFIER).q })], // a factor of N̂
    ['Bx', () => ({ Bx: IDENTITY })],
    ['w', () => ({ w: 0n })],
    ['w', () => ({ w: N0 })],
    ['w', () => ({ w: sk.p })],
  ])('rejects %s outside its group as a membership failure', (check, patch) => {
    expect(verify(patch())).toMatchObject(failure('membership', check));
  });

  it.each<[string, () => Partial<MulStarStatement>]>([
    ['N0', () => ({ key: new PaillierPublicKey(N0 >> 8n) })],
    ['N0', () => ({ key: new PaillierPublicKey(N0 << 2n) })],
    ['N0', () => ({ key: fixtureKey(level === LEVEL112 ? LEVEL128 : LEVEL112, 0).publicKey() })],
    ['C', () => ({ C: 0n })],
    ['C', () => ({ C: N0 * N0 + K })],
    ['C', () => ({ C: sk.p * 1234567n })],
    ['D', () => ({ D: N0 })],
    ['D', () => ({ D: N0 * N0 })],
    ['X', () => ({ X: IDENTITY })],
  ])('rejects a malformed statement (%s)', (check, patch) => {
    expect(verify({}, patch())).toMatchObject(failure('statement', check));
  });

  it.each<[string, () => Partial<MulStarStatement>]>([
    ['C', () => ({ C: (K * (1n + N0)) % (N0 * N0) })],
    ['D', () => ({ D: (stmt.D * (1n + N0)) % (N0 * N0) })],
    ['X', () => ({ X: stmt.X.add(G) })],
    ['N0 (another key of the level)', () => ({ key: fixtureKey(level, OTHER).publicKey() })],
  ])('fails for a different statement (%s): the statement is in the challenge', (_f, s) => {
    const patch = s();
    // A different key may make C or D invalid under it; the statement check names that instead.
    const r = verify({}, patch);
    if (patch.key) expect(r.ok).toBe(false);
    else expect(r).toMatchObject(failure('equation', 'eq1'));
  });

  it.each<[string, ProofContext]>([
    ['session id', { ...ctx, sessionId: new Uint8Array(32).fill(10) }],
    ['prover index', { ...ctx, prover: OTHER }],
    ['verifier index', { ...ctx, verifier: OTHER }],
    ['variant (none → some)', { ...ctx, variant: 'sigma' }],
  ])('is bound to the %s', (_f, other) => {
    expect(verify({}, {}, other)).toMatchObject(failure('equation', 'eq1'));
  });

  it("is bound to the verifier's ring-Pedersen parameters", () => {
    const otherAux = ringPedersenPublic(fixtureRingPedersen(level, OTHER));
    expect(verifyMulStar(level, ctx, otherAux, stmt, proof).ok).toBe(false);
    // Same N̂ but s and t swapped: the elements stay units, the challenge changes.
    const swapped = { N: aux.N, s: aux.t, t: aux.s };
    expect(verifyMulStar(level, ctx, swapped, stmt, proof)).toMatchObject(
      failure('equation', 'eq1')
    );
  });

  it('a proof made for verifier P_a is rejected by P_b (its index, its R_b)', () => {
    const Rb = ringPedersenPublic(fixtureRingPedersen(level, OTHER));
    const asB = { ...ctx, verifier: OTHER };
    expect(verifyMulStar(level, asB, Rb, stmt, proof).ok).toBe(false);
    // P_b's index with P_a's parameters, or P_a's index with P_b's: both refused.
    expect(verifyMulStar(level, asB, aux, stmt, proof)).toMatchObject(failure('equation', 'eq1'));
    expect(verifyMulStar(level, ctx, Rb, stmt, proof).ok).toBe(false);
    // The honest proof made for P_b verifies for P_b only.
    const forB = proveMulStar(level, asB, Rb, { ...stmt, key: sk }, witness, seededRng('b'));
    expect(verifyMulStar(level, asB, Rb, stmt, forB)).toEqual({ ok: true });
    expect(verifyMulStar(level, ctx, aux, stmt, forB).ok).toBe(false);
  });

  it('SECURITY.md 21: a cheater with w′ ≠ w_i in Ĥ_i but the true W_i is caught', () => {
    const rhoHat = sampleUnit(seededRng(`mul-star/cheat/${name}`), N0);
    const wBad = w + 1n; // σ_i would then be computed from k_i·w′ (Πdec consistent with it)
    const cheat = { ...stmt, D: hhat(wBad, rhoHat) }; // X stays W_i = w_i·G
    expect(sk.decrypt(cheat.D)).toBe(k * wBad);
    // Proving with w′ (consistent with Ĥ′): the group equation fails.
    const p1 = prove(cheat, { x: wBad, rho: rhoHat }, 'cheat-1');
    expect(verifyMulStar(level, ctx, aux, cheat, p1)).toMatchObject(failure('equation', 'eq2'));
    // Proving with w_i (consistent with W_i): the Paillier equation fails.
    const p2 = prove(cheat, { x: w, rho: rhoHat }, 'cheat-2');
    expect(verifyMulStar(level, ctx, aux, cheat, p2)).toMatchObject(failure('equation', 'eq1'));
  });

  it('w′ = w_i + q passes (x is fixed mod q only), and changes nothing mod q for σ_i', () => {
    const rhoHat = sampleUnit(seededRng(`mul-star/plus-q/${name}`), N0);
    const wq = w + CURVE_ORDER; // |w′| < 2^257 ≤ 2^ℓ·2: well inside the proof's ±2^{ℓ+ε}
    const s = { ...stmt, D: hhat(wq, rhoHat) };
    expect(s.X.equals(mulBase(wq))).toBe(true);
    expect(verifyMulStar(level, ctx, aux, s, prove(s, { x: wq, rho: rhoHat }, 'plus-q'))).toEqual({
      ok: true,
    });
    expect(modQ(sk.decrypt(s.D))).toBe(modQ(k * w));
  });

  it('an honest prover with a mismatched statement: X ≠ x·G fails eq2, a wrong ρ̂ fails eq1', () => {
    const badX = { ...stmt, X: mulBase(w + 1n) };
    expect(verifyMulStar(level, ctx, aux, badX, prove(badX, witness, 'bad-x'))).toMatchObject(
      failure('equation', 'eq2')
    );
    const wrongRho = { x: w, rho: (witness.rho * 2n) % N0 };
    expect(verifyMulStar(level, ctx, aux, stmt, prove(stmt, wrongRho, 'bad-rho'))).toMatchObject(
      failure('equation', 'eq1')
    );
  });

  it('an out-of-range witness gives a proof rejected at range z1', () => {
    const rhoHat = sampleUnit(seededRng(`mul-star/big/${name}`), N0);
    for (const [i, x] of [pow2(level.ell + level.epsilon + 2), -(N0 >> 1n)].entries()) {
      const s = { ...stmt, D: hhat(x, rhoHat), X: mulBase(x) };
      const p = prove(s, { x, rho: rhoHat }, `big-${i}`);
      expect(verifyMulStar(level, ctx, aux, s, p)).toMatchObject(failure('range', 'z1'));
      // On the wire such a z1 does not even decode (the decoder's limit is the range's bits).
      expect(() => decodeMulStarProof(encodeMulStarProof(p), level)).toThrow(/mul-star\.z1/);
    }
  });

  it.each<[string, () => bigint, string, string]>([
    ['z1', () => rz1, 'range', 'eq1'],
    ['z2', () => bz2, 'bound', 'eq3'],
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

  it('the bounds are 2^{ℓ+ε} and 2^{ℓ+ε}·N̂ + Q·2^ℓ·N̂ (C17)', () => {
    const b = mulStarResponseBounds(level, Nh);
    expect(b.z1).toBe(1n << 486n);
    expect(b.z2).toBe((1n << 486n) * Nh + (1n << 384n) * Nh);
    expect(b.z2).toBe(bz2);
  });

  it('the decoder bounds every integer; verify bounds what the decoder lets through', () => {
    const enc = (p: Partial<MulStarProof>): Uint8Array => encodeMulStarProof({ ...proof, ...p });
    const n = level.modulusBits;
    const z2Bits = boundBits(responseBound(level, rz1 * pow2(n), pow2(level.ell + n)));
    for (const p of [
      { A: pow2(2 * n) },
      { E: pow2(n) },
      { S: pow2(n) },
      { z1: rz1 * 2n },
      { z1: -rz1 * 2n },
      { z2: pow2(z2Bits) },
      { z2: -pow2(z2Bits) },
      { w: pow2(n) },
    ]) {
      expect(() => decodeMulStarProof(enc(p), level)).toThrow(DecodeError);
    }
    // Past the exact bound but within the decoder's bits: decoded, then refused by verify.
    const z1 = decodeMulStarProof(enc({ z1: -rz1 - 1n }), level);
    expect(verifyMulStar(level, ctx, aux, stmt, z1)).toMatchObject(failure('range', 'z1'));
    const z2 = decodeMulStarProof(enc({ z2: pow2(z2Bits) - 1n }), level);
    expect(verifyMulStar(level, ctx, aux, stmt, z2)).toMatchObject(failure('bound', 'z2'));
  });

  it('rejects truncated, trailing, mis-tagged, identity-B_x, "−0" and cross-level encodings', () => {
    const bytes = encodeMulStarProof(proof);
    expect(() => decodeMulStarProof(bytes.subarray(0, bytes.length - 1), level)).toThrow(
      DecodeError
    );
    expect(() => decodeMulStarProof(bytes.subarray(0, 40), level)).toThrow(DecodeError);
    expect(() => decodeMulStarProof(new Uint8Array([...bytes, 0]), level)).toThrow(DecodeError);
    const badTag = bytes.slice();
    const at = 4 + 'mpcd/cggmp21/v1/zk/'.length; // 'm' of mul-star, after the u32 length
    badTag[at] = bytes[at]! ^ 1;
    expect(() => decodeMulStarProof(badTag, level)).toThrow(DecodeError);
    // B_x at its offset: a bad prefix and the identity (0x00) are refused by the decoder.
    const bxAt = encode((e) => e.tag(PROOF_TAG).nat(proof.A)).length;
    const badBx = bytes.slice();
    badBx[bxAt] = 0x04;
    expect(() => decodeMulStarProof(badBx, level)).toThrow(DecodeError);
    const idBx = new Uint8Array([...bytes.subarray(0, bxAt), 0, ...bytes.subarray(bxAt + 33)]);
    expect(() => decodeMulStarProof(idBx, level)).toThrow(DecodeError);
    // z1 = 0 has sign byte 0; "−0" is refused (C11).
    const zero = encodeMulStarProof({ ...proof, z1: 0n });
    const z1At = bxAt + 33 + encode((e) => e.nat(proof.E).nat(proof.S)).length;
    expect(zero[z1At]).toBe(0);
    zero[z1At] = 1;
    expect(() => decodeMulStarProof(zero, level)).toThrow(DecodeError);
    // A level128 proof carries 6144-bit ciphertexts, beyond level112's limits.
    if (level === LEVEL128) expect(() => decodeMulStarProof(bytes, LEVEL112)).toThrow(DecodeError);
  });

  it('refuses a context without the verifier index, or ρ ∉ Z*_{N₀} (caller errors)', () => {
    const { verifier: _v, ...broadcast } = ctx;
    expect(() => proveMulStar(level, broadcast, aux, stmt, witness)).toThrow(InvalidArgs);
    expect(() => verifyMulStar(level, broadcast, aux, stmt, proof)).toThrow(InvalidArgs);
    for (const rho of [0n, N0, sk.p]) {
      expect(() => proveMulStar(level, ctx, aux, stmt, { x: w, rho })).toThrow(InvalidArgs);
    }
  });

  it('the public-key prover gives the same kind of proof as the CRT prover', () => {
    const p = proveMulStar(level, ctx, aux, stmt, witness, seededRng(`mul-star/pub/${name}`));
    const q = prove(stmt, witness, 'pub'); // same seed through the secret key
    expect(p).toEqual(q);
    expect(verify(p)).toEqual({ ok: true });
  });
});
