/**
 * The peers of `npm run bench:federation-browser` behind one interface: a Chromium tab
 * (bench/federation-browser-page.ts, driven through Playwright) or a Node peer in a process
 * of its own (e2e/node-peer.ts). Either takes its samples where it runs; the driver adds only
 * a backstop deadline, so that a page or process that stops answering fails a sample, not
 * the run.
 */
import { createServer } from 'node:net';
import type { Browser, Page } from '@playwright/test';
import type { NodePeerProcess } from '../e2e/node-peer.js';
import type { FederationBenchPage } from './federation-browser-page.js';
import type { Sample, SampleKind } from './federation-sample.js';

export interface Participant {
  name: string;
  nodeId: string;
  kind: 'tab' | 'node';
  /** Index of the relay it entered through (0 = A, the chain's head). */
  relay: number;
  advertise(serviceId: string): Promise<void>;
  sample(kind: SampleKind, serviceId: string, deadlineMs: number): Promise<Sample>;
  takeHops(): Promise<Array<{ service: string; hops: number }>>;
  stats(): Promise<Record<string, number>>;
  /** Node ids of its open channels. */
  channels(): Promise<string[]>;
  /** Still on the relay it entered through (a peer whose relay went away moves on). */
  enteredThroughOwnRelay(): Promise<boolean>;
}

/** Beyond a sample's own deadline, what the driver allows for the page or process to report it. */
const DRIVER_SLACK_MS = 10_000;

async function bounded<T>(what: string, ms: number, op: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([op, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A sample the page or process never reported counts as failed, with the driver's own deadline. */
async function sampled(op: () => Promise<Sample>, deadlineMs: number): Promise<Sample> {
  const t0 = performance.now();
  try {
    return await bounded('sample', deadlineMs + DRIVER_SLACK_MS, op());
  } catch (e) {
    return { ok: false, ms: performance.now() - t0, error: `DRIVER: ${(e as Error).message}` };
  }
}

type PageFn = {
  [K in keyof FederationBenchPage]: FederationBenchPage[K] extends (...a: never[]) => unknown ? K : never;
}[keyof FederationBenchPage];

function onPage<K extends PageFn>(
  page: Page,
  name: K,
  ...args: Parameters<FederationBenchPage[K]>
): Promise<Awaited<ReturnType<FederationBenchPage[K]>>> {
  return page.evaluate(
    ([n, a]) => (window.fedBench as unknown as Record<string, (...x: unknown[]) => unknown>)[n]!(...a),
    [name, args] as [string, unknown[]],
  ) as Promise<Awaited<ReturnType<FederationBenchPage[K]>>>;
}

/** A tab in a browser context of its own, entered through `relayUrl`; resolves once its peer is up. */
export async function tabParticipant(
  browser: Browser,
  base: string,
  relayUrl: string,
  relay: number,
  name: string,
): Promise<Participant> {
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', (e) => console.error(`${name}: ${e.message}`));
  await page.goto(`${base}?relay=${encodeURIComponent(relayUrl)}`);
  await page.waitForFunction(() => window.fedBench !== undefined, undefined, { timeout: 60_000 });
  const nodeId = await page.evaluate(() => window.fedBench!.nodeId);
  return {
    name,
    nodeId,
    kind: 'tab',
    relay,
    advertise: (serviceId) => bounded(`${name} advertise`, 60_000, onPage(page, 'advertise', serviceId)),
    sample: (kind, serviceId, deadlineMs) =>
      sampled(() => onPage(page, 'sample', kind, serviceId, deadlineMs), deadlineMs),
    takeHops: () => bounded(`${name} hops`, 30_000, onPage(page, 'takeHops')),
    stats: () => bounded(`${name} stats`, 30_000, onPage(page, 'stats')),
    channels: async () => (await bounded(`${name} peers`, 30_000, onPage(page, 'peers'))).map((p) => p.nodeId),
    enteredThroughOwnRelay: async () => {
      const r = await bounded(`${name} relays`, 30_000, onPage(page, 'relays'));
      return r.current === relayUrl;
    },
  };
}

/** A Node peer process already started behind relay `relay`. */
export function nodeParticipant(node: NodePeerProcess, relayUrl: string, relay: number, name: string): Participant {
  return {
    name,
    nodeId: node.nodeId,
    kind: 'node',
    relay,
    advertise: async (serviceId) => {
      await bounded(`${name} advertise`, 60_000, node.request('advertise', { serviceId }));
    },
    sample: (kind, serviceId, deadlineMs) =>
      sampled(() => node.request<Sample>('sample', { kind, serviceId, deadlineMs }), deadlineMs),
    takeHops: () => bounded(`${name} hops`, 30_000, node.request('takeHops')),
    stats: () => bounded(`${name} stats`, 30_000, node.request('stats')),
    channels: async () =>
      (await bounded(`${name} peers`, 30_000, node.request<Array<{ nodeId: string }>>('peers'))).map((p) => p.nodeId),
    enteredThroughOwnRelay: async () => {
      const r = await bounded(`${name} relays`, 30_000, node.request<{ current: string }>('relays'));
      return r.current === relayUrl;
    },
  };
}

/** A port nothing listens on now (the relays are separate processes, started with a port number). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
