import type { Clock } from '../../core/environment.js';
import { nodeIdFromPublicKey, toHex } from '../../core/id.js';
import { acknowledgementFrame, REPLY_HEADER_BYTES } from '../../core/registry/call-reply.js';
import { PUBLISH_FRESHNESS_MS, publicationSigningBytes } from '../../core/registry/publication.js';
import { isPublishFrame, readPublish } from '../../core/registry/publication-read.js';
import { readValue } from '../../core/registry/call-answer.js';
import { matches } from '../../core/registry/topics.js';
import type { PublishMsg } from '../../core/wire/messages.js';
import type { WebEd25519 } from '../../crypto/web-ed25519.js';
import type { AppCallbacks } from './app-callbacks.js';

/**
 * A subscriber's page takes a publication straight from a neighbour itself (docs/ARCHITECTURE.md,
 * Threads). The worker used to: the PUBLISH went channel → page → worker, the worker had
 * WebCrypto check its signature (an answer that comes back as a task of its own), delivered
 * it to the app's callbacks over Comlink and sent its acknowledgement back through the page.
 * Traced on a loaded 8-tab mesh, the worker's own work was 1.1-1.7 ms of the subscriber's
 * 8.7-10.3 ms (p50), the two postMessage hops most of the rest (BENCHMARKS.md, Publish on
 * 2026-12-07 (session 14)).
 *
 * Here the page reads the PUBLISH (publication-read.ts: the codec's check, without the codec),
 * checks its freshness and its signature with WebCrypto, delivers it to the callbacks once
 * (by message id, app-callbacks.ts), then puts the acknowledgement on the channel; then the
 * worker gets the frame marked with that acknowledgement's header (frame-pump.ts), counts it,
 * charges the neighbour's flood budget, remembers the message id, accounts for the REPLY, and
 * neither verifies nor delivers it again (pubsub.ts, TakenOnPage).
 *
 * Acknowledging still means what it did: the page acknowledges only a publication whose
 * signature WebCrypto found valid, with the number of this tab's subscriptions it matched.
 * Everything else goes to the worker as before, which decides it with its own checks and
 * answers: a frame that does not read, is stale or does not verify here; any frame while a
 * subscribe or unsubscribe is under way (only the worker knows its subscriptions then); one
 * from a neighbour the worker has not sent anything to since its channel opened (a channel it
 * is about to refuse: a convicted liar, a banned flooder); and where the browser has no
 * WebCrypto Ed25519.
 *
 * Flood guard: every frame still reaches the worker and is charged to the neighbour's
 * budget there, strikes and bans included, and a neighbour the worker cuts off is forgotten
 * here at once. The page verifies at most PAGE_PUBLISH_LIMIT a second from one neighbour,
 * half the worker's publish budget: an honest neighbour stays inside both, so the worker
 * has a token for every frame the page took; beyond it, frames take the worker's path, whose
 * guard drops and strikes the excess. A flooder therefore costs this tab at most 1.5× the
 * publish budget in verifications (the page's half, and the worker's whole for the rest)
 * until its strikes run out, against 1× before: the page's are WebCrypto's, ~0.05 ms each.
 */

/**
 * Half the worker's publish budget per neighbour (core/defence/rate-limit.ts, DEFAULT_FLOOD_LIMITS;
 * page-publications.test.ts keeps the two in step). Written out: the flood guard's module would
 * add 1.5 kB to the page's bundle for two numbers and a bucket.
 */
export const PAGE_PUBLISH_LIMIT = { perSecond: 100, burst: 200 } as const;

/** A token bucket of PAGE_PUBLISH_LIMIT (rate-limit.ts's TokenBucket, for one limit). */
class Budget {
  private tokens: number = PAGE_PUBLISH_LIMIT.burst;
  constructor(private at: number) {}

  take(now: number): boolean {
    if (now > this.at) {
      this.tokens = Math.min(
        PAGE_PUBLISH_LIMIT.burst,
        this.tokens + ((now - this.at) * PAGE_PUBLISH_LIMIT.perSecond) / 1000,
      );
      this.at = now;
    }
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}

/** Delivered and acknowledged here: the acknowledgement's header (empty when its channel had closed). */
export type Taken = Uint8Array;

export class PagePublications {
  private web: WebEd25519 | undefined;
  /** Neighbours the worker has sent a frame to since their channels opened: neighbours it kept. */
  private readonly admitted = new Set<string>();
  private readonly budgets = new Map<string, Budget>();

  constructor(
    private readonly app: AppCallbacks,
    private readonly clock: Clock,
    found: Promise<WebEd25519 | undefined>,
    private readonly send: (peer: string, frame: Uint8Array) => boolean,
  ) {
    void found.then((web) => (this.web = web));
  }

  /** The worker sent a frame to `peer`: a neighbour it keeps. */
  admit(peer: string): void {
    this.admitted.add(peer);
  }

  /** `peer`'s channel closed, or the worker cut it off: its publications go to the worker until it sends to it again. */
  forget(peer: string): void {
    this.admitted.delete(peer);
    this.budgets.delete(peer);
  }

  /**
   * A frame from `peer`: undefined when it is not a publication this page takes (it goes to
   * the worker as any frame); otherwise a promise of the acknowledgement's header once
   * delivered and acknowledged, or of undefined when the page left it to the worker after all.
   */
  take(peer: string, frame: Uint8Array): Promise<Taken | undefined> | undefined {
    const web = this.web;
    if (web === undefined || !isPublishFrame(frame) || !this.admitted.has(peer) || this.app.changing > 0)
      return undefined;
    const p = readPublish(frame);
    const now = this.clock.now();
    if (p === null || !(Math.abs(p.at - now) <= PUBLISH_FRESHNESS_MS)) return undefined;
    let budget = this.budgets.get(peer);
    if (budget === undefined) this.budgets.set(peer, (budget = new Budget(now)));
    if (!budget.take(now)) return undefined;
    return web.verify(p.signature, publicationSigningBytes(p), p.publicKey).then(
      (valid) => (valid ? this.deliver(peer, p) : undefined),
      () => undefined,
    );
  }

  /** A publication that verified: handed to the matching callbacks once, then acknowledged. */
  private deliver(peer: string, p: PublishMsg): Taken | undefined {
    // A subscription changed, or the neighbour was cut off, while WebCrypto checked it: the worker decides.
    if (this.app.changing > 0 || !this.admitted.has(peer)) return undefined;
    const payload = readValue(p.payload);
    if (payload === undefined) return undefined;
    const matching: number[] = [];
    for (const [id, pattern] of this.app.patterns) if (matches(pattern, p.topic)) matching.push(id);
    // Delivered first, as the worker did (its delivery reached the page before its acknowledgement): Chromium's
    // RTCDataChannel.send waits for the network thread, 3.4 ms p50 on a loaded machine (BENCHMARKS.md, Publish
    // on 2026-12-07 (session 14)), which the app's callbacks need not wait for.
    if (this.app.firstTime(toHex(p.mid)) && matching.length > 0)
      this.app.deliverTo(matching, p.topic, payload.value, toHex(nodeIdFromPublicKey(p.publicKey)));
    const ack = acknowledgementFrame(p.rid, matching.length);
    // The channel may keep the frame (queued): the worker gets a copy of the header.
    const head = ack.slice(0, REPLY_HEADER_BYTES);
    return this.send(peer, ack) ? head : new Uint8Array(0);
  }
}
