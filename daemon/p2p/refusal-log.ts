/**
 * Logging of connections the allow-list refuses, without flooding the log: a peer that is refused
 * keeps redialling (once a second or so — e.g. a daemon started before the coordinator registered
 * it), and one warning per attempt buried everything else. The first refusal of a peer is logged
 * at once; after that at most one line per peer per `intervalMs`, carrying how many refusals it
 * stands for. Counting every refusal stays the caller's job (the metric).
 *
 * The table of peers is bounded (`maxPeers`, oldest forgotten first): the peers here are, by
 * definition, ones we do not know, and anyone can make up peer ids.
 * @module
 */
import type { PeerId } from '@libp2p/interface';
import type { Logger } from '../log.js';

interface Seen {
  lastLogged: number;
  suppressed: number;
}

/**
 * @param log where the warning goes
 * @param msg the warning's message
 * @returns an `onDenied(peer, where)` for {@link createNode}
 * @example createNode({ …, onDenied: refusalLogger(log, 'refused a peer that is not on the allow-list') })
 */
export function refusalLogger(
  log: Logger,
  msg: string,
  opts: { intervalMs?: number; maxPeers?: number; now?: () => number } = {}
): (peer: PeerId, where: string) => void {
  const intervalMs = opts.intervalMs ?? 60_000;
  const maxPeers = opts.maxPeers ?? 1_024;
  const now = opts.now ?? Date.now;
  const seen = new Map<string, Seen>();
  return (peer, where) => {
    const id = peer.toString();
    const t = now();
    const s = seen.get(id);
    if (s && t - s.lastLogged < intervalMs) {
      s.suppressed++;
      return;
    }
    const suppressed = s?.suppressed ?? 0;
    seen.delete(id); // re-insert: Map order is then "least recently logged first"
    seen.set(id, { lastLogged: t, suppressed: 0 });
    if (seen.size > maxPeers) seen.delete(seen.keys().next().value!);
    log.warn(
      suppressed > 0
        ? { peer: id, where, alsoRefused: suppressed, sinceMs: t - s!.lastLogged }
        : { peer: id, where },
      msg
    );
  };
}
