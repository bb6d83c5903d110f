import { implausiblePrefixBits } from '../constants.js';
import type { Contacts, Messaging, NeighbourActions, NodeBasics, Neighbours } from '../context.js';
import type { NeighbourTrust } from '../defence/neighbour-trust.js';
import { commonPrefixLength, compareDistance, idsEqual, toHex, type NodeId } from '../id.js';
import type { LookupOptions } from '../lookup/lookup-result.js';
import type { RoutingTable } from '../routing/routing-table.js';

/** The first exchange after start. */
const FIRST_INTERVAL_MS = 30_000;
/** The pace after an exchange that brought news (under churn most do: each costs ~3 KB). */
const NEWS_INTERVAL_MS = 5 * 60_000;
/**
 * From the first exchange to the second, which is always a self-lookup; and the pace while
 * we have too few proven neighbours to ask and look ourselves up instead, as long as that
 * brings news.
 */
const SELF_LOOKUP_NEWS_INTERVAL_MS = 60_000;
/** Exchanges that bring nothing new slow down, doubling up to this spacing. */
const MAX_INTERVAL_MS = 15 * 60_000;
/** Named ids closer than our current siblings that one exchange checks at most. */
const MAX_CHECKS = 4;

export interface SiblingExchangeHost extends NodeBasics {
  readonly neighbours: Neighbours;
  readonly table: Pick<RoutingTable, 'closest' | 'isLive' | 'nonEmptyBuckets'>;
  readonly messenger: Pick<Messaging, 'newId' | 'expect' | 'sendDirect' | 'queryPeer'>;
  /** Only proven neighbours are asked. */
  readonly trust: Pick<NeighbourTrust, 'verdict'>;
  readonly contacts: Pick<Contacts, 'learn'>;
  readonly actions: Pick<NeighbourActions, 'wantIntroductions'>;
  /** A node lookup (the self-lookup); what it finds lands in the routing table. */
  findNode(target: NodeId, opts?: LookupOptions): Promise<unknown>;
  /** Work may be due at `at` (maintenance.ts, dueAt). */
  wake?(at: number): void;
}

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
 * The second exchange, a minute after the first, is a self-lookup, as a join does: the
 * join's own went out through neighbours not yet tested, and when those were colluders it
 * found few of our siblings. Our neighbours are proven by then (at the first exchange, 30 s
 * in, they are still being tested), and nothing else would mend it: neighbours far from
 * us, however honest, only name nodes a little closer each exchange, while nodes that
 * joined near us later never heard of us, so no lookup for an id near ours finds us.
 *
 * A node with fewer proven neighbours than siblings looks itself up at every exchange
 * after the first, rather than asking them. That is the node this exists for, at its
 * worst: its join met colluders and it has since dropped them, leaving it a handful of
 * contacts, none near it. While that brings news it is repeated every minute.
 */
export class SiblingExchange {
  private nextAt: number;
  private intervalMs = FIRST_INTERVAL_MS;
  private exchanges = 0;

  constructor(
    private readonly host: SiblingExchangeHost,
    private readonly siblings: number,
  ) {
    this.nextAt = host.clock.now() + FIRST_INTERVAL_MS;
  }

  tick(now: number): void {
    if (now < this.nextAt) return;
    this.nextAt = Infinity;
    void this.exchange().then(({ news, selfLookup }) => {
      if (this.exchanges === 1) this.intervalMs = SELF_LOOKUP_NEWS_INTERVAL_MS;
      else if (news) this.intervalMs = selfLookup ? SELF_LOOKUP_NEWS_INTERVAL_MS : NEWS_INTERVAL_MS;
      else this.intervalMs = Math.min(MAX_INTERVAL_MS, this.intervalMs * 2);
      this.nextAt = this.host.clock.now() + this.intervalMs;
      this.host.wake?.(this.nextAt);
    });
  }

  /** Infinity while an exchange runs: the next is planned when it ends. */
  dueAt(): number {
    return this.nextAt;
  }

  private async exchange(): Promise<{ news: boolean; selfLookup: boolean }> {
    const { host } = this;
    const asked = [...host.neighbours.values()]
      .filter((n) => host.trust.verdict(n.idHex) === 'reliable')
      .sort((a, b) => compareDistance(host.self, a.id, b.id))
      .slice(0, this.siblings);
    const first = this.exchanges++ === 0;
    const second = this.exchanges === 2;
    if (second || (!first && asked.length < this.siblings)) return { news: await this.lookUpSelf(), selfLookup: true };
    const answers = await Promise.all(asked.map((n) => this.ask(n.idHex)));
    host.count('siblings.asked', asked.length);
    const farthestSibling = host.table.closest(host.self, this.siblings).at(-1);
    const implausibleBits = implausiblePrefixBits(host.table);
    const news = new Map<string, NodeId>();
    for (const id of answers.flat()) {
      const hex = toHex(id);
      if (idsEqual(id, host.self) || news.has(hex) || host.table.isLive(hex)) continue;
      if (farthestSibling !== undefined && compareDistance(host.self, id, farthestSibling.id) >= 0) continue;
      if (commonPrefixLength(host.self, id) >= implausibleBits) {
        host.count('siblings.implausible');
        continue;
      }
      news.set(hex, id);
    }
    const checks = [...news.values()].sort((a, b) => compareDistance(host.self, a, b)).slice(0, MAX_CHECKS);
    const proven = await Promise.all(checks.map((id) => this.check(id)));
    const found = proven.filter(Boolean).length;
    if (found > 0) host.count('siblings.found', found);
    return { news: found > 0, selfLookup: false };
  }

  /**
   * True when the lookup found a sibling we did not know (it is a contact now, soon a
   * neighbour). When even then we know fewer nodes than we keep siblings, we are on an
   * island (or in a swarm that small: introductions cost it nothing) and ask the relay.
   */
  private async lookUpSelf(): Promise<boolean> {
    const { host } = this;
    host.count('siblings.selfLookup');
    const before = new Set(host.table.closest(host.self, this.siblings).map((c) => c.idHex));
    await host.findNode(host.self, { refine: this.siblings }).catch(() => undefined);
    const after = host.table.closest(host.self, this.siblings);
    if (after.length < this.siblings) host.actions.wantIntroductions();
    return after.some((c) => !before.has(c.idHex));
  }

  /** The ids a neighbour names as closest to us ([] when it does not answer). */
  private ask(peer: string): Promise<NodeId[]> {
    const { host } = this;
    const rid = host.messenger.newId();
    return new Promise((resolve) => {
      host.messenger.expect(
        rid,
        host.hopTimeoutMs,
        (reply) => resolve(reply.type === 'FIND_NODE_REPLY' ? reply.body.nodes : []),
        () => resolve([]),
        peer,
      );
      host.messenger.sendDirect(peer, 'FIND_NODE', { rid, target: host.self });
    });
  }

  /**
   * Ping a named id itself (routed to its exact id); it becomes a contact only if it
   * answers as itself. Its answer proves it exists, which is all we ask: a PONG costs a
   * tenth of a FIND_NODE reply on every hop back.
   */
  private async check(id: NodeId): Promise<boolean> {
    const { host } = this;
    try {
      const { info } = await host.messenger.queryPeer(toHex(id), 'PING', { rid: host.messenger.newId() });
      if (!idsEqual(info.from, id)) return false;
      host.contacts.learn(id, true);
      return true;
    } catch {
      return false;
    }
  }
}
