/**
 * Tamper suite for presign and sign (SECURITY.md §3 cases 13–22, 24, 25, plus forged envelopes
 * and out-of-range values): one party misbehaves at a chosen round — by rewriting what it sends
 * (simulator tamper rules, re-signed with its own key) or by running with corrupted state, as a
 * malicious implementation would — and every honest party must abort with EXACTLY the expected
 * culprit list, no presignature or signature is produced, and every piece of evidence is an
 * envelope validly signed by the culprit.
 *
 * Key: 3-of-4 at level112 from the trusted dealer; signers {0, 1, 3}; P1 misbehaves.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { KeyShare } from '../../../protocol/cggmp/key-share.js';
import { ethereumAddress } from '../../../protocol/cggmp/key-share.js';
import {
  presignEngine,
  startPresign,
  type Presignature,
} from '../../../protocol/cggmp/presign/index.js';
import {
  decodeR1Broadcast,
  decodeR2P2p,
  decodeR3Broadcast,
  decodeR4,
  encodeR1Broadcast,
  encodeR1P2p,
  encodeR3Broadcast,
  PRESIGN_TAGS,
} from '../../../protocol/cggmp/presign/messages.js';
import { finishSignature } from '../../../protocol/cggmp/sign/combine.js';
import { signEngine, startSign } from '../../../protocol/cggmp/sign/index.js';
import {
  decodeSignR1,
  decodeSignR2,
  encodeSignR1,
  SIGN_TAGS,
} from '../../../protocol/cggmp/sign/messages.js';
import { Encoder, encode } from '../../../protocol/hash/encoding.js';
import { bigintToFixedBytes } from '../../../protocol/math/bytes.js';
import {
  CURVE_ORDER,
  decodePoint,
  encodePoint,
  G,
  mulBase,
  modQ,
  PointClass,
} from '../../../protocol/math/curve.js';
import { modInverse } from '../../../protocol/math/modular.js';
import { LEVEL112 } from '../../../protocol/params.js';
import { unwrapBody, type RoundEngine } from '../../../protocol/round/engine.js';
import { decodeEnvelope, openEnvelope, signEnvelope } from '../../../protocol/round/envelope.js';
import type { SimulationResult, TamperRule } from '../../../protocol/round/simulation.js';
import type { AbortInfo } from '../../../protocol/round/types.js';
import { proveEnc } from '../../../protocol/zk/enc.js';
import { dealKeyShares, identitySecretKey } from '../../helpers/dealer.js';
import { fixtureKey } from '../../helpers/fixtures.js';
import { seededRng } from '../../helpers/rng.js';
import { runPresign, runSign } from '../../helpers/signing.js';
import { ethersRecover, nobleVerify } from '../../helpers/verify.js';

const level = LEVEL112;
const SIGNERS = [0, 1, 3];
const BAD = 1;
const HONEST = [0, 3];

let shares: KeyShare[];
let rosterKeys: Uint8Array[];
beforeAll(() => {
  shares = dealKeyShares({ level, n: 4, t: 3, rng: seededRng('tamper/dealer') });
  rosterKeys = shares[0]!.roster.map((r) => r.publicKey);
});

/** The live (mutable) state of a party's engine: what a malicious implementation would edit. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Mutable = any;
const live = (engines: Map<number, RoundEngine<unknown, unknown>>, j: number): Mutable =>
  engines.get(j)!.snapshot().state;

/** Every evidence envelope must be validly signed by the culprit, in one of the sessions. */
function expectSignedBy(ev: Uint8Array, party: number, sids: Uint8Array[]): void {
  const env = decodeEnvelope(ev);
  expect(env.from).toBe(party);
  expect(ed25519.verify(env.signature, env.signed, rosterKeys[party]!, { zip215: false })).toBe(
    true
  );
  expect(sids.some((s) => Buffer.from(s).equals(Buffer.from(env.sessionId)))).toBe(true);
  // And it opens under the normal receiver checks of its own session.
  openEnvelope(ev, { sessionId: env.sessionId, rosterKeys, parties: [0, 1, 2, 3] });
}

/** Every honest party aborted with exactly `expected` (party, reason pattern); no output. */
function expectCulprits(
  run: SimulationResult<unknown>,
  expected: Array<[number, RegExp]>,
  sids: Uint8Array[],
  abortReason?: RegExp
): AbortInfo[] {
  return HONEST.map((h) => {
    expect(run.results.has(h), `party ${h} must not output`).toBe(false);
    const a = run.aborts.get(h);
    expect(a, `party ${h} must abort`).toBeDefined();
    if (abortReason) expect(a!.reason).toMatch(abortReason);
    expect(a!.culprits.map((c) => c.party)).toEqual(expected.map(([p]) => p));
    a!.culprits.forEach((c, k) => {
      expect(c.reason).toMatch(expected[k]![1]);
      expect(c.evidence.length).toBeGreaterThan(0);
      for (const ev of c.evidence) expectSignedBy(ev, c.party, sids);
    });
    return a!;
  });
}

/** A rule on P_BAD's messages of one round and channel. */
function rule(
  round: number,
  channel: 'broadcast' | 'p2p',
  apply: (body: Uint8Array, to: number, envelope: Uint8Array) => Uint8Array | undefined
): TamperRule {
  return {
    from: BAD,
    apply: (m) =>
      m.round === round && m.broadcast === (channel === 'broadcast')
        ? apply(m.body, m.to, m.envelope)
        : undefined,
  };
}

const sidOf = (envelope: Uint8Array): Uint8Array => decodeEnvelope(envelope).sessionId;
const skBad = () => fixtureKey(level, BAD);

/** The bodies P_h broadcast in round r of a run. */
function broadcastBodies(run: SimulationResult<unknown>, h: number, round: number): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  for (const d of run.deliveries) {
    if (d.from !== h || d.round !== round || !d.broadcast) continue;
    const key = Buffer.from(d.envelope).toString('hex');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(unwrapBody(decodeEnvelope(d.envelope).payload).body);
  }
  return out;
}

const contains = (hay: Uint8Array, needle: Uint8Array): boolean =>
  Buffer.from(hay).indexOf(Buffer.from(needle)) >= 0;

/** Scalars that must never leave a party during an abort procedure. */
function secretsOf(state: Mutable): Uint8Array[] {
  return [state.k, state.gamma, state.share.x]
    .filter((v: unknown): v is bigint => typeof v === 'bigint')
    .map((v: bigint) => bigintToFixedBytes(modQ(v), 32));
}

// ---------------------------------------------------------------------------------------------

describe('presign round 1 (Πenc, K_j, echo)', () => {
  it('13: K_j with plaintext N_j/2 and a Πenc for it → rejected (z1 out of range); no D computed', () => {
    const sk = skBad();
    const kBig = sk.N >> 1n; // k = N_j/2: far outside ±2^ℓ
    const rho = 5n;
    const Kbad = sk.encrypt(kBig, rho);
    const run = runPresign(shares, SIGNERS, {
      label: 't13',
      tamper: [
        rule(1, 'broadcast', (b) => {
          const m = decodeR1Broadcast(b, level, sk);
          return encodeR1Broadcast({ ...m, K: Kbad });
        }),
        rule(1, 'p2p', (_b, to, env) =>
          encodeR1P2p(
            proveEnc(
              level,
              { sessionId: sidOf(env), prover: BAD, verifier: to },
              shares[to]!.aux[to]!,
              { key: sk, K: Kbad },
              { k: kBig, rho },
              seededRng('t13')
            )
          )
        ),
      ],
    });
    // z1 = α + e·N/2 is far beyond ±2^{ℓ+ε}: the proof decoder's bound (derived from that range)
    // already refuses it, so the culprit reason is the decode failure of the field z1.
    const aborts = expectCulprits(run, [[BAD, /^decode:enc\.z1$/]], [run.sid], /^decode$/);
    for (const a of aborts) expect(a.round).toBe(1);
    // The honest parties never computed D = γ_i ⊙ K_j: they sent nothing after round 1.
    expect(run.deliveries.some((d) => HONEST.includes(d.from) && d.round > 1)).toBe(false);
  });

  it('13b: K_j not a unit of Z*_{N²} (out-of-range value) → decode:K', () => {
    const sk = skBad();
    const run = runPresign(shares, SIGNERS, {
      label: 't13b',
      tamper: [
        rule(1, 'broadcast', (b) =>
          encodeR1Broadcast({ ...decodeR1Broadcast(b, level, sk), K: sk.N * 7n })
        ),
      ],
    });
    expectCulprits(run, [[BAD, /^decode:K$/]], [run.sid], /^decode$/);
  });

  it("14: a Πenc made for the other verifier's (N̂, s, t) → bad-proof:enc", () => {
    let engines!: Map<number, RoundEngine<unknown, unknown>>;
    const run = runPresign(shares, SIGNERS, {
      label: 't14',
      before: (e) => (engines = e),
      tamper: [
        rule(1, 'p2p', (_b, to, env) => {
          const s = live(engines, BAD);
          const wrong = HONEST.find((h) => h !== to)!; // the proof meant for the other party
          return encodeR1P2p(
            proveEnc(
              level,
              { sessionId: sidOf(env), prover: BAD, verifier: wrong },
              shares[wrong]!.aux[wrong]!,
              { key: skBad(), K: s.K },
              { k: s.k, rho: s.rho },
              seededRng('t14')
            )
          );
        }),
      ],
    });
    // S, C are commitments mod the other verifier's N̂: a membership or equation failure.
    expectCulprits(run, [[BAD, /^bad-proof:enc:(S|C|eq1|eq2)$/]], [run.sid], /^bad-proof$/);
  });

  it('15: different (K_j, G_j) to different parties → echo dispute names j (equivocation)', () => {
    const sk = skBad();
    const k2 = 123456789n;
    const rho2 = 77n;
    const K2 = sk.encrypt(k2, rho2);
    const victim = 3;
    const run = runPresign(shares, SIGNERS, {
      label: 't15',
      tamper: [
        rule(1, 'broadcast', (b, to) =>
          to === victim
            ? encodeR1Broadcast({ ...decodeR1Broadcast(b, level, sk), K: K2 })
            : undefined
        ),
        // …with a VALID Πenc for the victim, so only the echo can tell.
        rule(1, 'p2p', (_b, to, env) =>
          to === victim
            ? encodeR1P2p(
                proveEnc(
                  level,
                  { sessionId: sidOf(env), prover: BAD, verifier: victim },
                  shares[victim]!.aux[victim]!,
                  { key: sk, K: K2 },
                  { k: k2, rho: rho2 },
                  seededRng('t15')
                )
              )
            : undefined
        ),
      ],
    });
    const aborts = expectCulprits(run, [[BAD, /^equivocation$/]], [run.sid], /^echo-mismatch$/);
    for (const a of aborts) expect(a.culprits[0]!.evidence).toHaveLength(2);
  });
});

describe('presign rounds 2–3 (Πaff-g, Πlog*)', () => {
  it('16: γ_j out of range (γ + 2^300·q, same Γ_j) → Πaff-g/delta z1 refused', () => {
    const run = runPresign(shares, SIGNERS, {
      label: 't16',
      before: (e) => {
        live(e, BAD).gamma += CURVE_ORDER << 300n;
      },
    });
    expectCulprits(run, [[BAD, /^decode:aff-g\.z1$/]], [run.sid], /^decode$/);
  });

  it('16b: β̂ out of range on the χ path (D̂ with X = W_j) → Πaff-g/chi z2 refused', () => {
    let engines!: Map<number, RoundEngine<unknown, unknown>>;
    const run = runPresign(shares, SIGNERS, {
      label: 't16b',
      before: (e) => (engines = e),
      tamper: [
        // While P_j's round-2 messages travel, its state is round 2: enlarge β̂ before D̂ is built.
        rule(2, 'broadcast', () => {
          const s = live(engines, BAD);
          s.betaHat = s.betaHat.map((b: bigint) => (b === 0n ? 0n : 1n << 1100n));
          return undefined;
        }),
      ],
    });
    expectCulprits(run, [[BAD, /^decode:aff-g\.z2$/]], [run.sid], /^decode$/);
  });

  it('17: Γ_j inconsistent with G_j → bad-proof:log-star/gamma', () => {
    const run = runPresign(shares, SIGNERS, {
      label: 't17',
      before: (e) => {
        live(e, BAD).gamma += 1n; // Γ_j = (γ+1)·G and a consistent D, but G_j = enc(γ)
      },
    });
    expectCulprits(run, [[BAD, /^bad-proof:log-star\/gamma:eq1$/]], [run.sid]);
  });

  it('17b: Γ_j is the identity (out-of-range value) → decode:Gamma', () => {
    const run = runPresign(shares, SIGNERS, {
      label: 't17b',
      tamper: [
        rule(2, 'broadcast', (b) => {
          // Replace the 33-byte Γ_j after the tag with the identity encoding 0x00.
          const tagLen = new Encoder().tag(PRESIGN_TAGS.r2).finish().length;
          const out = new Uint8Array(b.length - 32);
          out.set(b.subarray(0, tagLen));
          out[tagLen] = 0;
          out.set(b.subarray(tagLen + 33), tagLen + 1);
          return out;
        }),
      ],
    });
    expectCulprits(run, [[BAD, /^decode:Gamma$/]], [run.sid]);
  });

  it('18: Δ_j ≠ k_j·Γ → bad-proof:log-star/delta', () => {
    const run = runPresign(shares, SIGNERS, {
      label: 't18',
      tamper: [
        rule(3, 'broadcast', (b) => {
          const m = decodeR3Broadcast(b);
          return encodeR3Broadcast({ ...m, Delta: m.Delta.add(G) });
        }),
      ],
    });
    // The challenge binds Δ_j, so the first equation already fails.
    expectCulprits(run, [[BAD, /^bad-proof:log-star\/delta:eq1$/]], [run.sid], /^bad-proof$/);
  });

  it('out-of-range δ_j ≥ q → decode:delta', () => {
    const run = runPresign(shares, SIGNERS, {
      label: 'trange',
      tamper: [
        rule(3, 'broadcast', (b) => {
          const m = decodeR3Broadcast(b);
          return encode((e) =>
            e.tag(PRESIGN_TAGS.r3).raw(bigintToFixedBytes(CURVE_ORDER, 32)).point(m.Delta)
          );
        }),
      ],
    });
    expectCulprits(run, [[BAD, /^decode:delta$/]], [run.sid], /^decode$/);
  });
});

describe('19: wrong δ_j with every proof valid → the bad-δ procedure', () => {
  /**
   * P_BAD (a malicious implementation, consistent in its echoes) broadcasts δ_j + 1 in round 3;
   * with `believe` it also keeps that value, so it runs the procedure with it.
   */
  function wrongDelta(label: string, believe: boolean, extra: TamperRule[] = []) {
    return runPresign(shares, SIGNERS, {
      label,
      tamper: extra,
      malicious: {
        party: BAD,
        edit: (round, step) => {
          if (round !== 2 || step.kind !== 'next' || step.state.round !== 3) return step;
          const bc = step.outgoing.find((o) => o.to === undefined)!;
          const m = decodeR3Broadcast(bc.payload);
          const delta = modQ(m.delta + 1n);
          const outgoing = step.outgoing.map((o) =>
            o === bc ? { payload: encodeR3Broadcast({ ...m, delta }) } : o
          );
          const state = believe ? { ...step.state, delta } : step.state;
          return { ...step, state, outgoing };
        },
      },
    });
  }

  it('P_j proves its wrong δ_j: Πdec fails → names j; abort messages hold only allowed fields', () => {
    const run = wrongDelta('t19a', true);
    const aborts = expectCulprits(
      run,
      [[BAD, /^bad-proof:dec\/delta:eq2$/]],
      [run.sid],
      /^bad-delta$/
    );
    for (const a of aborts) {
      expect(a.round).toBe(4);
      expect(a.culprits[0]!.evidence).toHaveLength(4); // P_j's r1, r2, r3 broadcasts and r4
    }
    // What the honest parties sent in the procedure: H, Πmul, the D envelopes, Πdec — nothing else.
    for (const h of HONEST) {
      const bodies = broadcastBodies(run, h, 4);
      expect(bodies).toHaveLength(1);
      const body = bodies[0]!;
      const m = decodeR4(body, level, fixtureKey(level, h), SIGNERS.length - 1);
      expect(m.kind).toBe('bad-delta');
      expect(Object.keys(m).sort()).toEqual(['H', 'dec', 'envelopes', 'kind', 'mul']);
      if (m.kind !== 'bad-delta') continue;
      const others = SIGNERS.filter((j) => j !== h);
      m.envelopes.forEach((ev, idx) => {
        // Each is its author's signed ROUND-2 p2p envelope to h: the δ path only (D, ψ, ψ′),
        // never a round-3 envelope (D̂, the χ path).
        const env = openEnvelope(ev, { sessionId: run.sid, rosterKeys, parties: SIGNERS });
        expect([env.from, env.to, env.round]).toEqual([others[idx], h, 2]);
        const inner = unwrapBody(env.payload).body;
        expect(Object.keys(decodeR2P2p(inner, level, fixtureKey(level, h))).sort()).toEqual([
          'D',
          'psi',
          'psiPrime',
        ]);
      });
      // Neither k_i, γ_i nor the key share appears anywhere in what was sent.
      for (const secret of secretsOf(live(run.engines, h)))
        expect(contains(body, secret)).toBe(false);
    }
  });

  it('P_j confirms although δ·G ≠ ΣΔ_j → named for withholding its proof', () => {
    const run = wrongDelta('t19b', false);
    expectCulprits(run, [[BAD, /^missing:bad-delta-proof$/]], [run.sid], /^bad-delta$/);
  });

  it('P_j presents a D envelope whose signature it broke → bad-evidence', () => {
    const breakEnvelope = rule(4, 'broadcast', (b) => {
      const m = decodeR4(b, level, skBad(), SIGNERS.length - 1);
      if (m.kind !== 'bad-delta') return undefined;
      const at = Buffer.from(b).indexOf(Buffer.from(m.envelopes[0]!));
      const out = b.slice();
      out[at + m.envelopes[0]!.length - 10]! ^= 1; // inside the author's Ed25519 signature
      return out;
    });
    const run = wrongDelta('t19c', true, [breakEnvelope]);
    expectCulprits(run, [[BAD, /^bad-evidence:envelopes\[0\]$/]], [run.sid], /^bad-delta$/);
  });
});

describe('session binding, envelopes, signer sets', () => {
  it('20: a replayed round-2 message from another presign session is refused', () => {
    // Session A: record P_j's round-2 envelopes.
    const a = runPresign(shares, SIGNERS, { label: 't20-a' });
    expect(a.results.size).toBe(3);
    const old = new Map<string, Uint8Array>();
    for (const d of a.deliveries) {
      if (d.from === BAD && d.round === 2) old.set(`${d.to}/${d.broadcast}`, d.envelope);
    }
    // (a) the raw envelopes: refused at the envelope layer (wrong session), never attributed.
    const raw = runPresign(shares, SIGNERS, {
      label: 't20-b',
      tamper: [
        {
          from: BAD,
          apply: (m) =>
            m.round === 2 ? { envelope: old.get(`${m.to}/${m.broadcast}`)! } : undefined,
        },
      ],
    });
    for (const h of HONEST) {
      expect(raw.results.has(h)).toBe(false);
      expect(raw.aborts.has(h)).toBe(false); // waiting for P_j's real round-2 message
      expect(raw.engines.get(h)!.receive(old.get(`${h}/true`)!)).toEqual({
        accepted: false,
        rejection: 'wrong-session',
      });
      raw.engines.get(h)!.expire();
      expect(raw.engines.get(h)!.aborted?.culprits).toEqual([]);
    }
    // (b) the old bodies re-signed in the new session: the proofs are bound to the old ssid.
    const resigned = runPresign(shares, SIGNERS, {
      label: 't20-c',
      tamper: [
        {
          from: BAD,
          apply: (m) =>
            m.round === 2
              ? unwrapBody(decodeEnvelope(old.get(`${m.to}/${m.broadcast}`)!).payload).body
              : undefined,
        },
      ],
    });
    expectCulprits(resigned, [[BAD, /^bad-proof:aff-g\/delta:/]], [resigned.sid]);
  });

  it('forged envelope signature: refused, nobody blamed (not even the impersonated party)', () => {
    const run = runPresign(shares, SIGNERS, {
      label: 'tforge',
      tamper: [
        {
          from: BAD,
          apply: (m) => {
            if (m.round !== 2 || m.to !== 0) return undefined;
            const env = decodeEnvelope(m.envelope);
            // Claims to come from P3, signed with P1's key.
            return {
              envelope: signEnvelope(
                {
                  sessionId: env.sessionId,
                  round: 2,
                  from: 3,
                  ...(env.to === undefined ? {} : { to: 0 }),
                  payload: env.payload,
                },
                identitySecretKey(BAD)
              ),
            };
          },
        },
      ],
    });
    const e0 = run.engines.get(0)!;
    expect(run.results.has(0)).toBe(false);
    expect(run.aborts.has(0)).toBe(false);
    e0.expire();
    expect(e0.aborted?.reason).toMatch(/^timeout/);
    expect(e0.aborted?.culprits).toEqual([]);
  });

  it('a signer presigning for another HD tweak under the same sid is named', () => {
    const run = runPresign(shares, SIGNERS, {
      label: 'ttweak',
      tweak: (i) => (i === BAD ? 5n : 0n),
    });
    expectCulprits(run, [[BAD, /^tweak-mismatch$/]], [run.sid], /^input-mismatch$/);
  });

  it('24: Σλ_j·X_j ≠ pk (corrupted key data) → culprit-free abort before round 1', () => {
    const bad: KeyShare = {
      ...shares[0]!,
      publicShares: shares[0]!.publicShares.map((X, j) =>
        j === 3 ? encodePoint(decodePoint(X).add(G)) : X
      ),
    };
    const step = startPresign({
      keyShare: bad,
      signers: SIGNERS,
      sessionId: new Uint8Array(32).fill(1),
    });
    expect(step).toEqual({
      kind: 'abort',
      abort: { protocol: 'presign', round: 0, reason: 'inconsistent-signer-set', culprits: [] },
    });
    const engine = presignEngine({
      keyShare: bad,
      signers: SIGNERS,
      sessionId: new Uint8Array(32).fill(1),
      secretKey: identitySecretKey(0),
    });
    expect(engine.aborted?.reason).toBe('inconsistent-signer-set');
    expect(engine.drain()).toEqual([]); // nothing was sent
  });

  it('24b: parties told different signer sets get different sids: nothing is accepted', () => {
    const honest = runPresign(shares, SIGNERS, { label: 't24' });
    const other = runPresign(shares, [0, 1, 2], { label: 't24' }); // same coordinator nonce
    expect(Buffer.from(honest.sid).equals(Buffer.from(other.sid))).toBe(false);
    const fromOther = other.deliveries.find((d) => d.from === 1 && d.to === 0 && d.round === 1)!;
    const fresh = presignEngine({
      keyShare: shares[0]!,
      signers: SIGNERS,
      sessionId: honest.sid,
      secretKey: identitySecretKey(0),
    });
    expect(fresh.receive(fromOther.envelope)).toEqual({
      accepted: false,
      rejection: 'wrong-session',
    });
  });
});

describe('sign (σ_j, single use, signature format)', () => {
  function presigned(label: string): Map<number, Presignature> {
    const run = runPresign(shares, SIGNERS, { label });
    expect(run.results.size).toBe(3);
    return run.results;
  }

  it('21: wrong σ_j → the bad-σ procedure names j; no signature; only allowed fields', () => {
    const presigs = presigned('t21-pre');
    let engines!: Map<number, RoundEngine<unknown, unknown>>;
    const digest = seededRng('t21/digest')(32);
    const run = runSign(shares, presigs, digest, {
      label: 't21',
      before: (e) => (engines = e),
      tamper: [
        rule(1, 'broadcast', (b) => {
          const m = decodeSignR1(b);
          const sigma = modQ(m.sigma + 1n);
          live(engines, BAD).sigma = sigma; // and P_j stands by it in the procedure
          return encodeSignR1({ ...m, sigma });
        }),
      ],
    });
    const presignSid = presigs.get(0)!.sessionId;
    const aborts = expectCulprits(
      run,
      [[BAD, /^bad-proof:dec\/sigma:eq2$/]],
      [run.sid, presignSid],
      /^bad-sigma$/
    );
    for (const a of aborts) expect(a.round).toBe(2);
    for (const h of HONEST) {
      const [body] = broadcastBodies(run, h, 2);
      const m = decodeSignR2(body!, level, fixtureKey(level, h), SIGNERS.length - 1);
      expect(Object.keys(m).sort()).toEqual(['Hhat', 'envelopes', 'proofs']);
      for (const p of m.proofs) expect(Object.keys(p).sort()).toEqual(['dec', 'mulStar']);
      const others = SIGNERS.filter((j) => j !== h);
      m.envelopes.forEach((ev, idx) => {
        const env = openEnvelope(ev, { sessionId: presignSid, rosterKeys, parties: SIGNERS });
        expect([env.from, env.to, env.round]).toEqual([others[idx], h, 3]);
      });
      const p = presigs.get(h)!;
      const secrets = [p.k, p.chi, shares[h]!.x].map((v) => bigintToFixedBytes(v, 32));
      for (const secret of secrets) expect(contains(body!, secret)).toBe(false);
    }
  });

  it('21b: wrong σ_j and P_j walks away: honest parties wait, then time out (no output)', () => {
    const presigs = presigned('t21b-pre');
    const digest = seededRng('t21b/digest')(32);
    const run = runSign(shares, presigs, digest, {
      label: 't21b',
      tamper: [
        rule(1, 'broadcast', (b) => {
          const m = decodeSignR1(b);
          return encodeSignR1({ ...m, sigma: modQ(m.sigma + 1n) });
        }),
      ],
    });
    for (const h of HONEST) {
      expect(run.results.has(h)).toBe(false);
      run.engines.get(h)!.expire();
      expect(run.engines.get(h)!.aborted?.culprits).toEqual([]);
    }
  });

  it('out-of-range σ_j ≥ q → decode:sigma', () => {
    const presigs = presigned('tsig-pre');
    const digest = seededRng('tsig/digest')(32);
    const run = runSign(shares, presigs, digest, {
      label: 'tsig',
      tamper: [
        rule(1, 'broadcast', (b) => {
          const m = decodeSignR1(b);
          return encode((e) =>
            e
              .tag(SIGN_TAGS.r1)
              .bytes(m.nonce)
              .bytes(m.presignatureId)
              .bytes(m.digest)
              .raw(bigintToFixedBytes(CURVE_ORDER + 1n, 32))
          );
        }),
      ],
    });
    expectCulprits(run, [[BAD, /^decode:sigma$/]], [run.sid], /^decode$/);
  });

  it('22: a second message with a consumed presignature is refused before any σ', () => {
    const presigs = presigned('t22-pre');
    const d1 = seededRng('t22/d1')(32);
    const first = runSign(shares, presigs, d1, { label: 't22' });
    expect(first.results.size).toBe(3);
    const d2 = seededRng('t22/d2')(32);
    for (const [i, p] of presigs) {
      expect(p.consumed).toBe(true);
      const args = {
        keyShare: shares[i]!,
        presignature: p,
        digest: d2,
        sessionId: new Uint8Array(32).fill(2),
      };
      expect(() => startSign(args)).toThrow(/already consumed/);
      expect(() => signEngine({ ...args, secretKey: identitySecretKey(i) })).toThrow(
        /already consumed/
      );
    }
  });

  it('22b: a presignature claimed for another presignature id or digest is named', () => {
    const presigs = presigned('t22b-pre');
    const digest = seededRng('t22b/digest')(32);
    const run = runSign(shares, presigs, digest, {
      label: 't22b',
      tamper: [
        rule(1, 'broadcast', (b) =>
          encodeSignR1({ ...decodeSignR1(b), digest: new Uint8Array(32).fill(9) })
        ),
      ],
    });
    expectCulprits(run, [[BAD, /^digest-mismatch$/]], [run.sid], /^input-mismatch$/);
  });
});

describe('25: signature format (low-s, recovery id, r = 0, x-overflow)', () => {
  const x = 0x1234567890abcdefn;
  const pk = mulBase(x).toBytes(true);
  const digest = seededRng('t25/digest')(32);
  const m = modQ(BigInt('0x' + Buffer.from(digest).toString('hex')));

  /** A CGGMP-shaped (R, s): R = k^{-1}·G and s = k·(m + r·x) for nonce inverse k. */
  function sample(seed: number): { R: ReturnType<typeof mulBase>; s: bigint } {
    const kInv = modQ(BigInt(seed) * 0x9e3779b97f4a7c15n + 11n);
    const R = mulBase(kInv);
    const r = modQ(R.toAffine().x);
    return { R, s: modQ(modInverse(kInv, CURVE_ORDER) * (m + r * x)) };
  }

  it('normalises a high s, flips the recovery id, and the result recovers the key (ecrecover)', () => {
    let high = 0;
    let low = 0;
    for (let seed = 1; high < 3 || low < 3; seed++) {
      const { R, s } = sample(seed);
      const res = finishSignature(R, s, digest, pk);
      expect(res.ok).toBe(true);
      if (!res.ok) continue;
      const sig = res.signature;
      const yOdd = (R.toAffine().y & 1n) === 1n;
      if (s > CURVE_ORDER >> 1n) {
        high++;
        expect(sig.s).toBe(CURVE_ORDER - s);
        expect(sig.recid).toBe(yOdd ? 0 : 1); // parity flipped
      } else {
        low++;
        expect(sig.s).toBe(s);
        expect(sig.recid).toBe(yOdd ? 1 : 0);
      }
      expect(nobleVerify(pk, digest, sig.r, sig.s)).toBe(true);
      expect(ethersRecover(digest, sig.r, sig.s, sig.recid)).toBe(ethereumAddress(pk));
      const recovered = new secp256k1.Signature(sig.r, sig.s)
        .addRecoveryBit(sig.recid)
        .recoverPublicKey(digest)
        .toBytes(true);
      expect(Buffer.from(recovered).equals(Buffer.from(pk))).toBe(true);
    }
  });

  it('refuses s = 0, r = 0 (R.x = q) and the x-overflow (R.x ≥ q); never outputs them', () => {
    const { R } = sample(1);
    expect(finishSignature(R, 0n, digest, pk)).toEqual({ ok: false, reason: 's-zero' });
    expect(finishSignature(R, CURVE_ORDER, digest, pk)).toEqual({ ok: false, reason: 's-zero' });
    const atQ = PointClass.fromHex('02' + CURVE_ORDER.toString(16).padStart(64, '0'));
    expect(finishSignature(atQ, 5n, digest, pk)).toEqual({ ok: false, reason: 'r-zero' });
    const over = PointClass.fromHex('02' + (CURVE_ORDER + 2n).toString(16).padStart(64, '0'));
    expect(finishSignature(over, 5n, digest, pk)).toEqual({ ok: false, reason: 'x-overflow' });
    // A wrong s never passes as a signature.
    const good = sample(2);
    expect(finishSignature(good.R, good.s + 1n, digest, pk)).toEqual({
      ok: false,
      reason: 'invalid-signature',
    });
  });

  it('startSign discards (consumes) a presignature whose R gives r = 0 or overflows', () => {
    const presigs = runPresign(shares, SIGNERS, { label: 't25-pre' }).results;
    const p0 = presigs.get(0)!;
    for (const x of [CURVE_ORDER, CURVE_ORDER + 2n]) {
      const p = {
        ...p0,
        consumed: false,
        R: PointClass.fromHex('02' + x.toString(16).padStart(64, '0')).toBytes(true),
      };
      expect(() =>
        startSign({
          keyShare: shares[0]!,
          presignature: p,
          digest,
          sessionId: new Uint8Array(32).fill(3),
        })
      ).toThrow(/presign again/);
      expect(p.consumed).toBe(true);
    }
  });
});
