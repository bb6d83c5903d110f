import { frameTypeId, type Frame } from '../core/wire/codec.js';
import { MessageType, messageNames } from '../core/wire/messages.js';
import { HeldFrame } from '../core/held-frame.js';
import type { ChannelHandler, Random, Transport } from '../core/environment.js';
import type { Due, EventQueue } from './event-queue.js';

/**
 * An in-memory network of data channels on virtual time. It plays the part of WebRTC
 * and the relay for the simulator: channels must be opened before frames flow, opening
 * one is counted (the browser's scarce resource), and nodes can leave cleanly, fail
 * silently (their channels look open but swallow everything) or drop messages.
 *
 * Nemeses (nemesis.ts) change two things at run time: `faults`, what happens to each
 * frame on any link, and `partition()`, which cuts the nodes into sides that cannot
 * reach each other until `heal()`.
 */

/** What the network does to every frame while a nemesis is active; `NO_FAULTS` is a healthy network. */
export interface LinkFaults {
  /** Probability that a frame is lost. */
  drop: number;
  /** Probability that a frame arrives twice (the copy one extra jitter later). */
  duplicate: number;
  /** Added to every frame's latency, ms. */
  delayMs: number;
  /** Each frame waits a further uniform [0, jitterMs): later frames overtake earlier ones. */
  jitterMs: number;
}

export const NO_FAULTS: Readonly<LinkFaults> = { drop: 0, duplicate: 0, delayMs: 0, jitterMs: 0 };

export interface NetworkOptions {
  random: Random;
  /** One-way latency range of a link, ms (each link gets a fixed value in it, so channels stay FIFO). */
  minLatencyMs?: number;
  maxLatencyMs?: number;
  /** Probability that a frame is lost. */
  loss?: number;
  /** A connection takes this many one-way latencies to open (signaling, ICE, DTLS). */
  connectLatencies?: number;
  /**
   * Carry the nodes' messages as held frames (core/held-frame.ts: no MessagePack, bytes
   * counted exactly) rather than as bytes. Default true; the outcome is the same either way
   * (frame-accounting.sim.test.ts runs one seed both ways), only the cost differs.
   */
  holdFrames?: boolean;
}

/**
 * How two nodes agree on a connection before it opens (WebRTC's offer and answer). Absent,
 * every attempt between live nodes succeeds, as through one relay that admitted everyone;
 * overlay-signalling.ts carries them the way a tab behind another relay has to.
 */
export interface Negotiator {
  /** Negotiate a channel from `from` to `to`; `done(false)` when the answer never came. */
  negotiate(from: string, to: string, done: (ok: boolean) => void): void;
}

interface Host {
  /** The first 28 bits of the node's id, which its links' latencies derive from. */
  latencyKey: number;
  handler: ChannelHandler;
  alive: boolean;
  /** Open channels by the peer's id, each the Link its two ends share. */
  channels: Map<string, Link>;
  connectionsCreated: number;
  /** The node's own connection attempts not settled yet (they hold a slot under the cap, as on a page). */
  dialling: number;
  /** Channels its page holds at most, open and negotiating (capChannels); Infinity when not modelled. */
  cap: number;
}

/** Per-type tallies by header type id; UNKNOWN is every id that names no type (and runts). */
const UNKNOWN = 256;
const tally = (): Float64Array => new Float64Array(UNKNOWN + 1);
/** The type id of the frame a routed envelope carries; UNKNOWN when it went as bytes. */
function routedTypeId(frame: Frame): number {
  if (!(frame instanceof HeldFrame) || typeof frame.body !== 'object' || frame.body === null) return UNKNOWN;
  const inner = (frame.body as { body?: unknown }).body;
  const id = inner instanceof HeldFrame || inner instanceof Uint8Array ? frameTypeId(inner) : -1;
  return messageNames.has(id) ? id : UNKNOWN;
}
const byName = (counts: Float64Array): Map<string, number> => {
  const out = new Map<string, number>();
  counts.forEach((n, id) => {
    if (n > 0) out.set(id === UNKNOWN ? 'unknown' : messageNames.get(id)!, n);
  });
  return out;
};

/** The network's counters; the per-type ones are tallied by type id on the way (one array write a frame). */
function networkStats(framesById: Float64Array, bytesById: Float64Array, routedById: Float64Array) {
  return {
    frames: 0,
    bytes: 0,
    lost: 0,
    toDead: 0,
    /** Frames that arrived after their channel had closed at the receiving end (not handed to the node). */
    closedInFlight: 0,
    /** Frames sent and not yet arrived (or lost on arrival). */
    inFlight: 0,
    connectionsCreated: 0,
    /** Attempts answered busy: one side held its cap of channels (capChannels). */
    busy: 0,
    duplicated: 0,
    partitioned: 0,
    /** Frames carried held (core/held-frame.ts) rather than as bytes; counted in `frames` and `bytes` too. */
    held: 0,
    /** Frames and bytes sent, by message type ('unknown' for junk), as of when it is read. */
    get framesByType(): Map<string, number> {
      return byName(framesById);
    },
    get bytesByType(): Map<string, number> {
      return byName(bytesById);
    },
    /**
     * Envelope hops (RPC_ROUTE frames) by the type of the frame they carry: what routed
     * traffic was for (a lookup's requests and answers, maintenance). Held envelopes only;
     * one sent as bytes counts as 'unknown' here (the network does not decode it).
     */
    get routedByType(): Map<string, number> {
      return byName(routedById);
    },
  };
}

export class SimNetwork {
  private readonly hosts = new Map<string, Host>();
  private readonly framesById = tally();
  private readonly bytesById = tally();
  private readonly routedById = tally();
  /**
   * Deliveries whose frame has arrived, for the next frames sent. A frame waits tens of
   * virtual milliseconds, which at tens of thousands of nodes is several scavenges: a new
   * Delivery per frame was promoted and died old (BENCHMARKS.md, Simulator garbage). There are
   * as many as frames were ever in flight at once.
   */
  private readonly spare: Delivery[] = [];
  readonly stats = networkStats(this.framesById, this.bytesById, this.routedById);
  private readonly minLatency: number;
  private readonly maxLatency: number;
  private readonly connectLatencies: number;
  loss: number;
  faults: Readonly<LinkFaults> = NO_FAULTS;
  /** How connections are negotiated; undefined: they always are (see Negotiator). */
  negotiator: Negotiator | undefined;
  /** Side of each node while partitioned; frames and new connections between sides fail. */
  private sideOf: ((id: string) => number) | undefined;

  constructor(
    private readonly queue: EventQueue,
    private readonly opts: NetworkOptions,
  ) {
    this.minLatency = opts.minLatencyMs ?? 5;
    this.maxLatency = opts.maxLatencyMs ?? 60;
    this.loss = opts.loss ?? 0;
    this.connectLatencies = opts.connectLatencies ?? 3;
  }

  /** Attach a node; returns the transport it sends through. */
  attach(id: string, handler: ChannelHandler): Transport {
    const host: Host = {
      latencyKey: latencyKey(id),
      handler,
      alive: true,
      channels: new Map(),
      connectionsCreated: 0,
      dialling: 0,
      cap: Infinity,
    };
    this.hosts.set(id, host);
    return this.opts.holdFrames !== false ? new HeldNodeTransport(this, id) : new NodeTransport(this, id);
  }

  /**
   * Hold `id` to at most `max` channels, open and being negotiated, as its page does
   * (connection-manager.ts): an attempt to or from a node at its cap gets no channel and the
   * dialling node hears "busy" at once (onChannelBusy), as the page's busy reply tells it.
   */
  capChannels(id: string, max: number): void {
    const host = this.hosts.get(id);
    if (host !== undefined) host.cap = max;
  }

  isAlive(id: string): boolean {
    return this.hosts.get(id)?.alive === true;
  }

  connectionsCreatedBy(id: string): number {
    return this.hosts.get(id)?.connectionsCreated ?? 0;
  }

  openChannels(id: string): number {
    return this.hosts.get(id)?.channels.size ?? 0;
  }

  /** Open a channel right away, as the relay-assisted first contact of a joining node. */
  link(a: string, b: string): void {
    this.connect(a, b);
  }

  /** The node stops without a word: its channels stay open on the other side and swallow frames. */
  failSilently(id: string): void {
    const host = this.hosts.get(id);
    if (host) host.alive = false;
  }

  /** Forget a node that has left, so a long churn run does not keep every departed node's state. */
  detach(id: string): void {
    if (this.hosts.get(id)?.alive === false) this.hosts.delete(id);
  }

  /** The node leaves (tab closed): every peer sees its channel close after one latency. */
  leave(id: string): void {
    const host = this.hosts.get(id);
    if (host === undefined) return;
    host.alive = false;
    for (const [peer, link] of host.channels) {
      link.open = false;
      const other = this.hosts.get(peer);
      other?.channels.delete(id);
      this.queue.setTimer(this.latency(id, peer), () => other?.handler.onChannelClose(id));
    }
    host.channels.clear();
  }

  /**
   * Cut the network: nodes on different sides (by `sideOf`, asked afresh for every frame,
   * so nodes created later are placed too) lose every frame between them and cannot open
   * channels to each other. Channels stay open, as WebRTC's do until its consent checks fail;
   * the nodes' own liveness checks have to notice.
   */
  partition(sideOf: (id: string) => number): void {
    this.sideOf = sideOf;
  }

  heal(): void {
    this.sideOf = undefined;
  }

  get isPartitioned(): boolean {
    return this.sideOf !== undefined;
  }

  reachable(a: string, b: string): boolean {
    return this.sideOf === undefined || this.sideOf(a) === this.sideOf(b);
  }

  /** A frame from `from` to `to` (what a node's transport calls, NodeTransport). */
  send(from: string, to: string, frame: Frame): boolean {
    const src = this.hosts.get(from);
    if (src === undefined) return false;
    const link = src.channels.get(to);
    if (link === undefined) return false;
    const { stats } = this;
    stats.frames++;
    stats.bytes += frame.length;
    if (!(frame instanceof Uint8Array)) stats.held++;
    const type = frameTypeId(frame);
    const tallied = type >= 0 && messageNames.has(type) ? type : UNKNOWN;
    this.framesById[tallied]!++;
    this.bytesById[tallied]! += frame.length;
    if (tallied === MessageType.RPC_ROUTE) this.routedById[routedTypeId(frame)]!++;
    const random = this.opts.random;
    if (!this.reachable(from, to)) {
      stats.partitioned++;
      return true;
    }
    const f = this.faults;
    if ((this.loss > 0 && random.next() < this.loss) || (f.drop > 0 && random.next() < f.drop)) {
      stats.lost++;
      return true;
    }
    // The channel's other end: the host attached under `to` when it opened (ids are never reused).
    const dst = link.a === src ? link.b : link.a;
    const base = this.linkLatency(src.latencyKey, dst.latencyKey) + f.delayMs;
    stats.inFlight++;
    this.queue.schedule(
      this.delivery(src, dst, link, from, frame),
      f.jitterMs > 0 ? base + random.next() * f.jitterMs : base,
    );
    if (f.duplicate > 0 && random.next() < f.duplicate) {
      stats.duplicated++;
      stats.inFlight++;
      const late = f.jitterMs > 0 ? base + random.next() * f.jitterMs + random.next() * f.jitterMs : base;
      this.queue.schedule(this.delivery(src, dst, link, from, frame), late);
    }
    return true;
  }

  /** A Delivery for a frame, one that has arrived before if there is one (see `spare`). */
  private delivery(src: Host, dst: Host, link: Link, from: string, frame: Frame): Delivery {
    const d = this.spare.pop();
    if (d === undefined) return new Delivery(this.stats, this.spare, src, dst, link, from, frame);
    d.src = src;
    d.dst = dst;
    d.link = link;
    d.from = from;
    d.frame = frame;
    return d;
  }

  connect(from: string, to: string): void {
    const src = this.hosts.get(from);
    if (src === undefined || src.channels.has(to) || from === to) return;
    src.connectionsCreated++;
    this.stats.connectionsCreated++;
    // The page refuses its own dial when its channels, open and negotiating, fill its cap.
    if (src.channels.size + src.dialling >= src.cap) {
      this.queue.setTimer(0, () => this.busy(src, to));
      return;
    }
    src.dialling++;
    const open = (ok: boolean): void => {
      src.dialling--;
      const dst = this.hosts.get(to);
      if (!src.alive) return;
      if (!ok || dst === undefined || !dst.alive || !this.reachable(from, to)) {
        src.handler.onChannelClose(to);
        return;
      }
      if (src.channels.has(to)) return;
      if (dst.channels.size + dst.dialling >= dst.cap) return this.busy(src, to);
      const link = new Link(src, dst);
      src.channels.set(to, link);
      dst.channels.set(from, link);
      src.handler.onChannelOpen(to);
      dst.handler.onChannelOpen(from);
    };
    if (this.negotiator === undefined) {
      this.queue.setTimer(this.connectLatencies * this.latency(from, to), () => open(true));
      return;
    }
    // Negotiated: once both sides hold the other's description, ICE and DTLS take a round trip more.
    this.negotiator.negotiate(from, to, (ok) => this.queue.setTimer(2 * this.latency(from, to), () => open(ok)));
  }

  /** `to` (or `src` itself) had no room: the dialling node is told so, or sees the attempt close if it cannot hear it. */
  private busy(src: Host, to: string): void {
    this.stats.busy++;
    if (!src.alive) return;
    if (src.handler.onChannelBusy) src.handler.onChannelBusy(to);
    else src.handler.onChannelClose(to);
  }

  disconnect(from: string, to: string): void {
    const src = this.hosts.get(from);
    const link = src?.channels.get(to);
    if (src === undefined || link === undefined) return;
    link.open = false;
    src.channels.delete(to);
    const dst = this.hosts.get(to);
    dst?.channels.delete(from);
    this.queue.setTimer(this.latency(from, to), () => {
      if (dst?.alive) dst.handler.onChannelClose(from);
    });
  }

  /** A fixed, symmetric latency per link derived from the two ids: no table to keep for 10,000 nodes. */
  private latency(a: string, b: string): number {
    return this.linkLatency(
      this.hosts.get(a)?.latencyKey ?? latencyKey(a),
      this.hosts.get(b)?.latencyKey ?? latencyKey(b),
    );
  }

  private linkLatency(a: number, b: number): number {
    const mix = (a ^ b) >>> 0;
    const spread = Math.imul(mix, 2654435761) >>> 0;
    return this.minLatency + (spread % (this.maxLatency - this.minLatency + 1));
  }
}

const latencyKey = (id: string): number => parseInt(id.slice(0, 7), 16);

/**
 * One open channel, the same object at both ends (channels are opened and closed at both
 * ends at once). A frame in flight keeps it: on arrival, `open` answers whether the channel
 * it was sent on is still there without a look into the receiver's map of channels, which
 * at thousands of nodes is a cache miss or three on every frame (BENCHMARKS.md, Simulator speed).
 */
class Link {
  open = true;

  constructor(
    readonly a: Host,
    readonly b: Host,
  ) {}
}

/**
 * A frame on its way: one object in the event queue, no closure (the hottest event of a run).
 * Used again once its frame has arrived (SimNetwork's `spare`), so it holds nothing of the
 * frame after that.
 */
class Delivery implements Due {
  at = 0;
  index = 0;
  cancelled = false;

  constructor(
    private readonly stats: SimNetwork['stats'],
    private readonly spare: Delivery[],
    public src: Host | undefined,
    public dst: Host | undefined,
    public link: Link | undefined,
    public from: string,
    public frame: Frame | undefined,
  ) {}

  fn(): void {
    const { stats, from } = this;
    const src = this.src!;
    const dst = this.dst!;
    const link = this.link!;
    const frame = this.frame!;
    // Spare before the frame is handed over (what the receiver sends in turn may use it), and
    // holding nothing: not the frame, nor a node that may leave while it waits.
    this.src = this.dst = this.link = this.frame = undefined;
    this.spare.push(this);
    stats.inFlight--;
    if (!dst.alive || !src.alive) {
      stats.toDead++;
      return;
    }
    // Closed since, and maybe opened again between the same two nodes: that channel carries it too.
    if (link.open || dst.channels.has(from)) dst.handler.onFrame(from, frame);
    else stats.closedInFlight++;
  }
}

/**
 * A node's transport on the network: an object with methods rather than three or four
 * closures per node (~1.2 KB under tsx, BENCHMARKS.md, Simulator memory).
 */
class NodeTransport implements Transport {
  constructor(
    protected readonly network: SimNetwork,
    protected readonly id: string,
  ) {}

  send(peer: string, frame: Uint8Array): boolean {
    return this.network.send(this.id, peer, frame);
  }

  connect(peer: string): void {
    this.network.connect(this.id, peer);
  }

  disconnect(peer: string): void {
    this.network.disconnect(this.id, peer);
  }
}

/** NodeTransport that carries held frames (Transport.sendHeld): the network's default. */
class HeldNodeTransport extends NodeTransport {
  sendHeld(peer: string, frame: HeldFrame): boolean {
    return this.network.send(this.id, peer, frame);
  }
}
