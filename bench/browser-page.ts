/**
 * The page half of `npm run bench:browser` (bench/browser.bench.html loads it; browser.bench.ts
 * builds it with Vite and drives many of them with Playwright). Each page is one peer made with
 * the public API only, plus the floors the product is compared with, measured between the
 * same pages in the same run: a bare RTCDataChannel round trip, and a worker round trip by raw
 * postMessage and by an empty Comlink call.
 *
 * Timing loops run inside the page, so Playwright's own round trips never enter a figure.
 */
import { noteResult, noteStart, startTrace, stopTrace, tracing } from './trace-hooks.js';
import traceWorkerUrl from './trace-worker.ts?worker&url';
import { joinEvents, noteJoin } from './join-hooks.js';
import * as Comlink from 'comlink';
import { createPeer, type LookupEvent, type Peer } from '../src/index.js';
import type { EchoApi } from './echo.worker.js';

const params = new URLSearchParams(location.search);
const relay = params.get('relay') ?? `ws://${location.host}/relay`;
const realm = params.get('realm') ?? 'bench';
/** Public options the multi-hop run (bench/hops.bench.ts) sets: fewer replicas and a channel cap. */
const tuning = {
  ...(params.has('k') ? { k: Number(params.get('k')) } : {}),
  ...(params.has('maxNeighbours') ? { maxNeighbours: Number(params.get('maxNeighbours')) } : {}),
};

/** performance.now() is measured from this page's navigation start: "page load" in the figures. */
const scriptStartMs = performance.now();
const join: {
  scriptStartMs: number;
  readyMs?: number;
  firstChannelMs?: number;
  firstContactMs?: number;
  phases?: Record<string, number>;
} = { scriptStartMs };
const received: number[] = [];
const lookupHops: number[] = [];
/** Hops of the lookups made for a service (the app's discoveries), apart from the node's own maintenance. */
const serviceHops: number[] = [];
let raw: { pc: RTCPeerConnection; channel?: RTCDataChannel } | undefined;
/** The fan-out floor's channels: this page's to the tabs it asks, and the connections it answered. */
let fan: Array<{ pc: RTCPeerConnection; channel: RTCDataChannel }> = [];
const fanAnswers: RTCPeerConnection[] = [];

const wallNow = (): number => performance.timeOrigin + performance.now();

/**
 * Tell the driver a step of the join happened (`ready`, `first-channel`, `first-contact`), by a
 * console message it waits for (page-says.ts): polling the page from Playwright would run the
 * driver's own scripts on this page's main thread during the join it measures.
 */
const say = (step: string): void => console.debug(`macula-bench:${step}`);

async function start(): Promise<Peer> {
  // Traced, the worker loads its own hooks before the product's worker (trace-worker-hooks.ts).
  const peer = await createPeer({
    bootstrap: relay,
    realm,
    storage: 'memory',
    ...tuning,
    ...(tracing ? { workerUrl: traceWorkerUrl } : {}),
  });
  join.readyMs = performance.now();
  join.phases = startupMarks();
  // The routing table fills when a channel opens; poll it at a fine grain until it has a contact,
  // from the first channel on (polling earlier would compete with the join it measures).
  const poll = async (): Promise<void> => {
    while (join.firstContactMs === undefined) {
      if (((await peer.stats())['routingTable.contacts'] ?? 0) >= 1) {
        join.firstContactMs = performance.now();
        say('first-contact');
      } else await new Promise((r) => setTimeout(r, 2));
    }
  };
  const firstChannel = (peerId?: string): void => {
    if (join.firstChannelMs !== undefined) return;
    noteJoin(`first-channel:${String(peerId).slice(0, 8)}`);
    join.phases = startupMarks();
    // The channel may have opened before createPeer resolved (before this listener): its mark says when.
    join.firstChannelMs = join.phases['first-channel'] ?? performance.now();
    say('first-channel');
    void poll();
  };
  peer.on('peer:connect', firstChannel);
  // Opened before this listener: the worker may not have heard of it yet, but the mark is there.
  const already = await peer.peers();
  if (already.length > 0 || startupMarks()['first-channel'] !== undefined) firstChannel(already[0]?.nodeId);
  peer.on('lookup', (p: LookupEvent) => {
    if (p.kind === 'done' && p.answered > 0) lookupHops.push(p.hops);
    if (p.kind === 'done' && p.answered > 0 && p.subject.kind === 'service') serviceHops.push(p.hops);
  });
  return peer;
}

/** When each step of createPeer first happened (its `macula:` User Timing marks). */
function startupMarks(): Record<string, number> {
  const marks: Record<string, number> = {};
  for (const m of performance.getEntriesByType('mark')) {
    if (m.name.startsWith('macula:')) marks[m.name.slice(7)] ??= m.startTime;
  }
  return marks;
}

async function timed<T>(n: number, op: () => Promise<T>, name = ''): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    noteStart(name);
    const t0 = performance.now();
    await op();
    ms.push(performance.now() - t0);
    noteResult();
  }
  return ms;
}

function iceComplete(pc: RTCPeerConnection): Promise<string> {
  return new Promise((resolve) => {
    const done = (): void => resolve(JSON.stringify(pc.localDescription));
    if (pc.iceGatheringState === 'complete') return done();
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') done();
    });
  });
}

function channelOpen(channel: RTCDataChannel): Promise<RTCDataChannel> {
  return new Promise((resolve) => {
    if (channel.readyState === 'open') resolve(channel);
    else channel.addEventListener('open', () => resolve(channel), { once: true });
  });
}

const peer = await start();

const bench = {
  nodeId: peer.nodeId,
  join,
  received,
  lookupHops,
  serviceHops,
  stats: () => peer.stats(),
  peers: () => peer.peers(),
  advertise: (name: string) => peer.advertise(name, (args) => args),
  discoverTimes: (name: string, n: number, forceRefresh: boolean) =>
    timed(
      n,
      async () => {
        const found = await peer.discover(name, { forceRefresh });
        if (found.length === 0) throw new Error(`no provider of ${name}`);
      },
      // Noted as the app's call: a forced discovery may start on the page, without a Comlink call first.
      'discover',
    ),
  /** Forced discoveries that may fail: each one's time and whether it returned `provider`. */
  discoverRuns: async (name: string, n: number, provider: string) => {
    const runs: Array<{ ms: number; found: boolean }> = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const found = await peer.discover(name, { forceRefresh: true }).then(
        (list) => list.some((p) => p.nodeId === provider),
        () => false,
      );
      runs.push({ ms: performance.now() - t0, found });
    }
    return runs;
  },
  callTimes: (name: string, n: number) => timed(n, () => peer.call(name, { n: 1 }), 'call'),
  subscribe: async (topic: string) => {
    await peer.subscribe(topic, (payload) => {
      const sentAt = (payload as { sentAt?: unknown }).sentAt;
      if (typeof sentAt === 'number') received.push(wallNow() - sentAt);
    });
  },
  /** One publish; resolves with its duration until every subscriber acknowledged it. */
  publishTimed: async (topic: string) => {
    // Noted before the publish (trace-hooks.ts): the page may send its PUBLISHes before any Comlink call.
    noteStart('publish');
    const t0 = performance.now();
    const delivered = await peer.publish(topic, { sentAt: wallNow() });
    const ms = performance.now() - t0;
    noteResult();
    return { ms, delivered };
  },
  // ---- bench/browser-trace.ts: boundary crossings (trace-hooks.ts, with ?trace=1) and per-step costs ----
  traceStart: () => startTrace(),
  /** bench/join-trace.ts: what this page noted of its join (join-hooks.ts, with ?join=1). */
  joinEvents: () => joinEvents(),
  traceStop: () => stopTrace(),
  // Loaded when asked (bench:trace): it is no part of an app's page load, nor of the join measured here.
  pathCosts: async (n: number) => (await import('./trace-costs.js')).pathCosts(n),
  /** The product's own worker boundary: an API call that does no work in the worker. */
  apiRoundTrips: (n: number) => timed(n, () => peer.listLocalServices()),

  // ---- floor: a bare data channel between two of these pages (signaled by the driver) ----
  rawOffer: async () => {
    const pc = new RTCPeerConnection();
    raw = { pc, channel: pc.createDataChannel('floor') };
    await pc.setLocalDescription(await pc.createOffer());
    return iceComplete(pc);
  },
  rawAnswer: async (offer: string) => {
    const pc = new RTCPeerConnection();
    raw = { pc };
    pc.addEventListener('datachannel', (e) => {
      e.channel.addEventListener('message', (m) => e.channel.send(m.data as string));
    });
    await pc.setRemoteDescription(JSON.parse(offer) as RTCSessionDescriptionInit);
    await pc.setLocalDescription(await pc.createAnswer());
    return iceComplete(pc);
  },
  rawAccept: async (answer: string) => {
    if (raw?.channel === undefined) throw new Error('rawOffer first');
    const t0 = performance.now();
    await raw.pc.setRemoteDescription(JSON.parse(answer) as RTCSessionDescriptionInit);
    await channelOpen(raw.channel);
    return performance.now() - t0;
  },
  rawPing: async (n: number) => {
    const channel = raw?.channel;
    if (channel === undefined) throw new Error('no raw channel');
    const payload = 'x'.repeat(64);
    return timed(
      n,
      () =>
        new Promise<void>((resolve) => {
          channel.addEventListener('message', () => resolve(), { once: true });
          channel.send(payload);
        }),
    );
  },
  rawClose: () => raw?.pc.close(),

  // ---- floor: one page's message to several tabs at once, each echoing it (no library) ----
  // A discovery's first round asks three tabs at once and a publish five: on a machine with
  // fewer cores than tabs woken, their channels' round trips are not the one-tab floor.
  fanOffers: async (count: number) => {
    fan = [];
    const offers: string[] = [];
    for (let i = 0; i < count; i++) {
      const pc = new RTCPeerConnection();
      const channel = pc.createDataChannel('fan');
      fan.push({ pc, channel });
      await pc.setLocalDescription(await pc.createOffer());
      offers.push(await iceComplete(pc));
    }
    return offers;
  },
  fanAnswer: async (offer: string) => {
    const pc = new RTCPeerConnection();
    fanAnswers.push(pc);
    pc.addEventListener('datachannel', (e) => {
      e.channel.addEventListener('message', (m) => e.channel.send(m.data as string));
    });
    await pc.setRemoteDescription(JSON.parse(offer) as RTCSessionDescriptionInit);
    await pc.setLocalDescription(await pc.createAnswer());
    return iceComplete(pc);
  },
  fanAccept: async (answers: string[]) => {
    for (const [i, answer] of answers.entries()) {
      await fan[i]!.pc.setRemoteDescription(JSON.parse(answer) as RTCSessionDescriptionInit);
      await channelOpen(fan[i]!.channel);
    }
  },
  /** Rounds of a 64-byte message to the first `width` tabs at once, each until all have echoed it; per width, ms. */
  fanPing: async (rounds: number, widths: number[]) => {
    const payload = 'x'.repeat(64);
    const out: Record<number, number[]> = {};
    for (const w of widths) out[w] = [];
    const once = (w: number): Promise<void> =>
      Promise.all(
        fan.slice(0, w).map(
          ({ channel }) =>
            new Promise<void>((resolve) => {
              channel.addEventListener('message', () => resolve(), { once: true });
              channel.send(payload);
            }),
        ),
      ).then(() => undefined);
    for (let i = 0; i < rounds; i++)
      for (const w of widths) {
        const t0 = performance.now();
        await once(w);
        out[w]!.push(performance.now() - t0);
      }
    return out;
  },
  fanClose: () => {
    for (const { pc } of fan) pc.close();
    for (const pc of fanAnswers) pc.close();
    fan = [];
    fanAnswers.length = 0;
  },

  // ---- floor: a worker round trip, raw and through Comlink ----
  // Both go over a MessagePort of their own into the same worker, and take turns, so the
  // ratio is Comlink's own work and not a difference of transport or of machine load.
  workerFloors: async (n: number) => {
    const worker = new Worker(new URL('./echo.worker.ts', import.meta.url), { type: 'module' });
    const raw = new MessageChannel();
    const rpc = new MessageChannel();
    worker.postMessage({ raw: raw.port2, comlink: rpc.port2 }, [raw.port2, rpc.port2]);
    const api = Comlink.wrap<EchoApi>(rpc.port1);
    await api.noop();
    const rawTrip = (): Promise<void> =>
      new Promise<void>((resolve) => {
        raw.port1.onmessage = () => resolve();
        raw.port1.postMessage(0);
      });
    const postMessage: number[] = [];
    const comlink: number[] = [];
    for (let i = 0; i < n; i++) {
      postMessage.push(...(await timed(1, rawTrip)));
      comlink.push(...(await timed(1, () => api.noop())));
    }
    api[Comlink.releaseProxy]();
    worker.terminate();
    return { postMessage, comlink };
  },
};

declare global {
  interface Window {
    bench?: typeof bench;
  }
}
window.bench = bench;
say('ready');
export type BrowserBench = typeof bench;
