/**
 * The libp2p node every mpcd component runs (daemon, coordinator, test drivers): TCP + Noise +
 * yamux, identify, ping, a private Kademlia DHT, bootstrap and gossipsub, behind a connection
 * gater that admits only an allow-list of peer ids (ARCHITECTURE.md "Identities and trust").
 *
 * The settings that matter on loopback and private networks (STACK.md "libp2p on loopback"):
 * - kad-dht in server mode with a private protocol prefix and a mapper that keeps private addresses,
 *   so parties on 127.0.0.1 or a LAN find each other and never join the public DHT;
 * - gossipsub with flood publishing, a small mesh and a 200 ms heartbeat (groups of ≤ 16);
 * - the gater refuses a peer at the first point its id is known (dial, encrypted, upgraded).
 * @module
 */
import { noise } from '@chainsafe/libp2p-noise';
import { bootstrap } from '@libp2p/bootstrap';
import { gossipsub, type GossipSub } from '@libp2p/gossipsub';
import { identify, type Identify } from '@libp2p/identify';
import type { ConnectionGater, PeerId, PrivateKey } from '@libp2p/interface';
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht';
import { ping, type Ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { yamux } from '@libp2p/yamux';
import { createLibp2p, type Libp2p } from 'libp2p';

/** Protocol prefix of the private DHT: mpcd nodes never talk to the public IPFS DHT. */
export const DHT_PROTOCOL = '/mpcd/kad/1.0.0';
/** Largest gossipsub message: a protocol envelope (4 MiB payload bound + header). */
export const MAX_GOSSIP_BYTES = (4 << 20) + 4096;

export type NodeServices = {
  identify: Identify;
  ping: Ping;
  dht: KadDHT;
  pubsub: GossipSub;
};

export type MpcdNode = Libp2p<NodeServices>;

/** Options of {@link createNode}. */
export interface NodeOptions {
  readonly privateKey: PrivateKey;
  /** Multiaddrs to listen on, e.g. `/ip4/127.0.0.1/tcp/7000`. */
  readonly listen: readonly string[];
  /** Multiaddrs announced to peers instead of the listen addresses (e.g. behind NAT). */
  readonly announce?: readonly string[];
  /** Multiaddrs with `/p2p/<id>` of the nodes to join the DHT through. */
  readonly bootstrap: readonly string[];
  /** Whether a remote peer id may connect (both directions). */
  readonly allow: (peer: PeerId) => boolean;
  /** Called once for every refused peer attempt (for the log and metrics). */
  readonly onDenied?: (peer: PeerId, where: string) => void;
}

/** A gater that admits only `allow`ed peers, at every point where the remote id is known. */
export function allowListGater(
  allow: (peer: PeerId) => boolean,
  onDenied?: (peer: PeerId, where: string) => void
): ConnectionGater {
  const deny = (where: string) => (peer: PeerId) => {
    if (allow(peer)) return false;
    onDenied?.(peer, where);
    return true;
  };
  return {
    denyDialPeer: deny('dial'),
    denyInboundEncryptedConnection: deny('inbound'),
    denyOutboundEncryptedConnection: deny('outbound'),
    denyInboundUpgradedConnection: deny('inbound-upgraded'),
    denyOutboundUpgradedConnection: deny('outbound-upgraded'),
  };
}

/** Create (and start) a node. */
export async function createNode(opts: NodeOptions): Promise<MpcdNode> {
  const peerDiscovery =
    opts.bootstrap.length > 0 ? [bootstrap({ list: [...opts.bootstrap], timeout: 100 })] : [];
  return createLibp2p({
    privateKey: opts.privateKey,
    addresses: {
      listen: [...opts.listen],
      ...(opts.announce && opts.announce.length > 0 ? { announce: [...opts.announce] } : {}),
    },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: allowListGater(opts.allow, opts.onDenied),
    peerDiscovery,
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        clientMode: false,
        // Keep loopback and private addresses: the network is private by construction.
        peerInfoMapper: passthroughMapper,
      }),
      pubsub: gossipsub({
        floodPublish: true,
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        D: 4,
        Dlo: 2,
        Dhi: 8,
        heartbeatInterval: 200,
        maxInboundDataLength: MAX_GOSSIP_BYTES,
        globalSignaturePolicy: 'StrictSign',
      }),
    },
  });
}
