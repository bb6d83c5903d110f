import * as Comlink from 'comlink';
import { ErrorCode, MeshError } from '../../core/errors.js';
import { unwrap, type Result } from '../api-result.js';
import type { WorkerApi } from '../worker/worker-api.js';
import { workerCallDeadlineMs } from './worker-deadline.js';

/**
 * A Web Worker, or what stands in for one (Node runs the worker's API behind a MessagePort).
 * Spelt out rather than extending Comlink's Endpoint: this type reaches the package's
 * declarations, and an app must not need Comlink's types (it is inlined, not a dependency).
 */
export interface WorkerLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
  start?(): void;
  terminate(): void;
}

type Api = {
  [K in keyof WorkerApi]: WorkerApi[K] extends (...a: infer A) => Promise<Result<infer R>>
    ? (...a: A) => Promise<R>
    : never;
};

/**
 * The main thread's handle on the worker. Comlink calls never time out and lose error
 * codes (docs/ARCHITECTURE.md, Threads), so every call here gets a timeout (the operation's own deadline
 * plus a margin, worker-deadline.ts), failed Results become
 * MeshErrors again, and a worker that crashes rejects everything pending with
 * WORKER_CRASHED instead of leaving promises hanging forever.
 *
 * An uncaught error in the worker is not its death: an error thrown by a timer or an event
 * handler leaves the worker running, so once the worker has started (`started()`) such an
 * error is counted (`errors`), logged, and reported to `onUncaught`, whose job is to find
 * out whether the worker still answers (worker-watch.ts); `crash` ends it when it does not.
 * Before that, an error is fatal: a worker that throws while its script loads or its node
 * starts has not started, and the peer fails to start with it.
 */
export class WorkerClient {
  private readonly remote: Comlink.Remote<WorkerApi>;
  private readonly pending = new Set<(e: MeshError) => void>();
  private dead: MeshError | undefined;
  private running = false;
  /** Uncaught errors the worker survived (stats(): `worker.errors`). */
  errors = 0;
  /** Told of each uncaught error the worker threw after it started. */
  onUncaught: (message: string) => void = () => undefined;
  readonly api: Api;

  constructor(
    private readonly worker: WorkerLike,
    private readonly deadlineMs: (name: string, args: readonly unknown[]) => number = workerCallDeadlineMs,
  ) {
    this.remote = Comlink.wrap<WorkerApi>(worker);
    worker.addEventListener('error', (event) => {
      event.preventDefault?.();
      const message = (event as ErrorEvent).message || 'unknown error';
      if (!this.running) {
        this.fail(new MeshError(ErrorCode.WORKER_CRASHED, `DHT worker crashed while starting: ${message}`));
        return;
      }
      this.errors++;
      console.warn(`macula-web: uncaught error in the DHT worker (counted in worker.errors): ${message}`);
      this.onUncaught(message);
    });
    worker.addEventListener('messageerror', () =>
      this.fail(new MeshError(ErrorCode.WORKER_CRASHED, 'DHT worker sent an unreadable message')),
    );
    this.api = new Proxy({} as Api, {
      get:
        (_t, name: string) =>
        (...args: unknown[]) =>
          this.call(name, args),
    });
  }

  /** Transfer-aware call for init (the bridge port must be transferred). */
  callTransfer<T>(name: keyof WorkerApi, args: unknown[], transfer: Transferable[]): Promise<T> {
    const last = args.length - 1;
    const withTransfer = args.map((a, i) => (i === last ? Comlink.transfer(a, transfer) : a));
    return this.call<T>(name, withTransfer);
  }

  /** The worker started: from now on an uncaught error in it is counted, not fatal (see the class comment). */
  started(): void {
    this.running = true;
  }

  /** The reason calls fail with, once the worker is dead or terminated. */
  get failure(): MeshError | undefined {
    return this.dead;
  }

  terminate(reason: MeshError): void {
    this.fail(reason);
    this.worker.terminate();
  }

  private call<T>(name: string, args: unknown[]): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const timeoutMs = this.deadlineMs(name, args);
    return new Promise<T>((resolve, reject) => {
      const settleError = (e: MeshError): void => {
        clearTimeout(timer);
        this.pending.delete(settleError);
        reject(e);
      };
      const timer = setTimeout(
        () => settleError(new MeshError(ErrorCode.TIMEOUT, `worker call ${name} took longer than ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.pending.add(settleError);
      const method = (this.remote as unknown as Record<string, (...a: unknown[]) => Promise<Result<T>>>)[name]!;
      method(...args).then(
        (result) => {
          if (!this.pending.has(settleError)) return;
          clearTimeout(timer);
          this.pending.delete(settleError);
          try {
            resolve(unwrap(result));
          } catch (e) {
            reject(e);
          }
        },
        (e: unknown) => settleError(sendFailure(name, e)),
      );
    });
  }

  private fail(error: MeshError): void {
    this.dead ??= error;
    for (const reject of [...this.pending]) reject(error);
    this.pending.clear();
  }
}

/**
 * Why a call did not reach the worker. A value structured cloning cannot copy (a function,
 * a symbol, a DOM node) throws DataCloneError in postMessage, before anything is sent: that
 * is the app's argument, not a dead worker.
 */
function sendFailure(name: string, e: unknown): MeshError {
  const message = (e as Error)?.message ?? String(e);
  if ((e as { name?: unknown })?.name === 'DataCloneError') {
    return new MeshError(
      ErrorCode.INVALID_ARGUMENT,
      `${name}: an argument cannot be copied to the worker (plain data only: no functions, symbols or DOM nodes): ${message}`,
      { argument: 'args' },
    );
  }
  return new MeshError(ErrorCode.WORKER_CRASHED, `worker call ${name} failed: ${message}`);
}
