import { createWebRtcChannel } from '../../transport/webrtc-channel.js';
import { startDatabaseSweeper } from './browser-sweeper.js';
import { composePeer } from './compose-peer.js';
import type { Peer } from './peer-handle.js';
import { commonOf, validatePeerOptions, type PeerOptions } from './peer-options.js';
import { loadTabIdentity } from './tab-identity.js';
import { forwardVisibility } from './visibility.js';

export type { PeerOptions } from './peer-options.js';
export type { Peer, RestoredService, RelaysView } from './peer-handle.js';
export type { PeerEvent, RelayEvent } from './app-callbacks.js';
export type { RelayStatus } from './relay-link.js';
export { RELAY_SERVICE } from '../../signaling/relay-service.js';
export type { ServiceHandler } from '../../core/registry/service-registry.js';

const ABANDONED_STORAGE_TTL_S = 7 * 86_400;

/**
 * Start this tab's peer (compose-peer.ts does the work): the browser's parts are a Web
 * Worker for the DHT, the tab's identity (tab-identity.ts), the page's RTCPeerConnection,
 * IndexedDB (or memory) for storage, the page's visibility, and the sweeper of abandoned tabs' databases.
 */
export async function createPeer(options: PeerOptions): Promise<Peer> {
  const opts = validatePeerOptions(options);
  return composePeer(commonOf(opts), {
    // The `new URL` stays inline in `new Worker`: that is the pattern Vite and webpack follow
    // to emit the worker from an app's build (the package build rewrites it to ./worker.js).
    startWorker: () =>
      opts.workerUrl !== undefined
        ? new Worker(opts.workerUrl, { type: 'module', name: 'macula-dht' })
        : new Worker(new URL('../../../worker/dht.worker.ts', import.meta.url), { type: 'module', name: 'macula-dht' }),
    loadIdentity: () => loadTabIdentity(opts.realm),
    createChannel: (initiator, config) => createWebRtcChannel({ initiator, config }),
    // A fresh page's first connection took 50-90 ms to its first host candidate (BENCHMARKS.md, Join, session 16).
    prepareDial: true,
    storage: opts.storage === 'indexeddb' ? 'durable' : 'memory',
    watchVisibility: forwardVisibility,
    // Databases of tab identities no tab runs any more (never a live tab's: Web Locks tell).
    companion: (identity) => {
      const sweeper = startDatabaseSweeper(
        opts.storage === 'indexeddb' ? identity.nodeIdHex : undefined,
        (opts.abandonedStorageTtl ?? ABANDONED_STORAGE_TTL_S) * 1000,
      );
      return { stats: () => ({ 'storage.abandonedRemoved': sweeper.removed }), stop: () => sweeper.stop() };
    },
  });
}
