import { systemClock } from '../../core/environment.js';
import { ErrorCode, MeshError } from '../../core/errors.js';
import { toHex } from '../../core/id.js';
import { createWebRtcChannel } from '../../transport/webrtc-channel.js';
import { ChannelRoutes } from './channel-routes.js';
import { IceConfig } from './ice-config.js';
import * as Comlink from 'comlink';
import type { InitReport, WorkerInit } from '../worker/worker-api.js';
import { forwardVisibility } from './visibility.js';
import { AppCallbacks } from './app-callbacks.js';
import { startDatabaseSweeper } from './browser-sweeper.js';
import { ConnectionManager } from './connection-manager.js';
import { FramePump } from './frame-pump.js';
import { createPeerHandle, type Peer } from './peer-handle.js';
import { tuningOf, validatePeerOptions, type PeerOptions } from './peer-options.js';
import { RelayDirectory } from './relay-directory.js';
import { RelayLink } from './relay-link.js';
import { RELAY_SERVICE } from '../../signaling/relay-service.js';
import { loadTabIdentity } from './tab-identity.js';
import { WorkerClient } from './worker-client.js';
import { watchWorker } from './worker-watch.js';

export type { PeerOptions } from './peer-options.js';
export type { Peer, RestoredService } from './peer-handle.js';
export type { PeerEvent, RelayEvent } from './app-callbacks.js';
export type { RelayStatus } from './relay-link.js';
export type { RelaysView } from './peer-handle.js';
export { RELAY_SERVICE } from '../../signaling/relay-service.js';
export type { ServiceHandler } from '../../core/registry/service-registry.js';

const WELCOME_WAIT_MS = 5_000;
const ABANDONED_STORAGE_TTL_S = 7 * 86_400;

/**
 * Start this tab's peer: its identity, the DHT worker, the WebRTC mesh and the relay
 * connection. Resolves once the worker runs and the relay has answered (or could not
 * be reached in time: the peer keeps trying in the background).
 *
 * This is the composition root of the main thread: the worker (worker-client.ts) and the
 * bytes bridge to it (frame-pump.ts), the channels (connection-manager.ts), the relays
 * (relay-link.ts; relay-directory.ts for those learned from the DHT), what the app
 * registers (app-callbacks.ts) and the app's handle (peer-handle.ts).
 */
export async function createPeer(options: PeerOptions): Promise<Peer> {
  const opts = validatePeerOptions(options);
  // Start-up steps overlap: the worker's script loads while the identity is read or made,
  // and the worker initialises while the relay connection authenticates.
  // The `new URL` stays inline in `new Worker`: that is the pattern Vite and webpack follow
  // to emit the worker from an app's build (the package build rewrites it to ./worker.js).
  const worker =
    opts.workerUrl !== undefined
      ? new Worker(opts.workerUrl, { type: 'module', name: 'macula-dht' })
      : new Worker(new URL('../../../worker/dht.worker.ts', import.meta.url), { type: 'module', name: 'macula-dht' });
  const identity = await loadTabIdentity(opts.realm).catch((e: unknown) => {
    worker.terminate();
    throw e;
  });
  mark('identity');
  const client = new WorkerClient(worker);
  const app = new AppCallbacks();
  const bridge = new MessageChannel();
  const pump = new FramePump(bridge.port1, identity);
  // Frames and channel events posted before the worker took the port wait in the port's queue.
  const init: WorkerInit = {
    secretKeyHex: toHex(identity.secretKey),
    publicKeyHex: toHex(identity.publicKey),
    storage: opts.storage,
    tuning: tuningOf(opts),
  };
  const initialised = client
    .callTransfer<InitReport>('init', [init, Comlink.proxy(app.bridge), bridge.port2], [bridge.port2])
    .then(() => mark('worker-ready'));

  // ICE servers: the app's own plus the relay's (late-bound: the relay link is made below).
  const ice = new IceConfig(opts.iceServers, opts.iceTransportPolicy, systemClock, () => relay.requestIce());
  const routes = new ChannelRoutes();
  const connections: ConnectionManager = new ConnectionManager(identity, systemClock, {
    createChannel: (initiator) => routes.wrap(createWebRtcChannel({ initiator, config: ice.configuration() })),
    // With no channel open the overlay cannot carry it: go to the relay without asking the
    // worker (which may still be starting, and would only say no).
    sendViaOverlay: (to, signal) =>
      connections.openCount === 0 ? Promise.resolve(false) : pump.routeSignal(to, signal),
    sendViaRelay: (to, signal) => relay.sendSignal(to, signal),
    channelOpened: (peer) => {
      if (connections.stats.opened === 1) mark('first-channel');
      relay.channelOpened();
      directory.joined();
      pump.opened(peer);
      app.emit('peer:connect', peer);
    },
    created: (total) => pump.budget(total),
    channelClosed: (peer, wasOpen) => {
      pump.closed(peer);
      if (wasOpen) app.emit('peer:disconnect', peer);
    },
    frame: (peer, frame) => pump.frame(peer, frame),
  });
  pump.drive(connections);
  // Relays beyond the bootstrap list, from the DHT: where the tab goes when its relays are gone.
  const directory = new RelayDirectory({
    bootstrap: opts.bootstrap,
    clock: systemClock,
    discover: () => client.api.discover(RELAY_SERVICE, true),
  });
  /** The relay that first admitted this tab. */
  let entered: string | null = null;
  // A tab holds one link (a relay's peer holds several, relay-links.ts): its bootstrap
  // list in order, then the relays it learned.
  const relay = new RelayLink({
    urls: opts.bootstrap,
    learned: () => directory.urls(),
    identity,
    realm: opts.realm,
    channels: connections,
    needsIntroductions: () => client.api.needsIntroductions(),
    onIce: (relayIce) => ice.fromRelay(relayIce),
    onStatus: (up, url) => {
      if (up) entered ??= url;
      else directory.relayDown();
      app.emit(up ? 'relay:up' : 'relay:down', url);
    },
  });
  void relay.welcomed.then(() => mark('relay-welcome'));

  let watch: ReturnType<typeof watchWorker> | undefined;
  let stopSweeper = (): void => undefined;
  const stop = (reason: MeshError): void => {
    watch?.stop();
    stopSweeper();
    directory.close();
    ice.close();
    relay.close();
    connections.closeAll();
    pump.close();
    client.terminate(reason);
  };
  try {
    await initialised;
  } catch (e) {
    stop(new MeshError(ErrorCode.CLOSED, 'the peer failed to start'));
    throw e;
  }
  // From here an uncaught error in the worker is counted; a worker that stops answering ends the peer (worker-watch.ts).
  watch = watchWorker(client, pump, systemClock, stop);
  await Promise.race([relay.welcomed, new Promise((r) => setTimeout(r, WELCOME_WAIT_MS))]);
  if (client.failure !== undefined) throw client.failure; // the worker died while the relay answered
  // A background tab's node keeps its mesh with less frequent maintenance.
  const stopVisibility = forwardVisibility((hidden) => void client.api.setHidden(hidden).catch(() => undefined));
  // Databases of tab identities no tab runs any more (never a live tab's: Web Locks tell).
  const sweeper = startDatabaseSweeper(
    opts.storage === 'indexeddb' ? identity.nodeIdHex : undefined,
    (opts.abandonedStorageTtl ?? ABANDONED_STORAGE_TTL_S) * 1000,
  );
  stopSweeper = () => sweeper.stop();

  return createPeerHandle(identity.nodeIdHex, client, app, {
    stats: () => ({
      ...connections.counters(),
      ...routes.toStats(),
      'ice.relayServers': ice.stats.relayServers,
      'ice.updates': ice.stats.updates,
      'signals.rejected': relay.rejectedSignals,
      'relay.connected': relay.connected ? 1 : 0,
      'relay.learned': directory.urls().length,
      'storage.abandonedRemoved': sweeper.removed,
      'worker.errors': client.errors,
    }),
    relayStatus: () => relay.status(),
    relays: () => {
      return {
        current: relay.url,
        connected: relay.connected,
        entered,
        bootstrap: [...opts.bootstrap],
        learned: directory.learned(),
      };
    },
    close: async (graceMs) => {
      watch?.stop();
      stopVisibility();
      sweeper.stop();
      directory.close();
      relay.close();
      await client.api.close(graceMs).catch(() => undefined);
      stop(new MeshError(ErrorCode.CLOSED, 'this peer is closed'));
    },
  });
}

/** User Timing marks (`macula:…`) let an app or a benchmark see where a tab's start-up time goes. */
function mark(name: string): void {
  performance.mark(`macula:${name}`);
}
