import type { Clock, Random } from '../../core/environment.js';
import type { FromWorker } from '../bridge-protocol.js';

/**
 * The page's side of calls whose first CALL it sends itself (docs/ARCHITECTURE.md, Threads;
 * the worker's side is worker/page-calls.ts). An app's call used to start in the worker:
 * page → Comlink → worker (discovery cache, the policy's draw, the CALL built) → page →
 * channel, one worker wake-up before the CALL was on its way. The worker now keeps the page
 * told of what that needs, and the page draws the first provider itself:
 * - the providers a call of each service draws from, as the worker's discovery cache serves
 *   them, used only until the worker says the cache serves others (`until`);
 * - which peers the node holds as open neighbours;
 * - request ids the worker reserved, so that a CALL sent here cannot share an id with any
 *   request of the worker's.
 * The draw is the policy's: uniform over the providers for 'random', the lowest id for
 * 'first'. When the provider drawn is an open neighbour, the page sends the CALL (frame-pump.ts,
 * sendCall) and tells the worker after, which runs the rest of the call as ever; when it is
 * not, the worker is told whom the page drew and asks that one first, so the draw stays the
 * policy's whichever thread sends the CALL. Without a fresh copy, with another policy, or with
 * anything the worker would refuse, the call goes the worker's way from the start.
 */

/** Services whose copy the page keeps; past this the oldest goes first. */
const MAX_COPIES = 256;

/**
 * What the page sends one neighbour of CALLs itself: the share of the neighbour's CALL budget
 * (defence/rate-limit.ts: 2,000/s, burst 4,000) the worker leaves when it shapes its own sends
 * to that neighbour (OUTBOUND_SHARE, 80%, with the page's CALLs counted in), so that both
 * together stay within what the neighbour admits. page-calls.test.ts ties it to those limits.
 */
export const PAGE_CALL_BUDGET = { perSecond: 400, burst: 800 };

export class PageCalls {
  private readonly copies = new Map<string, { ids: string[]; until: number }>();
  /** Open neighbours, each with what is left of the page's CALL budget to it (PAGE_CALL_BUDGET) and when. */
  private readonly neighbours = new Map<string, { tokens: number; at: number }>();
  private readonly rids: number[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly random: Random,
  ) {}

  /** What the worker keeps the page told of (bridge-protocol.ts); true when `m` was one of those. */
  told(m: FromWorker): boolean {
    switch (m.t) {
      case 'providers':
        this.copies.delete(m.service);
        this.copies.set(m.service, { ids: m.ids, until: m.until });
        if (this.copies.size > MAX_COPIES) this.copies.delete(this.copies.keys().next().value!);
        return true;
      case 'forget':
        for (const [service, copy] of this.copies)
          if (m.service === undefined || m.service === service) copy.ids = copy.ids.filter((id) => id !== m.peer);
        return true;
      case 'neighbour':
        if (!m.open) this.neighbours.delete(m.peer);
        else if (!this.neighbours.has(m.peer))
          this.neighbours.set(m.peer, { tokens: PAGE_CALL_BUDGET.burst, at: this.clock.now() });
        return true;
      case 'rids':
        this.rids.push(...m.rids);
        return true;
      default:
        return false;
    }
  }

  /** The page's channel to `peer` closed: nothing goes to it from here. */
  closed(peer: string): void {
    this.neighbours.delete(peer);
  }

  /**
   * The provider a call of `serviceId` asks first under `policy`, drawn as the worker draws
   * it (rpc.ts, order); undefined without a copy the worker's cache still serves.
   */
  draw(serviceId: string, policy: 'random' | 'first' | undefined): string | undefined {
    const copy = this.copies.get(serviceId);
    if (copy === undefined || copy.ids.length === 0 || this.clock.now() >= copy.until) return undefined;
    if (policy === 'first') return copy.ids.reduce((a, b) => (b < a ? b : a));
    return copy.ids[Math.floor(this.random.next() * copy.ids.length)];
  }

  /**
   * A request id for a CALL to `peer` sent from here, when it is an open neighbour, the page's
   * budget to it allows one more, and an id is left.
   */
  ridFor(peer: string): number | undefined {
    const budget = this.neighbours.get(peer);
    if (budget === undefined || this.rids.length === 0) return undefined;
    const now = this.clock.now();
    const { perSecond, burst } = PAGE_CALL_BUDGET;
    budget.tokens = Math.min(burst, budget.tokens + ((now - budget.at) * perSecond) / 1000);
    budget.at = now;
    if (budget.tokens < 1) return undefined;
    budget.tokens--;
    return this.rids.pop();
  }

  /** Whether the node holds `peer` as an open neighbour (page-publishes.ts sends PUBLISHes straight to those). */
  isOpen(peer: string): boolean {
    return this.neighbours.has(peer);
  }

  /** `n` reserved request ids at once (a publish's PUBLISHes: page-publishes.ts), or undefined when fewer are left. */
  takeRids(n: number): number[] | undefined {
    return n > this.rids.length ? undefined : this.rids.splice(this.rids.length - n, n);
  }

  /** An id taken by ridFor whose CALL did not go out: still reserved, so it can be used again. */
  unused(rid: number): void {
    this.rids.push(rid);
  }
}
