import type { Messaging, Neighbour, NodeBasics, Neighbours } from '../context.js';
import { commonPrefixLength, compareDistance, idsEqual, toHex, type NodeId } from '../id.js';
import type { QueryTimer } from '../lookup/query-timer.js';
import type { RoutingTable } from '../routing/routing-table.js';

/** A test's target is drawn from this many of the nodes closest to the neighbour. */
const TEST_TARGET_CHOICES = 3;

export interface NeighbourTestHost extends NodeBasics {
  readonly neighbours: Neighbours;
  readonly table: Pick<RoutingTable, 'get' | 'closest'>;
  readonly messenger: Pick<Messaging, 'newId' | 'expect' | 'forget' | 'sendDirect' | 'originate'>;
  /** How many closest contacts a node keeps channels to (the neighbour-set rule): how deep a target must be. */
  readonly siblings: number;
  /** A test waits a few of our usual lookup round trips. */
  readonly queryTimer: Pick<QueryTimer, 'softMs'>;
}

/**
 * How one test ended: `through` (the query came back), `test-failed` (the neighbour
 * answered us itself and then lost the query), `lost` (it did not answer us, or the test
 * asked it nothing: no evidence about its forwarding either way), `nothing-to-test` (no
 * target we know, or the query could not leave through it).
 */
export type TestResult = 'through' | 'test-failed' | 'lost' | 'nothing-to-test';

/**
 * One test of `neighbour` (neighbour-vetting.ts decides when): a FIND_NODE routed through
 * it to a node next to it that we know ourselves, one of its own siblings, which an honest
 * neighbour holds a channel to. Only a target we know makes a loss count: an honest
 * neighbour may have been told of made-up ids by a colluder.
 *
 * Every channel is tested once at each end, so tests are a large share of a young swarm's
 * frames. When another of our neighbours is close enough to it (`targetNear`), that one is
 * the target and nothing else is sent. Otherwise (or when `ask`) we first ask the
 * neighbour, over its channel, for the nodes closest to itself and take one of those we
 * know (else our own contact nearest it): two frames more, and its answer is what lets a
 * lost query count against it. Without it a loss might be ours or the path's: a test
 * that asked nothing (`unasked`, in the result and the return value) reports its loss as
 * only `lost`.
 */
export function testNeighbour(
  host: NeighbourTestHost,
  neighbour: Neighbour,
  ask: boolean,
  done: (result: TestResult, unasked: boolean) => void,
): { unasked: boolean } {
  const own = ask ? undefined : targetNear(host, neighbour);
  if (own !== undefined) {
    route(host, neighbour, own, (through) => done(through ?? 'lost', true));
    return { unasked: true };
  }
  const rid = host.messenger.newId();
  host.messenger.expect(
    rid,
    host.hopTimeoutMs,
    (reply) => {
      const named = reply.type === 'FIND_NODE_REPLY' ? reply.body.nodes : [];
      const known = named
        .filter((id) => !idsEqual(id, neighbour.id) && !idsEqual(id, host.self) && knows(host, toHex(id)))
        .sort((a, b) => compareDistance(neighbour.id, a, b))
        .slice(0, TEST_TARGET_CHOICES);
      const target =
        known[Math.floor(host.random.next() * known.length)] ??
        host.table.closest(neighbour.id, 1, (c) => c.idHex === neighbour.idHex || c.idHex === host.selfHex)[0]?.id;
      if (target === undefined) return done('nothing-to-test', false);
      // It answered us itself: a loss now is its forwarding's.
      route(host, neighbour, target, (through) => done(through ?? 'test-failed', false));
    },
    // It did not answer us itself: liveness deals with that; it is no evidence about forwarding.
    () => done('lost', false),
    neighbour.idHex,
  );
  host.messenger.sendDirect(neighbour.idHex, 'FIND_NODE', { rid, target: neighbour.id });
  return { unasked: false };
}

/** The test's query, with `neighbour` as its first hop: `end` gets 'through', 'nothing-to-test' or, when lost, undefined. */
function route(
  host: NeighbourTestHost,
  neighbour: Neighbour,
  target: NodeId,
  end: (result: 'through' | 'nothing-to-test' | undefined) => void,
): void {
  const rid = host.messenger.newId();
  // A sibling of our neighbour is a hop or two away: several of our usual lookup round trips is plenty.
  const timeoutMs = Math.min(host.hopTimeoutMs * 2, 4 * host.queryTimer.softMs);
  host.messenger.expect(
    rid,
    timeoutMs,
    () => end('through'),
    () => end(undefined),
  );
  // originate, not routeRequest: the vetting scores the test for the neighbour itself; with
  // the messenger's first-hop bookkeeping too, one test would count twice for the same hop.
  const first = host.messenger.originate(target, true, 'FIND_NODE', { rid, target }, { firstHop: neighbour.id });
  if (first !== neighbour.idHex) {
    host.messenger.forget(rid);
    end('nothing-to-test');
  }
}

/**
 * A target next to `neighbour` without asking it: another of our own neighbours (an open
 * channel, so alive: a target gone silent would fail an honest neighbour's test), among the
 * TEST_TARGET_CHOICES closest to it, sharing with it at least as many leading bits, less
 * one, as our `siblings`-th closest contact shares with us. Ids are uniform, so such a node
 * is among the neighbour's own few closest, which an honest neighbour holds channels to
 * (the neighbour-set rule keeps its closest siblings and its deepest buckets all but
 * whole). Undefined when none is (a neighbour far from us, a table still filling).
 */
function targetNear(host: NeighbourTestHost, neighbour: Neighbour): NodeId | undefined {
  if (host.siblings <= 0) return undefined;
  const ours = host.table.closest(host.self, host.siblings, (c) => c.idHex === host.selfHex);
  if (ours.length < host.siblings) return undefined;
  const depth = commonPrefixLength(host.self, ours[ours.length - 1]!.id) - 1;
  const near: Neighbour[] = [];
  for (const n of host.neighbours.values())
    if (n !== neighbour && commonPrefixLength(n.id, neighbour.id) >= depth) near.push(n);
  near.sort((a, b) => compareDistance(neighbour.id, a.id, b.id));
  return near[Math.floor(host.random.next() * Math.min(near.length, TEST_TARGET_CHOICES))]?.id;
}

/** A neighbour of ours, or a contact in our table not known to be gone. */
function knows(host: NeighbourTestHost, hex: string): boolean {
  const contact = host.table.get(hex);
  return host.neighbours.has(hex) || (contact !== undefined && contact.lost !== true);
}
