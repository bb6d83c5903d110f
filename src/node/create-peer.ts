import WebSocket from 'ws';
import { cryptoRandom } from '../core/environment.js';
import { createIdentity } from '../core/identity.js';
import { composePeer } from '../peer/main/compose-peer.js';
import type { Peer } from '../peer/main/peer-handle.js';
import { commonOf } from '../peer/main/peer-options.js';
import type { WebSocketConstructor } from '../signaling/client.js';
import { createMemoryStore } from '../storage/memory-store.js';
import { createWebRtcChannel } from '../transport/webrtc-channel.js';
import { takeDataDir, type DataDirLock } from './data-dir.js';
import { createFileStore } from './file-store.js';
import { startInThreadWorker } from './in-thread-worker.js';
import { loadKeyFile } from './key-file.js';
import { validateNodePeerOptions, type NodePeerOptions } from './node-options.js';
import { loadWrtc } from './wrtc.js';

/**
 * Start a peer in Node (>= 20): the same Peer as a tab's, running the same core and the
 * same main-thread half (compose-peer.ts), with Node's parts: WebRTC from @roamhq/wrtc,
 * the worker's API in this thread behind a MessagePort (in-thread-worker.ts), ws for the
 * relay, and either memory or a data directory (key file and snapshot) for storage.
 * Rejects with MISSING_DEPENDENCY when @roamhq/wrtc is not installed.
 */
export function createPeer(options: NodePeerOptions): Promise<Peer> {
  return startNodePeer(options, []);
}

/**
 * createPeer with a relay link per `joinLinks` URL besides the bootstrap list's: a relay's
 * own peer (src/cli/relay-own-peer.ts) enters the meshes of the relays it joins this way.
 * Not part of the package's surface (index.ts): an app's peer needs one relay at a time.
 */
export async function startNodePeer(options: NodePeerOptions, joinLinks: readonly string[]): Promise<Peer> {
  const opts = validateNodePeerOptions(options);
  const wrtc = await loadWrtc();
  const { dataDir } = opts;
  let lock: DataDirLock | undefined;
  return composePeer(commonOf(opts), {
    startWorker: () =>
      startInThreadWorker((kind) =>
        kind === 'durable' && dataDir !== undefined ? createFileStore(dataDir) : createMemoryStore(),
      ),
    loadIdentity: async () => {
      if (dataDir === undefined) return createIdentity(cryptoRandom.bytes);
      lock = await takeDataDir(dataDir);
      return loadKeyFile(dataDir);
    },
    createChannel: (initiator, config) => createWebRtcChannel({ initiator, config, wrtc }),
    storage: dataDir === undefined ? 'memory' : 'durable',
    kind: 'node',
    WebSocketImpl: WebSocket as unknown as WebSocketConstructor,
    release: () => lock?.release(),
    joinLinks,
  });
}
