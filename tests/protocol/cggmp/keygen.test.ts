/**
 * Keygen (aux info + Feldman VSS + confirmation, one session; CGGMP.md §5.1, §5.2, C12, C17):
 * honest runs over the (t, n) table at level112 and 2-of-3 at level128, the key-share checks and
 * codec, snapshot/restore mid-session, and the public API's input errors. The tamper suite is in
 * keygen-tamper.test.ts; 9-of-16 and the level128 table are in tests/slow/keygen.test.ts.
 */
import { computeAddress } from 'ethers';
import { beforeAll, describe, expect, it } from 'vitest';
import { lagrange, type KeyShare } from '../../../protocol/cggmp/key-share.js';
import {
  decodeKeyShare,
  encodeKeyShare,
  keygenProtocol,
  keyShareSummary,
  startKeygen,
  validateKeyShare,
  type KeygenArgs,
  type KeygenState,
} from '../../../protocol/cggmp/keygen/index.js';
import { DecodeError, InvalidArgs } from '../../../protocol/errors.js';
import { decodePoint, G, IDENTITY, modQ, mulBase } from '../../../protocol/math/curve.js';
import { LEVEL112, LEVEL128, type SecurityLevel } from '../../../protocol/params.js';
import { RoundEngine, unwrapBody } from '../../../protocol/round/engine.js';
import { decodeEnvelope } from '../../../protocol/round/envelope.js';
import { deserializeState, serializeState } from '../../../protocol/round/state-codec.js';
import type { PartyIndex } from '../../../protocol/round/types.js';
import { fixtureKey, fixturePrimes } from '../../helpers/fixtures.js';
import {
  engineConfig,
  keygenEngines,
  keygenSetup,
  runKeygen,
  type KeygenEngine,
  type KeygenSetup,
} from '../../helpers/keygen.js';
import { seededRng } from '../../helpers/rng.js';

/** Every t-subset of [0, n) in lexicographic order (at most `limit`). */
function subsets(n: number, t: number, limit = 12): number[][] {
  const out: number[][] = [];
  const rec = (start: number, acc: number[]): void => {
    if (out.length >= limit) return;
    if (acc.length === t) {
      out.push([...acc]);
      return;
    }
    for (let i = start; i < n; i++) rec(i + 1, [...acc, i]);
  };
  rec(0, []);
  // Also the last t parties (lexicographic order alone would not reach them).
  const last = Array.from({ length: t }, (_, k) => n - t + k);
  if (!out.some((s) => s.join() === last.join())) out.push(last);
  return out;
}

/** Σ_{j∈S} λ_j·x_j mod q: the secret key, if S has t members (never done outside tests). */
function interpolate(shares: readonly KeyShare[], S: readonly number[]): bigint {
  return S.reduce((acc, j) => modQ(acc + lagrange(S, j) * shares[j]!.x), 0n);
}

const SHAPES: ReadonlyArray<[string, SecurityLevel, number, number, boolean]> = [
  ['2-of-3 level112', LEVEL112, 2, 3, false],
  ['3-of-5 level112', LEVEL112, 3, 5, false],
  ['4-of-7 level112', LEVEL112, 4, 7, false],
  ['3-of-3 level112 (reversed delivery)', LEVEL112, 3, 3, true],
  ['5-of-5 level112 (reversed delivery)', LEVEL112, 5, 5, true],
  ['2-of-3 level128', LEVEL128, 2, 3, false],
];

/** One honest run per shape, shared by every describe of this file. */
const runs = new Map<string, { setup: KeygenSetup; run: ReturnType<typeof runKeygen> }>();
function honestRun(level: SecurityLevel, t: number, n: number, reverse = false) {
  const id = `${level.name}/${t}/${n}`;
  let r = runs.get(id);
  if (!r) {
    const setup = keygenSetup(level, n, t);
    const run = runKeygen(setup, { reverse });
    console.log(`keygen ${t}-of-${n} ${level.name}: ${Math.round(run.ms)} ms (all parties)`);
    runs.set(id, (r = { setup, run }));
  }
  return r;
}

describe.each(SHAPES)('honest keygen %s', (_name, level, t, n, reverse) => {
  let setup: KeygenSetup;
  let shares: KeyShare[];
  let run: ReturnType<typeof runKeygen>;

  beforeAll(() => {
    ({ setup, run } = honestRun(level, t, n, reverse));
    shares = setup.parties.map((p) => run.results.get(p)!);
  }, 300_000);

  it('every party outputs a share; nobody aborts or waits', () => {
    expect(run.aborts.size).toBe(0);
    expect(run.stuck).toEqual([]);
    expect(run.results.size).toBe(n);
    shares.forEach((s, i) => {
      expect(s.index).toBe(i);
      expect([s.t, s.n, s.epoch, s.level]).toEqual([t, n, 0, level.name]);
    });
  });

  it('all parties agree on pk, keyId, every X_k, rid, chain code and aux info', () => {
    const [a, ...rest] = shares;
    for (const s of rest) {
      expect(s.publicKey).toEqual(a!.publicKey);
      expect(s.keyId).toBe(a!.keyId);
      expect(s.publicShares).toEqual(a!.publicShares);
      expect(s.rid).toEqual(a!.rid);
      expect(s.chainCode).toEqual(a!.chainCode);
      expect(s.aux).toEqual(a!.aux);
      expect(s.roster).toEqual(setup.roster);
    }
    // The aux info is every party's own fixture modulus, and N_j = p_j·q_j for the owner.
    shares.forEach((s, j) => {
      expect(a!.aux[j]!.N).toBe(fixtureKey(level, j).N);
      expect(s.ownAux.p * s.ownAux.q).toBe(s.aux[j]!.N);
    });
    expect(new Set(a!.publicShares.map((X) => Buffer.from(X).toString('hex'))).size).toBe(n);
  });

  it('x_i·G = X_i for every party', () => {
    for (const s of shares) expect(mulBase(s.x).toBytes(true)).toEqual(s.publicShares[s.index]);
  });

  it('any t shares interpolate to the same secret key sk with sk·G = pk; t−1 shares do not', () => {
    const pk = decodePoint(shares[0]!.publicKey);
    const all = subsets(n, t);
    const sks = all.map((S) => interpolate(shares, S));
    expect(new Set(sks).size).toBe(1);
    expect(mulBase(sks[0]!).equals(pk)).toBe(true);
    // Public check per subset too: Σ λ_j·X_j = pk (what presign asserts, §5.4).
    for (const S of all) {
      const sum = S.reduce(
        (acc, j) => acc.add(decodePoint(shares[0]!.publicShares[j]!).multiply(lagrange(S, j))),
        IDENTITY
      );
      expect(sum.equals(pk)).toBe(true);
    }
    // Threshold is exactly t: t−1 shares interpolate to something else.
    const fewer = Array.from({ length: t - 1 }, (_, k) => k);
    expect(interpolate(shares, fewer)).not.toBe(sks[0]);
  });

  it('validateKeyShare passes; shares survive encode → decode', () => {
    for (const s of shares) {
      expect(() => validateKeyShare(s)).not.toThrow();
      expect(decodeKeyShare(encodeKeyShare(s))).toEqual(s);
    }
  });

  it('summary: compressed key, key id, EIP-55 address (checked with ethers)', () => {
    const sum = keyShareSummary(shares[0]!);
    expect(sum.publicKey).toBe(Buffer.from(shares[0]!.publicKey).toString('hex'));
    expect(sum.publicKey).toMatch(/^0[23][0-9a-f]{64}$/);
    expect(sum.keyId).toBe(shares[0]!.keyId);
    expect(sum.address).toBe(computeAddress('0x' + sum.publicKey));
    for (const s of shares) expect(keyShareSummary(s)).toEqual(sum);
  });

  it('message layout: 4 rounds, broadcasts in 1–4, p2p in 2–3, echo hashes of rounds 1–3', () => {
    const count = (round: number, broadcast: boolean): number =>
      run.deliveries.filter((d) => d.round === round && d.broadcast === broadcast).length;
    for (const r of [1, 2, 3, 4]) expect(count(r, true)).toBe(n * (n - 1));
    for (const r of [2, 3]) expect(count(r, false)).toBe(n * (n - 1));
    expect(count(1, false) + count(4, false)).toBe(0);
    expect(Math.max(...run.deliveries.map((d) => d.round))).toBe(4);
    for (const d of run.deliveries) {
      const { echo } = unwrapBody(decodeEnvelope(d.envelope).payload);
      expect(echo?.length).toBe(d.round === 1 ? undefined : n);
    }
  });
});

describe('key-share checks and codec (2-of-3 level112)', () => {
  let shares: KeyShare[];
  beforeAll(() => {
    const { run } = honestRun(LEVEL112, 2, 3); // the same run as the 2-of-3 shape above
    shares = [0, 1, 2].map((p) => run.results.get(p)!);
  }, 120_000);

  const mutate = (s: KeyShare, f: (c: Record<string, unknown>) => void): KeyShare => {
    const c = deserializeState<Record<string, unknown>>(serializeState(s));
    f(c);
    return c as unknown as KeyShare;
  };
  const badPrefix = (b: Uint8Array): Uint8Array => {
    const c = b.slice();
    c[0] = 0x05; // neither 0x02 nor 0x03
    return c;
  };

  it.each<[string, (c: Record<string, unknown>, s: KeyShare) => void, string]>([
    ['x + 1', (c, s) => (c.x = s.x + 1n), 'share.x'],
    ['x = 0', (c) => (c.x = 0n), 'share.x'],
    ['x ≥ q', (c) => (c.x = 1n << 256n), 'share.x'],
    ['another party’s X as own', (c, s) => (c.index = (s.index + 1) % 3), 'share.x'],
    [
      'X_2 moved off the polynomial',
      (c, s) => {
        c.publicShares = s.publicShares.map((X, k) => (k === 2 ? G.multiply(5n).toBytes(true) : X));
      },
      'share.publicShares[2]',
    ],
    [
      'X_k not a point',
      (c, s) => (c.publicShares = [badPrefix(s.publicShares[0]!), ...s.publicShares.slice(1)]),
      'share.publicShares[0]',
    ],
    ['a missing X_k', (c, s) => (c.publicShares = s.publicShares.slice(1)), 'share.publicShares'],
    ['another public key', (c) => (c.publicKey = G.multiply(7n).toBytes(true)), 'share.keyId'],
    ['key id', (c) => (c.keyId = '00'.repeat(16)), 'share.keyId'],
    ['t changed', (c) => (c.t = 3), 'share.keyId'],
    ['t > n', (c) => (c.t = 4), 'share.t'],
    [
      'roster order',
      (c, s) => (c.roster = [s.roster[1], s.roster[0], s.roster[2]]),
      'share.roster',
    ],
    ['roster short', (c, s) => (c.roster = s.roster.slice(1)), 'share.roster'],
    ['rid size', (c) => (c.rid = new Uint8Array(31)), 'share.rid'],
    ['chain code size', (c) => (c.chainCode = new Uint8Array(33)), 'share.chainCode'],
    ['aux length', (c, s) => (c.aux = s.aux.slice(1)), 'share.aux'],
    [
      'aux N too small',
      (c, s) => (c.aux = s.aux.map((a, j) => (j === 1 ? { ...a, N: a.N >> 8n } : a))),
      'share.aux[1].N',
    ],
    ['aux duplicate N', (c, s) => (c.aux = [s.aux[0], s.aux[0], s.aux[2]]), 'share.aux[1].N'],
    [
      'aux s = t',
      (c, s) => (c.aux = s.aux.map((a, j) => (j === 2 ? { ...a, s: a.t } : a))),
      'share.aux[2]',
    ],
    [
      'own λ',
      (c, s) => (c.ownAux = { ...s.ownAux, lambda: s.ownAux.lambda + 1n }),
      'share.ownAux.lambda',
    ],
    [
      'own primes swapped with another party’s',
      (c) => (c.ownAux = { ...fixturePrimes(LEVEL112, 5), lambda: 1n }),
      'share.ownAux',
    ],
    ['version', (c) => (c.version = 2), 'share.version'],
    ['level', (c) => (c.level = 'level256'), 'share.level'],
    ['epoch', (c) => (c.epoch = -1), 'share.epoch'],
  ])('a tampered share fails validateKeyShare: %s', (_name, f, field) => {
    const s = shares[0]!;
    const bad = mutate(s, (c) => f(c, s));
    let err: unknown;
    try {
      validateKeyShare(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgs);
    expect((err as InvalidArgs).field).toBe(field);
  });

  it('decodeKeyShare refuses unknown versions with a clear error, and invalid shares', () => {
    const s = shares[1]!;
    const v2 = serializeState({ ...s, version: 2 });
    expect(() => decodeKeyShare(v2)).toThrow(DecodeError);
    expect(() => decodeKeyShare(v2)).toThrow(
      /unsupported key-share version 2 \(this build reads version 1\)/
    );
    expect(() => decodeKeyShare(serializeState({ ...s, version: undefined }))).toThrow(/version/);
    expect(() => decodeKeyShare(new TextEncoder().encode('[1,2]'))).toThrow(DecodeError);
    expect(() => decodeKeyShare(new Uint8Array([0xff]))).toThrow(DecodeError);
    const badX = serializeState({ ...s, x: s.x + 1n });
    expect(() => decodeKeyShare(badX)).toThrow(/share\.x/);
  });
});

describe('snapshot → serialize → restore between every delivery wave', () => {
  it('a party restored from plain data after each wave finishes with the same key (2-of-3)', () => {
    const setup = keygenSetup(LEVEL112, 3, 2, 'restore');
    const engines = keygenEngines(setup, 'restore');
    let restores = 0;
    const pending: Array<{ to: PartyIndex; bytes: Uint8Array }> = [];
    const send = (from: PartyIndex, outs: ReturnType<KeygenEngine['drain']>): void => {
      for (const o of outs) {
        const targets = o.to === undefined ? setup.parties.filter((p) => p !== from) : [o.to];
        for (const to of targets) pending.push({ to, bytes: o.bytes });
      }
    };
    for (const [from, e] of engines) send(from, e.drain());
    while (pending.length > 0) {
      for (const d of pending.splice(0)) engines.get(d.to)!.receive(d.bytes);
      for (const [from, e] of engines) send(from, e.drain());
      // Party 1 "crashes" after sending, and comes back from its persisted snapshot.
      const snap = deserializeState<ReturnType<KeygenEngine['snapshot']>>(
        serializeState(engines.get(1)!.snapshot())
      );
      const cfg = engineConfig(setup, 1);
      engines.set(
        1,
        RoundEngine.restore(keygenProtocol(seededRng(`restored/${restores}`)), cfg, snap)
      );
      restores++;
    }
    expect(restores).toBeGreaterThanOrEqual(4);
    const keys = setup.parties.map((p) => engines.get(p)!.result);
    expect(keys.every((k) => k !== undefined)).toBe(true);
    expect(keys[1]!.publicKey).toEqual(keys[0]!.publicKey);
    expect(keys[2]!.publicShares).toEqual(keys[1]!.publicShares);
    expect(() => validateKeyShare(keys[1]!)).not.toThrow();
  });
});

describe('startKeygen input errors', () => {
  const setup = keygenSetup(LEVEL112, 3, 2, 'args');
  const good = (): KeygenArgs => ({
    level: LEVEL112,
    roster: setup.roster,
    self: 0,
    t: 2,
    sessionId: setup.sid,
    primes: fixturePrimes(LEVEL112, 0),
  });
  const big = keygenSetup(LEVEL112, 16, 2, 'args16');

  it('accepts good arguments (level by object or by name) and returns round-1 messages', () => {
    for (const level of [LEVEL112, 'level112'] as const) {
      const { protocol, first } = startKeygen({ ...good(), level, rng: seededRng('ok') });
      expect(protocol.name).toBe('keygen');
      expect(first.kind).toBe('next');
      if (first.kind === 'next') {
        expect(protocol.round(first.state as KeygenState)).toBe(1);
        expect(first.outgoing).toHaveLength(1);
      }
    }
  });

  it.each<[string, (a: KeygenArgs) => KeygenArgs, string]>([
    ['t > n', (a) => ({ ...a, t: 4 }), 't'],
    ['t < 2', (a) => ({ ...a, t: 1 }), 't'],
    ['t not an integer', (a) => ({ ...a, t: 2.5 }), 't'],
    [
      'n > 16',
      (a) => ({
        ...a,
        roster: [
          ...big.roster,
          { partyId: new Uint8Array([0xff]), publicKey: new Uint8Array(32).fill(3) },
        ],
      }),
      'roster',
    ],
    ['n < 2', (a) => ({ ...a, roster: a.roster.slice(0, 1) }), 'roster'],
    [
      'duplicate party ids',
      (a) => ({ ...a, roster: [a.roster[0]!, a.roster[0]!, a.roster[2]!] }),
      'roster',
    ],
    [
      'unsorted roster',
      (a) => ({ ...a, roster: [a.roster[1]!, a.roster[0]!, a.roster[2]!] }),
      'roster',
    ],
    [
      '31-byte Ed25519 key',
      (a) => ({
        ...a,
        roster: a.roster.map((r, i) =>
          i === 1 ? { ...r, publicKey: r.publicKey.subarray(1) } : r
        ),
      }),
      'roster[1].publicKey',
    ],
    [
      'the same Ed25519 key twice',
      (a) => ({
        ...a,
        roster: a.roster.map((r, i) => (i === 2 ? { ...r, publicKey: a.roster[0]!.publicKey } : r)),
      }),
      'roster[2].publicKey',
    ],
    [
      'empty party id',
      (a) => ({
        ...a,
        roster: a.roster.map((r, i) => (i === 0 ? { ...r, partyId: new Uint8Array(0) } : r)),
      }),
      'roster[0].partyId',
    ],
    ['self outside the roster', (a) => ({ ...a, self: 3 }), 'self'],
    ['negative self', (a) => ({ ...a, self: -1 }), 'self'],
    ['sessionId of 31 bytes', (a) => ({ ...a, sessionId: a.sessionId.subarray(1) }), 'sessionId'],
    ['unknown level name', (a) => ({ ...a, level: 'level80' as 'level112' }), 'level'],
    ['a hand-made level', (a) => ({ ...a, level: { ...LEVEL112, m: 80 } }), 'level'],
    ['p = q', (a) => ({ ...a, primes: { p: a.primes.p, q: a.primes.p } }), 'primes.q'],
    ['p not prime', (a) => ({ ...a, primes: { ...a.primes, p: a.primes.p + 4n } }), 'primes.p'],
    [
      'primes of the other level',
      (a) => ({ ...a, primes: fixturePrimes(LEVEL128, 0) }),
      'primes.p',
    ],
    [
      'primes not bigints',
      (a) => ({ ...a, primes: { p: 7, q: 11 } as unknown as KeygenArgs['primes'] }),
      'primes.p',
    ],
    ['rng not a function', (a) => ({ ...a, rng: 5 as unknown as KeygenArgs['rng'] }), 'rng'],
  ])('%s → InvalidArgs', (_name, f, field) => {
    let err: unknown;
    try {
      startKeygen(f(good()));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgs);
    expect((err as InvalidArgs).field).toBe(field);
  });
});
