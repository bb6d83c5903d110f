import type { CounterName } from '../../core/counters.js';
import { ErrorCode, MeshError } from '../../core/errors.js';
import type { PagePublish, SubscriberCopy } from '../../core/registry/pubsub.js';
import type { Publication } from '../../core/registry/publication.js';
import { capture, type Result } from '../api-result.js';
import type { FromWorker, PublishedByPage } from '../bridge-protocol.js';

/**
 * The worker's side of publishes whose PUBLISHes the publisher's page signs and sends itself
 * (docs/ARCHITECTURE.md, Threads; the page's side is main/page-publishes.ts). The page can only
 * do so with what the worker tells it, and this keeps it told of the subscribers the cache
 * serves for each topic published or discovered, and until when it serves the same ones
 * (SubscriberCopy, fed by pubsub.ts); which peers are open neighbours and the request ids
 * reserved for the page are those calls use (page-calls.ts).
 *
 * Once the page has put the PUBLISHes on the channels it says so on the bytes port
 * (`published`), in order with the frames, so each acknowledgement finds its request waiting;
 * the worker then takes over the publish as if it had sent them (pubsub.ts, publishedByPage):
 * their accounting, the acknowledgements' timeouts, the subscribers the page left to it, the
 * count and its counters. The outcome goes back over Comlink (`WorkerApi.called`), or null
 * when the page counted the acknowledgements and settled the app's publish first.
 */

/** Topics whose last copy is remembered (to send only changes); past this the oldest goes first. */
const MAX_COPIES = 256;

export interface PublishesFromPageHost {
  /** This node's public key: the page signs with the same identity. */
  readonly publicKey: Uint8Array;
  post(m: FromWorker): void;
  count(name: CounterName): void;
  /** The page used reserved request id `rid` (page-calls.ts, CallsFromPage.take): false when it was not one. */
  take(rid: number): boolean;
  /** A header the page put on a channel: passed to the node's transport, it is accounted for and not posted (frame-port.ts). */
  onTheChannel(head: Uint8Array): Uint8Array;
  /** Watch publish `token` for the page settling it (page-answers.ts): `end` says whether it did. */
  watch(token: number): { end: () => boolean };
  run(publication: Publication, sent: PagePublish[], rest: string[], here: boolean, sentAt: number): Promise<number>;
  /** Publish `token`'s outcome, for the page's `called(token)` (page-calls.ts, CallsFromPage.started). */
  started(token: number, result: Promise<Result<unknown>>): void;
}

export class PublishesFromPage implements SubscriberCopy {
  /** What the page was last told of each topic, to tell it only changes. */
  private readonly told = new Map<string, string>();

  constructor(private readonly host: PublishesFromPageHost) {}

  cachedSubscribers(topic: string, subscribers: readonly string[], until: number): void {
    const said = `${until} ${subscribers.join(' ')}`;
    if (this.told.get(topic) === said) return;
    this.told.delete(topic);
    this.told.set(topic, said);
    if (this.told.size > MAX_COPIES) this.told.delete(this.told.keys().next().value!);
    this.host.post({ t: 'subscribers', topic, ids: [...subscribers], until });
  }

  /** The page sent publish `m.token`'s PUBLISHes: run the rest of it here (see the class comment). */
  published(m: PublishedByPage): void {
    const { host } = this;
    // Every id is taken, so none stays reserved; one the worker never gave is our own bug, and fails the publish.
    const reserved = m.sent.map((s) => host.take(s.rid)).every(Boolean);
    if (!reserved) {
      host.count('bridge.malformed');
      host.started(
        m.token,
        capture(() => {
          throw new MeshError(ErrorCode.MALFORMED, 'the page sent a PUBLISH the worker did not give it an id for');
        }),
      );
      return;
    }
    const { mid, topic, payload, at, signature } = m;
    const publication: Publication = { mid, topic, payload, at, publicKey: host.publicKey, signature };
    const sent = m.sent.map(({ peer, rid, head }) => ({ peer, rid, head: host.onTheChannel(head) }));
    const { end } = host.watch(m.token);
    host.started(
      m.token,
      capture(() => host.run(publication, sent, m.rest, m.here, at)).then((result) =>
        end() ? { ok: true, value: null } : result,
      ),
    );
  }
}
