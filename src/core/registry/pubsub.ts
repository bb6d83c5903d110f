import { RPC_TIMEOUT_MS } from '../constants.js';
import type { Lookups, Messaging, NodeBasics, ReplyTo } from '../context.js';
import { ErrorCode, isMeshError, MeshError } from '../errors.js';
import { toHex } from '../id.js';
import type { AsyncSigner, Identity } from '../identity.js';
import { decodeValue, encodeValue } from '../wire/codec.js';
import type { Message, PublishMsg } from '../wire/messages.js';
import { toProviderInfo } from '../records/records.js';
import { checkPublication, signPublication, signPublicationWith, type Publication } from './publication.js';
import { checkPayload } from './rpc.js';
import type { ProviderInfo, ServiceRegistry } from './service-registry.js';
import { checkPattern, checkTopic, matches, publishKeys } from './topics.js';
import { acknowledged } from './call-answer.js';

/**
 * Topic subscriptions and publishing over the DHT (keying in topics.ts). Subscribers are
 * found through signed subscriber records, cached briefly; a message goes to each
 * subscriber node over the open channels (routed where no direct channel exists) and is
 * acknowledged, so publish() can say how many received it. A message is signed by its
 * publisher (publication.ts); receivers drop and count one that is stale or does not
 * verify, then duplicates by message id.
 */

/** macula's gateway caches subscribers for 5 s. */
export const SUBSCRIBER_CACHE_TTL_S = 5;
const SEEN_MESSAGES = 4_096;

/** What pub/sub uses of the node (a DhtNode is one): subscriber lookups, messages out, acknowledgements back. */
export interface PubSubHost extends NodeBasics, Pick<Lookups, 'findValue'> {
  readonly messenger: Pick<Messaging, 'newId' | 'queryPeer' | 'reply' | 'sendFrame' | 'wait'>;
  /** The open channels: a PUBLISH the page sent (publishedByPage) can only be acknowledged over one of them. */
  readonly neighbours: { has(peer: string): boolean };
  /** Signs what this node publishes. */
  readonly identity: Pick<Identity, 'publicKey' | 'secretKey'>;
  /** Signs off the thread when given (DhtNodeOptions.signer); otherwise signing is synchronous. */
  readonly signer?: AsyncSigner | undefined;
}

export interface SubscriptionSink {
  /** Hand a message (its id in hex: `messageId`) to the app's callbacks for these subscriptions. */
  deliver(subscriptionIds: number[], topic: string, payload: unknown, publisher: string, messageId: string): void;
}

/**
 * Where a PUBLISH straight from a neighbour may have been taken before this node saw it: by
 * the page, beside the channels, which checked its signature, delivered it and put the
 * acknowledgement on the channel (docs/ARCHITECTURE.md, Threads). Asked as the PUBLISH is
 * handled here: the acknowledgement's REPLY header when the page took it (this node then
 * accounts for the message and the REPLY, and neither delivers nor verifies it again; an empty
 * header when the channel closed before the REPLY could go), else undefined.
 */
export type TakenOnPage = (peer: string) => Uint8Array | undefined;

/**
 * Told of the PUBLISHes a publish sends, by whoever can count their acknowledgements sooner
 * than this node (the page, beside the channels: docs/ARCHITECTURE.md, Threads). The count
 * this node makes stays the reference: timeouts and failures are still counted here.
 */
export interface PublishWatch {
  /** PUBLISH `rid` is about to go to `subscriber`; this node waits `timeoutMs` for its acknowledgement. */
  sending(rid: number, subscriber: string, timeoutMs: number): void;
  /** Every PUBLISH is out: `delivered` took it here already (this node's own subscriptions), `sent` went to others. */
  sent(delivered: number, sent: number): void;
}

/**
 * Told of the subscribers the cache serves for a topic, and until when it serves the same
 * ones (ServiceRegistry.subscribersCachedUntil), each time a publish or a discovery reads them:
 * the page keeps a copy to publish from itself (worker/page-publishes.ts).
 */
export interface SubscriberCopy {
  cachedSubscribers(topic: string, subscribers: readonly string[], until: number): void;
}

/** A PUBLISH the page signed and put on a neighbour's channel itself (publishedByPage): to whom, its id, its header. */
export interface PagePublish {
  readonly peer: string;
  readonly rid: number;
  readonly head: Uint8Array;
}

export interface SubscriberAdvertiser {
  subscribe(pattern: string): Promise<void>;
  unsubscribe(pattern: string): Promise<void>;
}

export class PubSub {
  private readonly subscriptions = new Map<number, string>();
  private readonly seen = new Set<string>();
  private nextId = 1;

  constructor(
    private readonly node: PubSubHost,
    private readonly registry: ServiceRegistry,
    private readonly sink: SubscriptionSink,
    private readonly advertiser: SubscriberAdvertiser,
    private readonly takenOnPage?: TakenOnPage,
    private readonly copy?: SubscriberCopy,
  ) {}

  async subscribe(pattern: string): Promise<number> {
    checkPattern(pattern);
    const id = this.nextId++;
    const first = ![...this.subscriptions.values()].includes(pattern);
    this.subscriptions.set(id, pattern);
    if (first) {
      try {
        await this.advertiser.subscribe(pattern);
      } catch (e) {
        this.subscriptions.delete(id);
        throw e;
      }
    }
    return id;
  }

  /** Drop one subscription; the DHT record goes when the last subscription to its pattern does. */
  async unsubscribe(id: number): Promise<void> {
    const pattern = this.subscriptions.get(id);
    if (pattern === undefined) return;
    this.subscriptions.delete(id);
    if (![...this.subscriptions.values()].includes(pattern)) await this.advertiser.unsubscribe(pattern);
  }

  /** Subscriber nodes whose patterns match `topic`, from the cache or from the DHT. */
  async discoverSubscribers(topic: string, opts: { forceRefresh?: boolean } = {}): Promise<ProviderInfo[]> {
    checkTopic(topic);
    const cached = this.registry.discoverSubscribers(topic, opts);
    if (cached.ok) {
      this.copied(topic, cached.providers);
      return cached.providers;
    }
    const { node } = this;
    const lookups = await Promise.all(publishKeys(topic).map((key) => node.findValue(key, 'subscriber')));
    const byNode = new Map<string, ProviderInfo>();
    for (const result of lookups) {
      for (const record of result.records) {
        const pattern = record.metadata['pattern'];
        if (typeof pattern !== 'string' || !matches(pattern, topic)) continue;
        const info = toProviderInfo(record);
        const current = byNode.get(info.nodeId);
        if (current === undefined || info.advertisedAt > current.advertisedAt) byNode.set(info.nodeId, info);
      }
    }
    const subscribers = [...byNode.values()];
    this.registry.cacheSubscribers(topic, subscribers, SUBSCRIBER_CACHE_TTL_S);
    this.copied(topic, subscribers);
    return subscribers;
  }

  /** The page's copy of what the cache serves for `topic` (SubscriberCopy). */
  private copied(topic: string, subscribers: readonly ProviderInfo[]): void {
    const until = this.copy === undefined ? undefined : this.registry.subscribersCachedUntil(topic);
    if (until !== undefined)
      this.copy!.cachedSubscribers(
        topic,
        subscribers.map((s) => s.nodeId),
        until,
      );
  }

  /** Deliver to every matching subscriber; resolves with how many subscriber nodes took it. */
  async publish(topic: string, payload: unknown, timeoutMs = RPC_TIMEOUT_MS, watch?: PublishWatch): Promise<number> {
    checkTopic(topic);
    checkPayload(payload, 'payload');
    const { node } = this;
    const subscribers = await this.discoverSubscribers(topic);
    const mid = node.random.bytes(16);
    node.count('pubsub.published');
    // Signed once (when anyone else subscribes); every subscriber gets the same bytes and signature.
    const fields = { mid, topic, payload: encodeValue(payload), at: node.clock.now() };
    const publication = !subscribers.some((s) => s.nodeId !== node.selfHex)
      ? undefined
      : node.signer !== undefined
        ? await signPublicationWith(node.signer, node.identity.publicKey, fields)
        : signPublication(node.identity, fields);
    let here = 0;
    let out = 0;
    const pending = subscribers.map(async (s) => {
      if (s.nodeId === node.selfHex || publication === undefined) {
        const took = this.receive(mid, topic, payload, node.selfHex) > 0;
        if (took) here++;
        return took;
      }
      out++;
      return this.sendTo(s.nodeId, publication, timeoutMs, watch);
    });
    // Each of them ran up to its first wait: every PUBLISH is out, and this node's own subscriptions have it.
    watch?.sent(here, out);
    return this.delivered(pending);
  }

  /**
   * A publish whose PUBLISHes the page signed and put on its neighbours' channels itself
   * (`sent`, at `sentAt` on this clock), from the subscribers this node's cache served it
   * (SubscriberCopy; docs/ARCHITECTURE.md, Threads). Each is accounted for as this node's own
   * (`messages.out`, the neighbour's outgoing budget) and its acknowledgement awaited for what
   * is left of `timeoutMs`; `rest` are the subscribers the page left to this node (not an open
   * neighbour there, a send refused; this node itself when the page could not deliver here),
   * sent the same publication as publish() would; `here`: the page delivered it to this tab's
   * own subscriptions, which this node only remembers and counts. Resolves as publish() does.
   */
  publishedByPage(
    publication: Publication,
    sent: readonly PagePublish[],
    rest: readonly string[],
    here: boolean,
    sentAt: number,
    timeoutMs = RPC_TIMEOUT_MS,
  ): Promise<number> {
    const { node } = this;
    node.count('pubsub.published');
    node.count('pubsub.sentOnPage', sent.length);
    const { mid, topic } = publication;
    const pending: Array<Promise<boolean>> = [];
    if (here) pending.push(Promise.resolve(this.receive(mid, topic, undefined, node.selfHex, false) > 0));
    const left = Math.max(1, sentAt + timeoutMs - node.clock.now());
    for (const { peer, rid, head } of sent) {
      const open = node.neighbours.has(peer);
      if (open) node.messenger.sendFrame(peer, head);
      const reply = open
        ? node.messenger.wait(rid, left, peer)
        : Promise.reject(new MeshError(ErrorCode.NOT_CONNECTED, 'the channel closed before the acknowledgement'));
      pending.push(this.acknowledgement(reply));
    }
    for (const peer of rest) {
      if (peer !== node.selfHex) pending.push(this.sendTo(peer, publication, timeoutMs));
      else {
        const payload = decodeValue(publication.payload);
        pending.push(Promise.resolve(payload.ok && this.receive(mid, topic, payload.value, node.selfHex) > 0));
      }
    }
    return this.delivered(pending);
  }

  /** One PUBLISH to `subscriber`, straight or routed: whether it took the message. */
  private sendTo(
    subscriber: string,
    publication: Publication,
    timeoutMs: number,
    watch?: PublishWatch,
  ): Promise<boolean> {
    const { node } = this;
    try {
      const rid = node.messenger.newId();
      watch?.sending(rid, subscriber, timeoutMs);
      return this.acknowledgement(node.messenger.queryPeer(subscriber, 'PUBLISH', { rid, ...publication }, timeoutMs));
    } catch (e) {
      return this.acknowledgement(Promise.reject(e));
    }
  }

  /** Whether an acknowledgement says the subscriber took the message; a vanished subscriber costs only its own delivery. */
  private async acknowledgement(reply: Promise<{ reply: Message }>): Promise<boolean> {
    try {
      const { reply: r } = await reply;
      return r.type === 'REPLY' && acknowledged(r.body);
    } catch (e) {
      this.node.count(`pubsub.undelivered.${isMeshError(e) ? e.code : 'ERROR'}`);
      return false;
    }
  }

  /** How many subscriber nodes took the message, once every delivery has ended; counted. */
  private async delivered(pending: Array<Promise<boolean>>): Promise<number> {
    const results = await Promise.all(pending);
    const delivered = results.filter(Boolean).length;
    this.node.count('pubsub.deliveries', delivered);
    return delivered;
  }

  /**
   * Receiver side of PUBLISH: a message that is stale or does not verify reaches no
   * subscription; it is counted, and refused with the reason so an honest publisher with a
   * wrong clock does not wait for its timeout.
   */
  handlePublish(msg: PublishMsg, replyTo: ReplyTo): void {
    const { node } = this;
    const head = replyTo.kind === 'direct' ? this.takenOnPage?.(replyTo.peer) : undefined;
    if (head !== undefined && replyTo.kind === 'direct') {
      // The page verified, delivered and acknowledged it: what is left is the bookkeeping.
      node.count('pubsub.takenOnPage');
      this.receive(msg.mid, msg.topic, undefined, '', false);
      // An empty header: the page's channel had closed before the acknowledgement could go.
      if (head.length > 0) node.messenger.sendFrame(replyTo.peer, head);
      return;
    }
    const check = checkPublication(msg, node.clock.now(), node.verify);
    if (!check.ok) {
      node.count('pubsub.refused');
      node.count(`pubsub.refused.${check.code}`);
      node.messenger.reply(replyTo, 'REPLY', {
        rid: msg.rid,
        ok: false,
        code: check.code,
        message: 'publication refused',
      });
      return;
    }
    const matched = this.receive(msg.mid, msg.topic, check.payload, check.publisher);
    node.messenger.reply(replyTo, 'REPLY', { rid: msg.rid, ok: true, result: matched });
  }

  get localPatterns(): string[] {
    return [...new Set(this.subscriptions.values())];
  }

  /**
   * Hand a message to the matching local subscriptions once; returns how many matched.
   * `deliver` false: the page delivered it already (TakenOnPage); it is counted and remembered only.
   */
  private receive(mid: Uint8Array, topic: string, payload: unknown, publisher: string, deliver = true): number {
    const id = toHex(mid);
    const matching = [...this.subscriptions].filter(([, pattern]) => matches(pattern, topic)).map(([sid]) => sid);
    if (this.seen.has(id)) {
      this.node.count('pubsub.duplicates');
      return matching.length;
    }
    this.seen.add(id);
    if (this.seen.size > SEEN_MESSAGES) this.seen.delete(this.seen.values().next().value!);
    if (matching.length > 0) {
      this.node.count('pubsub.received');
      if (deliver) this.sink.deliver(matching, topic, payload, publisher, id);
    }
    return matching.length;
  }
}
