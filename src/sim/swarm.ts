import { TICK_INTERVAL_MS } from '../core/constants.js';
import { DhtNode, type DhtNodeOptions } from '../core/node/dht-node.js';
import { seededRandom, type Random } from '../core/environment.js';
import { createIdentity, memoizedVerifier, type Verifier } from '../core/identity.js';
import { EventQueue } from './event-queue.js';
import { sharedIdPool } from './id-pool.js';
import { SimNetwork, type NetworkOptions } from './network.js';
import { NodeClock } from './node-clock.js';
import { NodeTicker, type Tickable } from './node-ticker.js';
import type { ChannelHandler } from '../core/environment.js';
import type { Frame } from '../core/held-frame.js';

/**
 * Many real DhtNodes in one process on virtual time: the testnet of the simulation tier
 * and of `npm run bench:sim`. Everything derives from one seed, so a run is repeatable.
 */
export interface SwarmOptions {
  seed: number;
  network?: Omit<NetworkOptions, 'random'>;
  node?: Partial<Omit<DhtNodeOptions, 'identity' | 'transport' | 'clock' | 'random'>>;
  /** Channels a joining node gets from the relay before it uses the overlay. */
  bootstrapLinks?: number;
  tickMs?: number;
  /**
   * Build something around each node (a PeerCore, say); by default a bare DhtNode. With
   * `dueAt` (DhtNode.dueAt) the node is ticked only when work is due; without, every tickMs.
   */
  create?: (deps: NodeDeps) => Built;
  /** Each new node's clock offset from true (virtual) time, ms; drawn per node. Default 0. */
  clockOffsetMs?: (random: Random) => number;
  /**
   * Who a joining (or isolated) node can be introduced to; by default every live node, as
   * one relay that admitted everyone would. Several relays (entry-relays.ts) each introduce
   * only the nodes admitted at them.
   */
  introducer?: Introducer;
}

/** The relays' side of introductions in the simulator. */
export interface Introducer {
  /** Those of `live` that the relays `node` is admitted at could introduce it to. */
  pool(node: DhtNode, live: readonly DhtNode[]): readonly DhtNode[];
}

/** How often the stand-in relay looks for nodes without a channel (as create-peer.ts does). */
const ISOLATION_CHECK_MS = 5_000;

export type NodeDeps = Pick<DhtNodeOptions, 'identity' | 'transport' | 'clock' | 'random' | 'verify' | 'ids'>;

/** What a swarm runs for each node: see SwarmOptions.create. */
export type Built = Tickable;

export class Swarm {
  readonly queue = new EventQueue();
  readonly network: SimNetwork;
  readonly random: Random;
  readonly nodes = new Map<string, DhtNode>();
  /** Each node's own clock (skew, pauses). */
  readonly clocks = new Map<string, NodeClock>();
  /** Shared by every node: Ed25519 verification is pure, so one cache serves all (and saves minutes at 10,000 nodes). */
  readonly verify: Verifier = memoizedVerifier();
  /** Shared by every node's routing table: one copy of each id (id-pool.ts). */
  private readonly ids = sharedIdPool();
  private readonly tickers = new Map<string, NodeTicker>();
  /** Nodes the stand-in relay has introduced to others (the ones it looks after). */
  private readonly introduced = new Set<string>();

  constructor(private readonly opts: SwarmOptions) {
    this.random = seededRandom(opts.seed);
    this.network = new SimNetwork(this.queue, { ...opts.network, random: seededRandom(opts.seed ^ 0x5eed) });
    this.queue.setTimer(ISOLATION_CHECK_MS, () => this.introduceIsolated());
  }

  /**
   * What the relay does for a tab left without a channel (create-peer.ts asks it every
   * ISOLATION_CHECK_MS): introduce it to a few live nodes. A node can end up there when
   * its neighbours leave, or when all of them turn out to be liars it convicted; it also
   * asks when none of its neighbours gets its requests through (DhtNode.needsIntroductions).
   */
  private introduceIsolated(): void {
    const live = this.alive();
    const isolated = live.filter(
      (n) => n.needsIntroductions() && this.introduced.has(n.selfHex) && !this.clockOf(n).isPaused,
    );
    if (isolated.length > 0 && live.length > 1) this.link(isolated, live);
    this.queue.setTimer(ISOLATION_CHECK_MS, () => this.introduceIsolated());
  }

  get now(): number {
    return this.queue.now();
  }

  alive(): DhtNode[] {
    return [...this.nodes.values()].filter((n) => this.network.isAlive(n.selfHex) && !n.isClosed);
  }

  /** Create a node (not yet connected to anyone). */
  addNode(opts: { clockOffsetMs?: number } = {}): DhtNode {
    const identity = createIdentity((n) => this.random.bytes(n));
    const offset = opts.clockOffsetMs ?? this.opts.clockOffsetMs?.(this.random) ?? 0;
    const clock = new NodeClock(this.queue, offset);
    this.clocks.set(identity.nodeIdHex, clock);
    const port = new NodePort(clock);
    const transport = this.network.attach(identity.nodeIdHex, port);
    const deps: NodeDeps = {
      identity,
      transport,
      clock,
      random: seededRandom(this.random.next() * 2 ** 32),
      verify: this.verify,
      ids: this.ids,
    };
    const built = this.opts.create ? this.opts.create(deps) : dueDriven(new DhtNode({ ...this.opts.node, ...deps }));
    const node = (port.node = built.node);
    // The node's page holds it to its cap, inbound offers included (connection-manager.ts).
    this.network.capChannels(node.selfHex, node.maxNeighbours);
    this.nodes.set(node.selfHex, node);
    const tickMs = this.opts.tickMs ?? TICK_INTERVAL_MS;
    const first = this.queue.now() + Math.floor(this.random.next() * tickMs);
    this.tickers.set(node.selfHex, new NodeTicker(built, clock, this.queue, this.network, tickMs, first));
    return node;
  }

  /**
   * Add `count` nodes, `batch` at a time, a batch every `spacingMs` of virtual time: each
   * node links to a few live nodes (the relay's job) and bootstraps. Batches overlap, as
   * arrivals in a real swarm do; the call returns when every bootstrap has finished.
   * `onBatch` hears the number of nodes added so far after each batch (long runs report progress).
   */
  async grow(count: number, batch = 50, spacingMs = 2_000, onBatch?: (added: number) => void): Promise<void> {
    const joins: Promise<void>[] = [];
    for (let done = 0; done < count; done += batch) {
      const existing = this.alive();
      const fresh: DhtNode[] = [];
      for (let i = 0; i < Math.min(batch, count - done); i++) fresh.push(this.addNode());
      this.link(fresh, existing);
      await this.queue.runFor(1_000);
      joins.push(...fresh.map((n) => n.bootstrap()));
      await this.queue.runFor(spacingMs);
      onBatch?.(done + fresh.length);
    }
    await this.settle(Promise.all(joins), 120_000);
  }

  async joinAll(fresh: DhtNode[], existing: DhtNode[]): Promise<void> {
    this.link(fresh, existing);
    await this.queue.runFor(1_000);
    await this.settle(Promise.all(fresh.map((n) => n.bootstrap())), 120_000);
  }

  private link(fresh: DhtNode[], existing: DhtNode[]): void {
    const links = this.opts.bootstrapLinks ?? 3;
    const everyone = existing.length > 0 ? existing : fresh;
    for (const node of fresh) {
      this.introduced.add(node.selfHex);
      const pool = this.opts.introducer?.pool(node, everyone) ?? everyone;
      // One relay that admitted everyone has at least the node and another; a relay of its own may have only the node.
      const least = this.opts.introducer ? 1 : 2;
      for (let i = 0; i < links && pool.length >= least; i++) {
        const peer = pool[Math.floor(this.random.next() * pool.length)]!;
        if (peer !== node) this.network.link(node.selfHex, peer.selfHex);
      }
    }
  }

  /** Run the network until `promise` settles (or `maxMs` of virtual time pass); returns its value. */
  async settle<T>(promise: Promise<T>, maxMs = 60_000): Promise<T> {
    let done = false;
    const tracked = promise.finally(() => {
      done = true;
    });
    // The caller handles a rejection once this returns; until then it must not count as unhandled.
    tracked.catch(() => undefined);
    const deadline = this.now + maxMs;
    while (!done && this.now < deadline && this.queue.size > 0) await this.queue.runFor(50);
    return tracked;
  }

  run(ms: number): Promise<void> {
    return this.queue.runFor(ms);
  }

  /** Remove a node: `silent` leaves its channels open and swallowing frames, as a crashed tab's would until ICE notices. */
  fail(node: DhtNode, silent: boolean): void {
    this.tickers.get(node.selfHex)?.stop();
    if (silent) {
      this.network.failSilently(node.selfHex);
      return;
    }
    this.network.leave(node.selfHex);
    node.close();
  }

  /** Drop a node that has failed or left from every table of the simulator (long churn runs). */
  forget(node: DhtNode): void {
    if (this.network.isAlive(node.selfHex)) throw new Error('forget: the node is still running; fail() it first');
    this.tickers.get(node.selfHex)?.stop();
    this.tickers.delete(node.selfHex);
    this.nodes.delete(node.selfHex);
    this.clocks.delete(node.selfHex);
    this.introduced.delete(node.selfHex);
    this.network.detach(node.selfHex);
  }

  clockOf(node: DhtNode): NodeClock {
    return this.clocks.get(node.selfHex)!;
  }

  /** The node stops processing anything (a frozen tab); what reaches it waits until resume(). */
  pause(node: DhtNode): void {
    this.clockOf(node).pause();
  }

  resume(node: DhtNode): void {
    this.clockOf(node).resume();
  }

  pick(from: DhtNode[] = this.alive()): DhtNode {
    return from[Math.floor(this.random.next() * from.length)]!;
  }
}

/** A bare node, ticked when its work is due (node-ticker.ts). */
export function dueDriven(node: DhtNode): Built {
  return new DueDriven(node);
}

/** dueDriven's object: methods on a prototype rather than two closures per node (~0.6 KB under tsx); a spread of it loses them. */
class DueDriven implements Built {
  constructor(readonly node: DhtNode) {}

  tick(): void {
    this.node.tick();
  }

  dueAt(): number {
    return this.node.dueAt();
  }
}

/**
 * What the network hands a node, through its clock, so that a paused node holds it back.
 * One object per node rather than four closures (BENCHMARKS.md, Simulator memory).
 */
class NodePort implements ChannelHandler {
  node: DhtNode | undefined;

  constructor(private readonly clock: NodeClock) {}

  onChannelOpen(p: string): void {
    this.clock.run(() => this.node?.onChannelOpen(p));
  }

  onChannelClose(p: string): void {
    this.clock.run(() => this.node?.onChannelClose(p));
  }

  onChannelBusy(p: string): void {
    this.clock.run(() => this.node?.onChannelBusy(p));
  }

  // The hottest path of a run: no closure for the backlog unless the node is paused.
  onFrame(p: string, f: Frame): void {
    if (this.clock.isPaused) this.clock.run(() => this.node?.onFrame(p, f));
    else this.node?.onFrame(p, f);
  }
}
