/**
 * Πsch — Schnorr proof of knowledge of x with X = x·G (CGGMP21 §C.1; CGGMP.md §4.1).
 *
 * - Commit: α ← Z_q, A = α·G (keygen commits to A in an earlier round: {@link schCommit}).
 * - Challenge: e ∈ Z_q from XOF(ctx ‖ E(X) ‖ E(A)) by rejection.
 * - Response: z = α + e·x mod q.
 * - Verify: A ≠ O, X ≠ O, and z·G = A + e·X.
 * Responses live mod q (C6 does not apply to Πsch).
 * @module
 */
import { InvalidArgs } from '../errors.js';
import { decodeAll, encode, type Decoder, type Encoder } from '../hash/encoding.js';
import { G, isIdentity, modQ, mulBase, mulPublic, type Point } from '../math/curve.js';
import { sampleNonZeroScalar, systemRng, type Rng } from '../math/sample.js';
import { fail, OK, proofTranscript, type ProofContext, type VerifyResult } from './common.js';

const NAME = 'sch';

/** Statement: X = x·G. */
export interface SchStatement {
  readonly X: Point;
}
/** Witness: x. */
export interface SchWitness {
  readonly x: bigint;
}
/** The prover's commitment: secret α and public A = α·G. */
export interface SchCommitment {
  readonly alpha: bigint;
  readonly A: Point;
}
/** The proof (A, z). */
export interface SchProof {
  readonly A: Point;
  readonly z: bigint;
}

/** Sample the commitment α, A = α·G. */
export function schCommit(rng: Rng = systemRng): SchCommitment {
  const alpha = sampleNonZeroScalar(rng);
  return { alpha, A: mulBase(alpha) };
}

function challenge(ctx: ProofContext, X: Point, A: Point): bigint {
  const tr = proofTranscript(NAME, ctx);
  tr.enc.point(X).point(A);
  return tr.xof().challengeScalar();
}

/**
 * Respond to the challenge for a given commitment.
 * @throws InvalidArgs if X is the identity or x·G ≠ X.
 */
export function schRespond(
  ctx: ProofContext,
  stmt: SchStatement,
  witness: SchWitness,
  commitment: SchCommitment
): SchProof {
  if (isIdentity(stmt.X) || !mulBase(witness.x).equals(stmt.X)) {
    throw new InvalidArgs('witness.x', 'does not match X');
  }
  const e = challenge(ctx, stmt.X, commitment.A);
  return { A: commitment.A, z: modQ(commitment.alpha + e * witness.x) };
}

/**
 * Prove knowledge of x with X = x·G.
 * @example const proof = proveSch(ctx, { X }, { x }); verifySch(ctx, { X }, proof).ok === true
 */
export function proveSch(
  ctx: ProofContext,
  stmt: SchStatement,
  witness: SchWitness,
  rng: Rng = systemRng
): SchProof {
  return schRespond(ctx, stmt, witness, schCommit(rng));
}

/** Verify Πsch: A ≠ O, X ≠ O, z < q, z·G = A + e·X. */
export function verifySch(ctx: ProofContext, stmt: SchStatement, proof: SchProof): VerifyResult {
  if (isIdentity(stmt.X)) return fail(NAME, 'statement', 'X');
  if (isIdentity(proof.A)) return fail(NAME, 'membership', 'A');
  if (proof.z < 0n || proof.z !== modQ(proof.z)) return fail(NAME, 'range', 'z');
  const e = challenge(ctx, stmt.X, proof.A);
  // z, e are public: the variable-time multiplication is fine here.
  if (!mulPublic(G, proof.z).equals(proof.A.add(mulPublic(stmt.X, e)))) {
    return fail(NAME, 'equation', 'eq1');
  }
  return OK;
}

/** Write a proof into an encoder. */
export function writeSchProof(enc: Encoder, proof: SchProof): void {
  enc.tag('mpcd/cggmp21/v1/zk/sch/proof').point(proof.A).scalar(proof.z);
}
/** Read a proof (strict). */
export function readSchProof(dec: Decoder): SchProof {
  dec.expectTag('mpcd/cggmp21/v1/zk/sch/proof');
  return { A: dec.point('sch.A'), z: dec.scalar('sch.z') };
}
/** Canonical bytes of a proof. */
export function encodeSchProof(proof: SchProof): Uint8Array {
  return encode((e) => writeSchProof(e, proof));
}
/** Parse canonical bytes. @throws DecodeError on any non-canonical input. */
export function decodeSchProof(bytes: Uint8Array): SchProof {
  return decodeAll(bytes, readSchProof);
}
