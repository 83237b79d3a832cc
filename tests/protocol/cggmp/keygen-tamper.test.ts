/**
 * Keygen tamper suite (SECURITY.md §3 cases 1–12, §1.5–1.13; CGGMP.md §5.1, §5.2, §6, C8, C12,
 * C17). Party 1 of a 2-of-3 level112 session misbehaves through the simulator's tamper rules: it
 * re-encodes a modified payload (re-signed with its own key, exactly what a malicious participant
 * can do), recomputing its round-1 commitment where the attack needs a consistent opening. Every
 * test asserts, for BOTH honest parties 0 and 2: the exact culprit list (party and reason), that
 * no honest party outputs a key share, and that the evidence envelopes verify under the
 * culprit's Ed25519 key.
 */
import { generatePrimeSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { KeyShare } from '../../../protocol/cggmp/key-share.js';
import type { KeygenState } from '../../../protocol/cggmp/keygen/index.js';
import {
  decodeDecommitment,
  decodeRound1,
  decodeRound2,
  decodeRound3,
  decodeShare,
  encodeDecommitment,
  encodeFac,
  encodeRound1,
  encodeRound2,
  encodeRound3,
  encodeRound4,
  encodeShare,
  type Decommitment,
  type Round3Ok,
} from '../../../protocol/cggmp/keygen/messages.js';
import { commitment, computeSsid, xorAll } from '../../../protocol/cggmp/keygen/hashes.js';
import { hashTagged } from '../../../protocol/hash/transcript.js';
import { bitLength } from '../../../protocol/math/bytes.js';
import { decodePoint, IDENTITY, modQ, mulBase, type Point } from '../../../protocol/math/curve.js';
import { jacobi, mod, modInverse, modPow } from '../../../protocol/math/modular.js';
import { sampleBelow, sampleUnit, type Rng } from '../../../protocol/math/sample.js';
import { LEVEL112, LEVEL128 } from '../../../protocol/params.js';
import { unwrapBody } from '../../../protocol/round/engine.js';
import { decodeEnvelope, openEnvelope, signEnvelope } from '../../../protocol/round/envelope.js';
import {
  simulate,
  type SimulationResult,
  type TamperResult,
  type TamperRule,
  type TamperTarget,
} from '../../../protocol/round/simulation.js';
import type { AbortInfo, Culprit, PartyIndex } from '../../../protocol/round/types.js';
import { proofTranscript, type ProofContext } from '../../../protocol/zk/common.js';
import { proveFac } from '../../../protocol/zk/fac.js';
import { proveMod, type ModEntry, type ModProof } from '../../../protocol/zk/mod.js';
import { provePrm, verifyPrm, type PrmProof } from '../../../protocol/zk/prm.js';
import { schRespond } from '../../../protocol/zk/sch.js';
import { fixtureKey, fixturePrimes } from '../../helpers/fixtures.js';
import {
  keygenEngines,
  keygenSetup,
  type KeygenEngine,
  type KeygenSetup,
} from '../../helpers/keygen.js';
import { seededRng } from '../../helpers/rng.js';

const level = LEVEL112;
const cp = { level, t: 2, n: 3 };
const BAD = 1;
const HONEST = [0, 2];

/** A prepared session: setup and engines, before any message moved. */
interface Session {
  readonly setup: KeygenSetup;
  readonly engines: Map<PartyIndex, KeygenEngine>;
  /** A party's current state (read by rules while messages are in flight). */
  state(p: PartyIndex): KeygenState;
}

let counter = 0;
function session(): Session {
  const label = `tamper-${counter++}`;
  const setup = keygenSetup(level, 3, 2, label);
  const engines = keygenEngines(setup, label);
  return { setup, engines, state: (p) => engines.get(p)!.snapshot().state! };
}

/** The engine's echo hash of a broadcast body (engine.ts): H("…/echo", round, from, body). */
function echoHash(round: number, from: PartyIndex, body: Uint8Array): Uint8Array {
  return hashTagged('mpcd/cggmp21/v1/echo', (e) => e.u32(round).u32(from).bytes(body));
}

/**
 * The simulator rewrites BAD's bodies after BAD's (honest) engine signed and recorded the
 * originals; a real malicious party would echo what it actually sent and would not dispute its
 * own messages. These rules keep the echo layer consistent around a consistent change, so the
 * test observes the protocol's own checks rather than a self-inflicted echo dispute:
 * - BAD echoes the hash of the body it really sent (last rule on BAD's messages);
 * - copies the honest parties send to BAD echo BAD's original body, so BAD's own engine (which
 *   only knows its originals) sees no disagreement. Honest-to-honest traffic is untouched.
 */
function echoConsistency(): { before: TamperRule; after: TamperRule[] } {
  const original = new Map<number, Uint8Array>();
  const sent = new Map<number, Uint8Array>();
  const fix = (m: TamperTarget, bodies: Map<number, Uint8Array>): TamperResult => {
    const prev = bodies.get(m.round - 1);
    if (!m.echo || !prev || m.round >= 1000) return undefined;
    const echo = m.echo.slice();
    echo[BAD] = echoHash(m.round - 1, BAD, prev);
    return { echo, body: m.body };
  };
  return {
    before: {
      from: BAD,
      apply: (m) => {
        if (m.broadcast) original.set(m.round, m.body);
        return undefined;
      },
    },
    after: [
      {
        from: BAD,
        apply: (m) => {
          if (m.broadcast) sent.set(m.round, m.body);
          return fix(m, sent);
        },
      },
      ...HONEST.map((h) => ({
        from: h,
        apply: (m: TamperTarget) => (m.to === BAD ? fix(m, original) : undefined),
      })),
    ],
  };
}

/** Run with BAD's rules (wrapped in {@link echoConsistency} unless `raw`). */
function run(s: Session, tamper: TamperRule[], raw = false): SimulationResult<KeyShare> {
  const ec = echoConsistency();
  const rules = raw ? tamper : [ec.before, ...tamper, ...ec.after];
  return simulate(s.engines, { tamper: rules, secretKeys: s.setup.secretKeys });
}

/** Every evidence envelope verifies; the first one is signed by the culprit. */
function expectEvidence(s: Session, c: Culprit): void {
  expect(c.evidence.length).toBeGreaterThan(0);
  const opened = c.evidence.map((b) =>
    openEnvelope(b, {
      sessionId: s.setup.sid,
      rosterKeys: s.setup.rosterKeys,
      parties: s.setup.parties,
    })
  );
  expect(opened[0]!.from).toBe(c.party);
}

/** Both honest parties abort with exactly `expected`; no honest party outputs a share. */
function expectCulprits(
  s: Session,
  r: SimulationResult<KeyShare>,
  expected: Array<[PartyIndex, string]>,
  abortReason = 'misbehaviour'
): AbortInfo[] {
  return HONEST.map((p) => {
    expect(r.results.has(p)).toBe(false);
    const a = r.aborts.get(p);
    expect(a, `party ${p} aborted`).toBeDefined();
    expect(a!.reason).toBe(abortReason);
    expect(a!.culprits.map((c) => [c.party, c.reason])).toEqual(expected);
    for (const c of a!.culprits) expectEvidence(s, c);
    return a!;
  });
}

/** Honest parties' round-r messages are complaints (no proofs or shares after a failure). */
function expectOnlyComplaints(r: SimulationResult<KeyShare>, round: number): void {
  const sent = r.deliveries.filter((d) => HONEST.includes(d.from) && d.round === round);
  expect(sent.length).toBe(HONEST.length * 2 * (round === 4 ? 1 : 2));
  for (const d of sent) {
    const { body } = unwrapBody(decodeEnvelope(d.envelope).payload);
    if (d.broadcast) {
      expect(round === 3 ? decodeRound3(body, cp).kind : decodeRound2(body, cp).kind).toBe(
        'complaint'
      );
    } else if (round === 3) {
      expect(body).toEqual(encodeFac(undefined));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Attack builders

/** Rules that make BAD open `forge(its decommitment)` in round 2, with a matching V in round 1. */
function forgedOpening(s: Session, forge: (d: Decommitment) => Decommitment): TamperRule {
  const st = s.state(BAD);
  const forged = encodeDecommitment(forge(decodeDecommitment(st.decommitment!, cp)));
  const V = commitment(s.setup.sid, BAD, forged);
  return {
    from: BAD,
    apply: (m) => {
      if (m.round === 1) return encodeRound1({ nonce: decodeRound1(m.body).nonce, V });
      if (m.round === 2 && m.broadcast) return encodeRound2({ kind: 'ok', value: forged });
      return undefined;
    },
  };
}

/** Ring-Pedersen parameters over N with known φ(N), and an honest Πprm (ctx sid, prover). */
function auxOver(
  sid: Uint8Array,
  prover: number,
  N: bigint,
  phi: bigint,
  rng: Rng
): { N: bigint; s: bigint; t: bigint; prm: PrmProof } {
  const r = sampleUnit(rng, N);
  const t = (r * r) % N; // t = r²
  const lambda = sampleBelow(rng, phi);
  const s = modPow(t, lambda, N); // s = t^λ
  const prm = provePrm(level, { sessionId: sid, prover }, { N, s, t }, { lambda, phi }, rng);
  return { N, s, t, prm };
}

/**
 * Rewrite BAD's round-3 broadcast content — once: every recipient gets the same new body (a
 * randomized rewrite computed per copy would be an equivocation, which the echo check catches).
 */
function round3Broadcast(f: (v: Round3Ok, st: KeygenState) => Round3Ok) {
  return (s: Session): TamperRule => {
    let body: Uint8Array | undefined;
    return {
      from: BAD,
      apply: (m) => {
        if (m.round !== 3 || !m.broadcast) return undefined;
        const p = decodeRound3(m.body, cp);
        if (p.kind !== 'ok') return undefined;
        body ??= encodeRound3({ kind: 'ok', value: f(p.value, s.state(BAD)) });
        return body;
      },
    };
  };
}

/** The 32-bit primes of the BitForge modulus (the smallest ≥ 2^32 − 2^24). */
function smallPrimes(count: number): bigint[] {
  const out: bigint[] = [];
  for (let c = 0xff000001n; out.length < count; c += 2n) {
    if (modPow(2n, c - 1n, c) === 1n && modPow(3n, c - 1n, c) === 1n) out.push(c);
  }
  return out;
}

/** 1848-bit Blum prime (from tests/protocol/zk/fac.test.ts, generated with node:crypto). */
const UNBALANCED_LARGE = BigInt(
  '0x' +
    [
      '8904add3747bc2b9aa3a65178291ed7c2e4c775f948898a33f03acfeb73d684d58015e13fec5506a',
      '0d902f6d348045f44125a50c78a9d707a82aa57bd40ce952ad44c99c5ad261cdf67ab63a64646d33',
      '85d510d58bad8d4b37ea49d326fa2a967114d0327ceeaf0977267a2c356e3aaa63117b05c0d4a906',
      '244da7ab8da3777b30ece6f9025eb976faca529da35232825cd79676f01a05248217b52e6f304571',
      '32127f1e63e0df34bba9328615be9b1ba0fab7a4b595fa392add1a2ea90b2a488c9ce44896a5360e',
      '544aa3895890b43c77a2dc69422c7acf8c52f72b2d9a977858ccc1eff2488f',
    ].join('')
);

/** The reason a Πprm gets at a verifier (ctx sid, prover) — to pin the exact failing repetition. */
function prmReason(
  sid: Uint8Array,
  prover: number,
  R: { N: bigint; s: bigint; t: bigint },
  prm: PrmProof
): string {
  const r = verifyPrm(level, { sessionId: sid, prover }, R, prm);
  expect(r.ok).toBe(false);
  if (r.ok) return 'ok';
  expect(r.failure.kind).toBe('equation');
  return `bad-proof:prm:${r.failure.check}`;
}

// ---------------------------------------------------------------------------------------------

describe('aux info: Paillier moduli and ring-Pedersen parameters (SECURITY.md §3, 1–7)', () => {
  it('1. a 1024-bit modulus (N too small) → modulus-too-small; no proof or share follows', () => {
    const s = session();
    const rng = seededRng('case1');
    const p = generatePrimeSync(512, { bigint: true, add: 4n, rem: 3n });
    const q = generatePrimeSync(512, { bigint: true, add: 4n, rem: 3n });
    const aux = auxOver(s.setup.sid, BAD, p * q, (p - 1n) * (q - 1n), rng);
    expect(bitLength(aux.N)).toBeLessThanOrEqual(1024);
    const r = run(s, [forgedOpening(s, (d) => ({ ...d, ...aux }))]);
    expectCulprits(s, r, [[BAD, 'modulus-too-small']]);
    expectOnlyComplaints(r, 3);
  });

  it('2. BitForge N = P·∏Q_j with a Πmod using non-invertible w → bad-proof:mod:w', () => {
    const s = session();
    const P = fixturePrimes(LEVEL128, 9).p; // a 1536-bit Blum prime (a fixture safe prime)
    const Qs = smallPrimes((level.modulusBits - bitLength(P)) / 32); // 16 × 32-bit (6ix1een)
    const Qprod = Qs.reduce((a, b) => a * b, 1n);
    const N = P * Qprod;
    const phi = Qs.reduce((a, Q) => a * (Q - 1n), P - 1n);
    const aux = auxOver(s.setup.sid, BAD, N, phi, seededRng('case2'));
    const forgeMod = (st: KeygenState): ModProof => {
      const ctx: ProofContext = { sessionId: st.ssid!, prover: BAD };
      const w = (Qprod * modInverse(Qprod, P)) % N; // w ≡ 1 (mod P), w ≡ 0 (mod every Q_j)
      const tr = proofTranscript('mod', ctx);
      tr.enc.nat(N).nat(w);
      const ys = tr.xof().challengeUnits(N, level.m);
      const nInv = modInverse(N, phi);
      const entries = ys.map((y): ModEntry => {
        const a: 0 | 1 = jacobi(y, P) === 1 ? 0 : 1;
        const yP = mod(a === 1 ? -y : y, P);
        const root = modPow(modPow(yP, (P + 1n) / 4n, P), (P + 1n) / 4n, P); // root^4 ≡ ±y (P)
        return { x: (w * root) % N, a, b: 1, z: modPow(y, nInv, N) };
      });
      return { w, entries };
    };
    const r = run(s, [
      forgedOpening(s, (d) => ({ ...d, ...aux })),
      round3Broadcast((v, st) => ({ ...v, mod: forgeMod(st) }))(s),
    ]);
    expectCulprits(s, r, [[BAD, 'bad-proof:mod:w']]);
  });

  it('3. unbalanced N (a 200-bit factor) with an honest Πmod → Πfac z1 out of range (decoder)', () => {
    const s = session();
    const rng = seededRng('case3');
    const small = generatePrimeSync(200, { bigint: true, add: 4n, rem: 3n });
    const large = UNBALANCED_LARGE;
    const N = small * large;
    const aux = auxOver(s.setup.sid, BAD, N, (small - 1n) * (large - 1n), rng);
    const r = run(s, [
      forgedOpening(s, (d) => ({ ...d, ...aux })),
      round3Broadcast((v, st) => ({
        ...v,
        mod: proveMod(
          level,
          { sessionId: st.ssid!, prover: BAD },
          { N },
          { p: small, q: large },
          rng
        ),
      }))(s),
      {
        from: BAD,
        apply: (m) => {
          if (m.round !== 3 || m.broadcast) return undefined;
          const st = s.state(BAD);
          const Rj = st.parties![m.to]!;
          const ctx = { sessionId: st.ssid!, prover: BAD, verifier: m.to };
          const R = { N: Rj.N, s: Rj.s, t: Rj.t };
          return encodeFac(proveFac(level, ctx, R, { N0: N }, { p: large, q: small }, rng));
        },
      },
    ]);
    // Both honest parties got a bad Πfac and complained; each judged both complaints. z1 = α + e·p
    // with p ≈ 2^1848 has ≈ 1976 bits, past the bits of its exact range 2^{ℓ+ε}·⌊√N₀⌋ (≈ 2^1510):
    // the strict decoder, which caps z1 at exactly those bits, refuses it before verify runs.
    const aborts = expectCulprits(s, r, [[BAD, 'decode:fac.z1']]);
    expect(aborts[0]!.round).toBe(4);
  });

  it.each<[string, (e: ModEntry[]) => ModEntry[], string]>([
    ['4a. Πmod with m − 1 points → decode failure', (e) => e.slice(0, -1), 'decode:mod.entries'],
    [
      '4b. Πmod with x_0 = 0 (outside [1, N)) → membership',
      (e) => [{ ...e[0]!, x: 0n }, ...e.slice(1)],
      'bad-proof:mod:x[0]',
    ],
    [
      '4c. Πmod with a duplicated point → equation',
      (e) => [e[0]!, e[0]!, ...e.slice(2)],
      'bad-proof:mod:eq1[1]',
    ],
  ])('%s', (_name, change, reason) => {
    const s = session();
    const r = run(s, [
      round3Broadcast((v) => ({ ...v, mod: { ...v.mod, entries: change([...v.mod.entries]) } }))(s),
    ]);
    expectCulprits(s, r, [[BAD, reason]]);
  });

  it('5a. s ∉ ⟨t⟩ (Jacobi(s) = −1) with a Πprm forged by guessing the bits → bad-proof:prm:eq1', () => {
    const s = session();
    const rng = seededRng('case5');
    const N = fixtureKey(level, BAD).N;
    const r0 = sampleUnit(rng, N);
    const t = (r0 * r0) % N;
    let sv: bigint;
    do sv = sampleUnit(rng, N);
    while (jacobi(sv, N) !== -1); // every power of t has Jacobi +1: no λ exists
    const sInv = modInverse(sv, N);
    const prm: PrmProof = {
      entries: Array.from({ length: level.m }, () => {
        const z = sampleBelow(rng, N);
        const tz = modPow(t, z, N);
        return { A: (rng(1)[0]! & 1) === 1 ? (tz * sInv) % N : tz, z }; // A = t^z·s^{−guess}
      }),
    };
    const R = { N, s: sv, t };
    const reason = prmReason(s.setup.sid, BAD, R, prm);
    const r = run(s, [forgedOpening(s, (d) => ({ ...d, ...R, prm }))]);
    expectCulprits(s, r, [[BAD, reason]]);
  });

  it('5b. s = t → ring-pedersen:s-equals-t', () => {
    const s = session();
    const key = fixtureKey(level, BAD);
    const aux = auxOver(s.setup.sid, BAD, key.N, key.phi, seededRng('case5b'));
    const r = run(s, [forgedOpening(s, (d) => ({ ...d, ...aux, s: aux.t }))]);
    expectCulprits(s, r, [[BAD, 'ring-pedersen:s-equals-t']]);
  });

  it.each<[string, (sid: Uint8Array) => { sessionId: Uint8Array; prover: number }]>([
    [
      '6a. Πprm replayed from another session',
      () => ({ sessionId: keygenSetup(level, 3, 2, 'other').sid, prover: BAD }),
    ],
    ['6b. Πprm made under another prover index', (sid) => ({ sessionId: sid, prover: 2 })],
  ])('%s → bad-proof:prm:eq1', (_name, ctxOf) => {
    const s = session();
    const st = s.state(BAD);
    const key = fixtureKey(level, BAD);
    const R = { N: st.own.N, s: st.own.s, t: st.own.t };
    const witness = { lambda: st.secret.lambda, phi: key.phi };
    const prm = provePrm(level, ctxOf(s.setup.sid), R, witness, seededRng('case6'));
    const reason = prmReason(s.setup.sid, BAD, R, prm);
    const r = run(s, [forgedOpening(s, (d) => ({ ...d, prm }))]);
    expectCulprits(s, r, [[BAD, reason]]);
  });

  it('7a. a party copies another party’s N, s, t and Πprm → its Πprm fails (bound to prover 0)', () => {
    const s = session();
    const victim = decodeDecommitment(s.state(0).decommitment!, cp);
    const R = { N: victim.N, s: victim.s, t: victim.t };
    const reason = prmReason(s.setup.sid, BAD, R, victim.prm);
    const r = run(s, [forgedOpening(s, (d) => ({ ...d, ...R, prm: victim.prm }))]);
    expectCulprits(s, r, [[BAD, reason]]);
  });

  it('7b. a colluder re-uses party 0’s N with its own valid Πprm → duplicate-modulus (later party)', () => {
    const s = session();
    const key0 = fixtureKey(level, 0); // collusion: the copier knows the factorisation
    const aux = auxOver(s.setup.sid, BAD, key0.N, key0.phi, seededRng('case7b'));
    const r = run(s, [forgedOpening(s, (d) => ({ ...d, ...aux }))]);
    const [a0, a2] = expectCulprits(s, r, [[BAD, 'duplicate-modulus']]);
    // Evidence: the later party's opening, then the earlier party's (party 0 holds no signed copy
    // of its own message; any other party can supply it).
    const froms = (a: AbortInfo): number[] =>
      a.culprits[0]!.evidence.map((b) => decodeEnvelope(b).from);
    expect(froms(a0!)).toEqual([BAD]);
    expect(froms(a2!)).toEqual([BAD, 0]);
  });
});

describe('Feldman VSS and Schnorr (SECURITY.md §3, 8–12)', () => {
  it.each<[string, (d: Decommitment) => Decommitment]>([
    ['rid', (d) => ({ ...d, rid: new Uint8Array(32).fill(7) })],
    ['chain code', (d) => ({ ...d, c: new Uint8Array(32).fill(7) })],
    ['S_{j,1}', (d) => ({ ...d, S: [d.S[0]!, mulBase(5n)] })],
  ])('8. the opening does not match V_j (%s changed) → decommitment', (_f, change) => {
    const s = session();
    const r = run(s, [
      {
        from: BAD,
        apply: (m) => {
          if (m.round !== 2 || !m.broadcast) return undefined;
          const p = decodeRound2(m.body, cp);
          if (p.kind !== 'ok') return undefined;
          const d = decodeDecommitment(p.value, cp);
          return encodeRound2({ kind: 'ok', value: encodeDecommitment(change(d)) });
        },
      },
    ]);
    expectCulprits(s, r, [[BAD, 'decommitment']]);
    expectOnlyComplaints(r, 3);
  });

  it.each<[string, (S: readonly Point[]) => Point[]]>([
    ['t + 1 (threshold raise)', (S) => [...S, mulBase(9n)]],
    ['t − 1', (S) => S.slice(0, 1)],
  ])('9. |S_j| = %s with a matching commitment → decode:keygen.S', (_f, change) => {
    const s = session();
    const r = run(s, [forgedOpening(s, (d) => ({ ...d, S: change(d.S) }))]);
    expectCulprits(s, r, [[BAD, 'decode:keygen.S']]);
  });

  it('10. σ_{1,2} inconsistent with S_1, sent to party 2 only → both honest parties name 1', () => {
    const s = session();
    const r = run(s, [
      {
        from: BAD,
        apply: (m) =>
          m.round === 2 && !m.broadcast && m.to === 2
            ? encodeShare(modQ(decodeShare(m.body)! + 1n))
            : undefined,
      },
    ]);
    const aborts = expectCulprits(s, r, [[BAD, 'feldman']]);
    // The victim (2) complained in round 3 with the signed envelope; party 0 judged it.
    const complaint = r.deliveries.find((d) => d.from === 2 && d.round === 3 && d.broadcast)!;
    const posted = decodeRound3(unwrapBody(decodeEnvelope(complaint.envelope).payload).body, cp);
    expect(posted.kind).toBe('complaint');
    // Third-party check of the evidence: [σ envelope, 1's round-2 broadcast], both signed by 1.
    for (const a of aborts) {
      const [shareEnv, openingEnv] = a.culprits[0]!.evidence;
      const exp = {
        sessionId: s.setup.sid,
        rosterKeys: s.setup.rosterKeys,
        parties: s.setup.parties,
      };
      const share = openEnvelope(shareEnv!, exp);
      const opening = openEnvelope(openingEnv!, exp);
      expect([share.from, share.to, share.round, opening.from, opening.round]).toEqual([
        1, 2, 2, 1, 2,
      ]);
      const sigma = decodeShare(unwrapBody(share.payload).body)!;
      const posted2 = decodeRound2(unwrapBody(opening.payload).body, cp);
      if (posted2.kind !== 'ok') throw new Error('expected an opening');
      const S = decodeDecommitment(posted2.value, cp).S;
      // Σ_k 3^k·S_{1,k} (party 2's evaluation point is 3) ≠ σ·G
      const F = S.reduce<Point>((acc, Sk, k) => acc.add(Sk.multiply(3n ** BigInt(k))), IDENTITY);
      expect(mulBase(sigma).equals(F)).toBe(false);
    }
  });

  it('10b. a false complaint (an honest σ presented as bad) names the complainer', () => {
    const s = session();
    const r = run(s, [
      {
        from: BAD,
        apply: (m) => {
          if (m.round !== 3) return undefined;
          if (!m.broadcast) return encodeFac(undefined);
          const honest = s.engines
            .get(BAD)!
            .snapshot()
            .received.find((b) => {
              const e = decodeEnvelope(b);
              return e.round === 2 && e.from === 0 && e.to === BAD;
            })!;
          return encodeRound3({ kind: 'complaint', items: [{ envelope: honest, context: [] }] });
        },
      },
    ]);
    expectCulprits(s, r, [[BAD, 'false-complaint']]);
  });

  it('10c. an empty complaint with nothing wrong names the complainer', () => {
    const s = session();
    const r = run(s, [
      {
        from: BAD,
        apply: (m) =>
          m.round !== 3
            ? undefined
            : m.broadcast
              ? encodeRound3({ kind: 'complaint', items: [] })
              : encodeFac(undefined),
      },
    ]);
    expectCulprits(s, r, [[BAD, 'false-complaint']]);
  });

  it.each<[string, (v: Round3Ok, st: KeygenState) => bigint]>([
    ['z + 1', (v) => modQ(v.z + 1n)],
    [
      'made with another rid (own rid_1 instead of ⊕ rid_j)',
      (_v, st) => {
        const rho = xorAll(st.parties!.map((p) => p.rho)); // ρ as everyone has it
        const ssid = computeSsid(st.sid, st.nonces!, st.own.rid, rho); // but rid = rid_1 only
        return respond(st, { sessionId: ssid, prover: BAD });
      },
    ],
    [
      'made for another index (prover 0)',
      (_v, st) => respond(st, { sessionId: st.ssid!, prover: 0 }),
    ],
  ])('11. Schnorr response %s → bad-proof:sch:eq1', (_f, z) => {
    const s = session();
    const r = run(s, [round3Broadcast((v, st) => ({ ...v, z: z(v, st) }))(s)]);
    expectCulprits(s, r, [[BAD, 'bad-proof:sch:eq1']]);
  });

  it('12. different V_1 to different parties → the echo dispute names 1 (equivocation)', () => {
    const s = session();
    const r = run(
      s,
      [
        {
          from: BAD,
          apply: (m) =>
            m.round === 1 && m.to === 2
              ? encodeRound1({ nonce: decodeRound1(m.body).nonce, V: new Uint8Array(32).fill(1) })
              : undefined,
        },
      ],
      true
    );
    const aborts = expectCulprits(s, r, [[BAD, 'equivocation']], 'echo-mismatch');
    for (const a of aborts) {
      const [e1, e2] = a.culprits[0]!.evidence.map((b) => decodeEnvelope(b));
      expect([e1!.from, e2!.from, e1!.round, e2!.round]).toEqual([1, 1, 1, 1]);
      expect(e1!.payload).not.toEqual(e2!.payload);
    }
  });
});

/** Πsch response of BAD's state under another context. */
function respond(st: KeygenState, ctx: ProofContext): bigint {
  const X = decodePoint(st.publicShares![BAD]!);
  const A = decodePoint(st.own.A);
  return schRespond(ctx, { X }, { x: st.x! }, { alpha: st.secret.tau, A }).z;
}

describe('later rounds, transport', () => {
  it('a round-3 broadcast split (complaint to 0, ok to 2) → echo dispute names 1', () => {
    const s = session();
    const r = run(
      s,
      [
        {
          from: BAD,
          apply: (m) =>
            m.round === 3 && m.broadcast && m.to === 0
              ? encodeRound3({ kind: 'complaint', items: [] })
              : undefined,
        },
      ],
      true
    );
    expectCulprits(s, r, [[BAD, 'equivocation']], 'echo-mismatch');
  });

  it('a different confirmation hash (C17) → confirmation-mismatch; nobody outputs', () => {
    const s = session();
    const r = run(s, [
      {
        from: BAD,
        apply: (m) =>
          m.round === 4
            ? encodeRound4({ kind: 'ok', value: new Uint8Array(32).fill(9) })
            : undefined,
      },
    ]);
    expectCulprits(s, r, [[BAD, 'confirmation-mismatch']]);
  });

  it('a malformed round-1 payload → decode:<field>', () => {
    const s = session();
    const r = run(s, [
      { from: BAD, apply: (m) => (m.round === 1 ? new Uint8Array([1, 2, 3]) : undefined) },
    ]);
    expectCulprits(s, r, [[BAD, 'decode:tag']]);
  });

  it('a forged envelope signature is dropped; the session times out without a culprit', () => {
    const s = session();
    const wrongKey = s.setup.secretKeys.get(2)!;
    const r = run(
      s,
      [
        {
          from: BAD,
          apply: (m) => {
            if (m.round !== 2 || !m.broadcast || m.to !== 0) return undefined;
            const e = decodeEnvelope(m.envelope);
            return {
              envelope: signEnvelope(
                { sessionId: e.sessionId, round: e.round, from: BAD, payload: e.payload },
                wrongKey
              ),
            };
          },
        },
      ],
      true
    );
    expect(r.results.size).toBe(0);
    expect(r.stuck).toEqual([0, 1, 2]);
    for (const p of HONEST) {
      const e = s.engines.get(p)!;
      e.expire();
      expect(e.aborted?.reason).toMatch(/^timeout: waiting for \d/);
      expect(e.aborted?.culprits).toEqual([]);
      expect(e.result).toBeUndefined();
    }
  });

  it('a round message replayed from another session is rejected by the engine', () => {
    const s = session();
    const other = keygenSetup(level, 3, 2, 'replay-source');
    const replayed = keygenEngines(other, 'replay-source').get(BAD)!.drain()[0]!.bytes;
    expect(decodeEnvelope(replayed).round).toBe(1);
    // Offered directly: refused, nothing changes.
    expect(s.engines.get(0)!.receive(replayed)).toEqual({
      accepted: false,
      rejection: 'wrong-session',
    });
    expect(s.engines.get(0)!.aborted).toBeUndefined();
    // In place of BAD's own round-1 message to 0: dropped, so 0 waits; nobody is blamed.
    const r = run(
      s,
      [
        {
          from: BAD,
          apply: (m) => (m.round === 1 && m.to === 0 ? { envelope: replayed } : undefined),
        },
      ],
      true
    );
    expect(r.results.size).toBe(0);
    expect(r.stuck).toContain(0);
    for (const p of HONEST) {
      const e = s.engines.get(p)!;
      e.expire();
      expect(e.aborted?.culprits).toEqual([]);
    }
  });
});
