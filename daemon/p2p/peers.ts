/**
 * Keeps this node connected to the peers it works with (the other parties, the coordinator):
 * a daemon that knows only a bootstrap address finds the others through the private DHT and dials
 * them, and redials with exponential back-off (0.5 s doubling to 30 s) when a peer restarts.
 * `ensure()` is the on-demand form a session uses before it reports ready.
 * @module
 */
import type { PeerId } from '@libp2p/interface';
import type { Logger } from '../log.js';
import type { MpcdNode } from './node.js';

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
const SWEEP_MS = 1_000;

interface PeerState {
  nextAttempt: number;
  backoff: number;
  dialing?: Promise<boolean>;
  connectedOnce: boolean;
}

export class PeerKeeper {
  private readonly state = new Map<string, PeerState>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly node: MpcdNode,
    private readonly peers: readonly PeerId[],
    private readonly log: Logger,
    private readonly dialTimeoutMs = 10_000
  ) {
    for (const p of peers) {
      this.state.set(p.toString(), {
        nextAttempt: 0,
        backoff: MIN_BACKOFF_MS,
        connectedOnce: false,
      });
    }
  }

  /** Start the background sweep. */
  start(): void {
    this.node.addEventListener('peer:disconnect', (evt) => {
      const s = this.state.get(evt.detail.toString());
      if (s) {
        this.log.info({ peer: evt.detail.toString() }, 'peer disconnected');
        s.nextAttempt = Date.now() + MIN_BACKOFF_MS;
        s.backoff = MIN_BACKOFF_MS;
      }
    });
    this.node.addEventListener('peer:connect', (evt) => {
      const s = this.state.get(evt.detail.toString());
      if (s) {
        s.backoff = MIN_BACKOFF_MS;
        this.log.info(
          { peer: evt.detail.toString() },
          s.connectedOnce ? 'peer reconnected' : 'peer connected'
        );
        s.connectedOnce = true;
      }
    });
    const sweep = () => {
      const now = Date.now();
      for (const p of this.peers) {
        const s = this.state.get(p.toString())!;
        if (this.connected(p) || s.dialing || now < s.nextAttempt) continue;
        void this.dial(p);
      }
    };
    this.timer = setInterval(sweep, SWEEP_MS);
    this.timer.unref();
    setTimeout(sweep, 200).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Whether an open connection to `peer` exists. */
  connected(peer: PeerId): boolean {
    return this.node.getConnections(peer).some((c) => c.status === 'open');
  }

  /** Connected configured peers. */
  connectedCount(): number {
    return this.peers.filter((p) => this.connected(p)).length;
  }

  /**
   * Connect to `peer` now (known addresses first, else a DHT lookup), retrying until `timeoutMs`.
   * @returns whether a connection is open
   */
  async ensure(peer: PeerId, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let wait = 100;
    while (!this.connected(peer)) {
      if (await this.dial(peer)) return true;
      if (Date.now() + wait > deadline) return this.connected(peer);
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 2_000);
    }
    return true;
  }

  private dial(peer: PeerId): Promise<boolean> {
    const key = peer.toString();
    let s = this.state.get(key);
    if (!s) {
      s = { nextAttempt: 0, backoff: MIN_BACKOFF_MS, connectedOnce: false };
      this.state.set(key, s);
    }
    if (s.dialing) return s.dialing;
    const st = s;
    st.dialing = (async () => {
      try {
        const known = await this.node.peerStore.get(peer).then(
          (p) => p.addresses.length > 0,
          () => false
        );
        if (!known) {
          // Not in the peer store: ask the DHT (STACK.md: findPeer without the cache).
          await this.node.peerRouting.findPeer(peer, {
            useCache: false,
            signal: AbortSignal.timeout(this.dialTimeoutMs),
          });
        }
        await this.node.dial(peer, { signal: AbortSignal.timeout(this.dialTimeoutMs) });
        st.backoff = MIN_BACKOFF_MS;
        return true;
      } catch (err) {
        st.nextAttempt = Date.now() + st.backoff;
        this.log.debug(
          { peer: key, err: (err as Error).message, retryInMs: st.backoff },
          'dial failed'
        );
        st.backoff = Math.min(st.backoff * 2, MAX_BACKOFF_MS);
        return false;
      } finally {
        st.dialing = undefined;
      }
    })();
    return st.dialing;
  }
}
