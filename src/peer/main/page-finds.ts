import type { Clock } from '../../core/environment.js';
import type { NodeId } from '../../core/id.js';
import { isRouteFrame, readStraightFindValue, valueAnswerFrame } from '../../core/registry/value-answer.js';
import { PAGE_FIND_CREDIT, type FromWorker, type ToWorker, type ValueAnswer } from '../bridge-protocol.js';

/**
 * An answering tab's page answers a FIND_VALUE straight from a neighbour itself, from the
 * answers its worker keeps it a copy of (docs/ARCHITECTURE.md, Threads; the worker's side is
 * worker/page-finds.ts). A forced discovery in a mesh of tabs used to wait, on each tab it
 * asked, for channel → page → worker (router, gateway, codec) → page → channel: the worker's
 * wake-up was the largest step of the lookup (BENCHMARKS.md, Cold discovery on 2026-12-07,
 * session 17).
 *
 * The worker stays the owner of the records and decides what is answered: for each key it
 * answered with records lately, it sends the page the answer it would give now (`holds`:
 * records, closest nodes, which of them are linked) and sends it again, before any frame of
 * its own leaves, whenever that would change (a STORE, a removal, an expiry, a contact or
 * channel gained or lost), or takes it back. The page answers only:
 * - an envelope its source handed over itself, one hop, carrying a FIND_VALUE for a key it
 *   holds an answer for, before that answer's `until` (value-answer.ts reads it as the codec
 *   and the router would, and writes the envelope the router would send back);
 * - from an open neighbour of the node's, within credit: at most PAGE_FIND_CREDIT answers
 *   beyond those the worker has accounted for, given back only for the answers its flood
 *   guard let through and found to be its own, byte for byte.
 * Then the frame goes to the worker marked `found` with the answer that went out: the worker
 * reads it as ever (flood guard, acknowledgement, counters, the gateway's own answer) and
 * accounts for that answer as its own instead of sending it (`dht.answeredOnPage`); an answer
 * of its own that differs goes out as well (`dht.answeredOnPageDiffered`). Anything else goes
 * the worker's way as before.
 */

interface Held {
  answer: ValueAnswer;
  until: number;
}

export class PageFinds {
  /** The node's answers by key and kind (`<key hex>:<kind>`). */
  private readonly held = new Map<string, Held>();
  /** The node's open neighbours, each with the answers the page may still give it. */
  private readonly credit = new Map<string, number>();

  constructor(
    private readonly self: NodeId,
    private readonly clock: Clock,
    private readonly send: (peer: string, frame: Uint8Array) => boolean,
    private readonly post: (m: ToWorker, transfer?: Transferable[]) => void,
  ) {}

  /**
   * What the worker keeps the page told of: true when `m` was for this alone. The node's
   * neighbours are noted here and passed on (page-calls.ts keeps them too).
   */
  told(m: FromWorker): boolean {
    switch (m.t) {
      case 'holds':
        if (m.answer === undefined || m.until === undefined) this.held.delete(`${m.key}:${m.kind}`);
        else this.held.set(`${m.key}:${m.kind}`, { answer: m.answer, until: m.until });
        return true;
      case 'finds': {
        const left = this.credit.get(m.peer);
        if (left !== undefined) this.credit.set(m.peer, Math.min(PAGE_FIND_CREDIT, left + m.credit));
        return true;
      }
      case 'neighbour':
        if (!m.open) this.credit.delete(m.peer);
        else if (!this.credit.has(m.peer)) this.credit.set(m.peer, PAGE_FIND_CREDIT);
        return false;
      default:
        return false;
    }
  }

  /** `peer`'s channel closed, or the worker cut it off: nothing more is answered for it until it is a neighbour again. */
  stop(peer: string): void {
    this.credit.delete(peer);
  }

  /**
   * A frame from `peer`: true when it is a FIND_VALUE this page answered, the frame then
   * handed to the worker marked; false when it goes to the worker as any frame.
   */
  take(peer: string, frame: Uint8Array): boolean {
    if (this.held.size === 0 || !isRouteFrame(frame)) return false;
    const credit = this.credit.get(peer);
    if (credit === undefined || credit < 1) return false;
    const request = readStraightFindValue(frame, peer);
    if (request === null) return false;
    const held = this.held.get(`${request.keyHex}:${request.kind}`);
    if (held === undefined || this.clock.now() >= held.until) return false;
    const answer = valueAnswerFrame(this.self, request, held.answer);
    if (answer === null) return false;
    // The channel may keep the frame (queued or chunked): the worker gets a copy.
    const told = answer.slice();
    if (!this.send(peer, answer)) return false;
    this.credit.set(peer, credit - 1);
    this.post({ t: 'frame', peer, frame, found: told }, [told.buffer]);
    return true;
  }
}
