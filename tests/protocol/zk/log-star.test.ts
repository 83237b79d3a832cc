import { beforeAll, describe, expect, it } from 'vitest';
import { DecodeError, InvalidArgs } from '../../../protocol/errors.js';
import { encode } from '../../../protocol/hash/encoding.js';
import { G, IDENTITY, mulBase, mulPoint, type Point } from '../../../protocol/math/curve.js';
import { sampleNonZeroScalar, samplePmBits, sampleUnit } from '../../../protocol/math/sample.js';
import type { PaillierPublicKey, PaillierSecretKey } from '../../../protocol/paillier/paillier.js';
import {
  ringPedersenPublic,
  type RingPedersenParams,
} from '../../../protocol/paillier/ring-pedersen.js';
import { LEVEL112, type SecurityLevel } from '../../../protocol/params.js';
import { proofTranscript, type ProofContext } from '../../../protocol/zk/common.js';
import {
  decodeLogStarProof,
  encodeLogStarProof,
  logStarResponseBounds,
  proveLogStar,
  verifyLogStar,
  type LogStarProof,
  type LogStarStatement,
} from '../../../protocol/zk/log-star.js';
import { BOTH_LEVELS, fixtureKey, fixtureRingPedersen } from '../../helpers/fixtures.js';
import { seededRng } from '../../helpers/rng.js';

const PROOF_TAG = 'mpcd/cggmp21/v1/zk/log-star/proof';
// ψ′ of presign: Γ_i = γ_i·G against G_i = enc(γ_i).
const ctx: ProofContext = {
  sessionId: new Uint8Array(32).fill(7),
  prover: 0,
  verifier: 1,
  variant: 'gamma',
};

/** The challenge, re-derived here from the documented transcript layout (not the module's code). */
function challengeOf(
  c: ProofContext,
  R: RingPedersenParams,
  s: LogStarStatement,
  p: LogStarProof
): bigint {
  const tr = proofTranscript('log-star', c, R);
  tr.enc.nat(s.key.N).nat(s.C).point(s.X).point(s.B).nat(p.S).nat(p.A).point(p.Y).nat(p.D);
  return tr.xof().challengePm(128);
}

describe.each(BOTH_LEVELS)('Πlog* at %s', (name, level: SecurityLevel) => {
  const rng = seededRng(`log-star/${name}`);
  let sk: PaillierSecretKey; // the prover's key (CRT encryption)
  let pk: PaillierPublicKey; // what the verifier holds
  let aux: RingPedersenParams; // verifier P_1's ring-Pedersen parameters
  let auxOther: RingPedersenParams; // another party's (P_2)
  let x: bigint;
  let rho: bigint;
  let stmt: LogStarStatement; // base G, as the verifier sees it
  let proof: LogStarProof;
  let bounds: { z1: bigint; z3: bigint };

  const verify = (p: Partial<LogStarProof>, s: LogStarStatement = stmt, c = ctx, R = aux) =>
    verifyLogStar(level, c, R, s, { ...proof, ...p });
  const failure = (kind: string, check: string) => ({
    ok: false,
    failure: { proof: 'log-star', kind, check },
  });
  /** An honest-looking proof for an arbitrary (x, B), with C = enc(x; ρ) and X = x·B. */
  const make = (xx: bigint, B: Point, c: ProofContext = ctx) => {
    const r = sampleUnit(rng, sk.N);
    const s: LogStarStatement = { key: pk, C: sk.encrypt(xx, r), X: mulPoint(B, xx), B };
    const p = proveLogStar(level, c, aux, { ...s, key: sk }, { x: xx, rho: r }, rng);
    return { s, p };
  };

  beforeAll(() => {
    sk = fixtureKey(level, 0);
    pk = sk.publicKey();
    aux = ringPedersenPublic(fixtureRingPedersen(level, 1));
    auxOther = ringPedersenPublic(fixtureRingPedersen(level, 2));
    x = sampleNonZeroScalar(rng); // γ_i ∈ Z_q ⊂ ±2^ℓ
    rho = sampleUnit(rng, sk.N);
    stmt = { key: pk, C: sk.encrypt(x, rho), X: mulBase(x), B: G };
    proof = proveLogStar(level, ctx, aux, { ...stmt, key: sk }, { x, rho }, rng);
    bounds = logStarResponseBounds(level, aux.N);
  });

  it('an honest proof verifies (public key) and survives encode → decode', () => {
    expect(verifyLogStar(level, ctx, aux, stmt, proof)).toEqual({ ok: true });
    const bytes = encodeLogStarProof(proof);
    const again = decodeLogStarProof(bytes, level);
    expect(encodeLogStarProof(again)).toEqual(bytes);
    expect(again.Y.equals(proof.Y)).toBe(true);
    expect(verifyLogStar(level, ctx, aux, stmt, again)).toEqual({ ok: true });
  });

  it('works with a base Γ ≠ G under the delta variant (ψ″: Δ = k·Γ vs K)', () => {
    const Gamma = mulBase(sampleNonZeroScalar(rng));
    const dctx = { ...ctx, variant: 'delta' };
    // A negative x of full size ℓ also works: z1 is an integer, x·B reduces mod q.
    for (const xx of [sampleNonZeroScalar(rng), -(1n << BigInt(level.ell))]) {
      const { s, p } = make(xx, Gamma, dctx);
      expect(verifyLogStar(level, dctx, aux, s, p)).toEqual({ ok: true });
      // The same proof against base G (with X re-derived) fails.
      expect(verifyLogStar(level, dctx, aux, { ...s, B: G, X: mulBase(xx) }, p).ok).toBe(false);
    }
  });

  it('a proof under variant gamma fails under delta (C11) and vice versa', () => {
    expect(verify({}, stmt, { ...ctx, variant: 'delta' })).toMatchObject(
      failure('equation', 'eq1')
    );
    const dctx = { ...ctx, variant: 'delta' };
    const { s, p } = make(x, G, dctx);
    expect(verifyLogStar(level, dctx, aux, s, p)).toEqual({ ok: true });
    expect(verifyLogStar(level, ctx, aux, s, p).ok).toBe(false);
  });

  it.each<[string, (p: LogStarProof, N0: bigint, Nh: bigint) => Partial<LogStarProof>, string]>([
    ['S', (p, _n, Nh) => ({ S: (p.S * 4n) % Nh }), 'eq1'], // changes e
    ['A', (p, N0) => ({ A: (p.A * (1n + N0)) % (N0 * N0) }), 'eq1'],
    ['Y', (p) => ({ Y: p.Y.add(G) }), 'eq1'], // changes e
    ['D', (p, _n, Nh) => ({ D: (p.D * 4n) % Nh }), 'eq1'], // changes e
    ['z1', (p) => ({ z1: p.z1 + 1n }), 'eq1'],
    ['z2', (p, N0) => ({ z2: (p.z2 * 4n) % N0 }), 'eq1'],
    ['z3', (p) => ({ z3: p.z3 + 1n }), 'eq3'],
  ])('a tampered %s fails the equation %s', (_f, tamper, eq) => {
    expect(verify(tamper(proof, sk.N, aux.N))).toMatchObject(failure('equation', eq));
  });

  it('rejects elements outside their groups as membership failures', () => {
    const N0 = sk.N;
    expect(verify({ A: 0n })).toMatchObject(failure('membership', 'A'));
    expect(verify({ A: N0 * N0 })).toMatchObject(failure('membership', 'A'));
    expect(verify({ A: sk.q * 3n })).toMatchObject(failure('membership', 'A'));
    expect(verify({ S: aux.N })).toMatchObject(failure('membership', 'S'));
    expect(verify({ S: fixtureKey(level, 1).p })).toMatchObject(failure('membership', 'S'));
    expect(verify({ D: 0n })).toMatchObject(failure('membership', 'D'));
    expect(verify({ D: proof.D + aux.N })).toMatchObject(failure('membership', 'D'));
    expect(verify({ Y: IDENTITY })).toMatchObject(failure('membership', 'Y'));
    expect(verify({ z2: 0n })).toMatchObject(failure('membership', 'z2'));
    expect(verify({ z2: N0 + proof.z2 })).toMatchObject(failure('membership', 'z2'));
    expect(verify({ z2: sk.p })).toMatchObject(failure('membership', 'z2'));
  });

  it('rejects a malformed statement (C ∉ Z*_{N₀²}, X or B = O, N₀ of the wrong size)', () => {
    const N2 = sk.N * sk.N;
    for (const C of [0n, N2, N2 + stmt.C, sk.p * 1234567n, (sk.q * stmt.C) % N2]) {
      expect(verify({}, { ...stmt, C })).toMatchObject(failure('statement', 'C'));
    }
    expect(verify({}, { ...stmt, X: IDENTITY })).toMatchObject(failure('statement', 'X'));
    expect(verify({}, { ...stmt, B: IDENTITY })).toMatchObject(failure('statement', 'B'));
    const otherLevel = level === LEVEL112 ? BOTH_LEVELS[1]![1] : LEVEL112;
    const key = fixtureKey(otherLevel, 0).publicKey();
    expect(verify({}, { ...stmt, key, C: stmt.C % key.N2 })).toMatchObject(
      failure('statement', 'N0')
    );
  });

  it('a statement with X ≠ x·B fails eq2 (SECURITY.md test 17/18: Γ_j or Δ_j inconsistent)', () => {
    // The prover encrypts x but claims X = (x+1)·B: the Paillier side holds, the group side fails.
    const bad = { ...stmt, X: mulBase(x + 1n) };
    const p = proveLogStar(level, ctx, aux, { ...bad, key: sk }, { x, rho }, rng);
    expect(verifyLogStar(level, ctx, aux, bad, p)).toMatchObject(failure('equation', 'eq2'));
    // The honest proof against another X or another B: the challenge changes.
    expect(verify({}, { ...stmt, X: mulBase(x + 1n) })).toMatchObject(failure('equation', 'eq1'));
    expect(verify({}, { ...stmt, B: mulBase(2n) })).toMatchObject(failure('equation', 'eq1'));
  });

  it('fails for a different (valid) ciphertext C', () => {
    const C2 = sk.encrypt(x, sampleUnit(rng, sk.N));
    expect(verify({}, { ...stmt, C: C2 })).toMatchObject(failure('equation', 'eq1'));
  });

  it('derives e ∈ ±Q from E(ctx, R, N₀, C, X, B, S, A, Y, D) exactly (CGGMP.md §2.3)', () => {
    const e = challengeOf(ctx, aux, stmt, proof);
    expect(e >= -(1n << 128n) && e <= 1n << 128n).toBe(true);
    expect(pk.encrypt(proof.z1, proof.z2)).toBe(pk.add(proof.A, pk.mul(e, stmt.C)));
    expect(mulPoint(G, proof.z1).equals(proof.Y.add(mulPoint(stmt.X, e)))).toBe(true);
  });

  it('is bound to C: a proof does not carry over to −C (same plaintext) even when e is even', () => {
    let s = stmt;
    let p = proof;
    while (challengeOf(ctx, aux, s, p) % 2n !== 0n) ({ s, p } = make(x, G));
    const minusC = pk.N2 - s.C; // = enc(x; N₀ − ρ)
    expect(verifyLogStar(level, ctx, aux, { ...s, C: minusC }, p)).toMatchObject(
      failure('equation', 'eq1')
    );
  });

  it.each<[string, Partial<ProofContext>]>([
    ['session id', { sessionId: new Uint8Array(32).fill(8) }],
    ['prover index', { prover: 2 }],
    ['verifier index', { verifier: 2 }],
  ])('is bound to the %s', (_f, patch) => {
    expect(verify({}, stmt, { ...ctx, ...patch })).toMatchObject({ ok: false });
  });

  it("a proof for P_1's ring-Pedersen parameters is rejected by P_2", () => {
    expect(verify({}, stmt, { ...ctx, verifier: 2 }, auxOther).ok).toBe(false);
    expect(verify({}, stmt, ctx, auxOther).ok).toBe(false);
  });

  it('an out-of-range witness gives a proof rejected at range z1', () => {
    for (const bad of [sk.N / 2n, 1n << BigInt(level.ell + level.epsilon + 2)]) {
      const { s, p } = make(bad, G);
      expect(verifyLogStar(level, ctx, aux, s, p)).toMatchObject(failure('range', 'z1'));
    }
  });

  it('z1 range is exact: ±2^{ℓ+ε} reaches the equations, ±(2^{ℓ+ε}+1) is a range failure', () => {
    const B = bounds.z1;
    expect(B).toBe(1n << BigInt(level.ell + level.epsilon));
    expect(verify({ z1: B })).toMatchObject(failure('equation', 'eq1'));
    expect(verify({ z1: -B })).toMatchObject(failure('equation', 'eq1'));
    expect(verify({ z1: B + 1n })).toMatchObject(failure('range', 'z1'));
    expect(verify({ z1: -B - 1n })).toMatchObject(failure('range', 'z1'));
  });

  it('z3 bound (C17) is 2^{ℓ+ε}·N̂ + Q·2^ℓ·N̂: at it an equation fails, past it a bound failure', () => {
    const W = bounds.z3;
    expect(W).toBe((1n << BigInt(level.ell + level.epsilon)) * aux.N + (1n << 384n) * aux.N);
    expect(verify({ z3: W })).toMatchObject(failure('equation', 'eq3'));
    expect(verify({ z3: -W })).toMatchObject(failure('equation', 'eq3'));
    expect(verify({ z3: W + 1n })).toMatchObject(failure('bound', 'z3'));
    expect(verify({ z3: -W - 1n })).toMatchObject(failure('bound', 'z3'));
  });

  it('the decoder bounds every integer by the level', () => {
    const n = level.modulusBits;
    const z1Bits = level.ell + level.epsilon + 1;
    const z3Bits = n + level.ell + level.epsilon + 1;
    const tooBig: Array<Partial<LogStarProof>> = [
      { S: 1n << BigInt(n) },
      { A: 1n << BigInt(2 * n) },
      { D: 1n << BigInt(n) },
      { z1: 1n << BigInt(z1Bits) },
      { z2: 1n << BigInt(n) },
      { z3: -(1n << BigInt(z3Bits)) },
    ];
    for (const patch of tooBig) {
      const bytes = encodeLogStarProof({ ...proof, ...patch });
      expect(() => decodeLogStarProof(bytes, level)).toThrow(DecodeError);
    }
    const z3Max = (1n << BigInt(z3Bits)) - 1n;
    const inside = decodeLogStarProof(encodeLogStarProof({ ...proof, z3: z3Max }), level);
    expect(verifyLogStar(level, ctx, aux, stmt, inside)).toMatchObject(failure('bound', 'z3'));
  });

  it('rejects non-canonical encodings (truncated, trailing, tag, identity Y, −0)', () => {
    const bytes = encodeLogStarProof(proof);
    expect(() => decodeLogStarProof(bytes.subarray(0, bytes.length - 1), level)).toThrow(
      DecodeError
    );
    expect(() => decodeLogStarProof(new Uint8Array([...bytes, 0]), level)).toThrow(DecodeError);
    const badTag = bytes.slice();
    badTag[10] = badTag[10]! ^ 1; // inside the tag text
    expect(() => decodeLogStarProof(badTag, level)).toThrow(DecodeError);
    // Y at its offset: the identity (0x00) and a bad prefix are refused by the decoder.
    const yAt = encode((e) => e.tag(PROOF_TAG).nat(proof.S).nat(proof.A)).length;
    const badY = bytes.slice();
    badY[yAt] = 0x04;
    expect(() => decodeLogStarProof(badY, level)).toThrow(DecodeError);
    const idY = new Uint8Array([...bytes.subarray(0, yAt), 0, ...bytes.subarray(yAt + 33)]);
    expect(() => decodeLogStarProof(idY, level)).toThrow(DecodeError);
    // z1 = 0 has sign byte 0; "−0" is refused (C11).
    const zero = encodeLogStarProof({ ...proof, z1: 0n });
    const z1At = yAt + 33 + encode((e) => e.nat(proof.D)).length;
    expect(zero[z1At]).toBe(0);
    zero[z1At] = 1;
    expect(() => decodeLogStarProof(zero, level)).toThrow(DecodeError);
  });

  it('refuses a context without the verifier index or a presign variant (caller error)', () => {
    const { verifier: _v, ...noVerifier } = ctx;
    const { variant: _w, ...noVariant } = ctx;
    for (const c of [noVerifier, noVariant, { ...ctx, variant: 'chi' }]) {
      expect(() => proveLogStar(level, c, aux, { ...stmt, key: sk }, { x, rho }, rng)).toThrow(
        InvalidArgs
      );
      expect(() => verifyLogStar(level, c, aux, stmt, proof)).toThrow(InvalidArgs);
    }
  });

  it('X and C of different plaintexts (SECURITY.md test 18: Δ_j ≠ k_j·Γ) is rejected', () => {
    // K encrypts k, but Δ = k'·Γ for k' ≠ k; the prover proves with k (consistent with K).
    const Gamma = mulBase(sampleNonZeroScalar(rng));
    const dctx = { ...ctx, variant: 'delta' };
    const k = samplePmBits(rng, level.ell);
    const r = sampleUnit(rng, sk.N);
    const s = { key: pk, C: sk.encrypt(k, r), X: mulPoint(Gamma, k + 5n), B: Gamma };
    const p = proveLogStar(level, dctx, aux, { ...s, key: sk }, { x: k, rho: r }, rng);
    expect(verifyLogStar(level, dctx, aux, s, p)).toMatchObject(failure('equation', 'eq2'));
    // Proving with k' instead (consistent with Δ) breaks the Paillier equation.
    const p2 = proveLogStar(level, dctx, aux, { ...s, key: sk }, { x: k + 5n, rho: r }, rng);
    expect(verifyLogStar(level, dctx, aux, s, p2)).toMatchObject(failure('equation', 'eq1'));
  });
});
