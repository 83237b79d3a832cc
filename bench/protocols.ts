/**
 * Protocol benchmarks, all parties in one process over the in-memory simulator, primes from the
 * test fixtures (issue 3): keygen (aux info + VSS + confirmation) for 2-of-3, 3-of-5, 4-of-7;
 * presign for the same shapes; the online step (σ_i from a presignature) per party; and combine +
 * verify. Both levels. Wall time of the whole simulated session = the sum of every party's work
 * (one core), so it is an upper bound of what n machines would take.
 */
import { randomBytes } from 'node:crypto';
import { keccak_256 } from '@noble/hashes/sha3.js';
import type { KeyShare } from '../protocol/cggmp/key-share.js';
import { startKeygen } from '../protocol/cggmp/keygen/index.js';
import {
  presignEngine,
  presignSessionId,
  type Presignature,
} from '../protocol/cggmp/presign/index.js';
import { releaseSigma } from '../protocol/cggmp/sign/index.js';
import { computeSessionId } from '../protocol/hash/session-id.js';
import { systemRng } from '../protocol/math/sample.js';
import { LEVEL112, LEVEL128, type SecurityLevel } from '../protocol/params.js';
import { ed25519PublicKey } from '../protocol/round/envelope.js';
import { RoundEngine } from '../protocol/round/engine.js';
import { simulate } from '../protocol/round/simulation.js';
import { fixturePrimes } from '../tests/helpers/fixtures.js';
import { measure, note, QUICK, report, round, type Figure } from './harness.js';

interface Party {
  secretKey: Uint8Array;
}

function keygen(
  level: SecurityLevel,
  t: number,
  n: number
): { shares: KeyShare[]; ids: Party[]; ms: number } {
  const ids = Array.from({ length: n }, () => {
    const secretKey = new Uint8Array(randomBytes(32));
    return { secretKey, publicKey: ed25519PublicKey(secretKey) };
  }).sort((a, b) => Buffer.compare(Buffer.from(a.publicKey), Buffer.from(b.publicKey)));
  const roster = ids.map((id) => ({ partyId: id.publicKey, publicKey: id.publicKey }));
  const parties = roster.map((_, i) => i);
  const sessionId = computeSessionId({
    protocol: 'keygen',
    keyEpoch: 0,
    roster,
    t,
    n,
    level: level.name,
    nonce: new Uint8Array(randomBytes(32)),
  });
  const started = performance.now();
  const engines = new Map(
    parties.map((i) => {
      const { protocol, first } = startKeygen({
        level,
        roster,
        self: i,
        t,
        sessionId,
        primes: fixturePrimes(level, i),
      });
      const cfg = {
        sessionId,
        self: i,
        parties,
        rosterKeys: roster.map((r) => r.publicKey),
        secretKey: ids[i]!.secretKey,
      };
      return [i, new RoundEngine(protocol, cfg, first)];
    })
  );
  const r = simulate(engines);
  const ms = performance.now() - started;
  if (r.results.size !== n)
    throw new Error(`keygen ${t}-of-${n} failed: ${JSON.stringify([...r.aborts.values()])}`);
  return { shares: parties.map((i) => r.results.get(i)!), ids, ms };
}

function presign(
  shares: KeyShare[],
  ids: Party[],
  signers: number[]
): { presigs: Map<number, Presignature>; ms: number } {
  const sessionId = presignSessionId(
    shares[signers[0]!]!,
    signers,
    new Uint8Array(randomBytes(32))
  );
  const started = performance.now();
  const engines = new Map(
    signers.map((i) => [
      i,
      presignEngine({ keyShare: shares[i]!, signers, sessionId, secretKey: ids[i]!.secretKey }),
    ])
  );
  const r = simulate(engines);
  const ms = performance.now() - started;
  if (r.results.size !== signers.length)
    throw new Error(`presign failed: ${JSON.stringify([...r.aborts.values()])}`);
  return { presigs: r.results, ms };
}

export function benchProtocols(): void {
  const shapes: Array<[number, number]> = [
    [2, 3],
    [3, 5],
    [4, 7],
  ];
  for (const level of [LEVEL112, LEVEL128]) {
    for (const [t, n] of shapes) {
      if (QUICK && n > 3) continue;
      note(`keygen ${t}-of-${n} ${level.name}`);
      const kg = keygen(level, t, n);
      const signers = Array.from({ length: t }, (_, i) => i);
      note(`presign ${t}-of-${n} ${level.name}`);
      const runs = QUICK ? 1 : 3;
      const times: number[] = [];
      let presigs: Map<number, Presignature> | undefined;
      for (let i = 0; i < runs; i++) {
        const p = presign(kg.shares, kg.ids, signers);
        times.push(p.ms);
        presigs = p.presigs;
      }
      times.sort((a, b) => a - b);
      const figure: Figure = {
        bench: 'protocol',
        level: level.name,
        shape: `${t}-of-${n}`,
        keygenMs: round(kg.ms, 0),
        presignMs: round(times[Math.floor(times.length / 2)]!, 0),
      };
      if (t === 2) {
        // The online step of one party: validate, consume, σ_i = k_i·m + r·χ_i (SECURITY.md §1.15).
        const digest = keccak_256(new TextEncoder().encode('bench'));
        const p0 = presigs!.get(0)!;
        const partial = measure(() => {
          const fresh = structuredClone(p0);
          releaseSigma(kg.shares[0]!, fresh, digest, systemRng);
        });
        figure.partialSignatureMs = round(partial.medianMs, 3);
      }
      report(figure);
    }
  }
}
