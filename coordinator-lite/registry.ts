/**
 * The node registry (issue 6): which party daemons exist — peer id, a unique name, the addresses
 * the coordinator dials — and whether each is online now (an open libp2p connection, read from
 * the control node when asked). Registered peer ids are the coordinator's allow-list, so
 * {@link NodeRegistry.has} is synchronous: the connection gater calls it on every attempt.
 * @module
 */
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import type { Store } from './store.js';

/** A registered daemon. */
export interface NodeRecord {
  readonly peerId: string;
  readonly name: string;
  readonly addresses: readonly string[];
  readonly addedAt: string;
}

/** A node as listed: the record and whether it is connected now. */
export interface NodeView extends NodeRecord {
  readonly online: boolean;
}

/** A registry request that cannot be done; `field` names the bad input. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    readonly code: 'INVALID' | 'CONFLICT' | 'NOT_FOUND' | 'UNAVAILABLE',
    message: string,
    readonly field?: string
  ) {
    super(message);
  }
}

const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** Most nodes a registry holds (MAX_PARTIES is 16; room for spares and rotation). */
export const MAX_NODES = 256;
const MAX_ADDRESSES = 8;

export class NodeRegistry {
  private readonly nodes = new Map<string, NodeRecord>();

  constructor(
    private readonly store: Store,
    /** Whether a peer has an open connection (from the control node). */
    private readonly isOnline: (peerId: string) => boolean = () => false,
    /**
     * Called after a node is removed. The control node's gater only runs when a connection is
     * made, so an open one must be closed here (the coordinator hangs up).
     */
    private readonly onRemoved: (peerId: string) => Promise<void> = async () => undefined
  ) {}

  /** Load the registered nodes into memory (call once at start). */
  async load(): Promise<void> {
    this.nodes.clear();
    for await (const [, n] of this.store.list<NodeRecord>('nodes')) this.nodes.set(n.peerId, n);
  }

  /** Whether `peerId` is a registered node (synchronous: the gater's check). */
  has(peerId: string): boolean {
    return this.nodes.has(peerId);
  }

  /**
   * Register a daemon.
   * @throws RegistryError INVALID naming `peerId`, `name` or `addresses[i]`; CONFLICT when the
   *   peer id or the name is taken
   */
  async add(input: { peerId: unknown; name: unknown; addresses?: unknown }): Promise<NodeRecord> {
    const peerId = checkPeerId(input.peerId);
    const name = checkName(input.name);
    const addresses = checkAddresses(input.addresses ?? [], peerId);
    return this.store.withLock('registry', async () => {
      if (this.nodes.has(peerId)) {
        throw new RegistryError('CONFLICT', `peer ${peerId} is already registered`, 'peerId');
      }
      if ([...this.nodes.values()].some((n) => n.name === name)) {
        throw new RegistryError('CONFLICT', `a node named ${name} already exists`, 'name');
      }
      if (this.nodes.size >= MAX_NODES) {
        throw new RegistryError('INVALID', `the registry holds at most ${MAX_NODES} nodes`);
      }
      const rec: NodeRecord = { peerId, name, addresses, addedAt: new Date().toISOString() };
      await this.store.put('nodes', peerId, rec);
      this.nodes.set(peerId, rec);
      return rec;
    });
  }

  /** Unregister a node by peer id or name. @throws RegistryError NOT_FOUND */
  async remove(idOrName: string): Promise<void> {
    const removed = await this.store.withLock('registry', async () => {
      const n = this.find(idOrName);
      await this.store.del('nodes', n.peerId);
      this.nodes.delete(n.peerId);
      return n.peerId;
    });
    await this.onRemoved(removed);
  }

  /** Every node with its online state, sorted by name. */
  list(): NodeView[] {
    return [...this.nodes.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((n) => ({ ...n, online: this.isOnline(n.peerId) }));
  }

  /** A node by peer id or name. @throws RegistryError NOT_FOUND */
  find(idOrName: string): NodeRecord {
    const n = this.nodes.get(idOrName) ?? [...this.nodes.values()].find((x) => x.name === idOrName);
    if (!n) throw new RegistryError('NOT_FOUND', `no node ${idOrName}`, 'node');
    return n;
  }

  /**
   * The participants of a new session: the named nodes (each must exist and be online), or the
   * first `count` online nodes by name.
   * @throws RegistryError NOT_FOUND naming the unknown node, UNAVAILABLE naming who is offline
   *   or how many are missing
   */
  pick(opts: { names?: readonly string[]; count: number }): NodeRecord[] {
    if (opts.names && opts.names.length > 0) {
      const chosen = opts.names.map((x) => this.find(x));
      if (new Set(chosen.map((n) => n.peerId)).size !== chosen.length) {
        throw new RegistryError('INVALID', 'a node is named twice', 'parties');
      }
      if (chosen.length !== opts.count) {
        throw new RegistryError('INVALID', `name exactly ${opts.count} nodes`, 'parties');
      }
      const offline = chosen.filter((n) => !this.isOnline(n.peerId)).map((n) => n.name);
      if (offline.length > 0) {
        throw new RegistryError('UNAVAILABLE', `offline: ${offline.join(', ')}`, 'parties');
      }
      return chosen;
    }
    const online = this.list().filter((n) => n.online);
    if (online.length < opts.count) {
      throw new RegistryError(
        'UNAVAILABLE',
        `${opts.count} online nodes needed, ${online.length} online`,
        'parties'
      );
    }
    return online.slice(0, opts.count);
  }
}

function checkPeerId(v: unknown): string {
  if (typeof v !== 'string' || v.length > 128) {
    throw new RegistryError('INVALID', 'peerId must be a peer id string', 'peerId');
  }
  let id;
  try {
    id = peerIdFromString(v);
  } catch {
    throw new RegistryError('INVALID', 'peerId is not a valid peer id', 'peerId');
  }
  if (id.type !== 'Ed25519') {
    throw new RegistryError('INVALID', 'peerId must be an Ed25519 peer id (12D3KooW…)', 'peerId');
  }
  return id.toString();
}

function checkName(v: unknown): string {
  if (typeof v !== 'string' || !NAME_RE.test(v)) {
    throw new RegistryError(
      'INVALID',
      'name must be 1–63 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit',
      'name'
    );
  }
  return v;
}

function checkAddresses(v: unknown, peerId: string): string[] {
  if (!Array.isArray(v) || v.length > MAX_ADDRESSES) {
    throw new RegistryError(
      'INVALID',
      `addresses must be a list of at most ${MAX_ADDRESSES}`,
      'addresses'
    );
  }
  return v.map((a: unknown, i) => {
    const field = `addresses[${i}]`;
    if (typeof a !== 'string' || a.length > 256) {
      throw new RegistryError('INVALID', `${field} must be a multiaddr string`, field);
    }
    let m;
    try {
      m = multiaddr(a);
    } catch {
      throw new RegistryError('INVALID', `${field} is not a multiaddr`, field);
    }
    const p2p = m.getComponents().find((c) => c.name === 'p2p');
    if (p2p && p2p.value !== peerId) {
      throw new RegistryError('INVALID', `${field} names another peer id`, field);
    }
    return m.toString();
  });
}
