import type { DhtNode } from '../core/node/dht-node.js';
import { seededRandom, type Random } from '../core/environment.js';
import type { Introducer, Swarm } from './swarm.js';

/**
 * Several relays, each a DHT peer of its own (README, Deploying: several relays), as the
 * simulator sees them: a relay introduces a newcomer only to nodes admitted at it (the real
 * relay's PeerSet is per relay), and its own peer is admitted at its relay and at every
 * relay it joins, as a client would be. Relay i joins relay i - 1, a chain: the sparsest
 * way to make one mesh of them, and the one the README's deployment example uses.
 *
 * Each newcomer enters through one relay chosen at random, and an isolated node is
 * introduced again by the relays it entered through. The relays' peers are ordinary
 * DhtNodes: nothing in the core knows they are relays.
 */
export class EntryRelays implements Introducer {
  /** The relays' own peers, relay i's at index i. */
  readonly peers: DhtNode[] = [];
  /** Node ids admitted at each relay. */
  private readonly admitted: Array<Set<string>>;
  /** The relays each node is admitted at. */
  private readonly relaysOf = new Map<string, number[]>();
  private readonly random: Random;

  constructor(
    readonly count: number,
    seed: number,
  ) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError('EntryRelays: at least one relay');
    this.admitted = Array.from({ length: count }, () => new Set<string>());
    this.random = seededRandom(seed);
  }

  /** Start the relays' peers, one after the other, each joining the mesh of the previous relay. */
  async start(swarm: Swarm): Promise<void> {
    for (let i = 0; i < this.count; i++) {
      const peer = swarm.addNode();
      this.admit(peer.selfHex, i === 0 ? [0] : [i, i - 1]);
      this.peers.push(peer);
      // Relay 0's peer is alone: nothing to join yet.
      if (i > 0) await swarm.joinAll([peer], swarm.alive());
    }
  }

  /** Whether `nodeHex` is one of the relays' peers. */
  isEntry(nodeHex: string): boolean {
    return this.peers.some((p) => p.selfHex === nodeHex);
  }

  /** The relay a node entered through (its first); undefined before it has. */
  entryOf(nodeHex: string): number | undefined {
    return this.relaysOf.get(nodeHex)?.[0];
  }

  /** Whether a relay admitted both: it can carry their signaling (the real relay's PeerSet is per relay). */
  shareRelay(a: string, b: string): boolean {
    const of = this.relaysOf.get(b) ?? [];
    return (this.relaysOf.get(a) ?? []).some((r) => of.includes(r));
  }

  pool(node: DhtNode, live: readonly DhtNode[]): readonly DhtNode[] {
    let relays = this.relaysOf.get(node.selfHex);
    if (relays === undefined) {
      relays = [Math.floor(this.random.next() * this.count)];
      this.admit(node.selfHex, relays);
    }
    const reachable = (id: string): boolean => relays.some((r) => this.admitted[r]!.has(id));
    return live.filter((n) => n !== node && reachable(n.selfHex));
  }

  private admit(nodeHex: string, relays: number[]): void {
    this.relaysOf.set(nodeHex, relays);
    for (const r of relays) this.admitted[r]!.add(nodeHex);
  }
}
