/**
 * Counts every RTCPeerConnection a page creates and reads their states and selected
 * candidate pairs, independently of the library's own counters: installed before the
 * page's scripts run (Playwright addInitScript, puppeteer evaluateOnNewDocument), it
 * wraps the constructor the library will use.
 */
import { selectedRoute, type ChannelRoute } from '../../src/transport/channel-diagnostics.js';

declare global {
  interface Window {
    __pcs?: RTCPeerConnection[];
  }
}

/** The init script (serialised into the page: no closures over test code). */
export function trackPeerConnections(): void {
  const Native = window.RTCPeerConnection;
  if (Native === undefined || window.__pcs !== undefined) return;
  const all: RTCPeerConnection[] = [];
  window.__pcs = all;
  const Tracked = function (this: unknown, ...args: ConstructorParameters<typeof RTCPeerConnection>) {
    const pc = new Native(...args);
    all.push(pc);
    return pc;
  } as unknown as typeof RTCPeerConnection;
  Tracked.prototype = Native.prototype;
  Object.defineProperty(Tracked, 'generateCertificate', { value: Native.generateCertificate.bind(Native) });
  window.RTCPeerConnection = Tracked;
}

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

/** Read the tracked connections through a page's evaluate (Playwright or puppeteer). */
export async function pcReport(evaluate: Evaluate): Promise<PcReport> {
  const raw = await evaluate(async () => {
    const pcs = window.__pcs ?? [];
    const live = pcs.filter((pc) => pc.signalingState !== 'closed');
    const connected = live.filter((pc) => pc.connectionState === 'connected');
    const stats = await Promise.all(connected.map(async (pc) => [...(await pc.getStats()).values()] as Array<Record<string, unknown>>));
    return { created: pcs.length, live: live.length, stats, policies: live.map((pc) => pc.getConfiguration().iceTransportPolicy ?? 'all') };
  });
  return {
    created: raw.created,
    live: raw.live,
    connected: raw.stats.length,
    routes: raw.stats.map((entries) => selectedRoute(new Map(entries.map((e) => [String(e['id']), e])))),
    policies: raw.policies,
  };
}
