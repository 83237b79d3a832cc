/**
 * CGGMP21 presigning for a signer set S of size t (CGGMP.md Decisions, §5.4–5.5, §5.7; corrections
 * C1, C3, C6–C8, C12, C13; SECURITY.md §1.4, §1.10, §1.13).
 *
 * Rounds (all messages are signed envelopes; B-echo rounds are echo-checked by the engine in the
 * following round, C8):
 * 1. broadcast (B-echo) nonce_i, δ_HD, K_i, G_i; p2p Πenc for each P_j (`round1.ts`);
 * 2. broadcast (B-echo) Γ_i, F_{j,i}, F̂_{j,i}; p2p D_{j,i}, Πaff-g/delta, Πlog* (gamma) (`round1.ts`
 *    finalize);
 * 3. broadcast (B-echo) δ_i, Δ_i; p2p D̂_{j,i}, Πaff-g/chi, Πlog* (delta) (`round2.ts` finalize);
 * 4. the echo confirmation (empty body), or the bad-δ procedure (`round3.ts`, `bad-delta.ts`);
 *    `round4.ts` outputs the {@link Presignature} or aborts naming every culprit.
 *
 * Before round 1, Σ_{j∈S} λ_j·X_j = pk is checked (§5.4, SECURITY.md §3 case 24): a mismatch means
 * corrupted key data or an inconsistent signer set and aborts without a culprit.
 *
 * An optional additive HD tweak δ_HD (§5.4, C16) makes the presignature sign for pk + δ_HD·G.
 * No reveal procedure (C13) is implemented: only the Πmul/Πdec procedure runs after a bad δ.
 * Deviations from CGGMP.md (message placement, bundled abort proofs): docs/presign-sign.md.
 * @module
 */
import { InvalidArgs } from '../../errors.js';
import { computeSessionId } from '../../hash/session-id.js';
import { hashTagged, TAG_PREFIX } from '../../hash/transcript.js';
import { CURVE_ORDER, isIdentity } from '../../math/curve.js';
import { systemRng, type Rng } from '../../math/sample.js';
import { levelByName } from '../../params.js';
import { abortStep } from '../../round/blame.js';
import { RoundEngine } from '../../round/engine.js';
import type { PartyIndex, Protocol, Step } from '../../round/types.js';
import { KEY_SHARE_VERSION, type KeyShare } from '../key-share.js';
import { SigningContext } from './context.js';
import { finalizeRound1, PRESIGN, startRound1 } from './round1.js';
import { finalizeRound2 } from './round2.js';
import { finalizeRound3 } from './round3.js';
import { finalizeRound4 } from './round4.js';
import type { Presignature, PresignState } from './types.js';

export type { Presignature, PresignState } from './types.js';

/**
 * The presign protocol for the round engine. Randomness of the later rounds comes from `rng`
 * (never from a seed kept in the persisted state: replaying a round from a snapshot with other
 * inputs must not reuse proof masks).
 * @param rng the randomness source of rounds 2–4 (defaults to the system CSPRNG)
 */
export function presignProtocol(rng: Rng = systemRng): Protocol<PresignState, Presignature> {
  // One session's context, reused across its rounds while the state carries the same key share
  // (saves rebuilding the CRT contexts and W_j each round; never shared between sessions).
  let memo: SigningContext | undefined;
  const contextFor = (share: KeyShare, signers: readonly PartyIndex[], tweak: bigint) => {
    const same =
      memo?.share === share &&
      memo.tweak === tweak &&
      memo.signers.length === signers.length &&
      memo.signers.every((j, k) => j === signers[k]);
    if (!same) memo = new SigningContext(share, signers, tweak);
    return memo!;
  };
  return {
    name: PRESIGN,
    round: (s) => s.round,
    spec: (s) =>
      s.round === 4
        ? { broadcast: true, p2p: false, echo: false }
        : { broadcast: true, p2p: true, echo: true },
    finalize(info, s, inbox) {
      const tweak = s.round === 4 && s.mode === 'confirm' ? s.presignature.tweak : s.tweak;
      const ctx = contextFor(s.share, s.signers, tweak);
      switch (s.round) {
        case 1:
          return finalizeRound1(ctx, info, s, inbox, rng);
        case 2:
          return finalizeRound2(ctx, info, s, inbox, rng);
        case 3:
          return finalizeRound3(ctx, info, s, inbox, rng);
        case 4:
          return finalizeRound4(ctx, info, s, inbox);
      }
    },
  };
}

/**
 * Structural checks of a key share before it is used (its secrets are not re-derived here).
 * @throws InvalidArgs naming the first bad field
 */
export function assertKeyShare(share: KeyShare): void {
  if (share === null || typeof share !== 'object') throw new InvalidArgs('keyShare', 'missing');
  if (share.version !== KEY_SHARE_VERSION) throw new InvalidArgs('keyShare.version', 'unknown');
  levelByName(share.level);
  const { n, t } = share;
  if (!Number.isInteger(n) || n < 2 || n > 16) throw new InvalidArgs('keyShare.n', 'must be 2..16');
  if (!Number.isInteger(t) || t < 2 || t > n) throw new InvalidArgs('keyShare.t', 'must be 2..n');
  for (const f of ['roster', 'publicShares', 'aux'] as const) {
    if (!Array.isArray(share[f]) || share[f].length !== n) {
      throw new InvalidArgs(`keyShare.${f}`, 'must have n entries');
    }
  }
  if (!Number.isInteger(share.index) || share.index < 0 || share.index >= n) {
    throw new InvalidArgs('keyShare.index', 'not a roster index');
  }
  if (share.ownAux.p * share.ownAux.q !== share.aux[share.index]!.N) {
    throw new InvalidArgs('keyShare.ownAux', 'does not match own Paillier modulus');
  }
}

/**
 * Check a signer set against a key share: exactly t sorted, distinct roster indices that
 * include this party.
 * @throws InvalidArgs (`signers`)
 */
export function assertSigners(share: KeyShare, signers: readonly PartyIndex[]): void {
  if (!Array.isArray(signers)) throw new InvalidArgs('signers', 'must be an array');
  if (signers.length !== share.t)
    throw new InvalidArgs('signers', `must have exactly t = ${share.t} entries`);
  signers.forEach((j, k) => {
    if (!Number.isInteger(j) || j < 0 || j >= share.n) {
      throw new InvalidArgs('signers', 'must be a subset of the roster');
    }
    if (k > 0 && j <= signers[k - 1]!)
      throw new InvalidArgs('signers', 'must be sorted and distinct');
  });
  if (!signers.includes(share.index)) throw new InvalidArgs('signers', 'must include this party');
}

/** What {@link startPresign} needs. */
export interface StartPresignArgs {
  readonly keyShare: KeyShare;
  /** The signer set S: t sorted roster indices including this party. */
  readonly signers: readonly PartyIndex[];
  /** The sid (C12), e.g. from {@link presignSessionId}. */
  readonly sessionId: Uint8Array;
  /**
   * An additive HD tweak δ_HD ∈ [0, q) (non-hardened derivation, §5.4, C16): the signature will
   * verify under pk + δ_HD·G. Default 0 (the key itself).
   */
  readonly tweak?: bigint;
  readonly rng?: Rng;
}

/**
 * Start a presign session: validate the inputs, check Σ_{j∈S} W_j = pk, and produce round 1.
 * @returns round 1's step, or an abort `inconsistent-signer-set` (no culprit) when Σ W_j ≠ pk
 * @throws InvalidArgs on a malformed key share, signer set or session id
 * @example
 * const first = startPresign({ keyShare, signers: [0, 2], sessionId });
 * const engine = new RoundEngine(presignProtocol(), cfg, first);
 */
export function startPresign(args: StartPresignArgs): Step<PresignState, Presignature> {
  const { keyShare, signers, sessionId } = args;
  assertKeyShare(keyShare);
  assertSigners(keyShare, signers);
  if (!(sessionId instanceof Uint8Array) || sessionId.length !== 32) {
    throw new InvalidArgs('sessionId', 'must be 32 bytes');
  }
  const tweak = args.tweak ?? 0n;
  if (typeof tweak !== 'bigint' || tweak < 0n || tweak >= CURVE_ORDER) {
    throw new InvalidArgs('tweak', 'must be a scalar in [0, q)');
  }
  const ctx = new SigningContext(keyShare, signers, tweak);
  // §5.4, C16: Σ_{j∈S} λ_j·X_j = pk before anything is sent and before the tweak is applied
  // (case 24: corrupted shares, inconsistent signer set).
  if (!ctx.signerSetConsistent()) return abortStep(PRESIGN, 0, 'inconsistent-signer-set', []);
  if (isIdentity(ctx.target)) throw new InvalidArgs('tweak', 'pk + tweak·G is the identity');
  return startRound1(ctx, sessionId, args.rng ?? systemRng);
}

/**
 * The sid of a presign session (C12) from the coordinator's 32-byte nonce. A non-zero HD tweak
 * is folded into the nonce (SHAKE256(E(tag, nonce, δ_HD))) so the sid binds it too.
 * @throws InvalidArgs on invalid inputs (see `computeSessionId`)
 */
export function presignSessionId(
  keyShare: KeyShare,
  signers: readonly PartyIndex[],
  nonce: Uint8Array,
  tweak = 0n
): Uint8Array {
  return signingSessionId('presign', keyShare, signers, nonce, tweak);
}

/**
 * The sid (C12) of a session of `protocol` over a key and a signer set, from the coordinator's
 * 32-byte nonce; a non-zero HD tweak is folded into the nonce so the sid binds it.
 * @throws InvalidArgs on invalid inputs (see `computeSessionId`)
 */
export function signingSessionId(
  protocol: 'presign' | 'sign',
  keyShare: KeyShare,
  signers: readonly PartyIndex[],
  nonce: Uint8Array,
  tweak = 0n
): Uint8Array {
  if (nonce.length !== 32) throw new InvalidArgs('nonce', 'must be 32 bytes');
  if (tweak !== 0n) {
    nonce = hashTagged(`${TAG_PREFIX}presign/nonce`, (e) => e.bytes(nonce).scalar(tweak));
  }
  return computeSessionId({
    protocol,
    keyId: Buffer.from(keyShare.keyId, 'hex'),
    keyEpoch: keyShare.epoch,
    roster: keyShare.roster,
    signers,
    t: keyShare.t,
    n: keyShare.n,
    level: keyShare.level,
    nonce,
  });
}

/** What {@link presignEngine} needs. */
export interface PresignEngineArgs extends StartPresignArgs {
  /** This party's Ed25519 identity secret key (32-byte seed): signs every envelope. */
  readonly secretKey: Uint8Array;
}

/**
 * A round engine running presign for this party (start + engine in one call).
 * @throws InvalidArgs as {@link startPresign}
 */
export function presignEngine(args: PresignEngineArgs): RoundEngine<PresignState, Presignature> {
  const rng = args.rng ?? systemRng;
  const first = startPresign({ ...args, rng });
  return new RoundEngine(
    presignProtocol(rng),
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
