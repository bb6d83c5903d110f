import type { DhtNode } from './dht-node.js';
import { compareDistance, idsEqual } from './id.js';
import { FAILED_TESTS_TO_DISTRUST_ALONE, NeighbourTrust } from './neighbour-trust.js';

/** A new neighbour is first tested this long after its channel opened (its own mesh needs a moment). */
const FIRST_TEST_AFTER_MS = 2_000;
/** Then again at this spacing while it stays unproven or doubtful. */
const TEST_INTERVAL_MS = 10_000;
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
const RETEST_SPACING_MS = 60_000;
/** A test's target is drawn from this many of the nodes the neighbour names as closest to itself. */
const TEST_TARGET_CHOICES = 3;

/**
 * Puts neighbour-trust.ts to work. Real requests give doubt, tests give the verdict. A
 * neighbour is tested when its channel opens and whenever it has lost a few of our
 * requests in a row, every TEST_INTERVAL_MS until something routed through it comes back:
 * we ask it (directly) for the nodes closest to itself, then route a FIND_NODE through it
 * to one of those, its own siblings, which an honest neighbour has open channels to. Such
 * a test looks like any lookup's query. A neighbour that turns out unreliable loses its
 * channel and is neither dialled nor accepted while the verdict lasts; it stays a contact
 * (its answers are still weighed like anyone's) and is not convicted of anything.
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

  /** A request routed through `hop` came back (`through`) or timed out. */
  outcome(hop: string, through: boolean, test = false): void {
    const { node } = this;
    if (!node.neighbours.has(hop)) return;
    node.count(test ? (through ? 'trust.testPassed' : 'trust.testFailed') : through ? 'trust.through' : 'trust.lost');
    if (through) this.testsWithoutAnswer.delete(hop);
    if (this.trust.record(hop, through, test) === 'unreliable') node.dropUnreliable(hop);
  }

  tick(now: number): void {
    for (const [peer, at] of this.nextTestAt) {
      if (now < at || (this.testsWithoutAnswer.get(peer) ?? 0) >= MAX_TESTS_WITHOUT_ANSWER) continue;
      const verdict = this.trust.verdict(peer);
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

  private test(peer: string): void {
    const { node } = this;
    const neighbour = node.neighbours.get(peer);
    if (neighbour === undefined) return;
    this.nextTestAt.set(peer, Infinity);
    this.testedAt.set(peer, node.clock.now());
    this.testsWithoutAnswer.set(peer, (this.testsWithoutAnswer.get(peer) ?? 0) + 1);
    node.count('trust.tests');
    const done = (through: boolean): void => {
      if (!this.nextTestAt.has(peer)) return;
      this.nextTestAt.set(peer, node.clock.now() + TEST_INTERVAL_MS);
      this.outcome(peer, through, true);
    };
    const ask = node.requests.newId();
    node.requests.expect(ask, node.hopTimeoutMs, (reply) => {
      const named = reply.type === 'FIND_NODE_REPLY' ? reply.body.nodes : [];
      const siblings = named
        .filter((id) => !idsEqual(id, neighbour.id) && !idsEqual(id, node.self))
        .sort((a, b) => compareDistance(neighbour.id, a, b))
        .slice(0, TEST_TARGET_CHOICES);
      const target = siblings[Math.floor(node.random.next() * siblings.length)];
      // Nothing to test through (it named nobody): it stays as it is.
      if (target === undefined) return this.nextTestAt.set(peer, node.clock.now() + TEST_INTERVAL_MS);
      const rid = node.requests.newId();
      node.requests.expect(rid, node.hopTimeoutMs * 2, () => done(true), () => done(false));
      if (node.router.originate(target, true, 'FIND_NODE', { rid, target }, { firstHop: neighbour.id }) !== peer) {
        node.requests.forget(rid);
        this.nextTestAt.set(peer, node.clock.now() + TEST_INTERVAL_MS);
      }
    }, () => {
      // It did not answer us itself: liveness deals with that; it is no evidence about forwarding.
      if (!this.nextTestAt.has(peer)) return;
      this.nextTestAt.set(peer, node.clock.now() + TEST_INTERVAL_MS);
      this.outcome(peer, false);
    }, peer);
    node.sendDirect(peer, 'FIND_NODE', { rid: ask, target: neighbour.id });
  }
}
