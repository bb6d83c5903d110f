import type { Messaging, Neighbour, NeighbourActions, NodeBasics, Neighbours } from '../context.js';
import { bucketIndex, compareDistance, fromHex, idsEqual, type NodeId } from '../id.js';
import { FAILED_TESTS_TO_DISTRUST_ALONE, type NeighbourTrust, type Outcome } from '../defence/neighbour-trust.js';
import type { QueryTimer } from '../lookup/query-timer.js';
import type { RoutingTable } from '../routing/routing-table.js';
import { hasNeighbour } from './neighbour-map.js';

/** A new neighbour is first tested this long after its channel opened (its own mesh needs a moment). */
const FIRST_TEST_AFTER_MS = 2_000;
/**
 * A node that already has this many proven neighbours does not need the new one to get
 * its requests through: it gives the new neighbour SETTLED_FIRST_TEST_AFTER_MS, in which
 * ordinary traffic (replication, probes, lookups) usually proves it without a test. Under
 * churn most channels open at settled nodes, and tests were a third of the maintenance
 * traffic.
 */
const SETTLED_WITH_RELIABLE = 3;
const SETTLED_FIRST_TEST_AFTER_MS = 30_000;
/** Then again at this spacing while it stays unproven or doubtful. */
const TEST_INTERVAL_MS = 5_000;
/**
 * Tests in a row without anything getting through, per channel: enough for a verdict (a
 * test the neighbour did not answer itself does not count towards one). Then testing
 * stops until one of our requests comes back through this neighbour.
 */
const MAX_TESTS_WITHOUT_ANSWER = FAILED_TESTS_TO_DISTRUST_ALONE + 2;
/**
 * One reliable neighbour, the one tested longest ago, is tested again this often: a
 * neighbour may turn hostile after its first tests, and the requests it then drops are
 * mostly not ours to notice.
 */
const RETEST_SPACING_MS = 5 * 60_000;
/**
 * A node all of whose neighbours have had this long to prove themselves, none of them
 * with success, is surrounded (by colluders, or by nodes cut off like itself) and asks the
 * relay for introductions to random others, as a node with no channel at all does.
 */
const SURROUNDED_AFTER_MS = 45_000;
/** A test's target is drawn from this many of the nodes the neighbour names as closest to itself. */
const TEST_TARGET_CHOICES = 3;
/** A bucket is looked up again for stand-ins at most this often when its unreliable neighbours are dropped. */
const REFILL_SPACING_MS = 30_000;

export interface VettingHost extends NodeBasics {
  readonly neighbours: Neighbours;
  readonly table: Pick<RoutingTable, 'isLive' | 'closest' | 'markDead'>;
  readonly messenger: Pick<Messaging, 'newId' | 'expect' | 'forget' | 'sendDirect' | 'originate'>;
  /** A test waits a few of our usual lookup round trips. */
  readonly queryTimer: Pick<QueryTimer, 'softMs'>;
  /** The verdicts, kept by the node: lookups and the contact book read them too. */
  readonly trust: NeighbourTrust;
  readonly actions: Pick<NeighbourActions, 'hangUp' | 'coolDown'>;
  /** Look a bucket up again (contacts to stand in for a dropped neighbour). */
  refreshBucket(index: number): Promise<unknown>;
  /** A test may be due at `at` (maintenance.ts, dueAt). */
  wake?(at: number): void;
}

/**
 * Puts neighbour-trust.ts to work. Real requests give doubt, tests give the verdict. A
 * neighbour is tested when its channel opens (or, at a node with proven neighbours
 * enough, once ordinary traffic has had SETTLED_FIRST_TEST_AFTER_MS to prove it) and
 * whenever it has lost one of our requests, every TEST_INTERVAL_MS until something routed through it comes back: we ask
 * it (directly) for the nodes closest to itself, then route a FIND_NODE through it to one
 * of those we know ourselves, its own siblings, which an honest neighbour has open
 * channels to (else to our own contact nearest it). Such a test looks like any lookup's
 * query. A neighbour that turns out unreliable loses its channel and its place in our
 * routing table, and is neither dialled nor accepted while the verdict lasts; its answers
 * in lookups are still weighed like anyone's, and it is not convicted of anything.
 */
export class NeighbourVetting {
  readonly trust: NeighbourTrust;
  // Per neighbour, in its record (context.ts, Neighbour): when it may be tested next
  // (`nextTestAt`, Infinity while a test is in flight), tests since something routed through
  // it last came back (`testsWithoutAnswer`), and when its last test started (`testedAt`).
  private nextRetestAt = 0;
  /**
   * No neighbour's test can come due before this, as long as nothing above changed
   * (`changed`): a node's tick then skips the walk over every neighbour, which it would
   * otherwise do every second for nothing (most neighbours are proven, or wait seconds).
   */
  private wakeAt = -Infinity;
  private changed = true;
  /** When each bucket was last looked up again after an unreliable neighbour left it. */
  private readonly refilledAt = new Map<number, number>();

  constructor(private readonly host: VettingHost) {
    this.trust = host.trust;
  }

  opened(peer: string, now: number): void {
    this.markChanged(now + FIRST_TEST_AFTER_MS);
    const neighbour = this.host.neighbours.get(peer);
    if (neighbour !== undefined) neighbour.nextTestAt = now + FIRST_TEST_AFTER_MS;
  }

  /** `neighbour`: the closed channel's record (its state goes with it). */
  closed(peer: string, neighbour: Neighbour): void {
    // A reliable neighbour leaving can turn another's verdict back from unreliable (it counted
    // as one of the others getting ours through): that one may be due a test at once.
    if (this.trust.verdictOf(peer, neighbour) === 'reliable') this.markChanged(this.host.clock.now());
    else this.changed = true;
  }

  /** What became of a request routed through `hop` (a test's, or any other). */
  outcome(hop: string, outcome: Outcome): void {
    const { host } = this;
    const neighbour = host.neighbours.get(hop);
    if (neighbour === undefined) return;
    host.count(`trust.${outcome}`);
    // Most outcomes (every routed request's first hop reports one) change no verdict: the
    // neighbours' due tests stay as they were, and the next tick need not look at them again.
    // A verdict that stays the same leaves every other neighbour's verdict the same too
    // (neighbour-trust.ts counts the reliable others).
    const before = this.trust.verdict(hop);
    let changed = outcome === 'through' && neighbour.testsWithoutAnswer > 0;
    if (changed) neighbour.testsWithoutAnswer = 0;
    const verdict = this.trust.record(hop, outcome);
    if (verdict !== before) changed = true;
    if (changed) this.markChanged(host.clock.now());
    if (verdict === 'unreliable') this.drop(hop);
  }

  /**
   * True when we have had a neighbour for SURROUNDED_AFTER_MS and none has ever got a
   * request of ours through (a lossy link makes neighbours doubtful, not unproven).
   */
  surrounded(now: number): boolean {
    let seasoned = false;
    for (const n of this.host.neighbours.values()) {
      if (this.trust.verdict(n.idHex) !== 'unproven') return false;
      if (now - n.openedAt >= SURROUNDED_AFTER_MS) seasoned = true;
    }
    return seasoned;
  }

  /** The next test due (a walk over the neighbours only after a change), or the next retest. */
  dueAt(): number {
    if (this.changed) {
      this.changed = false;
      this.wakeAt = this.nextDue();
    }
    return Math.min(this.wakeAt, this.nextRetestAt);
  }

  tick(now: number): void {
    if (this.changed || now >= this.wakeAt) this.testDue(now);
    if (now >= this.nextRetestAt) {
      this.nextRetestAt = now + RETEST_SPACING_MS;
      let oldest: Neighbour | undefined;
      for (const n of this.host.neighbours.values()) {
        if (n.nextTestAt === Infinity || this.trust.verdict(n.idHex) !== 'reliable') continue;
        if (oldest === undefined || (n.testedAt ?? 0) < (oldest.testedAt ?? 0)) oldest = n;
      }
      if (oldest !== undefined) this.test(oldest.idHex);
    }
  }

  /** Test every neighbour whose test is due, then note when the next one can be. */
  private testDue(now: number): void {
    let settled: boolean | undefined;
    for (const n of this.host.neighbours.values()) {
      if (now < n.nextTestAt || n.testsWithoutAnswer >= MAX_TESTS_WITHOUT_ANSWER) continue;
      const peer = n.idHex;
      const verdict = this.trust.verdict(peer);
      const { openedAt } = n;
      if (verdict === 'unproven' && n.testedAt === undefined && now - openedAt < SETTLED_FIRST_TEST_AFTER_MS) {
        settled ??= this.reliableNeighbours() >= SETTLED_WITH_RELIABLE;
        if (settled) {
          n.nextTestAt = openedAt + SETTLED_FIRST_TEST_AFTER_MS;
          continue;
        }
      }
      if (verdict === 'unproven' || verdict === 'doubtful') this.test(peer);
    }
    // Only an unproven or doubtful neighbour is tested above, once its time has come; its
    // time, count and verdict change only through this class, which then sets `changed`.
    this.changed = false;
    this.wakeAt = this.nextDue();
  }

  /** When the next test can come due: the earliest time of a neighbour still to be tested. */
  private nextDue(): number {
    let due = Infinity;
    for (const n of this.host.neighbours.values()) {
      if (n.nextTestAt >= due || n.testsWithoutAnswer >= MAX_TESTS_WITHOUT_ANSWER) continue;
      const verdict = this.trust.verdict(n.idHex);
      if (verdict === 'unproven' || verdict === 'doubtful') due = n.nextTestAt;
    }
    return due;
  }

  /** Something a due time depends on changed; a test may be due as early as `at`. */
  private markChanged(at: number): void {
    this.changed = true;
    this.host.wake?.(at);
  }

  /**
   * One test of `peer`: ask it for its siblings and route a query through it to one of
   * them that we know ourselves (an honest neighbour has a channel to it); when it names
   * none we know, to our own contact closest to it. Only a target we know makes a loss
   * count: an honest neighbour may have been told of made-up ids by a colluder.
   */
  private test(peer: string): void {
    const { host } = this;
    const neighbour = host.neighbours.get(peer);
    if (neighbour === undefined) return;
    this.changed = true;
    neighbour.nextTestAt = Infinity;
    neighbour.testedAt = host.clock.now();
    neighbour.testsWithoutAnswer++;
    host.count('trust.tests');
    const finish = (outcome: Outcome | 'nothing-to-test'): void => {
      const open = host.neighbours.get(peer);
      if (open === undefined) return;
      this.markChanged(host.clock.now() + TEST_INTERVAL_MS);
      open.nextTestAt = host.clock.now() + TEST_INTERVAL_MS;
      if (outcome === 'nothing-to-test') host.count('trust.nothingToTest');
      else this.outcome(peer, outcome);
    };
    const ask = host.messenger.newId();
    host.messenger.expect(
      ask,
      host.hopTimeoutMs,
      (reply) => {
        const named = reply.type === 'FIND_NODE_REPLY' ? reply.body.nodes : [];
        // A loop rather than filter, sort and slice with their closures: every test of every channel reads one.
        const known: NodeId[] = [];
        for (const id of named)
          if (!idsEqual(id, neighbour.id) && !idsEqual(id, host.self) && this.knows(id)) known.push(id);
        if (known.length > 1) known.sort((a, b) => compareDistance(neighbour.id, a, b));
        if (known.length > TEST_TARGET_CHOICES) known.length = TEST_TARGET_CHOICES;
        const target =
          known[Math.floor(host.random.next() * known.length)] ??
          host.table.closest(neighbour.id, 1, (c) => c.idHex === peer || c.idHex === host.selfHex)[0]?.id;
        if (target === undefined) return finish('nothing-to-test');
        const rid = host.messenger.newId();
        // A sibling of our neighbour is a hop or two away: several of our usual lookup round trips is plenty.
        const timeoutMs = Math.min(host.hopTimeoutMs * 2, 4 * host.queryTimer.softMs);
        host.messenger.expect(
          rid,
          timeoutMs,
          () => finish('through'),
          () => finish('test-failed'),
        );
        // originate, not routeRequest: finish() scores the test for `peer` itself; with the
        // messenger's first-hop bookkeeping too, one test would count twice for the same hop.
        if (host.messenger.originate(target, true, 'FIND_NODE', { rid, target }, { firstHop: neighbour.id }) !== peer) {
          host.messenger.forget(rid);
          finish('nothing-to-test');
        }
      },
      () => {
        // It did not answer us itself: liveness deals with that; it is no evidence about forwarding.
        const open = host.neighbours.get(peer);
        if (open === undefined) return;
        this.markChanged(host.clock.now() + TEST_INTERVAL_MS);
        open.nextTestAt = host.clock.now() + TEST_INTERVAL_MS;
        this.outcome(peer, 'lost');
      },
      peer,
    );
    host.messenger.sendDirect(peer, 'FIND_NODE', { rid: ask, target: neighbour.id });
  }

  /**
   * Requests routed through `peer` to live nodes keep vanishing while other neighbours get
   * ours through: close its channel and take it back neither way while the verdict lasts
   * (neighbour-trust.ts). It leaves the routing table too (we would hand out a contact that
   * swallows traffic), and its bucket is looked up again for contacts to stand in for it.
   * Unlike a conviction, its word in lookups still counts.
   */
  private drop(peer: string): void {
    const { host } = this;
    if (!host.neighbours.has(peer)) return;
    const now = host.clock.now();
    host.count('neighbours.droppedUnreliable');
    const until = this.trust.distrust(peer, now);
    host.actions.hangUp(peer);
    host.actions.coolDown(peer, until);
    host.table.markDead(peer);
    const bucket = bucketIndex(host.self, fromHex(peer));
    if ((this.refilledAt.get(bucket) ?? -Infinity) <= now - REFILL_SPACING_MS) {
      this.refilledAt.set(bucket, now);
      host.count('neighbours.refills');
      void host.refreshBucket(bucket);
    }
  }

  private reliableNeighbours(): number {
    let reliable = 0;
    for (const hex of this.host.neighbours.keys()) if (this.trust.verdict(hex) === 'reliable') reliable++;
    return reliable;
  }

  /**
   * A neighbour of ours, or a contact in our table not known to be gone. By its bytes: every
   * test reads a neighbour's ~20 named ids, and turning each into hex to look it up was most
   * of a test's cost.
   */
  private knows(id: NodeId): boolean {
    return hasNeighbour(this.host.neighbours, id) || this.host.table.isLive(id);
  }
}
