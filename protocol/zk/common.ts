/**
 * Shared machinery of the zero-knowledge proofs (CGGMP.md §2.3–2.4, §4; corrections C10, C11, C17).
 *
 * - {@link ProofContext}: what every proof is bound to — the session id (sid or ssid, C12), the
 *   prover's roster index, the verifier's index for per-recipient proofs (⊥ for broadcast proofs),
 *   and an optional variant that separates two uses of one proof (C11: ψ vs ψ̂, ψ′ vs ψ″).
 * - {@link proofTranscript}: ctx = E(tag, sid, prover, verifier or ⊥, verifier's R or ⊥); the
 *   challenge is XOF(ctx ‖ E(statement) ‖ E(first message)).
 * - {@link VerifyResult}: verification never returns a bare boolean; a failure names the proof, the
 *   kind of check and which one (STYLE.md habit 8).
 * @module
 */
import { InvalidArgs } from '../errors.js';
import { bitLength } from '../math/bytes.js';
import { gcd, modPow } from '../math/modular.js';
import { rpCommit, type RingPedersenParams } from '../paillier/ring-pedersen.js';
import { TAG_PREFIX, Transcript } from '../hash/transcript.js';
import type { SecurityLevel } from '../params.js';

/** Where a proof is made: session, prover, verifier (per-recipient proofs), variant. */
export interface ProofContext {
  /** The sid or ssid the proof is bound to (32 bytes, C12). */
  readonly sessionId: Uint8Array;
  /** The prover's roster index (CGGMP.md Decisions: the index in the key's roster). */
  readonly prover: number;
  /** The verifier's roster index for a proof made for one recipient; absent for broadcast proofs. */
  readonly verifier?: number;
  /** Distinguishes two uses of one proof (e.g. `gamma` / `delta` for Πlog*, C11). */
  readonly variant?: string;
}

/** The kind of check a proof failed. */
export type FailureKind =
  /** a verification equation does not hold */
  | 'equation'
  /** a response is outside its exact range (the paper's range checks, CGGMP.md Decisions) */
  | 'range'
  /** an element is not in its group (Z*_N, Z*_N², curve point ≠ O, …) */
  | 'membership'
  /** a vector has the wrong length (m for Πmod/Πprm) */
  | 'length'
  /** an integer the paper leaves unchecked exceeds its honest range × (Q+1) (C17) */
  | 'bound'
  /** the statement itself is malformed (e.g. N even or prime) */
  | 'statement';

/** A verification failure: which proof, which kind of check, which check. */
export interface ProofFailure {
  readonly proof: string;
  readonly kind: FailureKind;
  /** A stable, short name of the failed check, e.g. `eq1`, `z1`, `A`, `jacobi-w`. */
  readonly check: string;
}

/** Result of verifying a proof. */
export type VerifyResult =
  { readonly ok: true } | { readonly ok: false; readonly failure: ProofFailure };

/** The success value. */
export const OK: VerifyResult = Object.freeze({ ok: true });

/** Build a failure. */
export function fail(proof: string, kind: FailureKind, check: string): VerifyResult {
  return { ok: false, failure: { proof, kind, check } };
}

/** Thrown by {@link assertValid} when a caller prefers an exception. */
export class InvalidProof extends Error {
  override readonly name = 'InvalidProof';
  constructor(readonly failure: ProofFailure) {
    super(`proof ${failure.proof} failed its ${failure.kind} check ${failure.check}`);
  }
}

/** Throw {@link InvalidProof} unless the result is ok. */
export function assertValid(result: VerifyResult): void {
  if (!result.ok) throw new InvalidProof(result.failure);
}

/** The full tag of a proof: `mpcd/cggmp21/v1/zk/<proof>[/<variant>]`. */
export function proofTag(proof: string, variant?: string): string {
  if (variant !== undefined && !/^[a-z0-9-]+$/.test(variant)) {
    throw new InvalidArgs('variant', 'must be lower-case letters, digits or dashes');
  }
  return `${TAG_PREFIX}zk/${proof}${variant === undefined ? '' : '/' + variant}`;
}

/**
 * The Fiat–Shamir transcript of a proof, already holding ctx (CGGMP.md §2.3):
 * E(tag, sessionId, prover, verifier or ⊥, verifier's (N̂, s, t) or ⊥). The caller appends the
 * statement and the first message, then draws the challenge from `xof()`.
 * @throws InvalidArgs if the session id is not 32 bytes or an index is not a u32.
 */
export function proofTranscript(
  proof: string,
  ctx: ProofContext,
  verifierAux?: RingPedersenParams
): Transcript {
  if (ctx.sessionId.length !== 32) throw new InvalidArgs('ctx.sessionId', 'must be 32 bytes');
  const tr = new Transcript(proofTag(proof, ctx.variant));
  tr.enc
    .bytes(ctx.sessionId)
    .u32(ctx.prover)
    .option(ctx.verifier, (e, v) => e.u32(v))
    .option(verifierAux, (e, R) => e.nat(R.N).nat(R.s).nat(R.t));
  return tr;
}

/** 2^bits as a bigint. */
export function pow2(bits: number): bigint {
  return 1n << BigInt(bits);
}

/** |x| ≤ bound (the exact range check: accept bound, reject bound + 1). */
export function inPm(x: bigint, bound: bigint): boolean {
  return (x < 0n ? -x : x) <= bound;
}

/** x ∈ Z*_N: 0 < x < N and gcd(x, N) = 1. */
export function isUnitMod(x: bigint, N: bigint): boolean {
  return x > 0n && x < N && gcd(x, N) === 1n;
}

/** Q = 2^{log₂Q} of the level (C10). */
export function challengeBound(level: SecurityLevel): bigint {
  return pow2(level.challengeBits);
}

/**
 * C17's bound for an integer response r = a + e·w that the paper leaves unchecked: with a sampled
 * from ±A and w bounded by W, an honest r satisfies |r| ≤ A + Q·W. Verifiers reject anything
 * larger, which stops oversized-exponent denial of service and costs honest provers nothing.
 */
export function responseBound(level: SecurityLevel, A: bigint, W: bigint): bigint {
  return A + challengeBound(level) * W;
}

/** Bits needed for a signed integer bounded by `bound` (decoder limits). */
export function boundBits(bound: bigint): number {
  return bound.toString(2).length;
}

/**
 * C17's bound on a ring-Pedersen randomness response z = γ + e·μ with γ ← ±2^{ℓ+ε}·N̂ and
 * μ ← ±2^ℓ·N̂ (z3 of Πenc/Πlog*, z3 and z4 of Πaff-g): 2^{ℓ+ε}·N̂ + Q·2^ℓ·N̂.
 */
export function rpResponseBound(level: SecurityLevel, Nhat: bigint): bigint {
  return responseBound(level, pow2(level.ell + level.epsilon) * Nhat, pow2(level.ell) * Nhat);
}

/** The ring-Pedersen verification equation s^{z}·t^{w} ≡ C·S^e (mod N̂) of §4.5–4.7. */
export function rpEquationHolds(
  R: RingPedersenParams,
  z: bigint,
  w: bigint,
  C: bigint,
  S: bigint,
  e: bigint
): boolean {
  return rpCommit(R, z, w) === (C * modPow(S, e, R.N)) % R.N;
}

/**
 * Whether M is odd with 8κ−1 or 8κ bits: the level's window for a Paillier or ring-Pedersen
 * modulus (C17). Proofs re-check it as a cheap backstop (peer keys are validated at aux-info
 * time): the no-wrap conditions of C9 and the decoders' size limits assume it.
 */
export function inModulusWindow(level: SecurityLevel, M: bigint): boolean {
  const bits = bitLength(M);
  return (M & 1n) === 1n && bits >= level.modulusBits - 1 && bits <= level.modulusBits;
}

/**
 * Caller contract of a per-recipient proof: the verifier's index is bound with its R_j, so it
 * must be named; where a proof has two uses (C11), the variant must be one of them.
 * @throws InvalidArgs otherwise (a bug in the caller, never the prover's fault).
 */
export function requirePerRecipient(
  proof: string,
  ctx: ProofContext,
  variants?: readonly string[]
): void {
  if (ctx.verifier === undefined) {
    throw new InvalidArgs(
      'ctx.verifier',
      `${proof} is per-recipient: the verifier index is required`
    );
  }
  if (variants && (ctx.variant === undefined || !variants.includes(ctx.variant))) {
    throw new InvalidArgs(
      'ctx.variant',
      `${proof} needs the variant ${variants.join(' or ')} (C11)`
    );
  }
}
