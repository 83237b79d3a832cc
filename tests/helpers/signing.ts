/**
 * Drives presign / sign / signDigest sessions for all signers in the in-memory simulator
 * (`protocol/round/simulation.ts`), with the dealer's deterministic identities.
 */
import type { KeyShare } from '../../protocol/cggmp/key-share.js';
import {
  presignEngine,
  presignProtocol,
  presignSessionId,
  startPresign,
  type Presignature,
  type PresignState,
} from '../../protocol/cggmp/presign/index.js';
import {
  signEngine,
  signSessionId,
  type EcdsaSignature,
  type SignState,
} from '../../protocol/cggmp/sign/index.js';
import {
  signDigestEngine,
  signDigestSessionId,
  type SignDigestResult,
  type SignDigestState,
} from '../../protocol/cggmp/sign/sign-digest.js';
import { RoundEngine } from '../../protocol/round/engine.js';
import type { Step } from '../../protocol/round/types.js';
import {
  simulate,
  type SimulationResult,
  type TamperRule,
} from '../../protocol/round/simulation.js';
import { identitySecretKey, identitySecretKeys } from './dealer.js';
import { seededRng } from './rng.js';

/** A finished simulated session. */
export interface Run<S, R> extends SimulationResult<R> {
  readonly sid: Uint8Array;
  readonly engines: Map<number, RoundEngine<S, R>>;
}

/** Session options. */
export interface RunOptions {
  /** Seeds the coordinator nonce and every party's rng. */
  readonly label?: string;
  readonly tamper?: readonly TamperRule[];
  /** Runs once the engines exist, before any message moves (e.g. to corrupt a party's state). */
  readonly before?: (engines: Map<number, RoundEngine<unknown, unknown>>) => void;
  /** HD tweak per party (presign / signDigest); default 0. */
  readonly tweak?: (party: number) => bigint;
  /** Ed25519 identity secret keys by roster index (default: the dealer's identities). */
  readonly secretKeys?: ReadonlyMap<number, Uint8Array>;
}

/**
 * A malicious implementation for one presign party: `edit` rewrites the step its own code
 * produced (round 0 = the start step, r = the finalize of round r) — messages and next state —
 * so its engine signs, records and echoes exactly what it sends (unlike a tamper rule, which
 * rewrites a message behind the sender's engine).
 */
export interface Malicious {
  readonly party: number;
  readonly edit: (
    round: number,
    step: Step<PresignState, Presignature>
  ) => Step<PresignState, Presignature>;
}

function secretKeyOf(opts: RunOptions, i: number): Uint8Array {
  return opts.secretKeys?.get(i) ?? identitySecretKey(i);
}

function nonceOf(label: string): Uint8Array {
  return seededRng(`nonce/${label}`)(32).slice();
}

function finish<S, R>(
  sid: Uint8Array,
  engines: Map<number, RoundEngine<S, R>>,
  opts: RunOptions,
  n: number
): Run<S, R> {
  opts.before?.(engines as unknown as Map<number, RoundEngine<unknown, unknown>>);
  const r = simulate(engines, {
    ...(opts.tamper ? { tamper: opts.tamper } : {}),
    secretKeys: opts.secretKeys ?? identitySecretKeys(n),
  });
  return { ...r, sid, engines };
}

/** Run presign among `signers`. */
export function runPresign(
  shares: readonly KeyShare[],
  signers: readonly number[],
  opts: RunOptions & { readonly malicious?: Malicious } = {}
): Run<PresignState, Presignature> {
  const label = opts.label ?? 'presign';
  const tweak = opts.tweak?.(signers[0]!) ?? 0n;
  const sid = presignSessionId(shares[signers[0]!]!, signers, nonceOf(label), tweak);
  const engine = (i: number): RoundEngine<PresignState, Presignature> => {
    const args = {
      keyShare: shares[i]!,
      signers,
      sessionId: sid,
      tweak: opts.tweak?.(i) ?? 0n,
      secretKey: secretKeyOf(opts, i),
      rng: seededRng(`${label}/party${i}`),
    };
    const bad = opts.malicious;
    if (bad?.party !== i) return presignEngine(args);
    const base = presignProtocol(args.rng);
    return new RoundEngine(
      { ...base, finalize: (info, s, inbox) => bad.edit(s.round, base.finalize(info, s, inbox)) },
      {
        sessionId: sid,
        self: i,
        parties: signers,
        rosterKeys: shares[i]!.roster.map((r) => r.publicKey),
        secretKey: args.secretKey,
      },
      bad.edit(0, startPresign(args))
    );
  };
  const engines = new Map(signers.map((i) => [i, engine(i)]));
  return finish(sid, engines, opts, shares.length);
}

/** Run sign with each signer's own presignature. */
export function runSign(
  shares: readonly KeyShare[],
  presignatures: ReadonlyMap<number, Presignature>,
  digest: Uint8Array,
  opts: RunOptions = {}
): Run<SignState, EcdsaSignature> {
  const label = opts.label ?? 'sign';
  const any = [...presignatures.values()][0]!;
  const sid = signSessionId(shares[any.index]!, any, digest, nonceOf(label));
  const engines = new Map(
    [...presignatures].map(([i, p]) => [
      i,
      signEngine({
        keyShare: shares[i]!,
        presignature: p,
        digest,
        sessionId: sid,
        secretKey: secretKeyOf(opts, i),
        rng: seededRng(`${label}/party${i}`),
      }),
    ])
  );
  return finish(sid, engines, opts, shares.length);
}

/** Run the composite presign + sign session. */
export function runSignDigest(
  shares: readonly KeyShare[],
  signers: readonly number[],
  digest: Uint8Array,
  opts: RunOptions = {}
): Run<SignDigestState, SignDigestResult> {
  const label = opts.label ?? 'sign-digest';
  const tweak = opts.tweak?.(signers[0]!) ?? 0n;
  const sid = signDigestSessionId(shares[signers[0]!]!, signers, nonceOf(label), tweak);
  const engines = new Map(
    signers.map((i) => [
      i,
      signDigestEngine({
        keyShare: shares[i]!,
        signers,
        digest,
        sessionId: sid,
        tweak: opts.tweak?.(i) ?? 0n,
        secretKey: secretKeyOf(opts, i),
        rng: seededRng(`${label}/party${i}`),
      }),
    ])
  );
  return finish(sid, engines, opts, shares.length);
}
