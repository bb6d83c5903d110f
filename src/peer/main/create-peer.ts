import { systemClock } from '../../core/environment.js';
import { ErrorCode, invalidArgument, MeshError } from '../../core/errors.js';
import { toHex } from '../../core/id.js';
import type { ProviderInfo } from '../../core/registry/service-registry.js';
import { createSignalingClient, type SignalingClient } from '../../signaling/client.js';
import { createWebRtcChannel } from '../../transport/webrtc-channel.js';
import { parseFromWorker, type ToWorker } from '../bridge-protocol.js';
import { ConnectionManager } from './connection-manager.js';
import { openSignal, sealSignal } from './signal-envelope.js';
import { loadTabIdentity } from './tab-identity.js';
import * as Comlink from 'comlink';
import type { CallOptions, CallOutcome } from '../../core/registry/rpc.js';
import { capture } from '../api-result.js';
import type { AppBridge, InitReport } from '../worker/worker-api.js';
import type { LookupEvent } from '../worker/lookup-subjects.js';
import type { RoutingTableView } from '../worker/peer-core.js';
import { WorkerClient } from './worker-client.js';
import { validatePeerOptions, type PeerOptions } from './peer-options.js';
import { startDatabaseSweeper } from './browser-sweeper.js';

export type { PeerOptions } from './peer-options.js';
export type PeerEvent = 'peer:connect' | 'peer:disconnect';
/** The relay link came up (authenticated) or went down; the callback gets the relay's URL. */
export type RelayEvent = 'relay:up' | 'relay:down';
export type ServiceHandler = (args: unknown) => unknown | Promise<unknown>;

export interface Peer {
  /** 64 lowercase hex characters: SHA-256 of this tab's Ed25519 public key. */
  readonly nodeId: string;
  advertise(serviceId: string, handler: ServiceHandler, opts?: { metadata?: Record<string, unknown>; ttl?: number }): Promise<void>;
  unadvertise(serviceId: string): Promise<void>;
  listLocalServices(): Promise<string[]>;
  discover(serviceId: string, opts?: { forceRefresh?: boolean }): Promise<ProviderInfo[]>;
  call(serviceId: string, args?: unknown, opts?: CallOptions): Promise<unknown>;
  /** As call(), resolving with the result, the provider that answered and how many were tried. */
  callDetailed(serviceId: string, args?: unknown, opts?: CallOptions): Promise<CallOutcome>;
  callTo(nodeId: string, serviceId: string, args?: unknown, opts?: { timeoutMs?: number }): Promise<unknown>;
  subscribe(topic: string, cb: (payload: unknown, info: { topic: string; publisher: string }) => void): Promise<() => Promise<void>>;
  publish(topic: string, payload: unknown): Promise<number>;
  discoverSubscribers(topic: string, opts?: { forceRefresh?: boolean }): Promise<ProviderInfo[]>;
  peers(): Promise<Array<{ nodeId: string; rttMs?: number }>>;
  stats(): Promise<Record<string, number>>;
  /** The routing table, bucket by bucket (for display and debugging). */
  routingTable(): Promise<RoutingTableView>;
  on(event: PeerEvent, cb: (nodeId: string) => void): () => void;
  on(event: RelayEvent, cb: (relayUrl: string) => void): () => void;
  /** Progress of this peer's lookups (paths started, answers with the nodes they passed, completion) and what each looks for. */
  on(event: 'lookup', cb: (event: LookupEvent) => void): () => void;
  close(): Promise<void>;
}

/** Relay introductions a node dials when it has no channel at all. */
const FIRST_CONTACTS = 3;
const ISOLATION_CHECK_MS = 5_000;
const WELCOME_WAIT_MS = 5_000;
const ABANDONED_STORAGE_TTL_S = 7 * 86_400;
const PEER_EVENTS: ReadonlyArray<PeerEvent | RelayEvent | 'lookup'> = ['peer:connect', 'peer:disconnect', 'relay:up', 'relay:down'];

/**
 * Start this tab's peer: its identity, the DHT worker, the WebRTC mesh and the relay
 * connection. Resolves once the worker runs and the relay has answered (or could not
 * be reached in time: the peer keeps trying in the background).
 */
export async function createPeer(options: PeerOptions): Promise<Peer> {
  const opts = validatePeerOptions(options);
  // Start-up steps overlap: the worker's script loads while the identity is read or made,
  // and the worker initialises while the relay connection authenticates.
  // The `new URL` stays inline in `new Worker`: that is the pattern Vite and webpack follow
  // to emit the worker from an app's build (the package build rewrites it to ./worker.js).
  const worker = opts.workerUrl !== undefined
    ? new Worker(opts.workerUrl, { type: 'module', name: 'macula-dht' })
    : new Worker(new URL('../../../worker/dht.worker.ts', import.meta.url), { type: 'module', name: 'macula-dht' });
  const identity = await loadTabIdentity(opts.realm).catch((e: unknown) => {
    worker.terminate();
    throw e;
  });
  mark('identity');
  const client = new WorkerClient(worker);
  const bridge = new MessageChannel();
  const toWorker = (m: ToWorker): void => bridge.port1.postMessage(m);
  const handlers = new Map<string, ServiceHandler>();
  const lookupListeners = new Set<(p: LookupEvent) => void>();
  const subscriptions = new Map<number, (payload: unknown, info: { topic: string; publisher: string }) => void>();
  const app: AppBridge = {
    invoke: (serviceId, args) => capture(async () => {
      const handler = handlers.get(serviceId);
      if (handler === undefined) throw new MeshError(ErrorCode.UNKNOWN_SERVICE, `${serviceId} has no handler in this tab`);
      return handler(args);
    }),
    lookup: (progress) => {
      for (const cb of lookupListeners) {
        try {
          cb(progress);
        } catch {
          // The app's listener; the lookup goes on.
        }
      }
    },
    deliver: (ids, topic, payload, publisher) => {
      for (const id of ids) {
        try {
          subscriptions.get(id)?.(payload, { topic, publisher });
        } catch {
          // A subscriber callback's failure stays with the app.
        }
      }
    },
  };
  // Frames and channel events posted before the worker took the port wait in the port's queue.
  const initialised = client.callTransfer<InitReport>('init', [{
    secretKeyHex: toHex(identity.secretKey), publicKeyHex: toHex(identity.publicKey), storage: opts.storage,
    ...pickDefined(opts, ['defaultTtl', 'cacheTtl', 'serviceTtl', 'k', 'alpha']),
  }, Comlink.proxy(app), bridge.port2], [bridge.port2]).then(() => mark('worker-ready'));

  const listeners = new Map<PeerEvent | RelayEvent, Set<(nodeId: string) => void>>();
  const emit = (event: PeerEvent | RelayEvent, nodeId: string): void => {
    for (const cb of listeners.get(event) ?? []) {
      try {
        cb(nodeId);
      } catch {
        // An app callback's failure is the app's; the mesh goes on.
      }
    }
  };
  let signaling: SignalingClient | undefined;
  let relayIndex = 0;

  const connections = new ConnectionManager(identity, systemClock, {
    createChannel: (initiator) => createWebRtcChannel({ initiator }),
    sendViaOverlay: async (to, data) => {
      // With no channel open the overlay cannot carry it: go to the relay without asking the
      // worker (which may still be starting, and would only say no).
      if (connections.openCount === 0) return false;
      const payload = sealSignal(identity, to, data);
      return payload !== null && client.api.sendSignal(to, payload).catch(() => false);
    },
    sendViaRelay: (to, data) => signaling?.sendSignal(to, data) ?? false,
    channelOpened: (peer) => {
      if (connections.stats.opened === 1) mark('first-channel');
      toWorker({ t: 'open', peer });
      emit('peer:connect', peer);
    },
    channelClosed: (peer, wasOpen) => {
      toWorker({ t: 'close', peer });
      if (wasOpen) emit('peer:disconnect', peer);
    },
    frame: (peer, frame) => toWorker({ t: 'frame', peer, frame }),
  });

  bridge.port1.onmessage = (event: MessageEvent) => {
    const m = parseFromWorker(event.data);
    if (m === null) return;
    if (m.t === 'send') connections.send(m.peer, m.frame);
    else if (m.t === 'connect') connections.connect(m.peer);
    else if (m.t === 'disconnect') connections.disconnect(m.peer);
    else {
      const data = openSignal(m.payload, identity.nodeIdHex, m.from);
      if (data !== null) connections.signal(m.from, data, false);
    }
  };

  /** Set while the worker's node asked for introductions with channels open (none of them gets its requests through). */
  let surrounded = false;
  const dialIntroductions = (peers: string[]): void => {
    if (connections.openCount > 0 && !surrounded) return;
    surrounded = false;
    let dialled = 0;
    for (const peer of peers) {
      if (dialled >= FIRST_CONTACTS) break;
      if (connections.connect(peer)) dialled++;
    }
  };
  let welcomed: () => void = () => undefined;
  const welcome = new Promise<void>((resolve) => { welcomed = resolve; });
  const startSignaling = (): void => {
    const url = opts.bootstrap[relayIndex % opts.bootstrap.length]!;
    const s = createSignalingClient({ url, identity, realm: opts.realm });
    s.on('welcome', ({ peers }) => {
      mark('relay-welcome');
      welcomed();
      dialIntroductions(peers);
    });
    s.on('peers', dialIntroductions);
    s.on('signal', ({ from, data }) => connections.signal(from, data, true));
    let up = false;
    s.on('status', (status) => {
      if ((status === 'open') === up) return;
      up = status === 'open';
      emit(up ? 'relay:up' : 'relay:down', url);
    });
    s.on('error', (e) => {
      if (e.code === 'UNREACHABLE' && e.to) connections.disconnect(e.to);
    });
    signaling = s;
  };
  startSignaling();
  // A peer left with no channel asks the relay for new introductions, and so does one whose
  // node finds itself surrounded by neighbours that get nothing through (DhtNode.needsIntroductions).
  const isolation = setInterval(() => {
    if (signaling?.status !== 'open') return;
    if (connections.openCount === 0) return signaling.requestPeers();
    client.api.needsIntroductions().then((needed) => {
      if (!needed || signaling?.status !== 'open') return;
      surrounded = true;
      signaling.requestPeers();
    }, () => undefined);
  }, ISOLATION_CHECK_MS);
  try {
    await initialised;
  } catch (e) {
    clearInterval(isolation);
    signaling?.close();
    connections.closeAll();
    client.terminate(new MeshError(ErrorCode.CLOSED, 'the peer failed to start'));
    throw e;
  }
  await Promise.race([welcome, new Promise((r) => setTimeout(r, WELCOME_WAIT_MS))]);
  const sweeper = startDatabaseSweeper(opts.storage === 'indexeddb' ? identity.nodeIdHex : undefined,
    (opts.abandonedStorageTtl ?? ABANDONED_STORAGE_TTL_S) * 1000);

  let closed = false;
  const live = (): void => {
    if (closed) throw new MeshError(ErrorCode.CLOSED, 'this peer is closed');
  };

  return {
    nodeId: identity.nodeIdHex,
    async advertise(serviceId, handler, adOpts = {}) {
      live();
      if (typeof handler !== 'function') throw invalidArgument('handler', 'a function', handler);
      handlers.set(serviceId, handler);
      await client.api.advertise(serviceId, adOpts.metadata, adOpts.ttl);
    },
    async unadvertise(serviceId) {
      live();
      handlers.delete(serviceId);
      await client.api.unadvertise(serviceId);
    },
    async listLocalServices() {
      live();
      return client.api.listLocalServices();
    },
    async discover(serviceId, discoverOpts = {}) {
      live();
      return client.api.discover(serviceId, discoverOpts.forceRefresh === true);
    },
    async call(serviceId, args, callOpts = {}) {
      live();
      return client.api.call(serviceId, args, callOpts);
    },
    async callDetailed(serviceId, args, callOpts = {}) {
      live();
      return client.api.callDetailed(serviceId, args, callOpts);
    },
    async callTo(nodeId, serviceId, args, callOpts = {}) {
      live();
      return client.api.callTo(nodeId, serviceId, args, callOpts);
    },
    async subscribe(topic, cb) {
      live();
      if (typeof cb !== 'function') throw invalidArgument('cb', 'a function', cb);
      const id = await client.api.subscribe(topic);
      subscriptions.set(id, cb);
      let done = false;
      return async () => {
        if (done) return;
        done = true;
        subscriptions.delete(id);
        if (!closed) await client.api.unsubscribe(id);
      };
    },
    async publish(topic, payload) {
      live();
      return client.api.publish(topic, payload);
    },
    async discoverSubscribers(topic, subOpts = {}) {
      live();
      return client.api.discoverSubscribers(topic, subOpts.forceRefresh === true);
    },
    async peers() {
      live();
      return client.api.peers();
    },
    async stats() {
      live();
      const core = await client.api.stats();
      const c = connections.stats;
      const s = signaling?.stats();
      return {
        ...core,
        'connections.open': connections.openCount,
        'connections.created': c.created,
        'connections.budgetLeft': connections.budgetLeft,
        'connections.refusedAtCap': c.refusedAtCap,
        'connections.openTimeouts': c.openTimeouts,
        'signals.viaOverlay': c.signalsViaOverlay,
        'signals.viaRelay': c.signalsViaRelay,
        'signals.relayFallbacks': c.relayFallbacks,
        'signals.rejected': s?.rejectedSignals ?? 0,
        'relay.connected': signaling?.status === 'open' ? 1 : 0,
        'storage.abandonedRemoved': sweeper.removed,
      };
    },
    async routingTable() {
      live();
      return client.api.routingTable();
    },
    on(event: PeerEvent | RelayEvent | 'lookup', cb: ((nodeId: string) => void) | ((p: LookupEvent) => void)): () => void {
      if (typeof cb !== 'function') throw invalidArgument('cb', 'a function', cb);
      if (event === 'lookup') {
        const listener = cb as (p: LookupEvent) => void;
        lookupListeners.add(listener);
        if (lookupListeners.size === 1) void client.api.watchLookups(true).catch(() => undefined);
        return () => {
          lookupListeners.delete(listener);
          if (lookupListeners.size === 0 && !closed) void client.api.watchLookups(false).catch(() => undefined);
        };
      }
      if (!PEER_EVENTS.includes(event)) throw invalidArgument('event', `${PEER_EVENTS.map((e) => `'${e}'`).join(', ')} or 'lookup'`, event);
      let set = listeners.get(event);
      if (set === undefined) listeners.set(event, (set = new Set()));
      set.add(cb as (nodeId: string) => void);
      return () => set.delete(cb as (nodeId: string) => void);
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(isolation);
      sweeper.stop();
      signaling?.close();
      await client.api.close().catch(() => undefined);
      connections.closeAll();
      client.terminate(new MeshError(ErrorCode.CLOSED, 'this peer is closed'));
    },
  };
}

/** User Timing marks (`macula:…`) let an app or a benchmark see where a tab's start-up time goes. */
function mark(name: string): void {
  performance.mark(`macula:${name}`);
}

function pickDefined<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
