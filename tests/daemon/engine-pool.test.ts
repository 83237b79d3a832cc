/**
 * The engine worker pool (daemon/session/engine-pool.ts): real worker threads (started from the
 * `.ts` sources through the tsx bootstrap) host three keygen engines; the test shuttles their
 * envelopes (broadcast = to every other party, `to` = one) until all three finish with the same
 * public key. Also: a session id is created once, unknown and disposed sessions are refused with
 * {@link EngineError}, garbage envelopes come back as `malformed` rejections without ending the
 * session, `expire` aborts with a timeout, a spec the protocol refuses frees the session id,
 * `close()` refuses later calls and fails pending ones, and `load()` counts sessions per worker.
 *
 * Engines use fixture primes (tests/helpers/fixtures.ts) and the dealer's deterministic identities.
 */
import '../../daemon/polyfills.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineSpec, EngineStatus } from '../../daemon/session/engine-jobs.js';
import { EngineError, EnginePool } from '../../daemon/session/engine-pool.js';
import type { KeyShare } from '../../protocol/cggmp/key-share.js';
import { computeSessionId } from '../../protocol/hash/session-id.js';
import { LEVEL112 } from '../../protocol/params.js';
import { dealerRoster, identitySecretKey } from '../helpers/dealer.js';
import { fixturePrimes } from '../helpers/fixtures.js';
import { seededRng } from '../helpers/rng.js';

type KeygenSpec = Extract<EngineSpec, { kind: 'keygen' }>;

const N = 3;
const T = 2;
const roster = dealerRoster(N);

/** The C12 sid of a 2-of-3 level112 keygen over the dealer roster (`label` varies the nonce). */
function keygenSid(label: string): Uint8Array {
  return computeSessionId({
    protocol: 'keygen',
    keyEpoch: 0,
    roster,
    t: T,
    n: N,
    level: 'level112',
    nonce: seededRng(`engine-pool/nonce/${label}`)(32),
  });
}

/** Party `self`'s keygen spec (fixture primes `self`, the dealer identity `self`). */
function keygenSpec(sessionId: Uint8Array, self: number): KeygenSpec {
  return {
    kind: 'keygen',
    level: 'level112',
    roster,
    self,
    t: T,
    sessionId,
    primes: fixturePrimes(LEVEL112, self),
    secretKey: identitySecretKey(self),
  };
}

/** Await a rejection and return it as an EngineError (fails the test on anything else). */
async function engineError(p: Promise<unknown>): Promise<EngineError> {
  const outcome = await p.then(
    () => ({ ok: true as const }),
    (err: unknown) => ({ ok: false as const, err })
  );
  if (outcome.ok) throw new Error('expected an EngineError, the call succeeded');
  expect(outcome.err).toBeInstanceOf(EngineError);
  return outcome.err as EngineError;
}

/**
 * Deliver every outgoing envelope until no party has anything left to send: broadcast (`to`
 * absent) to every other party, `to` to that party. Each delivery round hands every party its
 * whole inbox at once (the parties' workers run in parallel). Bounded by `deadlineMs`.
 */
async function shuttle(
  pool: EnginePool,
  sessions: readonly string[],
  first: readonly EngineStatus[],
  deadlineMs: number
): Promise<EngineStatus[]> {
  const last = [...first];
  const inbox: Uint8Array[][] = sessions.map(() => []);
  const route = (from: number, st: EngineStatus): void => {
    for (const o of st.outgoing) {
      const to = o.to === undefined ? sessions.map((_, j) => j).filter((j) => j !== from) : [o.to];
      for (const j of to) inbox[j]!.push(o.bytes);
    }
  };
  first.forEach((st, i) => route(i, st));
  const deadline = Date.now() + deadlineMs;
  while (inbox.some((b) => b.length > 0)) {
    if (Date.now() > deadline) throw new Error(`keygen did not finish within ${deadlineMs} ms`);
    const batches = inbox.map((b) => b.splice(0));
    const replies = await Promise.all(
      batches.map((batch, j) =>
        batch.length > 0 ? pool.receive(sessions[j]!, batch) : Promise.resolve(undefined)
      )
    );
    replies.forEach((st, j) => {
      if (!st) return;
      // honest parties' envelopes are never refused
      expect(st.rejected).toEqual([]);
      last[j] = st;
      route(j, st);
    });
  }
  return last;
}

describe('EnginePool', () => {
  let pool: EnginePool;
  beforeAll(() => {
    pool = new EnginePool(2);
  });
  afterAll(async () => {
    await pool?.close();
  });

  it('runs a 2-of-3 keygen in three sessions on two workers to one public key', async () => {
    const sid = keygenSid('run');
    const sessions = ['kg-0', 'kg-1', 'kg-2'];
    const first: EngineStatus[] = [];
    for (const [i, s] of sessions.entries()) first.push(await pool.create(s, keygenSpec(sid, i)));
    // least-loaded placement: 0 → worker 0, 1 → worker 1, 2 → worker 0
    expect(pool.load()).toEqual([2, 1]);
    for (const [i, st] of first.entries()) {
      expect(st.round).toBe(1);
      expect(st.finished).toBe(false);
      expect(st.abort).toBeUndefined();
      expect(st.outgoing.length).toBeGreaterThan(0);
      expect(st.missing).toEqual([0, 1, 2].filter((j) => j !== i));
    }

    // Garbage before the first real envelope: refused one by one, the session carries on.
    const g = await pool.receive('kg-0', [new Uint8Array([1, 2, 3]), new Uint8Array(0)]);
    expect(g.rejected).toEqual([
      { index: 0, reason: 'malformed' },
      { index: 1, reason: 'malformed' },
    ]);
    expect(g.finished).toBe(false);
    expect(g.abort).toBeUndefined();
    expect(g.round).toBe(1);
    expect(g.outgoing).toEqual([]);

    const final = await shuttle(pool, sessions, first, 150_000);
    const shares = final.map((st) => {
      expect(st.abort).toBeUndefined();
      expect(st.finished).toBe(true);
      expect(st.missing).toEqual([]);
      return st.result as KeyShare;
    });
    shares.forEach((share, i) => {
      expect(share.index).toBe(i);
      expect(share.t).toBe(T);
      expect(share.n).toBe(N);
      expect(share.publicKey).toBeInstanceOf(Uint8Array);
      expect(share.publicKey).toHaveLength(33);
    });
    expect(shares[1]!.publicKey).toEqual(shares[0]!.publicKey);
    expect(shares[2]!.publicKey).toEqual(shares[0]!.publicKey);
    expect(new Set(shares.map((s) => s.keyId)).size).toBe(1);
    // distinct secret shares of one key
    expect(new Set(shares.map((s) => s.x.toString())).size).toBe(N);

    // A finished session refuses garbage too, and stays finished with its result.
    const after = await pool.receive('kg-1', [new Uint8Array([0xff])]);
    expect(after.rejected).toEqual([{ index: 0, reason: 'malformed' }]);
    expect(after.finished).toBe(true);
    expect((after.result as KeyShare).publicKey).toEqual(shares[0]!.publicKey);

    for (const s of sessions) await pool.dispose(s);
    expect(pool.load()).toEqual([0, 0]);
  }, 180_000);

  it('refuses a second create for one session id, and keeps the first engine', async () => {
    const sid = keygenSid('dup');
    const st = await pool.create('dup', keygenSpec(sid, 0));
    const err = await engineError(pool.create('dup', keygenSpec(sid, 1)));
    expect(err.message).toContain('dup');
    expect(pool.load().reduce((a, b) => a + b)).toBe(1);
    // the first engine still answers, as party 0 (still waiting for parties 1 and 2)
    const again = await pool.receive('dup', []);
    expect(again.round).toBe(st.round);
    expect(again.missing).toEqual([1, 2]);
    await pool.dispose('dup');
  }, 60_000);

  it('refuses receive and expire on an unknown session', async () => {
    const err = await engineError(pool.receive('nope', [new Uint8Array(1)]));
    expect(err.message).toContain('nope');
    await engineError(pool.expire('nope'));
  });

  it('expire aborts a running session with a timeout and no culprit', async () => {
    // two parties of two different sessions: envelopes of one are refused by the other
    const x0 = await pool.create('x0', keygenSpec(keygenSid('x0'), 0));
    const x1 = await pool.create('x1', keygenSpec(keygenSid('x1'), 1));
    expect(x0.finished).toBe(false);
    const wrong = await pool.receive(
      'x0',
      x1.outgoing.map((o) => o.bytes)
    );
    expect(wrong.rejected.length).toBe(x1.outgoing.length);
    for (const r of wrong.rejected) expect(r.reason).toBe('wrong-session');
    expect(wrong.finished).toBe(false);

    const st = await pool.expire('x0');
    expect(st.finished).toBe(true);
    expect(st.result).toBeUndefined();
    expect(st.abort).toBeDefined();
    expect(st.abort!.reason.startsWith('timeout')).toBe(true);
    expect(st.abort!.reason).toContain('1, 2'); // whom it waited for
    expect(st.abort!.culprits).toEqual([]);
    // x1 is untouched
    const x1Now = await pool.receive('x1', []);
    expect(x1Now.finished).toBe(false);
    await pool.dispose('x0');
    await pool.dispose('x1');
  }, 60_000);

  it('dispose drops the engine: receive then rejects; disposing again is a no-op', async () => {
    await pool.create('gone', keygenSpec(keygenSid('gone'), 2));
    const before = pool.load().reduce((a, b) => a + b);
    await pool.dispose('gone');
    expect(pool.load().reduce((a, b) => a + b)).toBe(before - 1);
    await engineError(pool.receive('gone', []));
    await engineError(pool.expire('gone'));
    await expect(pool.dispose('gone')).resolves.toBeUndefined();
  }, 60_000);

  it('a spec the protocol refuses fails create with EngineError and frees the session id', async () => {
    const sid = keygenSid('bad');
    const err = await engineError(pool.create('bad', { ...keygenSpec(sid, 0), t: N + 1 }));
    expect(err.message).toMatch(/InvalidArgs/);
    expect(pool.load()).toEqual([0, 0]);
    const st = await pool.create('bad', keygenSpec(sid, 0));
    expect(st.round).toBe(1);
    await pool.dispose('bad');
  }, 60_000);

  it('load() counts sessions per worker, placing each on the least-loaded one', async () => {
    const sid = keygenSid('load');
    expect(pool.load()).toEqual([0, 0]);
    await pool.create('l0', keygenSpec(sid, 0));
    expect(pool.load()).toEqual([1, 0]);
    await pool.create('l1', keygenSpec(sid, 1));
    expect(pool.load()).toEqual([1, 1]);
    await pool.dispose('l0');
    expect(pool.load()).toEqual([0, 1]);
    await pool.create('l2', keygenSpec(sid, 2)); // fills the emptier worker 0
    expect(pool.load()).toEqual([1, 1]);
    await pool.dispose('l1');
    await pool.dispose('l2');
    expect(pool.load()).toEqual([0, 0]);
  }, 60_000);
});

describe('idle workers', () => {
  it('start with the first session and retire when idle, then start again', async () => {
    const pool = new EnginePool(1, 200);
    try {
      expect(pool.running()).toBe(0);
      await pool.create('i0', keygenSpec(keygenSid('idle0'), 0));
      expect(pool.running()).toBe(1);
      await pool.dispose('i0');
      const deadline = Date.now() + 10_000;
      while (pool.running() > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(pool.running()).toBe(0);
      const st = await pool.create('i1', keygenSpec(keygenSid('idle1'), 0));
      expect(st.finished).toBe(false);
      expect(pool.running()).toBe(1);
    } finally {
      await pool.close();
    }
  }, 60_000);
});

describe('EnginePool.close', () => {
  it('fails a pending request and refuses every later call', async () => {
    const pool = new EnginePool(1);
    const sid = keygenSid('close');
    // the worker is still booting (tsx + the protocol modules): this create is pending at close
    const pending = engineError(pool.create('c0', keygenSpec(sid, 0)));
    await pool.close();
    const err = await pending;
    expect(err.message).toMatch(/closed/);
    expect((await engineError(pool.create('c1', keygenSpec(sid, 1)))).message).toMatch(/closed/);
    // the failed creates did not stay registered
    expect(pool.load()).toEqual([0]);
  }, 60_000);

  it('refuses receive / expire on a session that existed before close', async () => {
    const pool = new EnginePool(1);
    try {
      await pool.create('c2', keygenSpec(keygenSid('close2'), 0));
      expect(pool.load()).toEqual([1]);
    } finally {
      await pool.close();
    }
    expect((await engineError(pool.receive('c2', []))).message).toMatch(/closed/);
    expect((await engineError(pool.expire('c2'))).message).toMatch(/closed/);
    await expect(pool.dispose('c2')).resolves.toBeUndefined();
  }, 60_000);
});
