import { ErrorCode, MeshError } from '../../core/errors.js';
import type { HandlerOutcome } from '../../core/registry/call-reply.js';
import type { ServiceHandler } from '../../core/registry/service-registry.js';
import { capture } from '../api-result.js';
import type { LookupEvent } from '../worker/lookup-subjects.js';
import type { AppBridge } from '../worker/worker-api.js';

/**
 * What the app registered with its peer, kept on the main thread where the app's code
 * runs: service handlers, subscription callbacks and event listeners. The worker reaches
 * them through `bridge` (a Comlink proxy); the worker itself keeps no copy of which
 * services have handlers: it serves what it advertises and asks here, and a service
 * without a handler in this tab answers UNKNOWN_SERVICE.
 */

export type PeerEvent = 'peer:connect' | 'peer:disconnect';
/** The relay link came up (authenticated) or went down; the callback gets the relay's URL. */
export type RelayEvent = 'relay:up' | 'relay:down';
export type SubscriptionCallback = (payload: unknown, info: { topic: string; publisher: string }) => void;

/** Message ids delivered lately, as the worker keeps them (core/registry/pubsub.ts). */
const SEEN_MESSAGES = 4_096;

export class AppCallbacks {
  /** The one record of which services have handlers in this tab. */
  readonly handlers = new Map<string, ServiceHandler>();
  readonly subscriptions = new Map<number, SubscriptionCallback>();
  /** The pattern of each subscription in `subscriptions`: what the page matches a publication it takes itself against. */
  readonly patterns = new Map<number, string>();
  /**
   * Subscribes and unsubscribes under way: meanwhile the worker's subscriptions and these
   * differ, and only the worker says which match (page-publications.ts leaves it the messages).
   */
  changing = 0;
  /** Messages delivered to the app's callbacks, by id: from the worker and from the page, each once. */
  private readonly seen = new Set<string>();
  readonly lookupListeners = new Set<(p: LookupEvent) => void>();
  private readonly peerListeners = new Map<PeerEvent | RelayEvent, Set<(idOrUrl: string) => void>>();

  /** Run the handler of `serviceId`; a service without one in this tab is UNKNOWN_SERVICE. */
  private async runHandler(serviceId: string, args: unknown): Promise<unknown> {
    const handler = this.handlers.get(serviceId);
    if (handler === undefined)
      throw new MeshError(ErrorCode.UNKNOWN_SERVICE, `${serviceId} has no handler in this tab`);
    return handler(args);
  }

  /** Whether this tab has a handler for `serviceId` (page-admissions.ts admits CALLs of those only). */
  has(serviceId: string): boolean {
    return this.handlers.has(serviceId);
  }

  /** A CALL the page answers on its channel itself (frame-pump.ts): how the handler ended, never a rejection. */
  run(serviceId: string, args: unknown): Promise<HandlerOutcome> {
    return this.runHandler(serviceId, args).then(
      (result) => ({ ok: true, result }),
      (error: unknown) => ({ ok: false, error }),
    );
  }

  readonly bridge: AppBridge = {
    invoke: (serviceId, args) => capture(() => this.runHandler(serviceId, args)),
    lookup: (events) => {
      for (const progress of events)
        for (const cb of this.lookupListeners) {
          try {
            cb(progress);
          } catch {
            // The app's listener; the lookup goes on.
          }
        }
    },
    deliver: (ids, topic, payload, publisher, messageId) => {
      if (this.firstTime(messageId)) this.deliverTo(ids, topic, payload, publisher);
    },
  };

  /**
   * Whether message `messageId` is new here (and now seen). The worker delivers each message
   * once, and so does the page, but the same message may reach both: straight from a
   * neighbour (the page takes it) and routed or declined (the worker delivers it).
   */
  firstTime(messageId: string): boolean {
    if (this.seen.has(messageId)) return false;
    this.seen.add(messageId);
    if (this.seen.size > SEEN_MESSAGES) this.seen.delete(this.seen.values().next().value!);
    return true;
  }

  /** Hand a message to the callbacks of subscriptions `ids`. */
  deliverTo(ids: readonly number[], topic: string, payload: unknown, publisher: string): void {
    for (const id of ids) {
      try {
        this.subscriptions.get(id)?.(payload, { topic, publisher });
      } catch {
        // A subscriber callback's failure stays with the app.
      }
    }
  }

  onPeer(event: PeerEvent | RelayEvent, cb: (idOrUrl: string) => void): () => void {
    let set = this.peerListeners.get(event);
    if (set === undefined) this.peerListeners.set(event, (set = new Set()));
    set.add(cb);
    return () => void set.delete(cb);
  }

  emit(event: PeerEvent | RelayEvent, nodeId: string): void {
    for (const cb of this.peerListeners.get(event) ?? []) {
      try {
        cb(nodeId);
      } catch {
        // An app callback's failure is the app's; the mesh goes on.
      }
    }
  }
}
