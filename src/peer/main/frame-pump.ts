import { cryptoRandom, systemClock, type Clock, type Random } from '../../core/environment.js';
import { attemptTimeoutMs, callFrame, pageDeadline } from '../../core/registry/call-request.js';
import type { IdHex } from '../../core/id.js';
import type { Identity } from '../../core/identity.js';
import type { StampedSignal } from '../../signaling/protocol.js';
import { replyFrame, REPLY_HEADER_BYTES, type HandlerOutcome } from '../../core/registry/call-reply.js';
import {
  parseFromWorker,
  type CalledOptions,
  type CalledShape,
  type FromWorker,
  type ToWorker,
} from '../bridge-protocol.js';
import { PageCalls } from './page-calls.js';
import { openSignal, sealSignal } from './signal-envelope.js';
import { asyncEd25519, platformEd25519, type AsyncEd25519 } from '../../crypto/async-ed25519.js';
import type { WebEd25519 } from '../../crypto/web-ed25519.js';
import { PagePublishes } from './page-publishes.js';
import type { AppCallbacks } from './app-callbacks.js';
import { WORKER_CALL_TIMEOUT_MS } from './worker-deadline.js';
import { PageReplies } from './page-replies.js';
import type { PagePublications } from './page-publications.js';
import { PageAdmissions } from './page-admissions.js';
import { PageFinds } from './page-finds.js';
import { PageDiscoveries } from './page-discoveries.js';

/**
 * The main thread's half of the bytes bridge (bridge-protocol.ts; the worker's half is
 * worker/frame-port.ts): channel events and frames go to the worker's node, and what the
 * node decides comes back and is carried out on the channels. Overlay signals cross here
 * too, sealed on the way out and verified on the way in (signal-envelope.ts), so the
 * worker only ever routes opaque, signed payloads. They are signed and checked through the
 * page's AsyncEd25519 (crypto/async-ed25519.ts), in parallel, and kept in order around it. The node's verdicts on peers come back
 * for the inbound gate (inbound-gate.ts), and the connections created go to the node, so
 * both threads count the same budget.
 */

/** What the pump drives on this side: the connection manager. */
export interface PumpedChannels {
  send(peer: IdHex, frame: Uint8Array): boolean;
  connect(peer: IdHex): boolean;
  disconnect(peer: IdHex): void;
  /** A verified signal from `from`. */
  signal(from: IdHex, signal: StampedSignal, viaRelay: boolean): void;
  /** The node refuses `peer` for `forMs` more. */
  refuse(peer: IdHex, forMs: number): void;
  readonly stats: { readonly created: number };
}

/** The app's handlers (app-callbacks.ts), for the CALLs answered here (page-admissions.ts, and those the worker hands over). */
export interface PumpedCalls {
  has(serviceId: string): boolean;
  run(serviceId: string, args: unknown): Promise<HandlerOutcome>;
}

export class FramePump {
  private channels: PumpedChannels | undefined;
  private handlers: PumpedCalls | undefined;
  private nextSignalId = 0;
  /** Overlay signals handed to the node, waiting to hear whether it could route them. */
  private readonly routing = new Map<number, { settle: (routed: boolean) => void; cancel: () => void }>();
  private pongs: ((n: number) => void) | undefined;
  /** The ends of the queues of overlay signals being sealed and opened: they leave and arrive in order. */
  private sealing: Promise<void> = Promise.resolve();
  private opening: Promise<void> = Promise.resolve();
  private shut = false;
  /** The app's calls, settled here from the REPLYs that come back on the channels (page-replies.ts). */
  readonly replies: PageReplies;
  /** What the page needs to send a call's first CALL itself (page-calls.ts). */
  readonly calls: PageCalls;
  /** Publishes whose PUBLISHes the page signs and sends itself (page-publishes.ts). */
  readonly publishes: PagePublishes;
  /** Forced discoveries settled here from their lookup's first answer (page-discoveries.ts). */
  readonly discoveries: PageDiscoveries;
  /** Publications taken here (page-publications.ts); absent: all go to the worker. */
  private publications: PagePublications | undefined;
  /** CALLs straight from a neighbour admitted here, under the worker's grants (page-admissions.ts). */
  private admissions: PageAdmissions | undefined;
  /** FIND_VALUEs straight from a neighbour answered here, from the worker's copy (page-finds.ts). */
  private finds: PageFinds | undefined;
  /**
   * Messages for the worker held back, in order, behind a publication the page is checking:
   * the worker sees everything in the order it happened, that publication in its place.
   */
  private readonly held: Array<{ m: ToWorker | undefined; transfer?: Transferable[] }> = [];

  constructor(
    private readonly port: MessagePort,
    private readonly identity: Identity,
    private readonly clock: Clock = systemClock,
    random: Random = cryptoRandom,
    private readonly ed: AsyncEd25519 = asyncEd25519(),
    web: Promise<WebEd25519 | undefined> = platformEd25519(),
  ) {
    this.replies = new PageReplies(clock);
    this.calls = new PageCalls(clock, random);
    this.publishes = new PagePublishes(clock, random, identity, this.calls, this.replies, web);
    this.discoveries = new PageDiscoveries(identity.nodeId, clock, web, (token, providers) =>
      this.replies.found(token, providers),
    );
  }

  /** Start carrying out what the worker asks; until then its messages wait in the port's queue. */
  drive(channels: PumpedChannels, calls: PumpedCalls, publications?: PagePublications, app?: AppCallbacks): void {
    this.channels = channels;
    if (app !== undefined)
      this.publishes.drive(
        { send: (peer, frame) => channels.send(peer as IdHex, frame), post: (m) => this.post(m) },
        app,
      );
    this.handlers = calls;
    this.publications = publications;
    this.admissions = new PageAdmissions(
      calls,
      (peer, frame) => channels.send(peer, frame),
      (m) => this.post(m),
    );
    this.finds = new PageFinds(
      this.identity.nodeId,
      this.clock,
      (peer, frame) => channels.send(peer, frame),
      (m, transfer) => this.post(m, transfer),
    );
    this.port.onmessage = (event: MessageEvent) => this.receive(event.data);
  }

  opened(peer: IdHex): void {
    this.post({ t: 'open', peer });
  }

  closed(peer: IdHex): void {
    this.publications?.forget(peer);
    this.admissions?.stop(peer);
    this.finds?.stop(peer);
    this.calls.closed(peer);
    this.post({ t: 'close', peer });
  }

  /** Our dial to `peer` got no channel because one side held its cap: the node keeps the contact. */
  busy(peer: IdHex): void {
    this.post({ t: 'busy', peer });
  }

  /**
   * A frame from `peer`'s channel. The REPLY a call awaits settles it here first, and the
   * worker is told so, as is a discovery's first answer (page-discoveries.ts) once checked; a
   * CALL the page admits (page-admissions.ts) is answered here and a publication it takes
   * (page-publications.ts) delivered and acknowledged here, and either goes to the worker
   * marked once it has been.
   */
  frame(peer: IdHex, frame: Uint8Array): void {
    const settled = this.replies.received(peer, frame);
    if (settled !== undefined) return this.post({ t: 'frame', peer, frame, settled });
    if (this.admissions?.take(peer, frame) === true) return;
    const seeking = this.discoveries.take(peer, frame);
    if (seeking !== undefined)
      return this.hold(seeking, (token) =>
        token === undefined ? { t: 'frame', peer, frame } : { t: 'frame', peer, frame, settled: token },
      );
    if (this.finds?.take(peer, frame) === true) return;
    const taking = this.publications?.take(peer, frame);
    if (taking === undefined) return this.post({ t: 'frame', peer, frame });
    this.hold(taking, (taken) =>
      taken === undefined ? { t: 'frame', peer, frame } : { t: 'frame', peer, frame, taken },
    );
  }

  /**
   * The frame being checked goes to the worker once `checking` settles, as `message` makes it,
   * and what the page has for the worker meanwhile waits behind it: the worker sees
   * everything in the order it happened.
   */
  private hold<T>(checking: Promise<T | undefined>, message: (outcome: T | undefined) => ToWorker): void {
    const entry: { m: ToWorker | undefined } = { m: undefined };
    this.held.push(entry);
    const release = (outcome: T | undefined): void => {
      entry.m = message(outcome);
      while (this.held[0]?.m !== undefined) {
        const next = this.held.shift()!;
        this.port.postMessage(next.m, next.transfer ?? []);
      }
    };
    // Whatever happens on the way (it should not throw), the frame and what waits behind it go on.
    checking.then(release, () => release(undefined));
  }

  /**
   * Put the first CALL of the app's call `token` (run by replies.run) on `peer`'s channel from
   * here, with a request id the worker reserved, and tell the worker after (page-calls.ts): its
   * REPLY settles the call here as for a CALL the worker sent, and the worker runs the rest of
   * the call. False when it could not go (not an open neighbour, no id left, arguments that
   * cannot travel, the channel refused it): the call then goes the worker's way.
   */
  sendCall(
    token: number,
    shape: CalledShape,
    peer: string,
    service: string,
    args: unknown,
    opts: CalledOptions,
  ): boolean {
    const { channels } = this;
    const rid = channels === undefined ? undefined : this.calls.ridFor(peer);
    if (rid === undefined) return false;
    const frame = callFrame(rid, service, args);
    if (frame === null) {
      this.calls.unused(rid);
      return false;
    }
    const at = this.clock.now();
    const awaits = { token, rid, until: pageDeadline(at, attemptTimeoutMs(opts)), failed: [] };
    // Awaited before the CALL is on the channel: its REPLY cannot come first. The channel may keep the frame.
    this.replies.expect(peer, awaits);
    const told = frame.slice();
    if (!channels!.send(peer, frame)) {
      this.replies.unsent(awaits);
      this.calls.unused(rid);
      return false;
    }
    this.post({ t: 'called', token, shape, peer, frame: told, at, opts }, [told.buffer]);
    return true;
  }

  /**
   * Connections created so far, inbound ones included: the node counts against the budget
   * what this says, so both threads agree on what is left of it.
   */
  budget(created: number): void {
    this.post({ t: 'budget', created });
  }

  /**
   * Have the node route a signal to `to` through the overlay. Resolves false when it has no
   * channel to route through, or when the worker does not answer (stuck or gone): the
   * connection manager then uses the relay.
   */
  routeSignal(to: IdHex, signal: StampedSignal): Promise<boolean> {
    const sealed = sealSignal(this.ed, this.identity, to, signal);
    // Sealed in parallel, handed to the node in the order given: an answer never overtakes its offer.
    // The queue waits for the hand-over only, not for the node's answer (in a box, so it is not awaited).
    const handed = this.sealing
      .then(() => sealed)
      .then((payload) => ({
        routed: payload === null || this.shut ? Promise.resolve(false) : this.route(to, payload),
      }));
    this.sealing = handed.then(
      () => undefined,
      () => undefined,
    );
    return handed.then(
      ({ routed }) => routed,
      () => false,
    );
  }

  private route(to: IdHex, payload: Uint8Array): Promise<boolean> {
    const id = ++this.nextSignalId;
    return new Promise((resolve) => {
      const settle = (routed: boolean): void => {
        this.routing.get(id)?.cancel();
        this.routing.delete(id);
        resolve(routed);
      };
      this.routing.set(id, { settle, cancel: this.clock.setTimer(WORKER_CALL_TIMEOUT_MS, () => settle(false)) });
      this.post({ t: 'signal-out', id, to, payload }, [payload.buffer as ArrayBuffer]);
    });
  }

  /** The heartbeat (worker-watch.ts): ping number `n`; the worker's answers go to `onPong`. */
  ping(n: number): void {
    this.post({ t: 'ping', n });
  }

  onPong(listener: (n: number) => void): void {
    this.pongs = listener;
  }

  close(): void {
    this.shut = true;
    for (const { settle } of [...this.routing.values()]) settle(false);
    this.port.onmessage = null;
    this.port.close();
  }

  private post(m: ToWorker, transfer: Transferable[] = []): void {
    // The heartbeat says the worker answers: it waits for nothing (the worker's side does the same).
    if (this.held.length === 0 || m.t === 'ping') this.port.postMessage(m, transfer);
    else this.held.push({ m, transfer });
  }

  private receive(data: unknown): void {
    const m: FromWorker | null = parseFromWorker(data);
    const { channels, handlers } = this;
    if (m === null || channels === undefined || handlers === undefined) return;
    if (this.finds?.told(m) === true || this.publishes.told(m) || this.calls.told(m)) return;
    if (this.admissions?.told(m) === true) return;
    switch (m.t) {
      case 'pong':
        this.pongs?.(m.n);
        return;
      case 'send':
        this.publications?.admit(m.peer);
        // The REPLY is awaited before the CALL is on the channel: it cannot come back first.
        if (m.awaits === undefined) channels.send(m.peer, m.frame);
        else if (m.awaits.seek !== undefined) {
          this.discoveries.expect(m.peer, m.awaits, m.awaits.seek);
          if (!channels.send(m.peer, m.frame)) this.discoveries.unsent(m.awaits);
        } else {
          this.replies.expect(m.peer, m.awaits);
          if (!channels.send(m.peer, m.frame)) this.replies.unsent(m.awaits);
        }
        return;
      case 'connect':
        // The node counted this dial already; when no connection was created, our count puts it right.
        if (!channels.connect(m.peer)) this.budget(channels.stats.created);
        return;
      case 'disconnect':
        this.publications?.forget(m.peer);
        this.admissions?.stop(m.peer);
        this.finds?.stop(m.peer);
        channels.disconnect(m.peer);
        return;
      case 'signal-in': {
        // Checked in parallel, handed on in the order they came.
        const opened = openSignal(this.ed, m.payload, this.identity.nodeIdHex, m.from);
        this.opening = this.opening
          .then(() => opened)
          .then((signal) => {
            if (signal !== null) channels.signal(m.from, signal, false);
          })
          .catch(() => undefined);
        return;
      }
      case 'signal-routed':
        this.routing.get(m.id)?.settle(m.routed);
        return;
      case 'refuse':
        this.publications?.forget(m.peer);
        this.admissions?.stop(m.peer);
        this.finds?.stop(m.peer);
        channels.refuse(m.peer, m.forMs);
        return;
      case 'publishing':
        this.replies.planned(m.token, m.delivered, m.sent);
        return;
      case 'invoke':
        // answer() tells the worker in any case; an error past that (a handler error whose message throws) is the app's.
        this.answer(m, channels, handlers).catch(() => undefined);
    }
  }

  /**
   * A CALL the worker accepted from a neighbour (its bounds checked, its handler here): run
   * the handler and put the REPLY on that neighbour's channel from here, then tell the
   * worker, which accounts for the frame and frees the call's slot. The answer crosses no
   * thread on its way out: channel → worker → page → channel, where it went back through
   * the worker before (docs/ARCHITECTURE.md, Threads).
   */
  private async answer(
    m: Extract<FromWorker, { t: 'invoke' }>,
    channels: PumpedChannels,
    calls: PumpedCalls,
  ): Promise<void> {
    let sent: Uint8Array | undefined;
    try {
      const frame = replyFrame(m.service, m.rid, await calls.run(m.service, m.args));
      // The channel may keep the frame (queued or chunked): the worker gets a copy of the header.
      const head = frame.slice(0, REPLY_HEADER_BYTES);
      if (channels.send(m.peer, frame)) sent = head;
    } finally {
      // Whatever happened (an error whose message cannot be read, say), the worker frees the call's slot.
      this.post(sent === undefined ? { t: 'invoked', id: m.id } : { t: 'invoked', id: m.id, head: sent });
    }
  }
}
