/**
 * Hooks for `npm run bench:trace` (bench/browser-trace.ts): with `?trace=1` in its address, a
 * benchmark page notes every message that crosses one of its boundaries, as it crosses, on a
 * clock all pages of the machine share (performance.timeOrigin + performance.now()):
 *
 * - `api>` / `api<`: the Comlink API calls between the main thread and the DHT worker (the
 *   worker object itself carries them);
 * - `port>` / `port<`: the MessagePorts: the bytes bridge (frames, channel events) and the
 *   worker's calls back into the page (a CALL's handler, subscription deliveries);
 * - `dc>` / `dc<`: RTCDataChannel messages, sent and received; `dc>end`: the send call returned;
 * - `app>` / `app<`: the app called the operation being timed, and its promise settled (the
 *   benchmark page notes both: the page may send a call's CALL before any Comlink call, and
 *   settle it from its REPLY before the worker's Comlink answer comes);
 * - `crypto(` / `crypto)`: a WebCrypto verify or sign the page asked for, and its answer in the page.
 *
 * Only the main thread can be hooked from the page: what the worker does shows as the time
 * between a message posted to it and the next one it posts back. Without `?trace=1` nothing
 * is patched, so the figures of `npm run bench:browser` are never measured through a hook.
 */

export interface TraceEvent {
  /** Milliseconds on the shared clock. */
  t: number;
  ev: 'api>' | 'api<' | 'port>' | 'port<' | 'dc>' | 'dc>end' | 'dc<' | 'app>' | 'app<' | 'crypto(' | 'crypto)';
  /** What crossed: the bridge message's type, the Comlink call's path, or the frame's length. */
  tag: string;
  /** For `dc` events: the channel's label, the same at both of its ends. */
  channel?: string;
}

const events: TraceEvent[] = [];
let recording = false;

const wallNow = (): number => performance.timeOrigin + performance.now();

function describe(data: unknown): string {
  if (data instanceof ArrayBuffer) return `${data.byteLength}B`;
  if (ArrayBuffer.isView(data)) return `${data.byteLength}B`;
  if (typeof data === 'string') return `${data.length}ch`;
  if (typeof data !== 'object' || data === null) return String(data);
  const m = data as { t?: unknown; type?: unknown; path?: unknown; frame?: unknown };
  if (typeof m.t === 'string') return m.frame instanceof Uint8Array ? `${m.t}:${m.frame.length}B` : m.t;
  if (typeof m.type === 'string') return Array.isArray(m.path) ? `${m.type}:${m.path.join('.')}` : m.type;
  return 'object';
}

function note(ev: TraceEvent['ev'], data: unknown, target: unknown): void {
  if (!recording) return;
  const t = wallNow();
  const e: TraceEvent = { t, ev, tag: describe(data) };
  if (target instanceof RTCDataChannel) e.channel = target.label;
  events.push(e);
}

/** Wrap the `onmessage` setter of `proto` so every handler notes its message first. */
function hookOnmessage(proto: object, ev: TraceEvent['ev']): void {
  const d = Object.getOwnPropertyDescriptor(proto, 'onmessage');
  if (d?.set === undefined || d.get === undefined) return;
  const { get, set } = d;
  Object.defineProperty(proto, 'onmessage', {
    configurable: true,
    enumerable: d.enumerable ?? true,
    get,
    set(this: EventTarget, fn: ((e: MessageEvent) => unknown) | null) {
      set.call(
        this,
        typeof fn === 'function'
          ? function (this: unknown, e: MessageEvent) {
              note(ev, e.data, this);
              return fn.call(this, e);
            }
          : fn,
      );
    },
  });
}

/** Note `message` events delivered to listeners added with addEventListener on `proto`'s objects. */
function hookListeners(proto: EventTarget, ev: TraceEvent['ev']): void {
  const add = proto.addEventListener;
  proto.addEventListener = function (
    this: EventTarget,
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ) {
    if (type !== 'message' || typeof listener !== 'function') return add.call(this, type, listener, options);
    const wrapped = (e: Event): void => {
      note(ev, (e as MessageEvent).data, this);
      listener.call(this, e);
    };
    return add.call(this, type, wrapped, options);
  };
}

function hookSend<T extends { prototype: object }>(cls: T, method: 'postMessage' | 'send', ev: TraceEvent['ev']): void {
  const proto = cls.prototype as Record<string, (...a: unknown[]) => unknown>;
  const original = proto[method]!;
  proto[method] = function (this: unknown, ...args: unknown[]) {
    note(ev, args[0], this);
    try {
      return original.apply(this, args);
    } finally {
      if (ev === 'dc>') note('dc>end', args[0], this);
    }
  };
}

/** Note each WebCrypto `method` call and when its answer is in (before the caller's own continuation). */
function hookCrypto(method: 'verify' | 'sign'): void {
  const proto = SubtleCrypto.prototype as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  const original = proto[method]!;
  proto[method] = function (this: SubtleCrypto, ...args: unknown[]) {
    note('crypto(', method, undefined);
    const p = original.apply(this, args);
    p.then(
      () => note('crypto)', method, undefined),
      () => note('crypto)', `${method}!`, undefined),
    );
    return p;
  };
}

export const tracing = new URLSearchParams(location.search).get('trace') === '1';

if (tracing) {
  hookSend(Worker, 'postMessage', 'api>');
  hookListeners(Worker.prototype, 'api<');
  hookSend(MessagePort, 'postMessage', 'port>');
  hookOnmessage(MessagePort.prototype, 'port<');
  hookListeners(MessagePort.prototype, 'port<');
  hookSend(RTCDataChannel, 'send', 'dc>');
  hookOnmessage(RTCDataChannel.prototype, 'dc<');
  hookCrypto('verify');
  hookCrypto('sign');
}

/** Start noting (dropping what was noted before). */
export function startTrace(): void {
  events.length = 0;
  recording = tracing;
}

/** Stop noting and hand over what was noted. */
export function stopTrace(): TraceEvent[] {
  recording = false;
  return events.splice(0);
}

/** The app called the operation being timed (`app>`, tagged with its name). */
export function noteStart(name: string): void {
  if (recording) events.push({ t: wallNow(), ev: 'app>', tag: name });
}

/** The app's promise of the operation being timed settled (`app<`). */
export function noteResult(): void {
  note('app<', 'result', undefined);
}
