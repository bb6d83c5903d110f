import { systemClock } from '../../core/environment.js';
import { ErrorCode, MeshError } from '../../core/errors.js';
import { toHex, type IdHex } from '../../core/id.js';
import type { Identity } from '../../core/identity.js';
import type { PeerKind } from '../../core/wire/messages.js';
import type { WebSocketConstructor } from '../../signaling/client.js';
import { openEarlySocket, type EarlySocket } from '../../signaling/early-socket.js';
import type { IceServerSpec } from '../../signaling/ice.js';
import { RELAY_SERVICE } from '../../signaling/relay-service.js';
import { asyncEd25519, platformEd25519 } from '../../crypto/async-ed25519.js';
import type { PeerChannel } from '../../transport/peer-channel.js';
import { ChannelRoutes } from './channel-routes.js';
import { IceConfig } from './ice-config.js';
import * as Comlink from 'comlink';
import type { InitReport, PeerTuning, WorkerInit } from '../worker/worker-api.js';
import { AppCallbacks } from './app-callbacks.js';
import { ConnectionManager } from './connection-manager.js';
import { FramePump } from './frame-pump.js';
import { PagePublications } from './page-publications.js';
import { createPeerHandle, type Peer } from './peer-handle.js';
import { RelayDirectory } from './relay-directory.js';
import { RelayLinks } from './relay-links.js';
import { markStartup as mark } from './startup-marks.js';
import { WorkerClient, type WorkerLike } from './worker-client.js';
import { watchWorker } from './worker-watch.js';

const WELCOME_WAIT_MS = 5_000;

/** The options every runtime's createPeer shares, checked (peer-options.ts). */
export interface CommonPeerOptions {
  bootstrap: string[];
  realm: string;
  iceServers: IceServerSpec[];
  iceTransportPolicy: 'all' | 'relay';
  tuning: PeerTuning;
}

/** What the runtime runs beside the peer for as long as it lives (the browser's database sweeper). */
export interface Companion {
  stats(): Record<string, number>;
  stop(): void;
}

/**
 * The parts of a peer that differ between a browser page and a Node process; everything
 * else (the worker's API, the channels, the relay link, the app's handle) is shared.
 */
export interface PeerRuntime {
  /** Start the DHT worker: a Web Worker in a page, a MessagePort-connected WorkerApi in Node. */
  startWorker(): WorkerLike;
  /** This peer's identity (a tab's sessionStorage key, a Node data directory's key file, or a new one). */
  loadIdentity(): Promise<Identity>;
  /** One WebRTC data channel (the browser's RTCPeerConnection, or @roamhq/wrtc's in Node). */
  createChannel(initiator: boolean, config: RTCConfiguration): PeerChannel;
  /** Whether the worker keeps records and services in the runtime's durable store. */
  storage: 'durable' | 'memory';
  /** What the peer tells its neighbours it runs in (PeerKind: 'node' in Node); a tab says nothing. */
  kind?: PeerKind;
  /** The relay's WebSocket, where the platform has no global one (Node 20). */
  WebSocketImpl?: WebSocketConstructor;
  /**
   * Tells `setHidden` whether the app is in the background, now and on every change (a
   * page's visibility: visibility.ts); returns how to stop. Absent: always in front.
   */
  watchVisibility?(setHidden: (hidden: boolean) => void): () => void;
  /** Started once the peer is up, stopped when it closes. */
  companion?(identity: Identity): Companion;
  /**
   * Relays to hold a link to besides the bootstrap list's, one link each: a relay's own
   * peer joins other relays' meshes this way (--join). A tab has none.
   */
  joinLinks?: readonly string[];
  /** Runs after the peer closed (or failed to start): give back what loadIdentity took. */
  release?(): void;
  /**
   * Make the first dial's connection and offer while the relay admits the peer, before anyone
   * to dial is known (ConnectionManager.prepareDial): a page's first WebRTC work, and its host
   * candidates, then come before the welcome instead of after it.
   */
  prepareDial?: boolean;
}

/**
 * Start a peer: its identity, the DHT worker, the WebRTC mesh and the relay connection.
 * Resolves once the worker runs and the relay has answered (or could not be reached in
 * time: the peer keeps trying in the background).
 *
 * This is the composition root shared by the browser entry (create-peer.ts) and the Node
 * entry (src/node): the worker (worker-client.ts, watched by worker-watch.ts) and the
 * bytes bridge to it (frame-pump.ts), the channels (connection-manager.ts), the relays
 * (relay-link.ts; relay-directory.ts for those learned from the DHT), what the app
 * registers (app-callbacks.ts) and the app's handle (peer-handle.ts).
 */
export async function composePeer(opts: CommonPeerOptions, runtime: PeerRuntime): Promise<Peer> {
  // Start-up steps overlap: the relay socket opens and the worker's script loads while the
  // identity is read or made, and the worker initialises while the relay connection authenticates.
  // The socket first: its opening is the longest wait before the hello, and making a worker
  // holds the main thread for a while (docs/ARCHITECTURE.md, Joining).
  const early = earlyRelaySocket(opts.bootstrap[0]!, runtime.WebSocketImpl);
  mark('worker-start');
  const worker = runtime.startWorker();
  const identity = await runtime.loadIdentity().catch((e: unknown) => {
    early?.discard();
    worker.terminate();
    runtime.release?.();
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
    storage: runtime.storage,
    tuning: opts.tuning,
    ...(runtime.kind === undefined ? {} : { kind: runtime.kind }),
  };
  const initialised = client
    .callTransfer<InitReport>('init', [init, Comlink.proxy(app.bridge), bridge.port2], [bridge.port2])
    .then(() => mark('worker-ready'));

  // ICE servers: the app's own plus the relay's (late-bound: the relay link is made below).
  const ice = new IceConfig(opts.iceServers, opts.iceTransportPolicy, systemClock, () => relay.requestIce());
  const routes = new ChannelRoutes();
  const connections: ConnectionManager = new ConnectionManager(
    identity,
    systemClock,
    {
      createChannel: (initiator, prepared) => {
        mark(prepared === true ? 'dial-prepared' : initiator ? 'first-dial' : 'first-answer');
        return routes.wrap(runtime.createChannel(initiator, ice.configuration()));
      },
      // With no channel open the overlay cannot carry it: go to the relay without asking the
      // worker (which may still be starting, and would only say no).
      sendViaOverlay: (to, signal) =>
        connections.openCount === 0 ? Promise.resolve(false) : pump.routeSignal(to, signal),
      sendViaRelay: (to, signal) => {
        mark('first-signal-out');
        return relay.sendSignal(to, signal);
      },
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
      dialBusy: (peer) => pump.busy(peer),
      frame: (peer, frame) => pump.frame(peer, frame),
    },
    // The page refuses channels past the node's own cap, inbound offers included, so both agree on it.
    opts.tuning.maxNeighbours !== undefined ? { maxChannels: opts.tuning.maxNeighbours } : {},
  );
  if (runtime.prepareDial === true) connections.prepareDial();
  // Publications straight from a neighbour are verified, delivered and acknowledged here (page-publications.ts);
  // the app's own publishes are signed and sent from here when the worker's copy allows (page-publishes.ts).
  pump.drive(
    connections,
    app,
    new PagePublications(app, systemClock, platformEd25519(), (peer, frame) => connections.send(peer as IdHex, frame)),
    app,
  );
  // Relays beyond the bootstrap list, from the DHT: where the peer goes when its relays are gone.
  const directory = new RelayDirectory({
    bootstrap: opts.bootstrap,
    clock: systemClock,
    // Named by no token: the worker answers it itself, never with null.
    discover: () => client.api.discover(RELAY_SERVICE, true).then((found) => found ?? []),
  });
  /** The relay that first admitted this peer. */
  let entered: string | null = null;
  // The bootstrap list in order, then the relays learned, on the first link; a relay's own
  // peer holds one more link per relay it joins (relay-links.ts), a tab none.
  const relay = new RelayLinks({
    links: [opts.bootstrap, ...(runtime.joinLinks ?? []).map((url) => [url])],
    learned: () => directory.urls(),
    identity,
    realm: opts.realm,
    channels: connections,
    needsIntroductions: () => client.api.needsIntroductions(),
    onIce: (relayIce) => {
      ice.fromRelay(relayIce);
      // The prepared connection has the app's servers only; one the relay adds to would not be used by it.
      if (relayIce.iceServers.length > 0) connections.discardPrepared();
    },
    onStatus: (up, url, link) => {
      // Entering, and failing over to learned relays, are the first link's; the app hears of every link.
      if (link === 0) {
        if (up) entered ??= url;
        else directory.relayDown();
      }
      app.emit(up ? 'relay:up' : 'relay:down', url);
    },
    ...(early ? { WebSocketImpl: early.Impl } : runtime.WebSocketImpl ? { WebSocketImpl: runtime.WebSocketImpl } : {}),
    // The platform's Ed25519: a cold page's first pure-JS signatures would hold up the join.
    ed25519: asyncEd25519(),
  });
  mark('relay-connect');
  // The welcome's introductions are dialled in its task, before this runs: a prepared connection left over has nobody to dial.
  void relay.welcomed.then(() => {
    mark('relay-welcome');
    connections.discardPrepared();
  });

  let watch: ReturnType<typeof watchWorker> | undefined;
  let companion: Companion | undefined;
  let stopVisibility = (): void => undefined;
  let stopped = false;
  const stop = (reason: MeshError): void => {
    if (stopped) return;
    stopped = true;
    watch?.stop();
    stopVisibility();
    companion?.stop();
    directory.close();
    ice.close();
    relay.close();
    connections.closeAll();
    pump.close();
    client.terminate(reason);
    runtime.release?.();
  };
  try {
    await initialised;
  } catch (e) {
    stop(new MeshError(ErrorCode.CLOSED, 'the peer failed to start'));
    throw e;
  }
  // From here an uncaught error in the worker is counted; a worker that stops answering ends the peer (worker-watch.ts).
  watch = watchWorker(client, pump, systemClock, stop);
  let welcomeTimer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([relay.welcomed, new Promise((r) => (welcomeTimer = setTimeout(r, WELCOME_WAIT_MS)))]);
  clearTimeout(welcomeTimer);
  if (client.failure !== undefined) throw client.failure; // the worker died while the relay answered
  // A background peer keeps its mesh with less frequent maintenance.
  stopVisibility =
    runtime.watchVisibility?.((hidden) => void client.api.setHidden(hidden).catch(() => undefined)) ?? stopVisibility;
  companion = runtime.companion?.(identity);

  return createPeerHandle(
    identity.nodeIdHex,
    client,
    app,
    pump.replies,
    {
      stats: () => ({
        ...connections.counters(),
        ...routes.toStats(),
        'ice.relayServers': ice.stats.relayServers,
        'ice.updates': ice.stats.updates,
        'signals.rejected': relay.rejectedSignals,
        'relay.connected': relay.primary.connected ? 1 : 0,
        'relay.learned': directory.urls().length,
        'worker.errors': client.errors,
        ...companion?.stats(),
      }),
      relayStatus: () => relay.primary.status(),
      relays: () => ({
        current: relay.primary.url,
        connected: relay.primary.connected,
        entered,
        bootstrap: [...opts.bootstrap],
        learned: directory.learned(),
      }),
      close: async (graceMs) => {
        watch?.stop();
        directory.close();
        relay.close();
        await client.api.close(graceMs).catch(() => undefined);
        stop(new MeshError(ErrorCode.CLOSED, 'this peer is closed'));
      },
    },
    // A call's first CALL goes from the page when the worker's copy says it can (page-calls.ts).
    pump,
  );
}

/**
 * The first relay's socket, opened before the identity is ready (early-socket.ts): the relay's
 * challenge arrives meanwhile, and the link signs it as soon as it exists. None where the
 * platform has no WebSocket (the link then reports that, as before).
 */
function earlyRelaySocket(url: string, given: WebSocketConstructor | undefined): EarlySocket | undefined {
  const Impl = given ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  return Impl === undefined ? undefined : openEarlySocket(url, Impl);
}
