/**
 * Counts every RTCPeerConnection a page creates and reads their states and selected
 * candidate pairs, independently of the library's own counters: installed before the
 * page's scripts run (Playwright addInitScript, puppeteer evaluateOnNewDocument), it
 * wraps the constructor the library will use.
 */
import { selectedRoute, type ChannelRoute } from '../../src/transport/channel-diagnostics.js';

/** When a tracked connection was created, its data channel opened and it was closed (performance.now() ms). */
export interface PcTimes {
  created: number;
  opened: number | null;
  closed: number | null;
  /** It created the data channel (the side that sent the offer). */
  initiator: boolean;
}

declare global {
  interface Window {
    __pcs?: RTCPeerConnection[];
    __pcTimes?: PcTimes[];
  }
}

/** The init script (serialised into the page: no closures over test code). */
export function trackPeerConnections(): void {
  const Native = window.RTCPeerConnection;
  if (Native === undefined || window.__pcs !== undefined) return;
  const all: RTCPeerConnection[] = [];
  const times: PcTimes[] = [];
  window.__pcs = all;
  window.__pcTimes = times;
  const Tracked = function (this: unknown, ...args: ConstructorParameters<typeof RTCPeerConnection>) {
    const pc = new Native(...args);
    const t: PcTimes = { created: performance.now(), opened: null, closed: null, initiator: false };
    all.push(pc);
    times.push(t);
    const opened = (channel: RTCDataChannel): void =>
      channel.addEventListener('open', () => (t.opened ??= performance.now()));
    const createDataChannel = pc.createDataChannel.bind(pc);
    pc.createDataChannel = (...a: Parameters<RTCPeerConnection['createDataChannel']>) => {
      t.initiator = true;
      const channel = createDataChannel(...a);
      opened(channel);
      return channel;
    };
    pc.addEventListener('datachannel', (e) => opened(e.channel));
    const close = pc.close.bind(pc);
    pc.close = () => {
      t.closed ??= performance.now();
      close();
    };
    return pc;
  } as unknown as typeof RTCPeerConnection;
  Tracked.prototype = Native.prototype;
  Object.defineProperty(Tracked, 'generateCertificate', { value: Native.generateCertificate.bind(Native) });
  window.RTCPeerConnection = Tracked;
}

/**
 * The init script as page source. Under tsx (the benchmarks) esbuild wraps named functions
 * in a `__name` helper that does not exist in the page, so the page gets a stand-in.
 */
export const trackerScript = `var __name = (f) => f;\n(${trackPeerConnections.toString()})();`;

export interface PcReport {
  created: number;
  /** Not closed: negotiating or connected. */
  live: number;
  connected: number;
  /** Selected pair of each connected one (null when getStats had none yet). */
  routes: Array<ChannelRoute | null>;
  /** The configuration each live connection was created with: iceTransportPolicy and ICE server URLs. */
  policies: string[];
}

type Evaluate = <T>(fn: () => Promise<T> | T) => Promise<T>;

/** The tracked connections' times, through a page's evaluate. */
export const pcTimes = (evaluate: Evaluate): Promise<PcTimes[]> => evaluate(() => window.__pcTimes ?? []);

/** Read the tracked connections through a page's evaluate (Playwright or puppeteer). */
export async function pcReport(evaluate: Evaluate): Promise<PcReport> {
  const raw = await evaluate(async () => {
    const pcs = window.__pcs ?? [];
    const live = pcs.filter((pc) => pc.signalingState !== 'closed');
    const connected = live.filter((pc) => pc.connectionState === 'connected');
    const stats = await Promise.all(
      connected.map(async (pc) => [...(await pc.getStats()).values()] as Array<Record<string, unknown>>),
    );
    return {
      created: pcs.length,
      live: live.length,
      stats,
      policies: live.map((pc) => pc.getConfiguration().iceTransportPolicy ?? 'all'),
    };
  });
  return {
    created: raw.created,
    live: raw.live,
    connected: raw.stats.length,
    routes: raw.stats.map((entries) => selectedRoute(new Map(entries.map((e) => [String(e['id']), e])))),
    policies: raw.policies,
  };
}
