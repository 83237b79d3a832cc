/**
 * Worker-thread entry: hosts the {@link RoundEngine}s of the sessions assigned to this worker and
 * answers {@link EngineRequest}s from the main thread (`engine-pool.ts`). All secret material of a
 * running session (share, primes, identity seed) lives here and in the main thread's memory only —
 * it is never logged and never leaves the process.
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { startKeygen } from '../../protocol/cggmp/keygen/index.js';
import { signDigestEngine } from '../../protocol/cggmp/sign/sign-digest.js';
import { RoundEngine } from '../../protocol/round/engine.js';
import type {
  EngineReply,
  EngineRequest,
  EngineSpec,
  EngineStatus,
  Rejection,
} from './engine-jobs.js';

type AnyEngine = RoundEngine<unknown, unknown>;
const engines = new Map<string, AnyEngine>();

function build(spec: EngineSpec): AnyEngine {
  if (spec.kind === 'keygen') {
    const { protocol, first } = startKeygen({
      level: spec.level,
      roster: spec.roster,
      self: spec.self,
      t: spec.t,
      sessionId: spec.sessionId,
      primes: spec.primes,
    });
    const engine = new RoundEngine(
      protocol,
      {
        sessionId: spec.sessionId,
        self: spec.self,
        parties: spec.roster.map((_, i) => i),
        rosterKeys: spec.roster.map((r) => r.publicKey),
        secretKey: spec.secretKey,
      },
      first
    );
    return engine as unknown as AnyEngine;
  }
  return signDigestEngine({
    keyShare: spec.keyShare,
    signers: spec.signers,
    digest: spec.digest,
    sessionId: spec.sessionId,
    secretKey: spec.secretKey,
  }) as unknown as AnyEngine;
}

function status(engine: AnyEngine, rejected: Rejection[], t0: number): EngineStatus {
  const m = engine.missing();
  const missing = [...new Set([...m.broadcast, ...m.p2p])].sort((a, b) => a - b);
  const out: EngineStatus = {
    round: engine.round,
    outgoing: engine.drain(),
    rejected,
    missing,
    finished: engine.finished,
    busyMs: performance.now() - t0,
  };
  if (engine.result !== undefined) return { ...out, result: engine.result };
  if (engine.aborted) return { ...out, abort: engine.aborted };
  return out;
}

function handle(req: EngineRequest): EngineReply {
  const t0 = performance.now();
  if (req.op === 'create') {
    if (engines.has(req.session)) return { id: req.id, ok: false, error: 'session exists' };
    const engine = build(req.spec);
    engines.set(req.session, engine);
    return { id: req.id, ok: true, status: status(engine, [], t0) };
  }
  const engine = engines.get(req.session);
  if (req.op === 'dispose') {
    engines.delete(req.session);
    return { id: req.id, ok: true };
  }
  if (!engine) return { id: req.id, ok: false, error: 'no such session' };
  if (req.op === 'expire') {
    engine.expire();
    return { id: req.id, ok: true, status: status(engine, [], t0) };
  }
  const rejected: Rejection[] = [];
  req.envelopes.forEach((bytes, index) => {
    const r = engine.receive(bytes);
    if (!r.accepted) rejected.push({ index, reason: r.rejection });
  });
  return { id: req.id, ok: true, status: status(engine, rejected, t0) };
}

const port = parentPort;
if (!port) throw new Error('engine-worker.ts must run in a worker thread');
port.on('message', (req: EngineRequest) => {
  let reply: EngineReply;
  try {
    reply = handle(req);
  } catch (err) {
    // InvalidArgs / Bug from the protocol: name only, message carries no secret (protocol rule).
    const e = err as Error;
    reply = { id: req.id, ok: false, error: `${e.name}: ${e.message}` };
  }
  port.postMessage(reply);
});
