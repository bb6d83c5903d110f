import type { Clock, Random } from '../../core/environment.js';
import { RPC_TIMEOUT_MS } from '../../core/constants.js';
import { toHex } from '../../core/id.js';
import type { AsyncSigner, Identity } from '../../core/identity.js';
import { readValue } from '../../core/registry/call-answer.js';
import { pageDeadline } from '../../core/registry/call-request.js';
import { REPLY_HEADER_BYTES } from '../../core/registry/call-reply.js';
import { publicationSigningBytes, type Publication } from '../../core/registry/publication.js';
import { publicationPayload, publishFrame } from '../../core/registry/publication-write.js';
import { checkTopic, matches } from '../../core/registry/topics.js';
import type { WebEd25519 } from '../../crypto/web-ed25519.js';
import { MAX_PAGE_PUBLISH, type FromWorker, type PublishedByPage, type ToWorker } from '../bridge-protocol.js';
import type { AppCallbacks } from './app-callbacks.js';
import type { PageCalls } from './page-calls.js';
import type { PageReplies } from './page-replies.js';

/**
 * The publisher's page signs a publish and puts its PUBLISHes on its neighbours' channels itself
 * (docs/ARCHITECTURE.md, Threads; the worker's side is worker/page-publishes.ts). A publish used
 * to start in the worker: page → Comlink → worker (the subscriber cache, encoding, WebCrypto's
 * signature) → one postMessage per PUBLISH → page → channels, a worker wake-up and two thread
 * hops before the first PUBLISH left (BENCHMARKS.md, Publish on 2026-12-07 (session 17)).
 *
 * The worker keeps the page told of what that needs, as it does for calls (page-calls.ts): the
 * subscribers its cache serves for each topic and until when (`subscribers`), which peers are
 * open neighbours, and request ids it reserved. With those, when every subscriber but this tab
 * is an open neighbour the page can send to, the page encodes the payload, signs the publication
 * with this tab's key through WebCrypto (the same bytes and signature the worker would make),
 * notes each acknowledgement it awaits (page-replies.ts), puts the PUBLISHes on the channels one
 * after the other, delivers the message to this tab's own matching subscriptions (after the sends:
 * the app's callbacks need not hold the network up), and then tells the worker on the bytes port
 * (`published`), which accounts for every PUBLISH as its own and runs the rest of the publish as
 * ever: the acknowledgements' timeouts, the count and its counters. The last acknowledgement
 * settles the app's publish here, as before.
 *
 * Whatever the page cannot do the worker's way goes the worker's way: no fresh copy, a topic or
 * payload the worker would refuse (it gives the typed error), no WebCrypto Ed25519, not enough
 * reserved ids, no subscriber it can send to. A subscriber that is not an open neighbour, whose
 * share of the page's budget is spent or whose send is refused, is left to the worker, which sends
 * it the same signed publication (routed where it must); the worker then also settles the publish.
 */

/**
 * What the page sends one neighbour of PUBLISHes itself: the share of the neighbour's publish
 * budget (defence/rate-limit.ts: 200/s, burst 400) the worker leaves when it shapes its own sends
 * to that neighbour (OUTBOUND_SHARE, 80%, with the page's PUBLISHes counted in), so that both
 * together stay within what the neighbour admits. page-publishes.test.ts ties it to those limits.
 */
export const PAGE_PUBLISH_SEND_BUDGET = { perSecond: 40, burst: 80 };

/** Topics whose copy the page keeps; past this the oldest goes first. */
const MAX_COPIES = 256;

/** What the page publishes with: its channels and its port to the worker (frame-pump.ts). */
export interface PublishingHost {
  send(peer: string, frame: Uint8Array): boolean;
  post(m: ToWorker): void;
}

/** How a publish the page started ends: the worker's own publish, or the worker's count of the one the page sent. */
export interface PublishOutcomes {
  viaWorker(): Promise<unknown>;
  sentByPage(): Promise<unknown>;
}

const isTopic = (topic: unknown): topic is string => {
  try {
    checkTopic(topic);
    return true;
  } catch {
    return false;
  }
};

export class PagePublishes {
  private readonly copies = new Map<string, { ids: string[]; until: number }>();
  /** Open neighbours the page sent PUBLISHes to, with what is left of its budget (PAGE_PUBLISH_SEND_BUDGET) and when. */
  private readonly budgets = new Map<string, { tokens: number; at: number }>();
  private web: WebEd25519 | undefined;
  private signer: Promise<AsyncSigner> | undefined;
  private host: PublishingHost | undefined;
  private app: AppCallbacks | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly identity: Pick<Identity, 'secretKey' | 'publicKey' | 'nodeIdHex'>,
    private readonly calls: PageCalls,
    private readonly replies: PageReplies,
    found: Promise<WebEd25519 | undefined>,
  ) {
    void found.then((web) => (this.web = web));
  }

  /** Start publishing from here (until then every publish goes the worker's way). */
  drive(host: PublishingHost, app: AppCallbacks): void {
    this.host = host;
    this.app = app;
  }

  /** What the worker keeps the page told of; true when `m` was for this alone (a `forget` is the calls' too). */
  told(m: FromWorker): boolean {
    switch (m.t) {
      case 'subscribers':
        this.copies.delete(m.topic);
        this.copies.set(m.topic, { ids: m.ids, until: m.until });
        if (this.copies.size > MAX_COPIES) this.copies.delete(this.copies.keys().next().value!);
        return true;
      case 'forget':
        // A node that said it is leaving is dropped from every cached answer, subscribers too (service-registry.ts).
        if (m.service === undefined)
          for (const copy of this.copies.values()) copy.ids = copy.ids.filter((id) => id !== m.peer);
        return false;
      case 'neighbour':
        if (!m.open) this.budgets.delete(m.peer);
        return false;
      default:
        return false;
    }
  }

  /**
   * Publish `payload` on `topic` for the app's publish `token` (run by PageReplies.run) from
   * here when the page can (see the class comment): the promise of the worker's outcome, which
   * the last acknowledgement may settle first. Undefined: the publish goes the worker's way.
   */
  start(token: number, topic: string, payload: unknown, outcomes: PublishOutcomes): Promise<unknown> | undefined {
    const { web, host, app, identity } = this;
    if (web === undefined || host === undefined || app === undefined || !isTopic(topic)) return undefined;
    const now = this.clock.now();
    const copy = this.copies.get(topic);
    if (copy === undefined || now >= copy.until) return undefined;
    const remote = copy.ids.filter((id) => id !== identity.nodeIdHex);
    if (remote.length === 0 || remote.length > MAX_PAGE_PUBLISH) return undefined;
    const bytes = publicationPayload(payload);
    if (bytes === null) return undefined;
    const open = remote.filter((peer) => this.calls.isOpen(peer));
    const rids = this.calls.takeRids(open.length);
    if (open.length === 0 || rids === undefined) return undefined;
    const direct: Array<{ peer: string; rid: number }> = [];
    const rest = remote.filter((peer) => !open.includes(peer));
    for (const peer of open) {
      if (this.spend(peer, now)) direct.push({ peer, rid: rids.pop()! });
      else rest.push(peer);
    }
    for (const rid of rids) this.calls.unused(rid);
    const self = copy.ids.length > remote.length;
    if (direct.length === 0) return undefined;
    return this.send(token, topic, bytes, direct, rest, self, web, host, app, outcomes);
  }

  private async send(
    token: number,
    topic: string,
    payload: Uint8Array,
    direct: Array<{ peer: string; rid: number }>,
    rest: string[],
    self: boolean,
    web: WebEd25519,
    host: PublishingHost,
    app: AppCallbacks,
    outcomes: PublishOutcomes,
  ): Promise<unknown> {
    const mid = this.random.bytes(16);
    const at = this.clock.now();
    const unsigned = { mid, topic, payload, at, publicKey: this.identity.publicKey };
    let publication: Publication;
    try {
      this.signer ??= web.signer(this.identity.secretKey);
      publication = { ...unsigned, signature: await (await this.signer)(publicationSigningBytes(unsigned)) };
    } catch {
      // WebCrypto refused after passing its test: the worker signs as it always could.
      this.signer = undefined;
      for (const { rid } of direct) this.calls.unused(rid);
      return outcomes.viaWorker();
    }
    const until = pageDeadline(at, RPC_TIMEOUT_MS);
    const sent: PublishedByPage['sent'] = [];
    for (const { peer, rid } of direct) {
      const frame = publishFrame(rid, publication);
      const awaits = { token, rid, until, failed: [] };
      // Awaited before the PUBLISH is on the channel: its acknowledgement cannot come first. The channel may keep the frame.
      this.replies.expect(peer, awaits);
      const head = frame.slice(0, REPLY_HEADER_BYTES);
      if (host.send(peer, frame)) sent.push({ peer, rid, head });
      else {
        this.replies.unsent(awaits);
        this.calls.unused(rid);
        rest.push(peer);
      }
    }
    // This tab's own subscriptions, as the worker's receive() would count and deliver them, once the PUBLISHes are out.
    let here = false;
    let took = false;
    if (self) {
      const value = app.changing === 0 ? readValue(payload) : undefined;
      if (value === undefined) rest.push(this.identity.nodeIdHex);
      else {
        here = true;
        const matching: number[] = [];
        for (const [id, pattern] of app.patterns) if (matches(pattern, topic)) matching.push(id);
        took = matching.length > 0;
        if (app.firstTime(toHex(mid)) && took) app.deliverTo(matching, topic, value.value, this.identity.nodeIdHex);
      }
    }
    const { signature } = publication;
    host.post({ t: 'published', token, mid, topic, payload, at, signature, sent, rest, here });
    // Everything went from here: the last acknowledgement settles the app's publish (page-replies.ts).
    if (rest.length === 0) this.replies.planned(token, took ? 1 : 0, sent.length);
    return outcomes.sentByPage();
  }

  /** One PUBLISH more to `peer` within the page's budget to it. */
  private spend(peer: string, now: number): boolean {
    const { perSecond, burst } = PAGE_PUBLISH_SEND_BUDGET;
    let budget = this.budgets.get(peer);
    if (budget === undefined) this.budgets.set(peer, (budget = { tokens: burst, at: now }));
    budget.tokens = Math.min(burst, budget.tokens + ((now - budget.at) * perSecond) / 1000);
    budget.at = now;
    if (budget.tokens < 1) return false;
    budget.tokens--;
    return true;
  }
}
