import * as Comlink from 'comlink';
import { cryptoRandom, systemClock, type Store } from '../../core/environment.js';
import { identityFromSecretKey, memoizedVerifier, sign, type AsyncSigner, type Identity } from '../../core/identity.js';
import { fromHex, isIdHex, nodeIdFromPublicKey, toHex } from '../../core/id.js';
import type { ProviderInfo } from '../../core/registry/service-registry.js';
import { ErrorCode, MeshError } from '../../core/errors.js';
import { capture, unwrap, type Result } from '../api-result.js';
import type { CallOptions } from '../../core/registry/rpc.js';
import { FramePort } from './frame-port.js';
import { LEAVE_GRACE_MS } from '../../core/registry/leave.js';
import { PeerCore, type ChannelPeer, type RoutingTableView } from './peer-core.js';
import type { SavedService } from './persistence.js';
import { LookupSubjects, type LookupEvent } from './lookup-subjects.js';
import { Ticker } from './ticker.js';
import { Preverifier } from './preverify.js';
import { webEd25519, type WebEd25519 } from '../../crypto/web-ed25519.js';
import type { CallLead, CallOutcome, CallWatch } from '../../core/registry/rpc.js';
import { decodeFrame } from '../../core/wire/codec.js';
import { RPC_TIMEOUT_MS } from '../../core/constants.js';
import type { CalledOptions, ToWorker } from '../bridge-protocol.js';
import { CallsFromPage, RESERVED_RIDS } from './page-calls.js';
import { PageAdmissionGrants } from './page-admissions.js';
import { findsOf } from './page-finds.js';
import { PublishesFromPage } from './page-publishes.js';
import type { PeerKind } from '../../core/wire/messages.js';

/**
 * The same signed record comes back from every holder a lookup reaches, and again on every
 * forced discovery: each distinct (signature, message, key) is checked once. Bounded, so a
 * peer sending endless distinct junk only costs the checks themselves.
 */
const recordVerifier = memoizedVerifier(undefined, 20_000);

/**
 * WebCrypto's Ed25519, looked for once as the worker's script loads (crypto/web-ed25519.ts), so the
 * answer is in before the node starts: undefined where the runtime lacks it, and the worker
 * then signs and verifies with @noble/curves as the core does.
 */
const webCrypto: Promise<WebEd25519 | undefined> = webEd25519();

/** Sign with WebCrypto; should it ever fail after passing its test, with @noble/curves. */
async function webSigner(web: WebEd25519, identity: Identity): Promise<AsyncSigner> {
  const signWeb = await web.signer(identity.secretKey);
  return async (message) => {
    try {
      return await signWeb(message);
    } catch {
      return sign(message, identity.secretKey);
    }
  };
}

/**
 * The API the worker exposes over Comlink. It composes PeerCore with the platform: the
 * bytes bridge (frame-port.ts, over a MessagePort to the main thread's channels), the
 * system clock, the CSPRNG and a store chosen by the main thread.
 */
/** The options the worker's node and registry take; the rest of createPeer's are the main thread's. */
export interface PeerTuning {
  defaultTtl?: number;
  cacheTtl?: number;
  k?: number;
  alpha?: number;
  maxNeighbours?: number;
}

export interface WorkerInit {
  secretKeyHex: string;
  /**
   * The main thread derived it already: passing it spares the worker Ed25519's cold start
   * (tens of ms of table building) on the way to its first channel. Checked for shape only:
   * it comes from this tab's own page.
   */
  publicKeyHex?: string;
  /** 'durable': the runtime's own store (IndexedDB in a browser, a data directory in Node). */
  storage: 'durable' | 'memory';
  /** Checked by the main thread (peer-options.ts); absent ones keep PeerCore's defaults. */
  tuning: PeerTuning;
  /** What the node says it runs in, in its PINGs and PONGs (the Node entry: 'node'); a tab gives none. */
  kind?: PeerKind;
}

export interface InitReport {
  nodeId: string;
  /** What the earlier session of this tab advertised; not advertised again (PeerCore.restore). */
  restoredServices: SavedService[];
}

/** The app's side, called from the worker through a Comlink proxy: handlers and subscription callbacks live there. */
export interface AppBridge {
  invoke(serviceId: string, args: unknown, caller: string): Promise<Result<unknown>>;
  /** `messageId`: the message's id (hex), by which the page delivers each message once (app-callbacks.ts). */
  deliver(subscriptionIds: number[], topic: string, payload: unknown, publisher: string, messageId: string): void;
  /** Lookup progress, in order: what one turn of the worker reported goes in one message. */
  lookup(events: LookupEvent[]): void;
}

export type StoreFactory = (kind: 'durable' | 'memory', nodeIdHex: string) => Store | undefined;

export class WorkerApi {
  private core: PeerCore | undefined;
  private bridge: FramePort | undefined;
  /** What the app's calls look up, noted only while the app watches lookups. */
  private readonly subjects = new LookupSubjects();
  private readonly patterns = new Map<number, string>();
  private watchingLookups = false;
  /** Lookup progress reported in this turn of the worker, posted together once it ends. */
  private readonly lookupBatch: LookupEvent[] = [];
  private ticker: Ticker | undefined;
  /** Until init, what the page said last (it may say so before the node exists). */
  private hidden = false;
  private closing: Promise<Result<void>> | undefined;
  private app: AppBridge | undefined;
  /** Calls whose first CALL the page sends itself (page-calls.ts). */
  private calls: CallsFromPage | undefined;
  /** What the page may admit of CALLs straight from neighbours itself (page-admissions.ts). */
  private grants: PageAdmissionGrants | undefined;

  constructor(private readonly makeStore: StoreFactory) {}

  init(init: WorkerInit, app: AppBridge, port: MessagePort): Promise<Result<InitReport>> {
    return capture(async () => {
      const identity = workerIdentity(init);
      this.app = app;
      const bridge = new FramePort(port);
      this.bridge = bridge;
      const store = this.makeStore(init.storage, identity.nodeIdHex);
      // Its messenger is the node's, set once the node exists (below); nothing reaches it before.
      let messenger: CallsFromPage['host']['messenger'] | undefined;
      const calls = new CallsFromPage({
        get messenger() {
          return messenger!;
        },
        count: (name) => this.core?.node.count(name),
        post: (m) => bridge.post(m),
      });
      this.calls = calls;
      // Its call slots are the node's, set once the node exists (below); nothing is granted before.
      let core: PeerCore | undefined;
      const grants = new PageAdmissionGrants({
        reserve: (peer, n) => core!.rpc.slots.reserve(peer, n),
        unreserve: (peer, n) => core!.rpc.slots.unreserve(peer, n),
        admits: (peer) => core?.node.neighbours.has(peer) === true,
        now: () => systemClock.now(),
        post: (m) => bridge.post(m),
      });
      this.grants = grants;
      // Its parts are the node's and the bridge's, set once the node exists (below); the page publishes nothing before.
      const publishes = new PublishesFromPage({
        publicKey: identity.publicKey,
        post: (m) => bridge.post(m),
        count: (name) => core?.node.count(name),
        take: (rid) => calls.take(rid),
        onTheChannel: (head) => bridge.onTheChannel(head),
        watch: (token) => bridge.answers.watchPublish(token),
        run: (publication, sent, rest, here, at) => core!.pubsub.publishedByPage(publication, sent, rest, here, at),
        started: (token, result) => calls.started(token, result),
      });
      const web = await webCrypto;
      const signer = web === undefined ? undefined : await webSigner(web, identity).catch(() => undefined);
      core = new PeerCore({
        identity,
        transport: bridge.transport,
        clock: systemClock,
        random: cryptoRandom,
        verify: recordVerifier,
        ...(store ? { store } : {}),
        // Whether this tab has a handler is the app's to say (app-callbacks.ts): it answers UNKNOWN_SERVICE when not.
        handlers: {
          invoke: async (serviceId, args, caller) => unwrap(await app.invoke(serviceId, args, caller)),
          // A CALL straight from a neighbour: the page runs the handler and answers on the channel (frame-port.ts);
          // the page may admit that neighbour's next ones itself (page-admissions.ts).
          answerDirect: (serviceId, args, caller, peer, rid) => {
            grants.calledByWorker(peer);
            return bridge.invoke(serviceId, args, caller, peer, rid);
          },
          admittedOnPage: (peer) => {
            const head = bridge.admittedOnPage(peer);
            if (head !== undefined) grants.accounted(peer);
            return head;
          },
        },
        takenOnPage: (peer) => bridge.takenOnPage(peer),
        providerCopy: calls,
        subscriberCopy: publishes,
        sink: {
          deliver: (ids, topic, payload, publisher, mid) => void app.deliver(ids, topic, payload, publisher, mid),
        },
        ...init.tuning,
        node: {
          ...(signer !== undefined ? { signer } : {}),
          ...(init.kind === undefined ? {} : { kind: init.kind }),
        },
      });
      this.core = core;
      const node = core.node;
      messenger = node.messenger;
      const started = core;
      bridge.onCalled = (m) => this.startCalled(started, bridge, calls, m);
      bridge.onReturned = (peer, grant) => grants.returned(peer, grant);
      bridge.onPublished = (m) => {
        this.noteTopic(m.topic);
        publishes.published(m);
      };
      bridge.attach(
        node,
        web === undefined
          ? undefined
          : new Preverifier(
              web,
              recordVerifier,
              node.self,
              () => node.clock.now(),
              (name) => node.count(name),
            ),
      );
      core.node.on((e) => {
        if (e.type === 'lookup' && this.watchingLookups) this.reportLookup(app, this.subjects.label(e.progress));
        else if (e.type === 'neighbour:open' || e.type === 'neighbour:close') {
          calls.neighbour(e.peer, e.type === 'neighbour:open');
          if (e.type === 'neighbour:close') grants.closed(e.peer);
        }
      });
      calls.grant(RESERVED_RIDS);
      // FIND_VALUEs straight from a neighbour, answered by the page from copies of the node's answers.
      const finds = findsOf(node, bridge);
      const restoredServices = await started.restore();
      this.ticker = new Ticker(systemClock, () => {
        started.tick();
        grants.tick();
        finds.refresh();
      });
      this.ticker.setHidden(this.hidden);
      return { nodeId: identity.nodeIdHex, restoredServices };
    });
  }

  /**
   * A lookup reports as it goes (a path started, answered...), several times in one turn:
   * its paths start together, before their frames leave. Each message to the page is a
   * postMessage and a reply for both threads to handle, so one turn's reports go together,
   * at its end, after the frames.
   */
  private reportLookup(app: AppBridge, event: LookupEvent): void {
    if (this.lookupBatch.length === 0) queueMicrotask(() => void app.lookup(this.lookupBatch.splice(0)));
    this.lookupBatch.push(event);
  }

  /** The app registered a handler for `serviceId` before calling this. */
  advertise(
    serviceId: string,
    metadata: Record<string, unknown> | undefined,
    ttl: number | undefined,
  ): Promise<Result<void>> {
    return capture(async () => {
      this.noteService(serviceId);
      const core = this.ready();
      const advertised = core.advertise(serviceId, {
        ...(metadata ? { metadata } : {}),
        ...(ttl !== undefined ? { ttl } : {}),
      });
      // The service is provided from here on (its record is still on its way): the page may admit its CALLs.
      this.grants?.serving(core.listLocalServices());
      await advertised;
    });
  }

  unadvertise(serviceId: string): Promise<Result<void>> {
    return capture(async () => {
      this.noteService(serviceId);
      const core = this.ready();
      const removed = core.unadvertise(serviceId);
      this.grants?.serving(core.listLocalServices());
      await removed;
    });
  }

  /**
   * `token`: the page's name for this call, when it settles the call itself from a
   * neighbour's REPLY (page-answers.ts); the result then resolves as null here, the page
   * having given the app the real one already.
   */
  call(serviceId: string, args: unknown, opts: CallOptions, token?: number, lead?: string): Promise<Result<unknown>> {
    this.noteService(serviceId);
    return this.watched(token, (watch) => this.ready().call(serviceId, args, opts, watch, leadOf(lead)));
  }

  /** `lead`: the provider the page drew first (page-calls.ts), when it could not send the CALL itself. */
  callDetailed(
    serviceId: string,
    args: unknown,
    opts: CallOptions,
    token?: number,
    lead?: string,
  ): Promise<Result<CallOutcome | null>> {
    this.noteService(serviceId);
    return this.watched(token, (watch) => this.ready().callDetailed(serviceId, args, opts, watch, leadOf(lead)));
  }

  /**
   * The outcome of call `token` (or of publish `token`, whose PUBLISHes the page sent itself:
   * page-publishes.ts), whose first CALL the page sent itself and told the bytes
   * port of (startCalled); null when the page settled it. `opts` only set this call's
   * deadline on the page (worker-deadline.ts).
   */
  called(token: number, _opts?: CalledOptions): Promise<Result<unknown>> {
    if (this.calls === undefined || !Number.isSafeInteger(token))
      return capture(() => {
        throw new MeshError(ErrorCode.INVALID_ARGUMENT, 'no such call', { argument: 'token' });
      });
    return this.calls.result(token);
  }

  /**
   * The page put a CALL on a neighbour's channel for call `m.token` (page-calls.ts): account
   * for it and wait for its REPLY at once (its REPLY, which can only come after this notice,
   * must find the request waiting), then run the call from there as any other: the rest of
   * discovery, failover, timeouts, counters.
   */
  private startCalled(
    core: PeerCore,
    bridge: FramePort,
    calls: CallsFromPage,
    m: Extract<ToWorker, { t: 'called' }>,
  ): void {
    const decoded = decodeFrame(m.frame);
    const body = decoded.ok && decoded.message.type === 'CALL' ? decoded.message.body : undefined;
    if (body === undefined || !calls.take(body.rid)) {
      core.node.count('bridge.malformed');
      calls.started(
        m.token,
        capture(() => {
          throw new MeshError(ErrorCode.MALFORMED, 'the page sent a CALL the worker did not give it an id for');
        }),
      );
      return;
    }
    this.noteService(body.service);
    const opts = m.opts as CallOptions;
    const timeoutMs = typeof opts.timeoutMs === 'number' ? opts.timeoutMs : RPC_TIMEOUT_MS;
    const sent = core.rpc.sentByPage(m.peer, body.rid, bridge.onTheChannel(m.frame), m.at, timeoutMs);
    const lead: CallLead = { provider: m.peer, sent };
    calls.started(
      m.token,
      this.watched(m.token, (watch) =>
        m.shape === 'to'
          ? core.callTo(m.peer, body.service, body.args, opts, watch, sent)
          : m.shape === 'detailed'
            ? core.callDetailed(body.service, body.args, opts, watch, lead)
            : core.call(body.service, body.args, opts, watch, lead),
      ),
    );
  }

  callTo(
    nodeId: string,
    serviceId: string,
    args: unknown,
    opts: { timeoutMs?: number },
    token?: number,
  ): Promise<Result<unknown>> {
    return this.watched(token, (watch) => this.ready().callTo(nodeId, serviceId, args, opts, watch));
  }

  /** Run a call the page may settle itself (`token`); what it settled is not sent back (null). */
  private watched<T>(token: number | undefined, run: (watch?: CallWatch) => Promise<T>): Promise<Result<T | null>> {
    const bridge = this.bridge;
    if (token === undefined || !Number.isSafeInteger(token) || bridge === undefined) return capture(() => run());
    const { watch, end } = bridge.answers.watch(token);
    return capture(() => run(watch)).then((result) => (end() ? { ok: true, value: null } : result));
  }

  subscribe(pattern: string): Promise<Result<number>> {
    return capture(async () => {
      const core = this.ready();
      if (this.watchingLookups && typeof pattern === 'string') this.subjects.subscription(pattern);
      const id = await core.subscribe(pattern);
      this.patterns.set(id, pattern);
      return id;
    });
  }

  unsubscribe(subscriptionId: number): Promise<Result<void>> {
    const pattern = this.patterns.get(subscriptionId);
    if (this.watchingLookups && pattern !== undefined) this.subjects.subscription(pattern);
    this.patterns.delete(subscriptionId);
    return capture(() => this.ready().unsubscribe(subscriptionId));
  }

  /** `token`: the page's name for this publish, when it counts the acknowledgements itself (page-answers.ts). */
  publish(topic: string, payload: unknown, token?: number): Promise<Result<number | null>> {
    this.noteTopic(topic);
    const bridge = this.bridge;
    if (token === undefined || !Number.isSafeInteger(token) || bridge === undefined)
      return capture(() => this.ready().publish(topic, payload));
    const { watch, end } = bridge.answers.watchPublish(token);
    return capture(() => this.ready().publish(topic, payload, watch)).then((result) =>
      end() ? { ok: true, value: null } : result,
    );
  }

  discoverSubscribers(topic: string, forceRefresh: boolean): Promise<Result<ProviderInfo[]>> {
    this.noteTopic(topic);
    return capture(() => this.ready().discoverSubscribers(topic, { forceRefresh }));
  }

  /** The earlier session's services still waiting for a handler (PeerCore.restore). */
  restoredServices(): Promise<Result<SavedService[]>> {
    return capture(() => this.ready().restoredServices());
  }

  listLocalServices(): Promise<Result<string[]>> {
    return capture(() => this.ready().listLocalServices());
  }

  /**
   * `token`: the page's name for this discovery, when it may settle it from the lookup's
   * first answer itself (page-answers.ts, watchFind); the result then resolves as null here.
   */
  discover(serviceId: string, forceRefresh: boolean, token?: number): Promise<Result<ProviderInfo[] | null>> {
    this.noteService(serviceId);
    const bridge = this.bridge;
    if (token === undefined || !Number.isSafeInteger(token) || bridge === undefined)
      return capture(() => this.ready().discover(serviceId, { forceRefresh }));
    const { watch, end } = bridge.answers.watchFind(token);
    return capture(() => this.ready().discover(serviceId, { forceRefresh }, watch)).then((result) =>
      end() ? { ok: true, value: null } : result,
    );
  }

  peers(): Promise<Result<ChannelPeer[]>> {
    return capture(() => this.ready().peers());
  }

  stats(): Promise<Result<Record<string, number>>> {
    return capture(() => this.ready().stats());
  }

  /** True when the relay should introduce this node to others (DhtNode.needsIntroductions). */
  needsIntroductions(): Promise<Result<boolean>> {
    return capture(() => this.ready().node.needsIntroductions());
  }

  /** Forward lookup progress to the app (only while it listens: each event is a postMessage). */
  watchLookups(on: boolean): Promise<Result<void>> {
    return capture(() => {
      this.watchingLookups = on;
    });
  }

  routingTable(): Promise<Result<RoutingTableView>> {
    return capture(() => this.ready().routingTable());
  }

  /** The page is hidden (or shown again): maintenance ticks less often meanwhile (ticker.ts). */
  setHidden(hidden: boolean): Promise<Result<void>> {
    return capture(() => {
      if (typeof hidden !== 'boolean')
        throw new MeshError(ErrorCode.INVALID_ARGUMENT, 'hidden must be a boolean', { argument: 'hidden' });
      this.hidden = hidden;
      this.ticker?.setHidden(hidden);
    });
  }

  /** An empty round trip, for measuring the Comlink floor. */
  echo(): Promise<Result<null>> {
    return capture(() => null);
  }

  /**
   * Leave the mesh: `graceMs` for the removals of this peer's records and the goodbyes
   * (PeerCore.close). Once: a second close (Node's in-thread worker closes on terminate too)
   * must not write the state again.
   */
  close(graceMs?: number): Promise<Result<void>> {
    return (this.closing ??= capture(async () => {
      this.ticker?.close();
      await this.core?.close(graceMs ?? LEAVE_GRACE_MS);
      this.bridge?.close();
      // The app's side came as a Comlink proxy over a MessagePort of its own: release it, or
      // that port pair outlives the peer (a Node process would never exit; a page's worker
      // is terminated anyway).
      (this.app as Partial<Record<typeof Comlink.releaseProxy, () => void>> | undefined)?.[Comlink.releaseProxy]?.();
    }));
  }

  /** Names are hashed only while the app listens to lookups (and only valid ones: bad ones are refused later). */
  private noteService(serviceId: unknown): void {
    if (this.watchingLookups && typeof serviceId === 'string') this.subjects.service(serviceId);
  }

  private noteTopic(topic: unknown): void {
    if (this.watchingLookups && typeof topic === 'string' && topic.length <= 256) this.subjects.publication(topic);
  }

  private ready(): PeerCore {
    if (this.core === undefined) throw new Error('worker not initialised');
    return this.core;
  }
}

const leadOf = (lead: unknown): CallLead | undefined =>
  typeof lead === 'string' && isIdHex(lead) ? { provider: lead } : undefined;

function workerIdentity(init: WorkerInit): Identity {
  const secretKey = fromHex(init.secretKeyHex);
  if (init.publicKeyHex === undefined || !isIdHex(init.publicKeyHex)) return identityFromSecretKey(secretKey);
  const publicKey = fromHex(init.publicKeyHex);
  const nodeId = nodeIdFromPublicKey(publicKey);
  return { secretKey, publicKey, nodeId, nodeIdHex: toHex(nodeId) };
}
