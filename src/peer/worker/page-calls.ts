import type { Messaging } from '../../core/context.js';
import type { CounterName } from '../../core/counters.js';
import { ErrorCode, type MeshError } from '../../core/errors.js';
import type { Result } from '../api-result.js';
import type { FromWorker } from '../bridge-protocol.js';
import type { ProviderCopy } from './peer-core.js';

/**
 * The worker's side of calls whose first CALL the requester's page sends itself
 * (docs/ARCHITECTURE.md, Threads; the page's side is main/page-calls.ts). The page can only
 * do so with what the worker tells it, and this keeps it told:
 * - the providers a call of each service draws from, as the discovery cache serves them, and
 *   until when it serves the same ones (ProviderCopy, fed by peer-core.ts);
 * - which peers the node holds as open neighbours (a CALL sent straight to one is answered
 *   straight, and its REPLY reaches the node);
 * - request ids for those CALLs, reserved here: each is a request the node's messenger waits
 *   for and nothing answers, so the node never picks it for a request of its own, and a REPLY
 *   that names one before the page used it is counted as unmatched, as any stray one is.
 * Once the page has sent a CALL it says so on the bytes port (`called`), in order with the
 * frames, so its REPLY finds the request waiting; the call's result goes back over Comlink
 * (`WorkerApi.called`), which also gives it the page's timeout and the worker's crash.
 */

/**
 * Request ids the page holds at most; once it holds half of them, it is given as many as it used.
 * A publish the page sends itself takes one per subscriber (page-publishes.ts): 16 leave room
 * for a publish to 8 subscribers with a call beside it, refilled before the next.
 */
export const RESERVED_RIDS = 16;
/** A reservation waits this long, and is renewed while the page holds it. */
const RESERVATION_MS = 10 * 60_000;
/** Services whose last copy is remembered (to send only changes); past this the oldest goes first. */
const MAX_COPIES = 256;

export interface CallsFromPageHost {
  readonly messenger: Pick<Messaging, 'newId' | 'expect' | 'forget'>;
  count(name: CounterName): void;
  post(m: FromWorker): void;
}

export class CallsFromPage implements ProviderCopy {
  /** The host, for the worker's wiring to type its parts by. */
  readonly host: CallsFromPageHost;
  private readonly reserved = new Set<number>();
  /** What the page was last told of each service, to tell it only changes. */
  private readonly told = new Map<string, string>();
  /** Results of calls the page started, until it asks for them (`result`), or its ask waiting for the call. */
  private readonly results = new Map<number, Promise<Result<unknown>>>();
  private readonly asking = new Map<number, (r: Promise<Result<unknown>>) => void>();

  constructor(host: CallsFromPageHost) {
    this.host = host;
  }

  /** Reserve `n` more request ids and hand them to the page. */
  grant(n: number): void {
    const rids: number[] = [];
    for (let i = 0; i < n; i++) {
      const rid = this.host.messenger.newId();
      this.reserved.add(rid);
      this.hold(rid);
      rids.push(rid);
    }
    this.host.post({ t: 'rids', rids });
  }

  /**
   * The page used `rid` for a CALL: true when it was one of its reservations, which ends here.
   * Ids are handed back in batches (one message for several calls), before the page runs out.
   */
  take(rid: number): boolean {
    if (!this.reserved.delete(rid)) return false;
    this.host.messenger.forget(rid);
    if (this.reserved.size <= RESERVED_RIDS / 2) this.grant(RESERVED_RIDS - this.reserved.size);
    return true;
  }

  /** Call `token` the page started runs here: `result` hands its outcome over. */
  started(token: number, result: Promise<Result<unknown>>): void {
    const asked = this.asking.get(token);
    if (asked === undefined) this.results.set(token, result);
    else {
      this.asking.delete(token);
      asked(result);
    }
  }

  /** The outcome of call `token`; the page asks right after its notice, which may not have come in yet. */
  result(token: number): Promise<Result<unknown>> {
    const result = this.results.get(token);
    if (result !== undefined) {
      this.results.delete(token);
      return result;
    }
    return new Promise((resolve) => this.asking.set(token, (r) => void r.then(resolve)));
  }

  neighbour(peer: string, open: boolean): void {
    this.host.post({ t: 'neighbour', peer, open });
  }

  cached(serviceId: string, providers: readonly string[], until: number): void {
    const said = `${until} ${providers.join(' ')}`;
    if (this.told.get(serviceId) === said) return;
    this.told.delete(serviceId);
    this.told.set(serviceId, said);
    if (this.told.size > MAX_COPIES) this.told.delete(this.told.keys().next().value!);
    this.host.post({ t: 'providers', service: serviceId, ids: [...providers], until });
  }

  forgot(nodeId: string, serviceId?: string): void {
    this.host.post(
      serviceId === undefined ? { t: 'forget', peer: nodeId } : { t: 'forget', peer: nodeId, service: serviceId },
    );
  }

  /** Keep `rid` waiting in the messenger while the page holds it (see the class comment). */
  private hold(rid: number): void {
    this.host.messenger.expect(
      rid,
      RESERVATION_MS,
      () => {
        // A reply naming an id nobody sent yet: a stray, as the messenger would count it.
        this.host.count('replies.unmatched');
        if (this.reserved.has(rid)) this.hold(rid);
      },
      (e: MeshError) => {
        if (e.code === ErrorCode.TIMEOUT && this.reserved.has(rid)) this.hold(rid);
        else this.reserved.delete(rid);
      },
    );
  }
}
