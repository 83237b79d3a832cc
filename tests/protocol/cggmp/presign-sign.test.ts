/**
 * Presign + sign end to end over the in-memory network (CGGMP.md §5.4–5.8), with key shares from
 * the TEST-ONLY trusted dealer (tests/helpers/dealer.ts): several signer subsets per key; every
 * signature is checked by @noble/curves over the raw digest, by the OpenSSL CLI, and by ethers
 * address recovery against the key's Ethereum address; low-s always; single use; API errors.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgs } from '../../../protocol/errors.js';
import { ethereumAddress, type KeyShare } from '../../../protocol/cggmp/key-share.js';
import {
  presignEngine,
  presignProtocol,
  presignSessionId,
  startPresign,
  type Presignature,
  type PresignState,
} from '../../../protocol/cggmp/presign/index.js';
import { signSessionId, startSign } from '../../../protocol/cggmp/sign/index.js';
import { startSignDigest } from '../../../protocol/cggmp/sign/sign-digest.js';
import { CURVE_ORDER, decodePoint, modQ, mulBase } from '../../../protocol/math/curve.js';
import { LEVEL112, LEVEL128, type SecurityLevel } from '../../../protocol/params.js';
import { RoundEngine, type EngineSnapshot } from '../../../protocol/round/engine.js';
import { deserializeState, serializeState } from '../../../protocol/round/state-codec.js';
import { dealKeyShares, identitySecretKey } from '../../helpers/dealer.js';
import { seededRng } from '../../helpers/rng.js';
import { runPresign, runSign, runSignDigest } from '../../helpers/signing.js';
import { ethersRecover, nobleVerify, opensslVerify } from '../../helpers/verify.js';

interface Shape {
  readonly level: SecurityLevel;
  readonly t: number;
  readonly n: number;
  readonly subsets: number[][];
}

const SHAPES: Shape[] = [
  {
    level: LEVEL112,
    t: 2,
    n: 3,
    subsets: [
      [0, 1],
      [0, 2],
      [1, 2],
    ],
  },
  {
    level: LEVEL112,
    t: 3,
    n: 5,
    subsets: [
      [0, 1, 2],
      [1, 3, 4],
      [0, 2, 4],
    ],
  },
  {
    level: LEVEL112,
    t: 4,
    n: 7,
    subsets: [
      [0, 1, 2, 3],
      [2, 4, 5, 6],
    ],
  },
  { level: LEVEL112, t: 3, n: 3, subsets: [[0, 1, 2]] },
  { level: LEVEL112, t: 5, n: 5, subsets: [[0, 1, 2, 3, 4]] },
  {
    level: LEVEL128,
    t: 2,
    n: 3,
    subsets: [
      [0, 2],
      [1, 2],
    ],
  },
];

const name = (s: Shape): string => `${s.t}-of-${s.n} at ${s.level.name}`;

/** Run presign then sign for one subset; check everything every honest party must see. */
function presignAndSign(shares: KeyShare[], signers: number[], digest: Uint8Array, label: string) {
  const pre = runPresign(shares, signers, { label: `${label}/presign` });
  expect(pre.aborts.size).toBe(0);
  expect(pre.stuck).toEqual([]);
  expect([...pre.results.keys()].sort()).toEqual(signers);
  const presigs = [...pre.results.values()];
  // Every signer holds the same public presignature data: id, R, R̄_j, K_j, F̂.
  for (const p of presigs) {
    expect(p.id).toBe(presigs[0]!.id);
    expect(p.R).toEqual(presigs[0]!.R);
    expect(p.Rbar).toEqual(presigs[0]!.Rbar);
    expect(p.K).toEqual(presigs[0]!.K);
    expect(p.Fhat).toEqual(presigs[0]!.Fhat);
    expect(p.consumed).toBe(false);
  }
  // Σ_j R̄_j = δ^{-1}·Σ_j Δ_j = δ^{-1}·δ·G = G (the R̄ are consistent with R).
  const sumRbar = presigs[0]!.Rbar.map((b) => decodePoint(b)).reduce((a, b) => a.add(b));
  expect(sumRbar.equals(mulBase(1n))).toBe(true);
  // Persisted and reloaded (plain data), as the keystore would.
  const reloaded = new Map(
    [...pre.results].map(([i, p]) => [i, deserializeState<Presignature>(serializeState(p))])
  );
  const sig = runSign(shares, reloaded, digest, { label: `${label}/sign` });
  expect(sig.aborts.size).toBe(0);
  expect(sig.stuck).toEqual([]);
  for (const p of reloaded.values()) expect(p.consumed).toBe(true);
  const all = [...sig.results.values()];
  expect(all).toHaveLength(signers.length);
  for (const s of all) expect(s).toEqual(all[0]);
  return { signature: all[0]!, presignatures: reloaded };
}

describe.each(SHAPES)('presign → sign, $t-of-$n at $level.name', (shape) => {
  let shares: KeyShare[];
  const digest = seededRng(`digest/${name(shape)}`)(32);
  beforeAll(() => {
    shares = dealKeyShares({ ...shape, rng: seededRng(`dealer/${name(shape)}`) });
  });

  it('every subset signs; signatures verify (noble, OpenSSL), recover the address, low-s', () => {
    const pk = shares[0]!.publicKey;
    const address = ethereumAddress(pk);
    const rs = new Set<bigint>();
    for (const signers of shape.subsets) {
      const { signature: sig, presignatures } = presignAndSign(
        shares,
        signers,
        digest,
        `${name(shape)}/${signers.join('')}`
      );
      expect(sig.s <= CURVE_ORDER >> 1n).toBe(true);
      expect(sig.r > 0n && sig.s > 0n).toBe(true);
      expect(nobleVerify(pk, digest, sig.r, sig.s)).toBe(true);
      expect(opensslVerify(pk, digest, sig.r, sig.s)).toBe(true);
      expect(ethersRecover(digest, sig.r, sig.s, sig.recid)).toBe(address);
      expect(sig.v).toBe(27 + sig.recid);
      expect(sig.signature65[64]).toBe(sig.v);
      expect(sig.der[0]).toBe(0x30);
      // r is the x of the presignature's R mod q.
      const R = decodePoint([...presignatures.values()][0]!.R);
      expect(sig.r).toBe(modQ(R.toAffine().x));
      rs.add(sig.r);
      // Single use: a second sign with the same presignature is refused before any σ.
      const [i, p] = [...presignatures][0]!;
      expect(() =>
        startSign({ keyShare: shares[i]!, presignature: p, digest, sessionId: new Uint8Array(32) })
      ).toThrow(/already consumed/);
    }
    // Different subsets (fresh presignatures) give different valid signatures of one digest.
    expect(rs.size).toBe(shape.subsets.length);
  });
});

describe('signDigest (presign + sign in one session)', () => {
  it('2-of-3 at level112: one session, a valid signature, the presignature id reported', () => {
    const shares = dealKeyShares({ level: LEVEL112, n: 3, t: 2, rng: seededRng('sd/dealer') });
    const digest = seededRng('sd/digest')(32);
    const run = runSignDigest(shares, [1, 2], digest);
    expect(run.aborts.size).toBe(0);
    const [a, b] = [run.results.get(1)!, run.results.get(2)!];
    expect(a).toEqual(b);
    expect(a.presignatureId).toMatch(/^[0-9a-f]{64}$/);
    const pk = shares[0]!.publicKey;
    expect(nobleVerify(pk, digest, a.signature.r, a.signature.s)).toBe(true);
    expect(ethersRecover(digest, a.signature.r, a.signature.s, a.signature.recid)).toBe(
      ethereumAddress(pk)
    );
    // Rounds 1–4 presign, round 5 σ: nothing else crossed the wire.
    expect(new Set(run.deliveries.map((d) => d.round))).toEqual(new Set([1, 2, 3, 4, 5]));
  });
});

describe('HD tweak (§5.4, C16)', () => {
  it('signs for pk + δ·G: verifies and recovers the derived address, not the root one', () => {
    const shares = dealKeyShares({ level: LEVEL112, n: 3, t: 2, rng: seededRng('hd/dealer') });
    const tweak = modQ(BigInt('0x' + Buffer.from(seededRng('hd/tweak')(32)).toString('hex')));
    const pk = decodePoint(shares[0]!.publicKey);
    const derived = pk.add(mulBase(tweak)).toBytes(true);
    const digest = seededRng('hd/digest')(32);
    for (const signers of [
      [0, 1],
      [1, 2],
    ]) {
      const pre = runPresign(shares, signers, {
        label: `hd/${signers.join('')}`,
        tweak: () => tweak,
      });
      expect(pre.aborts.size).toBe(0);
      for (const p of pre.results.values()) {
        expect(p.tweak).toBe(tweak);
        expect(p.publicKey).toEqual(derived);
      }
      const run = runSign(shares, pre.results, digest, { label: `hd/s${signers.join('')}` });
      expect(run.aborts.size).toBe(0);
      const sig = run.results.get(signers[0]!)!;
      expect(nobleVerify(derived, digest, sig.r, sig.s)).toBe(true);
      expect(opensslVerify(derived, digest, sig.r, sig.s)).toBe(true);
      expect(ethersRecover(digest, sig.r, sig.s, sig.recid)).toBe(ethereumAddress(derived));
      expect(nobleVerify(shares[0]!.publicKey, digest, sig.r, sig.s)).toBe(false);
    }
    const sd = runSignDigest(shares, [0, 2], digest, { label: 'hd/sd', tweak: () => tweak });
    const sig = sd.results.get(0)!.signature;
    expect(nobleVerify(derived, digest, sig.r, sig.s)).toBe(true);
    // A tweak outside [0, q) is refused.
    expect(() =>
      startPresign({
        keyShare: shares[0]!,
        signers: [0, 1],
        sessionId: new Uint8Array(32),
        tweak: CURVE_ORDER,
      })
    ).toThrow(/tweak/);
  });
});

describe('persistence', () => {
  it('a party snapshotted, serialized and restored after every wave still completes', () => {
    const shares = dealKeyShares({ level: LEVEL112, n: 3, t: 2, rng: seededRng('persist') });
    const signers = [0, 2];
    const sid = presignSessionId(shares[0]!, signers, seededRng('persist/nonce')(32));
    const engines = new Map(
      signers.map((i) => [
        i,
        presignEngine({
          keyShare: shares[i]!,
          signers,
          sessionId: sid,
          secretKey: identitySecretKey(i),
        }),
      ])
    );
    const cfg = {
      sessionId: sid,
      self: 2,
      parties: signers,
      rosterKeys: shares[0]!.roster.map((r) => r.publicKey),
      secretKey: identitySecretKey(2),
    };
    let restores = 0;
    for (let moved = true; moved;) {
      moved = false;
      const wave = [...engines].flatMap(([from, e]) =>
        e.drain().map((o) => ({ to: o.to ?? signers.find((p) => p !== from)!, bytes: o.bytes }))
      );
      const snap = deserializeState<EngineSnapshot<PresignState, Presignature>>(
        serializeState(engines.get(2)!.snapshot())
      );
      engines.set(2, RoundEngine.restore(presignProtocol(), cfg, snap));
      restores++;
      for (const w of wave) {
        moved = true;
        engines.get(w.to)!.receive(w.bytes);
      }
    }
    expect(restores).toBeGreaterThanOrEqual(4);
    const [a, b] = [engines.get(0)!.result, engines.get(2)!.result];
    expect(a?.id).toBeDefined();
    expect(a?.id).toBe(b?.id);
    expect(a?.R).toEqual(b?.R);
  });
});

describe('API input errors', () => {
  let shares: KeyShare[];
  let other: KeyShare[];
  let presigs: Map<number, Presignature>;
  const digest = seededRng('api/digest')(32);
  const sid = new Uint8Array(32).fill(7);
  beforeAll(() => {
    shares = dealKeyShares({ level: LEVEL112, n: 3, t: 2, rng: seededRng('api/dealer') });
    other = dealKeyShares({ level: LEVEL112, n: 3, t: 2, rng: seededRng('api/other') });
    presigs = runPresign(shares, [0, 1], { label: 'api' }).results as Map<number, Presignature>;
    expect(presigs.size).toBe(2);
  });

  const invalid = (f: () => unknown, field: string): void => {
    let err: unknown;
    try {
      f();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgs);
    expect((err as InvalidArgs).field).toBe(field);
  };

  it('presign: signer set not a subset, wrong size, unsorted, without self; bad sid', () => {
    const keyShare = shares[0]!;
    invalid(() => startPresign({ keyShare, signers: [0, 3], sessionId: sid }), 'signers');
    invalid(() => startPresign({ keyShare, signers: [0, 1, 2], sessionId: sid }), 'signers');
    invalid(() => startPresign({ keyShare, signers: [0], sessionId: sid }), 'signers');
    invalid(() => startPresign({ keyShare, signers: [1, 0], sessionId: sid }), 'signers');
    invalid(() => startPresign({ keyShare, signers: [0, 0], sessionId: sid }), 'signers');
    invalid(() => startPresign({ keyShare, signers: [1, 2], sessionId: sid }), 'signers');
    invalid(
      () => startPresign({ keyShare, signers: [0, 1], sessionId: sid.subarray(1) }),
      'sessionId'
    );
    invalid(() => presignSessionId(keyShare, [0, 1], new Uint8Array(31)), 'nonce');
  });

  it('sign: digest not 32 bytes, another key, another signer set, another party, consumed', () => {
    const p0 = presigs.get(0)!;
    const base = { keyShare: shares[0]!, presignature: p0, sessionId: sid };
    invalid(() => startSign({ ...base, digest: new Uint8Array(31) }), 'digest');
    invalid(() => startSign({ ...base, digest: new Uint8Array(33) }), 'digest');
    invalid(
      () => startSign({ ...base, digest: 'ab'.repeat(32) as unknown as Uint8Array }),
      'digest'
    );
    invalid(() => startSign({ ...base, digest, keyShare: other[0]! }), 'presignature');
    invalid(() => startSign({ ...base, digest, signers: [0, 2] }), 'signers');
    invalid(() => startSign({ ...base, digest, keyShare: shares[1]! }), 'presignature');
    invalid(
      () => startSign({ ...base, digest, presignature: { ...p0, epoch: 1 } }),
      'presignature'
    );
    invalid(() => startSign({ ...base, digest, sessionId: new Uint8Array(16) }), 'sessionId');
    invalid(() => signSessionId(shares[0]!, p0, new Uint8Array(5), sid), 'digest');
    // None of those refusals burnt the presignature; a valid call does, and a second one fails.
    expect(p0.consumed).toBe(false);
    const first = startSign({ ...base, digest, signers: [0, 1] });
    expect(first.kind).toBe('next');
    expect(p0.consumed).toBe(true);
    invalid(() => startSign({ ...base, digest }), 'presignature');
  });

  it('signDigest: digest not 32 bytes', () => {
    invalid(
      () =>
        startSignDigest({
          keyShare: shares[0]!,
          signers: [0, 1],
          digest: new Uint8Array(0),
          sessionId: sid,
        }),
      'digest'
    );
  });
});
