import type { Clock, Random } from '../../core/environment.js';
import { fromHex, type NodeId } from '../../core/id.js';
import { findValueFrame } from '../../core/registry/value-answer.js';
import { PAGE_SEEK_WINDOW_MS, type SeekPlan, type SoughtPath } from '../seek-brief.js';
import type { FromWorker, ToWorker } from '../bridge-protocol.js';
import type { PageCalls } from './page-calls.js';
import type { PageDiscoveries } from './page-discoveries.js';

/**
 * The requester's page starts a forced discovery itself (docs/ARCHITECTURE.md, Threads: "A
 * forced discovery starts on the requester's page"; the worker's side is worker/page-seeks.ts).
 * With the answering pages answering FIND_VALUEs and this page settling the discovery from the
 * first answer (page-discoveries.ts), the requester's worker was still on the way out: page →
 * Comlink → worker (the lookup's start: candidates, first hops, the envelopes) → page →
 * channel, 0.6-0.7 ms of a 4-5 ms discovery in traces, and more from an idle worker
 * (BENCHMARKS.md, Cold discovery on 2026-12-07, session 18).
 *
 * The worker keeps the page a plan per service it discovered with forceRefresh lately: the
 * first hops a lookup would take now and what it would know as it starts (SeekPlan). When all
 * those hops are open neighbours and request ids are left, the page writes each FIND_VALUE as
 * the node's router would (value-answer.ts, findValueFrame), awaits its answer
 * (page-discoveries.ts, as for a FIND_VALUE the worker sent), puts it on the channel, and tells
 * the worker after (`sought`), in order with the frames: the worker runs the lookup with those
 * paths as its first round, so the first answer the page sees is the first its lookup takes.
 * A hop heard from within ACK_FREE_MS is sent without asking for an acknowledgement, as the
 * router does for a neighbour heard from within a second; any other asks for one, which the
 * worker then awaits. Without a plan, with a hop that is not open, or out of ids, the
 * discovery goes the worker's way as before.
 */

/**
 * The router asks no acknowledgement of a neighbour its node heard from within 1 s
 * (router-host.ts). The page hears each frame before its worker does; a little less keeps the
 * page's choice one the node would make.
 */
const ACK_FREE_MS = 900;

export class PageSeeks {
  private readonly plans = new Map<string, SeekPlan>();
  /** When each open neighbour was last heard from (a frame on its channel). */
  private readonly heard = new Map<string, number>();

  constructor(
    private readonly self: NodeId,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly calls: Pick<PageCalls, 'isOpen' | 'takeRids' | 'unused'>,
    private readonly discoveries: Pick<PageDiscoveries, 'expect' | 'unsent' | 'forget'>,
  ) {}

  /** The worker's plans (worker/page-seeks.ts): true when `m` was one. */
  told(m: FromWorker): boolean {
    if (m.t !== 'seeks') return false;
    if (m.plan === undefined) this.plans.delete(m.service);
    else this.plans.set(m.service, m.plan);
    return true;
  }

  /** A frame came in on `peer`'s channel. */
  heardFrom(peer: string): void {
    this.heard.set(peer, this.clock.now());
  }

  closed(peer: string): void {
    this.heard.delete(peer);
  }

  /**
   * Put forced discovery `token`'s first FIND_VALUEs on the channels, as the plan for `service`
   * says, and tell the worker (`post`); false when the discovery is to go the worker's way.
   */
  start(
    token: number,
    service: string,
    send: (peer: string, frame: Uint8Array) => boolean,
    post: (m: ToWorker, transfer?: Transferable[]) => void,
  ): boolean {
    const plan = this.plans.get(service);
    if (plan === undefined || !plan.hops.every((hop) => this.calls.isOpen(hop))) return false;
    const rids = this.calls.takeRids(plan.hops.length);
    if (rids === undefined) return false;
    const at = this.clock.now();
    const key = fromHex(plan.brief.key);
    const sent: SoughtPath[] = [];
    for (const [i, peer] of plan.hops.entries()) {
      const rid = rids[i]!;
      const hid = at - (this.heard.get(peer) ?? -Infinity) < ACK_FREE_MS ? 0 : this.ackId();
      const frame = findValueFrame(this.self, key, plan.brief.kind, rid, hid);
      const awaits = { token, rid, until: at + PAGE_SEEK_WINDOW_MS, failed: [] };
      // Awaited before the frame is on the channel: its answer cannot come first. The channel may keep the frame.
      this.discoveries.expect(peer, awaits, plan.brief, true);
      const head = frame.slice(0, 8);
      if (send(peer, frame)) sent.push({ peer, rid, hid, head });
      else {
        this.discoveries.unsent(awaits);
        this.calls.unused(rid);
      }
    }
    if (sent.length === 0) {
      this.discoveries.forget(token);
      return false;
    }
    post(
      { t: 'sought', token, service, at, sent },
      sent.map((p) => p.head.buffer as ArrayBuffer),
    );
    return true;
  }

  /** An acknowledgement id as the router draws one: never 0. */
  private ackId(): number {
    return 1 + Math.floor(this.random.next() * 0xfffffffe);
  }
}
