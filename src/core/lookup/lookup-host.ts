import type { Contacts, Messaging, NodeBasics, NodeEvent, Neighbours } from '../context.js';
import type { Liars } from '../defence/liars.js';
import type { NeighbourTrust } from '../defence/neighbour-trust.js';
import type { RecordStore } from '../records/record-store.js';
import type { Introductions } from '../routing/introductions.js';
import type { RoutingTable } from '../routing/routing-table.js';
import type { QueryTimer } from './query-timer.js';
import type { RecentHolders } from './recent-holders.js';

/** What a lookup uses of its host (the node builds one, dht-node.ts). */
export interface LookupHost extends NodeBasics {
  readonly neighbours: Neighbours;
  readonly table: Pick<
    RoutingTable,
    'closest' | 'get' | 'isLive' | 'recordFailure' | 'markLost' | 'nonEmptyBuckets' | 'touchBucket'
  >;
  /** What this node holds itself (a value lookup starts from it). */
  readonly records: Pick<RecordStore, 'get'>;
  readonly messenger: Pick<Messaging, 'newId' | 'expect' | 'forget' | 'sendDirect' | 'originate' | 'routeRequest'>;
  /** Responders become contacts; a node caught naming made-up ids is convicted. */
  readonly contacts: Contacts;
  /** Learned contacts and who introduced them: offers to them go that way (sendSignal). */
  readonly introductions: Pick<Introductions, 'remember'>;
  /** Proven neighbours carry paths first. */
  readonly trust: Pick<NeighbourTrust, 'verdict'>;
  /** Nodes an earlier lookup caught lying: out of play from the start. */
  readonly liars: Pick<Liars, 'has'>;
  /** Which neighbour ended each recent value lookup: asked alone first next time (recent-holders.ts). */
  readonly recentHolders: RecentHolders;
  /** Soft timeouts, learned from this node's replies. */
  readonly queryTimer: QueryTimer;
  emit(event: NodeEvent): void;
  /** Connections this node has created so far: a lookup reports how many it caused (the goal is none). */
  connectionsCreated(): number;
}
