/**
 * Hooks for `npm run bench:join` (bench/join-trace.ts): with `?join=1` in its address, a
 * benchmark page notes, on the clock every page of the machine shares
 * (performance.timeOrigin + performance.now()), each step of its join that the page can see
 * from outside the library:
 *
 * - `ws` events: the relay socket made and opened, and every relay message in and out by its
 *   type (`ws<challenge`, `ws>hello`, `ws<welcome`, `ws>signal:<to>`, `ws<signal:<from>`);
 * - `pc` events of every RTCPeerConnection (numbered per page): made, createOffer/createAnswer
 *   and set{Local,Remote}Description settled, each local candidate, the ICE gathering, ICE
 *   connection and connection states, and its data channel open;
 * - `worker` made.
 *
 * Without `?join=1` nothing is patched, so the figures of `npm run bench:browser` are never
 * measured through a hook.
 */

export interface JoinEvent {
  /** Milliseconds on the shared clock. */
  t: number;
  ev: string;
  /** The RTCPeerConnection's number on this page, for `pc` events. */
  pc?: number;
}

const events: JoinEvent[] = [];
const wallNow = (): number => performance.timeOrigin + performance.now();
const note = (ev: string, pc?: number): void =>
  void events.push(pc === undefined ? { t: wallNow(), ev } : { t: wallNow(), ev, pc });

/** A relay message's type, and for a signal whom it goes to (out) or comes from (in), first 8 hex characters. */
function describe(data: unknown, out: boolean): string {
  if (typeof data !== 'string') return 'binary';
  try {
    const m = JSON.parse(data) as { t?: unknown; to?: unknown; from?: unknown; data?: { type?: unknown } };
    const who = out ? m.to : m.from;
    const kind = typeof m.data?.type === 'string' ? m.data.type : 'candidate';
    return m.t === 'signal' ? `signal:${String(who).slice(0, 8)}:${kind}` : String(m.t);
  } catch {
    return 'junk';
  }
}

function hookWebSocket(): void {
  const Base = globalThis.WebSocket;
  class Traced extends Base {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      note('ws:new');
      this.addEventListener('open', () => note('ws:open'));
      this.addEventListener('message', (e) => note(`ws<${describe(e.data, false)}`));
    }
    override send(data: Parameters<WebSocket['send']>[0]): void {
      note(`ws>${describe(data, true)}`);
      super.send(data);
    }
  }
  globalThis.WebSocket = Traced;
}

function hookPeerConnection(): void {
  const Base = globalThis.RTCPeerConnection;
  const ids = new WeakMap<RTCPeerConnection, number>();
  let count = 0;
  class Traced extends Base {
    constructor(config?: RTCConfiguration) {
      super(config);
      const id = ++count;
      ids.set(this, id);
      note('pc:new', id);
      this.addEventListener('icecandidate', (e) => {
        const c = e.candidate;
        note(
          c === null
            ? 'pc:candidates-end'
            : `pc:candidate:${c.type ?? '?'}:${c.address?.endsWith('.local') ? 'mdns' : 'ip'}`,
          id,
        );
      });
      this.addEventListener('icegatheringstatechange', () => note(`pc:gathering:${this.iceGatheringState}`, id));
      this.addEventListener('iceconnectionstatechange', () => note(`pc:ice:${this.iceConnectionState}`, id));
      this.addEventListener('connectionstatechange', () => note(`pc:state:${this.connectionState}`, id));
      this.addEventListener('datachannel', (e) => {
        note('pc:datachannel', id);
        e.channel.addEventListener('open', () => note('pc:dc-open', id));
      });
    }
  }
  // Each method notes when it starts (the description's type, if any) and when its promise settles.
  const proto = Base.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const [method, name] of [
    ['createOffer', 'offer'],
    ['createAnswer', 'answer'],
    ['setLocalDescription', 'set-local'],
    ['setRemoteDescription', 'set-remote'],
    ['addIceCandidate', 'add-candidate'],
  ] as const) {
    const original = proto[method]!;
    proto[method] = function (this: RTCPeerConnection, ...args: unknown[]) {
      const id = ids.get(this);
      const type = (args[0] as { type?: unknown } | undefined)?.type;
      const label = typeof type === 'string' ? `pc:${name}:${type}` : `pc:${name}`;
      note(`${label}:start`, id);
      const result = original.apply(this, args);
      return result instanceof Promise ? result.then((v: unknown) => (note(label, id), v)) : result;
    };
  }
  const createDataChannel = Base.prototype.createDataChannel;
  Base.prototype.createDataChannel = function (this: RTCPeerConnection, label: string, init?: RTCDataChannelInit) {
    const dc = createDataChannel.call(this, label, init);
    const id = ids.get(this);
    dc.addEventListener('open', () => note('pc:dc-open', id));
    return dc;
  };
  globalThis.RTCPeerConnection = Traced;
}

function hookWorker(): void {
  const Base = globalThis.Worker;
  class Traced extends Base {
    constructor(url: string | URL, options?: WorkerOptions) {
      note('worker:new');
      super(url, options);
    }
  }
  globalThis.Worker = Traced;
}

/** WebCrypto calls and Web Lock requests: when each was made and when it settled (the identity step). */
function hookIdentitySteps(): void {
  const subtle = crypto.subtle as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const name of ['importKey', 'exportKey', 'sign', 'verify', 'digest']) {
    const original = subtle[name]!.bind(crypto.subtle);
    subtle[name] = (...a: unknown[]) => {
      note(`subtle:${name}:start`);
      return original(...a).finally(() => note(`subtle:${name}`));
    };
  }
  const locks = navigator.locks as unknown as { request: (...a: unknown[]) => Promise<unknown> };
  const request = locks.request.bind(navigator.locks);
  locks.request = (...a: unknown[]) => {
    note('lock:start');
    const callback = a[a.length - 1] as (lock: unknown) => unknown;
    a[a.length - 1] = (lock: unknown) => (note('lock:granted'), callback(lock));
    return request(...a);
  };
}

export const joinTracing = new URLSearchParams(location.search).get('join') === '1';

if (joinTracing) {
  hookWebSocket();
  hookPeerConnection();
  hookWorker();
  hookIdentitySteps();
}

/** Note an event of the page's own (the benchmark page's first channel). */
export function noteJoin(ev: string): void {
  if (joinTracing) note(ev);
}

/**
 * What the page noted, with its navigation and resource timing on the same clock: when the
 * HTML and each script was fetched, and when the document was parsed.
 */
export function joinEvents(): {
  origin: number;
  events: JoinEvent[];
  navigation: Record<string, number>;
  resources: JoinEvent[];
} {
  const origin = performance.timeOrigin;
  const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
  const navigation: Record<string, number> = {};
  if (nav !== undefined) {
    for (const key of [
      'fetchStart',
      'requestStart',
      'responseStart',
      'responseEnd',
      'domInteractive',
      'domContentLoadedEventStart',
      'domContentLoadedEventEnd',
      'loadEventEnd',
    ] as const)
      navigation[key] = origin + nav[key];
  }
  const resources = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).flatMap((r) => [
    { t: origin + r.startTime, ev: `fetch:${r.name.split('/').pop()}:${r.initiatorType}` },
    { t: origin + r.responseEnd, ev: `fetched:${r.name.split('/').pop()}:${r.initiatorType}` },
  ]);
  return { origin, events: [...events], navigation, resources };
}
