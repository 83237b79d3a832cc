/**
 * A fixed pool of worker threads hosting session engines (`engine-worker.ts`). A session is pinned
 * to one worker for its lifetime (its engine lives there); new sessions go to the worker with the
 * fewest sessions. Requests carry ids and are answered in order per worker.
 *
 * A worker that dies (out of memory, a bug) fails every request and session it held with a clear
 * error and is replaced, so one bad session cannot take the daemon down.
 * @module
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { EngineReply, EngineRequest, EngineSpec, EngineStatus } from './engine-jobs.js';

type Pending = { resolve: (r: EngineReply) => void; reject: (e: Error) => void };
type Request = EngineRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

interface Slot {
  /** Absent until the slot's first session, and again after it retired idle. */
  worker?: Worker;
  sessions: Set<string>;
  pending: Map<number, Pending>;
  idle?: NodeJS.Timeout;
}

/**
 * Start the worker script next to this module. Built, it is plain `.js`. Run from TypeScript
 * sources (tests, `tsx`), a worker does not inherit the main thread's loader hooks on Node 20, so
 * a two-line bootstrap registers tsx in the worker before importing the `.ts` entry.
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./engine-worker.js', import.meta.url));
  const entry = new URL('./engine-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true });
}

/** An engine request failed inside the worker. */
export class EngineError extends Error {
  override readonly name = 'EngineError';
}

/** How long a worker with no session lives on (its heap is tens of MB; idle daemons shed it). */
export const WORKER_IDLE_MS = 30_000;

export class EnginePool {
  private readonly slots: Slot[] = [];
  private readonly bySession = new Map<string, Slot>();
  private nextId = 1;
  private closed = false;

  /**
   * @param size most workers (default: cores, at least 1). Workers start with their first session
   *   and stop after {@link WORKER_IDLE_MS} without one.
   * @param idleMs override of the idle lifetime (tests)
   */
  constructor(
    readonly size = Math.max(1, availableParallelism()),
    private readonly idleMs = WORKER_IDLE_MS
  ) {
    for (let i = 0; i < size; i++) this.slots.push({ sessions: new Set(), pending: new Map() });
  }

  /** The slot's worker, started if it has none. */
  private workerOf(slot: Slot): Worker {
    if (slot.idle) clearTimeout(slot.idle);
    slot.idle = undefined;
    if (slot.worker) return slot.worker;
    const worker = startWorker();
    slot.worker = worker;
    worker.on('message', (reply: EngineReply) => {
      const p = slot.pending.get(reply.id);
      if (!p) return;
      slot.pending.delete(reply.id);
      p.resolve(reply);
      this.retireIfIdle(slot);
    });
    const fail = (err: Error) => {
      if (slot.worker !== worker) return; // retired on purpose, or already replaced
      slot.worker = undefined;
      for (const p of slot.pending.values())
        p.reject(new EngineError(`engine worker died: ${err.message}`));
      slot.pending.clear();
      for (const s of slot.sessions) this.bySession.delete(s);
      slot.sessions.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    return worker;
  }

  /** Stop a worker that has had no session and no request for `idleMs`. */
  private retireIfIdle(slot: Slot): void {
    if (this.closed || !slot.worker || slot.sessions.size > 0 || slot.pending.size > 0) return;
    if (slot.idle) clearTimeout(slot.idle);
    slot.idle = setTimeout(() => {
      slot.idle = undefined;
      const w = slot.worker;
      if (!w || slot.sessions.size > 0 || slot.pending.size > 0) return;
      slot.worker = undefined;
      void w.terminate();
    }, this.idleMs);
    slot.idle.unref();
  }

  private async call(slot: Slot, req: Request): Promise<EngineStatus | undefined> {
    if (this.closed) throw new EngineError('engine pool is closed');
    const id = this.nextId++;
    const worker = this.workerOf(slot);
    const reply = await new Promise<EngineReply>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      worker.postMessage({ ...req, id } as EngineRequest);
    });
    if (!reply.ok) throw new EngineError(reply.error);
    return reply.status;
  }

  private slotOf(session: string): Slot {
    const slot = this.bySession.get(session);
    if (!slot) throw new EngineError(`no engine for session ${session}`);
    return slot;
  }

  /** Build a session's engine on the least-loaded worker; returns round 1's status. */
  async create(session: string, spec: EngineSpec): Promise<EngineStatus> {
    if (this.bySession.has(session))
      throw new EngineError(`session ${session} already has an engine`);
    const slot = this.slots.reduce((a, b) => (b.sessions.size < a.sessions.size ? b : a));
    slot.sessions.add(session);
    this.bySession.set(session, slot);
    try {
      return (await this.call(slot, { op: 'create', session, spec }))!;
    } catch (err) {
      slot.sessions.delete(session);
      this.bySession.delete(session);
      this.retireIfIdle(slot);
      throw err;
    }
  }

  /** Hand envelopes to a session's engine. */
  async receive(session: string, envelopes: readonly Uint8Array[]): Promise<EngineStatus> {
    return (await this.call(this.slotOf(session), { op: 'receive', session, envelopes }))!;
  }

  /** The session's time is up: abort it (or decide a pending dispute). */
  async expire(session: string): Promise<EngineStatus> {
    return (await this.call(this.slotOf(session), { op: 'expire', session }))!;
  }

  /** Drop a session's engine (and the secrets it holds) from its worker. */
  async dispose(session: string): Promise<void> {
    const slot = this.bySession.get(session);
    if (!slot) return;
    this.bySession.delete(session);
    slot.sessions.delete(session);
    await this.call(slot, { op: 'dispose', session }).catch(() => undefined);
    this.retireIfIdle(slot);
  }

  /** Sessions per worker (for status). */
  load(): number[] {
    return this.slots.map((s) => s.sessions.size);
  }

  /** Workers running now (they start with sessions and retire when idle). */
  running(): number {
    return this.slots.filter((s) => s.worker !== undefined).length;
  }

  /** Stop every worker. */
  async close(): Promise<void> {
    this.closed = true;
    const workers = this.slots.map((s) => {
      if (s.idle) clearTimeout(s.idle);
      const w = s.worker;
      s.worker = undefined; // an exit from here on is ours, not a crash
      return w;
    });
    for (const s of this.slots) {
      for (const p of s.pending.values()) p.reject(new EngineError('engine pool is closed'));
      s.pending.clear();
    }
    await Promise.all(workers.map((w) => w?.terminate()));
  }
}
