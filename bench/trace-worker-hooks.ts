/// <reference lib="webworker" />
/**
 * The worker's half of `npm run bench:trace`'s hooks (the page's half is trace-hooks.ts). A
 * page cannot see into its worker, so with `?trace=1` the benchmark page starts the DHT worker
 * from bench/trace-worker.ts, which installs these hooks before the product's worker starts: it notes
 * what crosses the worker's boundaries and what the worker asks of WebCrypto, on the clock the
 * pages share (performance.timeOrigin + performance.now()):
 *
 * - `w<` / `w<end`: a message delivered to one of the worker's handlers (the bytes port, the
 *   Comlink endpoint), and when that handler returned: the task's synchronous work;
 * - `w>`: a message the worker posts (to the page's port or over Comlink);
 * - `crypto(` / `crypto)`: a WebCrypto call (verify, sign, importKey) made, and its promise
 *   settled in the worker (the task in which the answer came back).
 *
 * The benchmark script reads the notes with Playwright (`worker.evaluate`). The product's
 * worker carries none of this: it is loaded only behind this module, in traced runs.
 */

export interface WorkerTraceEvent {
  t: number;
  ev: 'w<' | 'w<end' | 'w>' | 'crypto(' | 'crypto)';
  /** The bridge message's type (`frame:<n>B`, `send:<n>B`), the Comlink call's path, or the WebCrypto method. */
  tag: string;
  /** For frames: the message type byte of the frame (core/wire/messages.ts, MessageType). */
  kind?: number;
  /** For WebCrypto: which call this is (`crypto(` and `crypto)` of one call share it). */
  call?: number;
}

const events: WorkerTraceEvent[] = [];
let recording = false;
let calls = 0;
const wallNow = (): number => performance.timeOrigin + performance.now();

function describe(data: unknown): { tag: string; kind?: number } {
  if (typeof data !== 'object' || data === null) return { tag: String(data) };
  const m = data as { t?: unknown; type?: unknown; path?: unknown; frame?: unknown };
  if (typeof m.t === 'string') {
    if (!(m.frame instanceof Uint8Array)) return { tag: m.t };
    return { tag: `${m.t}:${m.frame.length}B`, ...(m.frame.length > 1 ? { kind: m.frame[1]! } : {}) };
  }
  if (typeof m.type === 'string') return { tag: Array.isArray(m.path) ? `${m.type}:${m.path.join('.')}` : m.type };
  return { tag: 'object' };
}

function note(ev: WorkerTraceEvent['ev'], data: unknown): void {
  if (recording) events.push({ t: wallNow(), ev, ...describe(data) });
}

/** A handler that notes its message, runs, and notes when it returned. */
function noted(fn: (this: unknown, e: MessageEvent) => unknown) {
  return function (this: unknown, e: MessageEvent): unknown {
    note('w<', e.data);
    try {
      return fn.call(this, e);
    } finally {
      note('w<end', e.data);
    }
  };
}

function hookOnmessage(proto: object): void {
  const d = Object.getOwnPropertyDescriptor(proto, 'onmessage');
  if (d?.set === undefined || d.get === undefined) return;
  const { get, set } = d;
  Object.defineProperty(proto, 'onmessage', {
    configurable: true,
    enumerable: d.enumerable ?? true,
    get,
    set(this: EventTarget, fn: ((e: MessageEvent) => unknown) | null) {
      set.call(this, typeof fn === 'function' ? noted(fn) : fn);
    },
  });
}

function hookListeners(target: EventTarget): void {
  const add = target.addEventListener;
  target.addEventListener = function (
    this: EventTarget,
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ) {
    if (type !== 'message' || typeof listener !== 'function') return add.call(this, type, listener, options);
    return add.call(this, type, noted(listener as (e: MessageEvent) => unknown) as EventListener, options);
  };
}

function hookPost(proto: { postMessage: (...a: never[]) => unknown }): void {
  const original = proto.postMessage as (...a: unknown[]) => unknown;
  (proto as { postMessage: (...a: unknown[]) => unknown }).postMessage = function (this: unknown, ...args: unknown[]) {
    note('w>', args[0]);
    return original.apply(this, args);
  };
}

function hookCrypto(method: 'verify' | 'sign' | 'importKey'): void {
  const proto = SubtleCrypto.prototype as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  const original = proto[method]!;
  proto[method] = function (this: SubtleCrypto, ...args: unknown[]) {
    const call = ++calls;
    if (recording) events.push({ t: wallNow(), ev: 'crypto(', tag: method, call });
    const p = original.apply(this, args);
    // Attached before the caller's own continuation: it runs first, in the task the answer came in.
    p.then(
      () => recording && events.push({ t: wallNow(), ev: 'crypto)', tag: method, call }),
      () => recording && events.push({ t: wallNow(), ev: 'crypto)', tag: `${method}!`, call }),
    );
    return p;
  };
}

const api = {
  start(): void {
    events.length = 0;
    recording = true;
  },
  stop(): WorkerTraceEvent[] {
    recording = false;
    return events.splice(0);
  },
};

/** Hook the worker's boundaries (before the worker's own code sets its handlers) and expose `__workerTrace`. */
export function installWorkerTrace(): void {
  hookOnmessage(MessagePort.prototype);
  hookListeners(MessagePort.prototype);
  hookListeners(self);
  hookPost(MessagePort.prototype);
  hookPost(DedicatedWorkerGlobalScope.prototype);
  for (const m of ['verify', 'sign', 'importKey'] as const) hookCrypto(m);
  (globalThis as unknown as { __workerTrace: typeof api }).__workerTrace = api;
}
