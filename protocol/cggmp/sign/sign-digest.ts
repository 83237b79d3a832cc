/**
 * `signDigest`: presign + sign as ONE session (issue 3 "Convenience: signDigest = presign +
 * sign"; CGGMP.md §5.5–5.6).
 *
 * Rounds 1–4 are presigning exactly as in `../presign` (including the echo confirmation of round
 * 4 and the bad-δ procedure); when round 4 completes, every signer consumes the fresh
 * presignature at once and round 5 carries σ_i (`../sign` round 1), round 6 the bad-σ procedure
 * if the signature does not verify. The presignature never leaves the session, so it cannot be
 * reused; its id is still the presign ssid, and the sign ssid binds it together with the digest.
 *
 * One sid for the whole session: computeSessionId with protocol `sign` (the signer set, key,
 * epoch and coordinator nonce as usual), e.g. from {@link signDigestSessionId}. The presign and
 * sign sub-protocols derive distinct ssids from it (different tags, C11/C12).
 * @module
 */
import { InvalidArgs } from '../../errors.js';
import { systemRng, type Rng } from '../../math/sample.js';
import { RoundEngine } from '../../round/engine.js';
import type { AbortInfo, PartyIndex, Protocol, Step } from '../../round/types.js';
import type { KeyShare } from '../key-share.js';
import { presignProtocol, signingSessionId, startPresign } from '../presign/index.js';
import type { Presignature, PresignState } from '../presign/types.js';
import type { EcdsaSignature } from './combine.js';
import { releaseSigma, signProtocol } from './index.js';
import type { SignState } from './types.js';

/** Presign rounds occupy 1..4; sign round r is round PRESIGN_ROUNDS + r. */
const PRESIGN_ROUNDS = 4;

/** The state of a signDigest session. */
export type SignDigestState =
  | { readonly phase: 'presign'; readonly digest: Uint8Array; readonly inner: PresignState }
  | { readonly phase: 'sign'; readonly inner: SignState };

/** The result: the signature and the id of the (consumed) presignature it used. */
export interface SignDigestResult {
  readonly signature: EcdsaSignature;
  readonly presignatureId: string;
}

function shiftAbort(abort: AbortInfo): AbortInfo {
  return { ...abort, protocol: 'sign-digest', round: abort.round + PRESIGN_ROUNDS };
}

/**
 * The composite protocol for the round engine.
 * @param rng randomness of every round after the first (defaults to the system CSPRNG)
 */
export function signDigestProtocol(
  rng: Rng = systemRng
): Protocol<SignDigestState, SignDigestResult> {
  const presign = presignProtocol(rng);
  const sign = signProtocol(rng);
  return {
    name: 'sign-digest',
    round: (s) => (s.phase === 'presign' ? s.inner.round : PRESIGN_ROUNDS + s.inner.round),
    spec: (s) => (s.phase === 'presign' ? presign.spec(s.inner) : sign.spec(s.inner)),
    finalize(info, s, inbox): Step<SignDigestState, SignDigestResult> {
      if (s.phase === 'presign') {
        const step = presign.finalize(info, s.inner, inbox);
        if (step.kind === 'abort')
          return { kind: 'abort', abort: { ...step.abort, protocol: 'sign-digest' } };
        if (step.kind === 'next') {
          return {
            kind: 'next',
            state: { phase: 'presign', digest: s.digest, inner: step.state },
            outgoing: step.outgoing,
          };
        }
        // Presignature complete and confirmed by everyone: consume it now and release σ_i.
        const presignature: Presignature = step.result;
        const share = s.inner.share;
        const first = releaseSigma(share, presignature, s.digest, rng);
        if (first.kind !== 'next') return first as Step<never, never>;
        return {
          kind: 'next',
          state: { phase: 'sign', inner: first.state },
          outgoing: first.outgoing,
        };
      }
      const step = sign.finalize(info, s.inner, inbox);
      if (step.kind === 'abort') return { kind: 'abort', abort: shiftAbort(step.abort) };
      if (step.kind === 'next') {
        return {
          kind: 'next',
          state: { phase: 'sign', inner: step.state },
          outgoing: step.outgoing,
        };
      }
      return {
        kind: 'done',
        result: { signature: step.result, presignatureId: s.inner.presig.id },
        outgoing: step.outgoing,
      };
    },
  };
}

/** What {@link startSignDigest} needs. */
export interface StartSignDigestArgs {
  readonly keyShare: KeyShare;
  readonly signers: readonly PartyIndex[];
  readonly digest: Uint8Array;
  /** The session's sid, e.g. from {@link signDigestSessionId}. */
  readonly sessionId: Uint8Array;
  /** Additive HD tweak δ_HD (see `StartPresignArgs.tweak`); default 0. */
  readonly tweak?: bigint;
  readonly rng?: Rng;
}

/**
 * Start a signDigest session (presign round 1).
 * @throws InvalidArgs as `startPresign`, or if the digest is not 32 bytes
 */
export function startSignDigest(
  args: StartSignDigestArgs
): Step<SignDigestState, SignDigestResult> {
  const { digest } = args;
  if (!(digest instanceof Uint8Array) || digest.length !== 32) {
    throw new InvalidArgs('digest', 'must be exactly 32 bytes');
  }
  const step = startPresign(args);
  if (step.kind === 'abort')
    return { kind: 'abort', abort: { ...step.abort, protocol: 'sign-digest' } };
  if (step.kind === 'done') throw new InvalidArgs('presign', 'cannot finish at start');
  return {
    kind: 'next',
    state: { phase: 'presign', digest: digest.slice(), inner: step.state },
    outgoing: step.outgoing,
  };
}

/**
 * The sid of a signDigest session (C12): protocol `sign`, the signer set, the coordinator nonce
 * (with a non-zero HD tweak folded into it, as `presignSessionId` does).
 * @throws InvalidArgs on invalid inputs
 */
export function signDigestSessionId(
  keyShare: KeyShare,
  signers: readonly PartyIndex[],
  nonce: Uint8Array,
  tweak = 0n
): Uint8Array {
  return signingSessionId('sign', keyShare, signers, nonce, tweak);
}

/** What {@link signDigestEngine} needs. */
export interface SignDigestEngineArgs extends StartSignDigestArgs {
  /** This party's Ed25519 identity secret key (32-byte seed). */
  readonly secretKey: Uint8Array;
}

/**
 * A round engine running presign + sign as one session for this party.
 * @throws InvalidArgs as {@link startSignDigest}
 */
export function signDigestEngine(
  args: SignDigestEngineArgs
): RoundEngine<SignDigestState, SignDigestResult> {
  const rng = args.rng ?? systemRng;
  const first = startSignDigest({ ...args, rng });
  return new RoundEngine(
    signDigestProtocol(rng),
    {
      sessionId: args.sessionId,
      self: args.keyShare.index,
      parties: args.signers,
      rosterKeys: args.keyShare.roster.map((r) => r.publicKey),
      secretKey: args.secretKey,
    },
    first
  );
}
