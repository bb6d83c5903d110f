import { ErrorCode, invalidArgument, isMeshError, MeshError } from '../../core/errors.js';
import type { CallOptions, CallOutcome } from '../../core/registry/rpc.js';
import type { ProviderInfo, ServiceHandler } from '../../core/registry/service-registry.js';
import type { LookupEvent } from '../worker/lookup-subjects.js';
import type { ChannelPeer, RoutingTableView } from '../worker/peer-core.js';
import type { SavedService } from '../worker/persistence.js';
import type { AppCallbacks, PeerEvent, RelayEvent, SubscriptionCallback } from './app-callbacks.js';
import type { RelayStatus } from './relay-link.js';
import type { WorkerClient } from './worker-client.js';
import type { PageReplies } from './page-replies.js';
import type { PageCalls } from './page-calls.js';
import type { PagePublishes } from './page-publishes.js';
import type { CalledOptions, CalledShape } from '../bridge-protocol.js';
import { isServiceId, pageLeads, pageLeadsTo } from '../../core/registry/call-request.js';
import { isIdHex } from '../../core/id.js';

/** Calls whose first CALL the page sends itself (page-calls.ts, frame-pump.ts): the frame pump. */
export interface DirectCalls {
  readonly calls: PageCalls;
  /** Publishes whose PUBLISHes the page sends itself (page-publishes.ts). */
  readonly publishes?: Pick<PagePublishes, 'start'>;
  sendCall(
    token: number,
    shape: CalledShape,
    peer: string,
    service: string,
    args: unknown,
    opts: CalledOptions,
  ): boolean;
}

/**
 * The handle createPeer gives the app: each method checks the peer is open and its
 * arguments, then asks the worker (worker-client.ts) or, for callbacks, records them
 * with the app's other registrations (app-callbacks.ts).
 */

/** A service the previous session of this tab advertised (peer.restoredServices()). */
export type RestoredService = SavedService;

export interface Peer {
  /** 64 lowercase hex characters: SHA-256 of this tab's Ed25519 public key. */
  readonly nodeId: string;
  advertise(
    serviceId: string,
    handler: ServiceHandler,
    opts?: { metadata?: Record<string, unknown>; ttl?: number },
  ): Promise<void>;
  unadvertise(serviceId: string): Promise<void>;
  listLocalServices(): Promise<string[]>;
  /**
   * What the previous session of this tab (before a reload) advertised, with its metadata
   * and ttl: not advertised again, since its handlers died with the page. Advertise one to
   * hand its handler back, or unadvertise it to take its old record out of the DHT; either
   * takes it off this list. Not kept for the next reload unless advertised again.
   */
  restoredServices(): Promise<RestoredService[]>;
  discover(serviceId: string, opts?: { forceRefresh?: boolean }): Promise<ProviderInfo[]>;
  call(serviceId: string, args?: unknown, opts?: CallOptions): Promise<unknown>;
  /** As call(), resolving with the result, the provider that answered and how many were tried. */
  callDetailed(serviceId: string, args?: unknown, opts?: CallOptions): Promise<CallOutcome>;
  callTo(nodeId: string, serviceId: string, args?: unknown, opts?: { timeoutMs?: number }): Promise<unknown>;
  subscribe(topic: string, cb: SubscriptionCallback): Promise<() => Promise<void>>;
  publish(topic: string, payload: unknown): Promise<number>;
  discoverSubscribers(topic: string, opts?: { forceRefresh?: boolean }): Promise<ProviderInfo[]>;
  peers(): Promise<ChannelPeer[]>;
  stats(): Promise<Record<string, number>>;
  /** The routing table, bucket by bucket (for display and debugging). */
  routingTable(): Promise<RoutingTableView>;
  /**
   * Whether a relay has admitted this tab now, and which (while down: the one it tries).
   * createPeer resolves after 5 s without a relay too, so an app checks this at start and
   * follows relay:up / relay:down after.
   */
  relayStatus(): RelayStatus;
  /** The relay this peer uses (or tries next), the one it entered through, and those it learned from the DHT. */
  relays(): Promise<RelaysView>;
  on(event: PeerEvent, cb: (nodeId: string) => void): () => void;
  on(event: RelayEvent, cb: (relayUrl: string) => void): () => void;
  /** Progress of this peer's lookups (paths started, answers with the nodes they passed, completion) and what each looks for. */
  on(event: 'lookup', cb: (event: LookupEvent) => void): () => void;
  /**
   * Leave the mesh: this peer's records are taken out of the DHT (signed removals to the
   * nodes holding them) and its neighbours are told, for at most `timeoutMs` (in [0, 10000],
   * default 1500; 0 leaves at once, as a closed tab does), then everything stops. Later
   * calls reject with CLOSED.
   */
  close(opts?: { timeoutMs?: number }): Promise<void>;
}

/** The relays a peer knows (README, Deploying: several relays). */
export interface RelaysView {
  /** The relay it is connected to, or will try next. */
  current: string;
  connected: boolean;
  /** The relay that first admitted it; null until one has. */
  entered: string | null;
  /** Its `bootstrap` list. */
  bootstrap: string[];
  /** Relays learned from the DHT (RELAY_SERVICE), each with the peer that advertised it; tried after `bootstrap`. */
  learned: Array<{ url: string; nodeId: string }>;
}

/** The main thread's share of a peer: its own counters, its relays, and how it shuts down. */
export interface MainThreadSide {
  stats(): Record<string, number>;
  relayStatus(): RelayStatus;
  relays(): RelaysView;
  /** Leave the mesh (the worker is asked to close first, with `graceMs` to leave gracefully) and end the worker. */
  close(graceMs: number | undefined): Promise<void>;
}

const PEER_EVENTS: ReadonlyArray<PeerEvent | RelayEvent | 'lookup'> = [
  'peer:connect',
  'peer:disconnect',
  'relay:up',
  'relay:down',
];

export function createPeerHandle(
  nodeId: string,
  client: WorkerClient,
  app: AppCallbacks,
  replies: PageReplies,
  main: MainThreadSide,
  direct?: DirectCalls,
): Peer {
  const { api } = client;
  let closed = false;
  const live = (): void => {
    if (closed) throw new MeshError(ErrorCode.CLOSED, 'this peer is closed');
  };
  /**
   * A call started by the page (page-calls.ts): the first provider drawn here from the
   * worker's copy, its CALL sent from here when it is an open neighbour, and the worker told
   * whom it drew when not. Undefined: no copy, or options the page leaves to the worker.
   */
  const started = (
    shape: 'call' | 'detailed',
    token: number,
    serviceId: string,
    args: unknown,
    opts: CallOptions,
  ): Promise<unknown> | undefined => {
    if (direct === undefined || !isServiceId(serviceId) || !pageLeads(opts)) return undefined;
    const provider = direct.calls.draw(serviceId, opts.policy);
    if (provider === undefined) return undefined;
    const plain = plainOptions(opts);
    if (direct.sendCall(token, shape, provider, serviceId, args, plain)) return api.called(token, plain);
    return shape === 'call'
      ? api.call(serviceId, args, opts, token, provider)
      : api.callDetailed(serviceId, args, opts, token, provider);
  };

  return {
    nodeId,
    async advertise(serviceId, handler, adOpts = {}) {
      live();
      if (typeof handler !== 'function') throw invalidArgument('handler', 'a function', handler);
      // The handler is in place before the record goes out (a call may follow at once); a
      // refused advertise puts back whatever was registered before.
      const before = app.handlers.get(serviceId);
      app.handlers.set(serviceId, handler);
      try {
        await api.advertise(serviceId, adOpts.metadata, adOpts.ttl);
      } catch (e) {
        // Only a refusal changed nothing in the worker; after other failures it advertises the service.
        const refused = isMeshError(e) && (e.code === ErrorCode.INVALID_ARGUMENT || e.code === ErrorCode.TOO_LARGE);
        if (refused && app.handlers.get(serviceId) === handler) {
          if (before === undefined) app.handlers.delete(serviceId);
          else app.handlers.set(serviceId, before);
        }
        throw e;
      }
    },
    async unadvertise(serviceId) {
      live();
      app.handlers.delete(serviceId);
      await api.unadvertise(serviceId);
    },
    async listLocalServices() {
      live();
      return api.listLocalServices();
    },
    async restoredServices() {
      live();
      return api.restoredServices();
    },
    // A lookup's first answer may settle it on the page (page-discoveries.ts), as a REPLY settles a call.
    async discover(serviceId, discoverOpts = {}) {
      live();
      const forceRefresh = discoverOpts.forceRefresh === true;
      return replies.run('discover', (token) => api.discover(serviceId, forceRefresh, token));
    },
    // Calls are settled by the page when a neighbour's REPLY comes back on its channel (page-replies.ts).
    async call(serviceId, args, callOpts = {}) {
      live();
      return replies.run(
        'call',
        (token) => started('call', token, serviceId, args, callOpts) ?? api.call(serviceId, args, callOpts, token),
      );
    },
    async callDetailed(serviceId, args, callOpts = {}) {
      live();
      return replies.run(
        'detailed',
        (token) =>
          (started('detailed', token, serviceId, args, callOpts) as Promise<CallOutcome | null> | undefined) ??
          api.callDetailed(serviceId, args, callOpts, token),
      );
    },
    async callTo(target, serviceId, args, callOpts = {}) {
      live();
      return replies.run('to', (token) => {
        // To an open neighbour, the CALL goes from here (page-calls.ts); the worker runs the rest.
        if (direct !== undefined && isIdHex(target) && isServiceId(serviceId) && pageLeadsTo(callOpts)) {
          const plain = plainOptions(callOpts);
          if (direct.sendCall(token, 'to', target, serviceId, args, plain)) return api.called(token, plain);
        }
        return api.callTo(target, serviceId, args, callOpts, token);
      });
    },
    async subscribe(topic, cb) {
      live();
      if (typeof cb !== 'function') throw invalidArgument('cb', 'a function', cb);
      // Until the worker answers, its subscriptions and the page's differ: the page takes no publication meanwhile.
      app.changing++;
      let id: number;
      try {
        id = await api.subscribe(topic);
        app.subscriptions.set(id, cb);
        app.patterns.set(id, topic);
      } finally {
        app.changing--;
      }
      let done = false;
      return async () => {
        if (done) return;
        done = true;
        app.subscriptions.delete(id);
        app.patterns.delete(id);
        if (closed) return;
        app.changing++;
        try {
          await api.unsubscribe(id);
        } finally {
          app.changing--;
        }
      };
    },
    async publish(topic, payload) {
      live();
      // Sent from here when the worker's copy allows (page-publishes.ts); the acknowledgements are counted by the page
      // as they come back on its channels (page-replies.ts).
      return replies.run(
        'publish',
        (token) =>
          (direct?.publishes?.start(token, topic, payload, {
            viaWorker: () => api.publish(topic, payload, token),
            sentByPage: () => api.called(token),
          }) as Promise<number | null> | undefined) ?? api.publish(topic, payload, token),
      );
    },
    async discoverSubscribers(topic, subOpts = {}) {
      live();
      return api.discoverSubscribers(topic, subOpts.forceRefresh === true);
    },
    async peers() {
      live();
      return api.peers();
    },
    async stats() {
      live();
      return { ...(await api.stats()), ...main.stats() };
    },
    async routingTable() {
      live();
      return api.routingTable();
    },
    relayStatus() {
      live();
      return main.relayStatus();
    },
    async relays() {
      live();
      return main.relays();
    },
    on(
      event: PeerEvent | RelayEvent | 'lookup',
      cb: ((nodeId: string) => void) | ((p: LookupEvent) => void),
    ): () => void {
      if (typeof cb !== 'function') throw invalidArgument('cb', 'a function', cb);
      if (event === 'lookup') {
        const listener = cb as (p: LookupEvent) => void;
        app.lookupListeners.add(listener);
        if (app.lookupListeners.size === 1) void api.watchLookups(true).catch(() => undefined);
        return () => {
          app.lookupListeners.delete(listener);
          if (app.lookupListeners.size === 0 && !closed) void api.watchLookups(false).catch(() => undefined);
        };
      }
      if (!PEER_EVENTS.includes(event))
        throw invalidArgument('event', `${PEER_EVENTS.map((e) => `'${e}'`).join(', ')} or 'lookup'`, event);
      return app.onPeer(event, cb as (nodeId: string) => void);
    },
    async close(closeOpts = {}) {
      if (closed) return;
      const graceMs = checkCloseTimeout(closeOpts);
      closed = true;
      await main.close(graceMs);
    },
  };
}

/** The options the worker is told of with a call the page started: plain data, only the known ones. */
function plainOptions(opts: CallOptions): CalledOptions {
  return {
    ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
    ...(opts.maxAttempts === undefined ? {} : { maxAttempts: opts.maxAttempts }),
    ...(opts.policy === undefined ? {} : { policy: opts.policy }),
  };
}

/** close()'s largest `timeoutMs`: a page that is leaving has seconds at most (its default is the worker's, LEAVE_GRACE_MS). */
const MAX_CLOSE_TIMEOUT_MS = 10_000;

/** close()'s `timeoutMs`, checked; undefined for the default. */
function checkCloseTimeout(opts: unknown): number | undefined {
  if (typeof opts !== 'object' || opts === null) throw invalidArgument('opts', 'an object', opts);
  const t = (opts as { timeoutMs?: unknown }).timeoutMs;
  if (t === undefined) return undefined;
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0 || t > MAX_CLOSE_TIMEOUT_MS)
    throw invalidArgument('timeoutMs', `a number of milliseconds in [0, ${MAX_CLOSE_TIMEOUT_MS}]`, t);
  return t;
}
