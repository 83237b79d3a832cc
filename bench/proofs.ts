/**
 * Prove / verify time of every proof at both levels, and the per-peer aux-info verification cost
 * (Πmod + Πprm + Πfac of one peer at level128: every party pays it once per peer at keygen).
 * Material comes from the test-only fixtures; witnesses are sampled as the protocol would.
 */
import { G, modQ, mulBase } from '../protocol/math/curve.js';
import { XofStream } from '../protocol/hash/transcript.js';
import {
  sampleNonZeroScalar,
  samplePmBits,
  sampleUnit,
  type Rng,
} from '../protocol/math/sample.js';
import type { PaillierSecretKey } from '../protocol/paillier/paillier.js';
import type { RingPedersenSecret } from '../protocol/paillier/ring-pedersen.js';
import { decBoundBits, LEVEL112, LEVEL128, type SecurityLevel } from '../protocol/params.js';
import { proveAffG, verifyAffG, encodeAffGProof } from '../protocol/zk/aff-g.js';
import { assertValid, type ProofContext, type VerifyResult } from '../protocol/zk/common.js';
import { proveEnc, verifyEnc, encodeEncProof } from '../protocol/zk/enc.js';
import { proveFac, verifyFac, encodeFacProof } from '../protocol/zk/fac.js';
import { proveLogStar, verifyLogStar, encodeLogStarProof } from '../protocol/zk/log-star.js';
import { proveMod, verifyMod, encodeModProof } from '../protocol/zk/mod.js';
import { provePrm, verifyPrm, encodePrmProof } from '../protocol/zk/prm.js';
import { proveSch, verifySch, encodeSchProof } from '../protocol/zk/sch.js';
import { proveMul, verifyMul, encodeMulProof } from '../protocol/zk/mul.js';
import { proveMulStar, verifyMulStar, encodeMulStarProof } from '../protocol/zk/mul-star.js';
import { proveDec, verifyDec, encodeDecProof } from '../protocol/zk/dec.js';
import { fixtureKey, fixtureRingPedersen } from '../tests/helpers/fixtures.js';
import { measure, note, QUICK, report, round } from './harness.js';

interface Party {
  key: PaillierSecretKey;
  rp: RingPedersenSecret;
}

function bench(
  level: SecurityLevel,
  proof: string,
  prove: () => unknown,
  verify: (p: never) => VerifyResult,
  encode: (p: never) => Uint8Array,
  heavy = false
): void {
  note(`${proof} ${level.name}`);
  const opts = heavy ? { samples: QUICK ? 1 : 3, minSampleMs: 0 } : {};
  const sample = prove() as never;
  assertValid(verify(sample));
  const p = measure(prove, opts);
  const v = measure(() => verify(sample), opts);
  report({
    bench: 'proof',
    proof,
    level: level.name,
    proveMs: round(p.medianMs, 2),
    verifyMs: round(v.medianMs, 2),
    bytes: encode(sample).length,
  });
}

export function benchProofs(): void {
  const rng: Rng = new XofStream(new TextEncoder().encode('bench/proofs')).rng;
  for (const level of [LEVEL112, LEVEL128]) {
    const prover: Party = { key: fixtureKey(level, 0), rp: fixtureRingPedersen(level, 0) };
    const verifier: Party = { key: fixtureKey(level, 1), rp: fixtureRingPedersen(level, 1) };
    const ctx: ProofContext = { sessionId: new Uint8Array(32).fill(1), prover: 0, verifier: 1 };
    const bctx: ProofContext = { sessionId: ctx.sessionId, prover: 0 };
    const aux = verifier.rp;
    const pk = prover.key;

    const x = sampleNonZeroScalar(rng);
    const X = mulBase(x);
    bench(
      level,
      'sch',
      () => proveSch(bctx, { X }, { x }, rng),
      (p) => verifySch(bctx, { X }, p),
      encodeSchProof
    );

    bench(
      level,
      'mod',
      () => proveMod(level, bctx, { N: pk.N }, pk, rng),
      (p) => verifyMod(level, bctx, { N: pk.N }, p),
      encodeModProof,
      true
    );
    const prmWitness = { lambda: prover.rp.lambda, phi: prover.rp.phi, key: pk };
    bench(
      level,
      'prm',
      () => provePrm(level, bctx, prover.rp, prmWitness, rng),
      (p) => verifyPrm(level, bctx, prover.rp, p),
      encodePrmProof,
      true
    );
    bench(
      level,
      'fac',
      () => proveFac(level, ctx, aux, { N0: pk.N }, pk, rng),
      (p) => verifyFac(level, ctx, aux, { N0: pk.N }, p),
      encodeFacProof
    );

    // Πenc on K = enc(k; ρ), k a scalar (presign round 1).
    const k = sampleNonZeroScalar(rng);
    const rho = sampleUnit(rng, pk.N);
    const K = pk.encrypt(k, rho);
    bench(
      level,
      'enc',
      () => proveEnc(level, ctx, aux, { key: pk, K }, { k, rho }, rng),
      (p) => verifyEnc(level, ctx, aux, { key: pk.publicKey(), K }, p),
      encodeEncProof
    );

    // Πlog* on (G_i, Γ_i) with base G (presign round 2).
    const g = sampleNonZeroScalar(rng);
    const nu = sampleUnit(rng, pk.N);
    const Gi = pk.encrypt(g, nu);
    const ls = { ...ctx, variant: 'gamma' };
    const lsStmt = { key: pk, C: Gi, X: mulBase(g), B: G };
    bench(
      level,
      'log-star',
      () => proveLogStar(level, ls, aux, lsStmt, { x: g, rho: nu }, rng),
      (p) => verifyLogStar(level, ls, aux, { ...lsStmt, key: pk.publicKey() }, p),
      encodeLogStarProof
    );

    // Πaff-g on D_{j,i} = (γ_i ⊙ K_j) ⊕ enc_j(−β; s), F = enc_i(−β; r) (presign round 2, C3).
    const vk = verifier.key.publicKey();
    const Kj = vk.encrypt(sampleNonZeroScalar(rng), sampleUnit(rng, vk.N));
    const beta = samplePmBits(rng, level.ellPrime);
    const s = sampleUnit(rng, vk.N);
    const r = sampleUnit(rng, pk.N);
    const D = vk.add(vk.mul(g, Kj), vk.encrypt(-beta, s));
    const F = pk.encrypt(-beta, r);
    const ag = { ...ctx, variant: 'delta' };
    const agStmt = { key0: vk, key1: pk, C: Kj, D, Y: F, X: mulBase(g) };
    bench(
      level,
      'aff-g',
      () => proveAffG(level, ag, aux, agStmt, { x: g, y: -beta, rho: s, rhoY: r }, rng),
      (p) => verifyAffG(level, ag, aux, { ...agStmt, key1: pk.publicKey() }, p),
      encodeAffGProof
    );

    // Identifiable-abort proofs. Πmul: H = (k ⊙ G_i)·ρ^N encrypts the integer k·γ (C6).
    const kRho = sampleUnit(rng, pk.N);
    const Ki = pk.encrypt(k, kRho);
    const hRho = sampleUnit(rng, pk.N);
    const H = pk.add(pk.mul(k, Gi), pk.encrypt(0n, hRho));
    const mulStmt = { key: pk, X: Ki, Y: Gi, C: H };
    bench(
      level,
      'mul',
      () => proveMul(level, bctx, mulStmt, { x: k, rhoX: kRho, rho: hRho }, rng),
      (p) => verifyMul(level, bctx, { ...mulStmt, key: pk.publicKey() }, p),
      encodeMulProof
    );
    // Πmul*: Ĥ = (w ⊙ K_i)·ρ̂^N with W = w·G.
    const w = sampleNonZeroScalar(rng);
    const hatRho = sampleUnit(rng, pk.N);
    const Hhat = pk.add(pk.mul(w, Ki), pk.encrypt(0n, hatRho));
    const msStmt = { key: pk, C: Ki, D: Hhat, X: mulBase(w) };
    bench(
      level,
      'mul-star',
      () => proveMulStar(level, ctx, aux, msStmt, { x: w, rho: hatRho }, rng),
      (p) => verifyMulStar(level, ctx, aux, { ...msStmt, key: pk.publicKey() }, p),
      encodeMulStarProof
    );
    // Πdec on a large plaintext, as in the bad-σ abort (B_y for t = 3).
    const yBits = decBoundBits(level, 'sigma', 3);
    const y = samplePmBits(rng, yBits - 1);
    const dRho = sampleUnit(rng, pk.N);
    const U = pk.encrypt(y, dRho);
    const dctx = { ...ctx, variant: 'sigma' };
    const decStmt = { key: pk, C: U, x: modQ(y), yBits };
    bench(
      level,
      'dec',
      () => proveDec(level, dctx, aux, decStmt, { y, rho: dRho }, rng),
      (p) => verifyDec(level, dctx, aux, { ...decStmt, key: pk.publicKey() }, p),
      encodeDecProof
    );
  }
}

/**
 * What one party pays per peer in aux-info round 3 at level128: verify the peer's Πmod and Πprm
 * (about its own modulus) and its Πfac made for us. Issue 2 target: ≤ 1.5 s, single thread.
 */
export function benchPeerVerify(): void {
  const rng: Rng = new XofStream(new TextEncoder().encode('bench/peer')).rng;
  const level = LEVEL128;
  const peer = { key: fixtureKey(level, 2), rp: fixtureRingPedersen(level, 2) };
  const me = fixtureRingPedersen(level, 3);
  const ctx: ProofContext = { sessionId: new Uint8Array(32).fill(2), prover: 2 };
  const fctx: ProofContext = { ...ctx, verifier: 3 };
  note('peer-verify level128: proving');
  const mod = proveMod(level, ctx, { N: peer.key.N }, peer.key, rng);
  const prm = provePrm(
    level,
    ctx,
    peer.rp,
    { lambda: peer.rp.lambda, phi: peer.rp.phi, key: peer.key },
    rng
  );
  const fac = proveFac(level, fctx, me, { N0: peer.key.N }, peer.key, rng);
  note('peer-verify level128: verifying');
  const parts = { mod: 0, prm: 0, fac: 0 };
  const once = (): void => {
    let t = performance.now();
    assertValid(verifyMod(level, ctx, { N: peer.key.N }, mod));
    parts.mod = performance.now() - t;
    t = performance.now();
    assertValid(verifyPrm(level, ctx, peer.rp, prm));
    parts.prm = performance.now() - t;
    t = performance.now();
    assertValid(verifyFac(level, fctx, me, { N0: peer.key.N }, fac));
    parts.fac = performance.now() - t;
  };
  const total = measure(once, { samples: QUICK ? 1 : 3, minSampleMs: 0 });
  report({
    bench: 'peer-verify',
    level: level.name,
    totalMs: round(total.medianMs, 1),
    lastModMs: round(parts.mod, 1),
    lastPrmMs: round(parts.prm, 1),
    lastFacMs: round(parts.fac, 1),
    targetMs: 1500,
  });
}
