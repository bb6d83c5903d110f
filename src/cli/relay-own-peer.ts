/**
 * The relay's own DHT peer (README, Deploying: several relays): a Node peer (src/node) with
 * a relay link to its own relay and one per relay it joins, so tabs that entered through
 * different relays form one mesh. It keeps its records in memory (a relay restarted is a
 * new node; the records it held are re-advertised by their owners) and advertises
 * RELAY_SERVICE with the relay's public URL under its own key: it is checked like any node.
 * It is one node of the `default` realm: following every realm clients name would let any
 * client make the relay start nodes without bound (README, Several relays).
 */
import { isMeshError } from '../core/errors.js';
import { startNodePeer } from '../node/create-peer.js';
import { loadWrtc, WRTC_PACKAGE } from '../node/wrtc.js';
import type { RelayPeerFactory, RelayPeerHandle, RelayPeerInit } from '../relay/relay-peer.js';
import { RELAY_SERVICE, relayServiceMetadata } from '../signaling/relay-service.js';

export async function startRelayOwnPeer(init: RelayPeerInit): Promise<RelayPeerHandle> {
  const peer = await startNodePeer({ bootstrap: [init.ownUrl], storage: 'memory' }, init.joinUrls);
  try {
    // The handler answers nothing worth calling: the record exists to be discovered.
    await peer.advertise(RELAY_SERVICE, () => null, { metadata: relayServiceMetadata(init.publicUrl) });
  } catch (e) {
    await peer.close();
    throw e;
  }
  return { nodeId: peer.nodeId, close: () => peer.close() };
}

/**
 * The factory when WebRTC for Node is installed; otherwise why not, in one line naming the
 * package (the relay then runs signaling only, and refuses --join).
 */
export async function relayOwnPeerFactory(): Promise<{ factory: RelayPeerFactory } | { missing: string }> {
  try {
    await loadWrtc();
    return { factory: startRelayOwnPeer };
  } catch (e) {
    if (!isMeshError(e)) throw e;
    return { missing: `the relay's own DHT peer needs ${WRTC_PACKAGE} (${e.message})` };
  }
}
