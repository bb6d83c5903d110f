import { replyFrame, REPLY_HEADER_BYTES, type HandlerOutcome } from '../../core/registry/call-reply.js';
import { isCallFrame, readCall } from '../../core/registry/call-request.js';
import type { CallMsg } from '../../core/wire/messages.js';
import type { FromWorker, ToWorker } from '../bridge-protocol.js';

/**
 * The provider's page admits a CALL straight from a neighbour itself (docs/ARCHITECTURE.md,
 * Threads; the worker's side is worker/page-admissions.ts). Until now every CALL went channel
 * → page → worker (the service, the bounds, the flood guard, counters) → page (the handler,
 * the REPLY) → channel: two thread crossings and a worker wake-up, 0.35-0.43 ms of a call's
 * ~1.5 ms on a quiet machine (BENCHMARKS.md, Calls on 2026-12-07, session 15).
 *
 * Here the page reads the CALL (call-request.ts, readCall: the codec's check without the
 * codec), runs the handler and puts the REPLY on the channel, then hands the frame to the
 * worker marked with the REPLY's header (`admitted`): the worker's flood guard charges it,
 * the node reads and counts it (`messages.in`, `rpc.served`, `rpc.admittedOnPage`) and
 * accounts for the REPLY as its own (rpc.ts, handleCall). It does so only where the worker
 * has vouched for everything it would check:
 * - the service is one the worker says this tab provides (`serving`), with a handler here;
 * - the neighbour holds a grant (`allow`): slots reserved for it in the worker's bounds, of
 *   which the page runs at most that many at once, and credit, of which each CALL takes one
 *   and which the worker gives back only for CALLs its flood guard let through. A neighbour
 *   that is cut off (left, convicted, banned) loses its grant: the worker revokes it, and the
 *   page stops at once when it sees the channel close or the worker disconnect it.
 * Anything else goes the worker's way as before: no grant, none left, an unknown or
 * unreadable CALL, a routed one (its envelope is the worker's to open).
 */

/** What the page runs a CALL with: the app's handlers (app-callbacks.ts). */
export interface AdmittedHandlers {
  has(serviceId: string): boolean;
  /** How the handler ended, never a rejection. */
  run(serviceId: string, args: unknown): Promise<HandlerOutcome>;
}

interface Grant {
  readonly id: number;
  readonly slots: number;
  credit: number;
  running: number;
  /** Its channel closed, or the worker cut the neighbour off: no more CALLs under it, whatever credit comes. */
  stopped: boolean;
  /** The worker revoked it: its slots are freed once its last call has ended (`returned`). */
  revoked: boolean;
}

export class PageAdmissions {
  private services: ReadonlySet<string> = new Set();
  /** The grant each neighbour holds now. */
  private readonly grants = new Map<string, Grant>();

  constructor(
    private readonly handlers: AdmittedHandlers,
    private readonly send: (peer: string, frame: Uint8Array) => boolean,
    private readonly post: (m: ToWorker) => void,
  ) {}

  /** What the worker grants and revokes (bridge-protocol.ts); true when `m` was one of those. */
  told(m: FromWorker): boolean {
    switch (m.t) {
      case 'serving':
        this.services = new Set(m.services);
        return true;
      case 'allow': {
        const held = this.grants.get(m.peer);
        if (held?.id === m.grant) held.credit += m.credit;
        else {
          // The worker revokes a grant before it makes the next; should it not have, the old one ends here.
          if (held !== undefined) this.end(m.peer, held);
          this.grants.set(m.peer, {
            id: m.grant,
            slots: m.slots,
            credit: m.credit,
            running: 0,
            stopped: false,
            revoked: false,
          });
        }
        return true;
      }
      case 'revoke': {
        const held = this.grants.get(m.peer);
        if (held?.id === m.grant) this.end(m.peer, held);
        // A grant this page no longer holds runs nothing: its slots are free.
        else this.post({ t: 'returned', peer: m.peer, grant: m.grant });
        return true;
      }
      default:
        return false;
    }
  }

  /** `peer`'s channel closed, or the worker cut it off: nothing more is admitted from it until a new grant. */
  stop(peer: string): void {
    const held = this.grants.get(peer);
    if (held !== undefined) held.stopped = true;
  }

  /**
   * A frame from `peer`: true when it is a CALL this page admits, which it then answers and
   * hands to the worker marked; false when it goes to the worker as any frame.
   */
  take(peer: string, frame: Uint8Array): boolean {
    if (!isCallFrame(frame)) return false;
    const grant = this.grants.get(peer);
    if (grant === undefined || grant.stopped || grant.credit < 1 || grant.running >= grant.slots) return false;
    const call = readCall(frame);
    if (call === null || !this.services.has(call.service) || !this.handlers.has(call.service)) return false;
    grant.credit--;
    grant.running++;
    void this.answer(peer, frame, grant, call);
    return true;
  }

  /** Run the handler, put the REPLY on the channel, then hand the CALL to the worker with the REPLY's header. */
  private async answer(peer: string, frame: Uint8Array, grant: Grant, call: CallMsg): Promise<void> {
    let head = new Uint8Array(0);
    try {
      const outcome = await this.handlers.run(call.service, call.args);
      let reply: Uint8Array;
      try {
        reply = replyFrame(call.service, call.rid, outcome);
      } catch (error) {
        // An error whose message cannot be read: answered with what reading it threw, as the worker would.
        reply = replyFrame(call.service, call.rid, { ok: false, error });
      }
      // The channel may keep the frame (queued or chunked): the worker gets a copy of the header.
      const sent = reply.slice(0, REPLY_HEADER_BYTES);
      if (this.send(peer, reply)) head = sent;
    } finally {
      // Whatever happened on the way, the worker sees the frame: its flood guard charges every one.
      this.post({ t: 'frame', peer, frame, admitted: head });
      grant.running--;
      if (grant.revoked && grant.running === 0) this.post({ t: 'returned', peer, grant: grant.id });
    }
  }

  /** The grant ends: no more CALLs under it, and its slots go back once those running have ended. */
  private end(peer: string, grant: Grant): void {
    this.grants.delete(peer);
    grant.revoked = true;
    if (grant.running === 0) this.post({ t: 'returned', peer, grant: grant.id });
  }
}
