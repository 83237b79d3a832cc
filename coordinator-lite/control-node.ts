/**
 * The coordinator's libp2p node: it admits exactly the registered party daemons, serves
 * join / ready / report on `/mpcd/control/1` and sends invite / start / abort. It reuses the
 * daemon's libp2p plumbing (`daemon/p2p/`, `daemon/control.ts`): thin transport wrappers with no
 * secret and no protocol state (docs/deviations.md: coordinator-lite imports them rather than
 * keeping a second copy of the libp2p setup).
 * @module
 */
import type { PeerId, PrivateKey } from '@libp2p/interface';
import { ControlRefusal, sendControl, serveControl } from '../daemon/control.js';
import type { Logger } from '../daemon/log.js';
import { createNode, type MpcdNode } from '../daemon/p2p/node.js';
import { refusalLogger } from '../daemon/p2p/refusal-log.js';
import type { ControlRequest } from '../protocol/control/messages.js';
import type { ControlLink } from './sessions.js';

export interface ControlNodeOptions {
  readonly privateKey: PrivateKey;
  readonly listen: readonly string[];
  /** Whether a peer is a registered daemon (read at every connection attempt). */
  readonly isNode: (peer: PeerId) => boolean;
  readonly log: Logger;
  readonly handle: (req: ControlRequest, from: PeerId) => Promise<void>;
}

/** Start the node; the returned link sends control requests. */
export async function startControlNode(
  o: ControlNodeOptions
): Promise<{ node: MpcdNode; link: ControlLink }> {
  const node = await createNode({
    privateKey: o.privateKey,
    listen: o.listen,
    bootstrap: [],
    allow: o.isNode,
    onDenied: refusalLogger(o.log, 'refused a peer that is not a registered node'),
  });
  await serveControl(node, { timeoutMs: 10_000, log: o.log }, async (req, from) => {
    try {
      await o.handle(req, from);
    } catch (err) {
      const e = err as Error & { code?: unknown };
      // Refusals of the session service carry a code: pass them on as control refusals.
      if (e.name === 'SessionRefusal' && typeof e.code === 'string') {
        throw new ControlRefusal(e.code, e.message);
      }
      throw err;
    }
  });
  return {
    node,
    link: { send: (peer, req, timeoutMs) => sendControl(node, peer, req, timeoutMs) },
  };
}
