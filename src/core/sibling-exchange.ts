import { implausiblePrefixBits } from './constants.js';
import type { DhtNode } from './dht-node.js';
import { commonPrefixLength, compareDistance, idsEqual, toHex, type NodeId } from './id.js';

/** The first exchange after start. */
const FIRST_INTERVAL_MS = 30_000;
/** The pace after an exchange that brought news (under churn most do: each costs ~3 KB). */
const NEWS_INTERVAL_MS = 5 * 60_000;
/** The pace while we have too few proven neighbours to ask and look ourselves up instead, as long as that brings news. */
const SELF_LOOKUP_NEWS_INTERVAL_MS = 60_000;
/** Exchanges that bring nothing new slow down, doubling up to this spacing. */
const MAX_INTERVAL_MS = 15 * 60_000;
/** Named ids closer than our current siblings that one exchange checks at most. */
const MAX_CHECKS = 4;

/**
 * Siblings tell each other who is near: every so often, each of our closest proven
 * neighbours is asked, over its own channel, for the nodes it knows closest to us. A
 * node learns of others only when they answer it or open a channel to it, so without
 * this a node whose join met colluders (or a forming mesh) may not know its true siblings
 * for a long while, and they not it; lookups then miss it, and STOREs go past it.
 *
 * Nothing named is taken on trust: an id closer to us than our current siblings is asked
 * itself (routed to its exact id), and only one that answers becomes a contact, then a
 * neighbour (so it learns of us too). Ids implausibly close to us are not even asked.
 *
 * A node with fewer proven neighbours than siblings looks itself up instead, as a join
 * does (from its second exchange on: at the first, 30 s in, its neighbours are still being
 * tested). That is the node this exists for, at its worst: its join met colluders and it
 * has since dropped them, leaving it a handful of contacts, none near it; nodes that
 * joined near it later never heard of it, so no lookup finds it. Its few neighbours, far
 * from it, could only name nodes a little closer each exchange. While that brings news it
 * is repeated every minute.
 */
export class SiblingExchange {
  private nextAt: number;
  private intervalMs = FIRST_INTERVAL_MS;
  private exchanges = 0;

  constructor(private readonly node: DhtNode, private readonly siblings: number) {
    this.nextAt = node.clock.now() + FIRST_INTERVAL_MS;
  }

  tick(now: number): void {
    if (now < this.nextAt) return;
    this.nextAt = Infinity;
    void this.exchange().then(({ news, selfLookup }) => {
      if (news) this.intervalMs = selfLookup ? SELF_LOOKUP_NEWS_INTERVAL_MS : NEWS_INTERVAL_MS;
      else this.intervalMs = Math.min(MAX_INTERVAL_MS, this.intervalMs * 2);
      this.nextAt = this.node.clock.now() + this.intervalMs;
    });
  }

  private async exchange(): Promise<{ news: boolean; selfLookup: boolean }> {
    const { node } = this;
    const asked = [...node.neighbours.values()]
      .filter((n) => node.vetting.trust.verdict(n.idHex) === 'reliable')
      .sort((a, b) => compareDistance(node.self, a.id, b.id))
      .slice(0, this.siblings);
    const first = this.exchanges++ === 0;
    if (asked.length < this.siblings && !first) return { news: await this.lookUpSelf(), selfLookup: true };
    const answers = await Promise.all(asked.map((n) => this.ask(n.idHex)));
    node.count('siblings.asked', asked.length);
    const farthestSibling = node.table.closest(node.self, this.siblings).at(-1);
    const implausibleBits = implausiblePrefixBits(node.table);
    const news = new Map<string, NodeId>();
    for (const id of answers.flat()) {
      const hex = toHex(id);
      const known = node.table.get(hex);
      if (idsEqual(id, node.self) || news.has(hex) || (known !== undefined && known.lost !== true)) continue;
      if (farthestSibling !== undefined && compareDistance(node.self, id, farthestSibling.id) >= 0) continue;
      if (commonPrefixLength(node.self, id) >= implausibleBits) {
        node.count('siblings.implausible');
        continue;
      }
      news.set(hex, id);
    }
    const checks = [...news.values()].sort((a, b) => compareDistance(node.self, a, b)).slice(0, MAX_CHECKS);
    const proven = await Promise.all(checks.map((id) => this.check(id)));
    const found = proven.filter(Boolean).length;
    if (found > 0) node.count('siblings.found', found);
    return { news: found > 0, selfLookup: false };
  }

  /** True when the lookup found a sibling we did not know (it is a contact now, soon a neighbour). */
  private async lookUpSelf(): Promise<boolean> {
    const { node } = this;
    node.count('siblings.selfLookup');
    const before = new Set(node.table.closest(node.self, this.siblings).map((c) => c.idHex));
    await node.findNode(node.self, { refine: this.siblings }).catch(() => undefined);
    return node.table.closest(node.self, this.siblings).some((c) => !before.has(c.idHex));
  }

  /** The ids a neighbour names as closest to us ([] when it does not answer). */
  private ask(peer: string): Promise<NodeId[]> {
    const { node } = this;
    const rid = node.requests.newId();
    return new Promise((resolve) => {
      node.requests.expect(rid, node.hopTimeoutMs, (reply) => resolve(reply.type === 'FIND_NODE_REPLY' ? reply.body.nodes : []), () => resolve([]), peer);
      node.sendDirect(peer, 'FIND_NODE', { rid, target: node.self });
    });
  }

  /**
   * Ping a named id itself (routed to its exact id); it becomes a contact only if it
   * answers as itself. Its answer proves it exists, which is all we ask: a PONG costs a
   * tenth of a FIND_NODE reply on every hop back.
   */
  private async check(id: NodeId): Promise<boolean> {
    const { node } = this;
    try {
      const { info } = await node.gateway.queryPeer(toHex(id), 'PING', { rid: node.requests.newId() });
      if (!idsEqual(info.from, id)) return false;
      node.learn(id, true);
      return true;
    } catch {
      return false;
    }
  }
}
