import type { DhtNode } from './dht-node.js';
import { compareDistance, idsEqual, toHex } from '../id.js';
import { FAILED_TESTS_TO_DISTRUST_ALONE, NeighbourTrust, type Outcome } from '../defence/neighbour-trust.js';

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
  readonly trust = new NeighbourTrust();
  /** Per neighbour: when it may be tested next; a test in flight holds Infinity. */
  private readonly nextTestAt = new Map<string, number>();
  /** Per neighbour: tests since something routed through it last came back. */
  private readonly testsWithoutAnswer = new Map<string, number>();
  /** Per neighbour: when its last test started. */
  private readonly testedAt = new Map<string, number>();
  private nextRetestAt = 0;

  constructor(private readonly node: DhtNode) {}

  opened(peer: string, now: number): void {
    this.nextTestAt.set(peer, now + FIRST_TEST_AFTER_MS);
  }

  closed(peer: string): void {
    this.nextTestAt.delete(peer);
    this.testsWithoutAnswer.delete(peer);
    this.testedAt.delete(peer);
    this.trust.forget(peer);
  }

  /** What became of a request routed through `hop` (a test's, or any other). */
  outcome(hop: string, outcome: Outcome): void {
    const { node } = this;
    if (!node.neighbours.has(hop)) return;
    node.count(`trust.${outcome}`);
    if (outcome === 'through') this.testsWithoutAnswer.delete(hop);
    if (this.trust.record(hop, outcome) === 'unreliable') node.dropUnreliable(hop);
  }

  /**
   * True when we have had a neighbour for SURROUNDED_AFTER_MS and none has ever got a
   * request of ours through (a lossy link makes neighbours doubtful, not unproven).
   */
  surrounded(now: number): boolean {
    let seasoned = false;
    for (const n of this.node.neighbours.values()) {
      if (this.trust.verdict(n.idHex) !== 'unproven') return false;
      if (now - n.openedAt >= SURROUNDED_AFTER_MS) seasoned = true;
    }
    return seasoned;
  }

  tick(now: number): void {
    let settled: boolean | undefined;
    for (const [peer, at] of this.nextTestAt) {
      if (now < at || (this.testsWithoutAnswer.get(peer) ?? 0) >= MAX_TESTS_WITHOUT_ANSWER) continue;
      const verdict = this.trust.verdict(peer);
      const openedAt = this.node.neighbours.get(peer)?.openedAt ?? now;
      if (verdict === 'unproven' && !this.testedAt.has(peer) && now - openedAt < SETTLED_FIRST_TEST_AFTER_MS) {
        settled ??= this.reliableNeighbours() >= SETTLED_WITH_RELIABLE;
        if (settled) {
          this.nextTestAt.set(peer, openedAt + SETTLED_FIRST_TEST_AFTER_MS);
          continue;
        }
      }
      if (verdict === 'unproven' || verdict === 'doubtful') this.test(peer);
    }
    if (now >= this.nextRetestAt) {
      this.nextRetestAt = now + RETEST_SPACING_MS;
      let oldest: string | undefined;
      for (const [peer, at] of this.nextTestAt) {
        if (at === Infinity || this.trust.verdict(peer) !== 'reliable') continue;
        if (oldest === undefined || (this.testedAt.get(peer) ?? 0) < (this.testedAt.get(oldest) ?? 0)) oldest = peer;
      }
      if (oldest !== undefined) this.test(oldest);
    }
  }

  /**
   * One test of `peer`: ask it for its siblings and route a query through it to one of
   * them that we know ourselves (an honest neighbour has a channel to it); when it names
   * none we know, to our own contact closest to it. Only a target we know makes a loss
   * count: an honest neighbour may have been told of made-up ids by a colluder.
   */
  private test(peer: string): void {
    const { node } = this;
    const neighbour = node.neighbours.get(peer);
    if (neighbour === undefined) return;
    this.nextTestAt.set(peer, Infinity);
    this.testedAt.set(peer, node.clock.now());
    this.testsWithoutAnswer.set(peer, (this.testsWithoutAnswer.get(peer) ?? 0) + 1);
    node.count('trust.tests');
    const finish = (outcome: Outcome | 'nothing-to-test'): void => {
      if (!this.nextTestAt.has(peer)) return;
      this.nextTestAt.set(peer, node.clock.now() + TEST_INTERVAL_MS);
      if (outcome === 'nothing-to-test') node.count('trust.nothingToTest');
      else this.outcome(peer, outcome);
    };
    const ask = node.messenger.newId();
    node.messenger.expect(ask, node.hopTimeoutMs, (reply) => {
      const named = reply.type === 'FIND_NODE_REPLY' ? reply.body.nodes : [];
      const known = named
        .filter((id) => !idsEqual(id, neighbour.id) && !idsEqual(id, node.self) && this.knows(toHex(id)))
        .sort((a, b) => compareDistance(neighbour.id, a, b))
        .slice(0, TEST_TARGET_CHOICES);
      const target = known[Math.floor(node.random.next() * known.length)]
        ?? node.table.closest(neighbour.id, 1, (c) => c.idHex === peer || c.idHex === node.selfHex)[0]?.id;
      if (target === undefined) return finish('nothing-to-test');
      const rid = node.messenger.newId();
      // A sibling of our neighbour is a hop or two away: several of our usual lookup round trips is plenty.
      const timeoutMs = Math.min(node.hopTimeoutMs * 2, 4 * node.queryTimer.softMs);
      node.messenger.expect(rid, timeoutMs, () => finish('through'), () => finish('test-failed'));
      if (node.messenger.originate(target, true, 'FIND_NODE', { rid, target }, { firstHop: neighbour.id }) !== peer) {
        node.messenger.forget(rid);
        finish('nothing-to-test');
      }
    }, () => {
      // It did not answer us itself: liveness deals with that; it is no evidence about forwarding.
      if (!this.nextTestAt.has(peer)) return;
      this.nextTestAt.set(peer, node.clock.now() + TEST_INTERVAL_MS);
      this.outcome(peer, 'lost');
    }, peer);
    node.messenger.sendDirect(peer, 'FIND_NODE', { rid: ask, target: neighbour.id });
  }

  private reliableNeighbours(): number {
    let reliable = 0;
    for (const hex of this.node.neighbours.keys()) if (this.trust.verdict(hex) === 'reliable') reliable++;
    return reliable;
  }

  /** A neighbour of ours, or a contact in our table not known to be gone. */
  private knows(hex: string): boolean {
    const contact = this.node.table.get(hex);
    return this.node.neighbours.has(hex) || (contact !== undefined && contact.lost !== true);
  }
}
