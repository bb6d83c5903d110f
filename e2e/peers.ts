import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { channelsOf, openPeer as openTestPeer, peerStats, waitForMesh } from '../src/testing/index.js';

/**
 * The suite's peers are the demo's pages, opened and awaited with this package's own test
 * kit (src/testing, shipped as macula-web/testing): the kit is proven by the suite.
 * A page's console errors are collected (a test fails on any).
 */
export interface PeerPage {
  page: Page;
  context: BrowserContext;
  nodeId: string;
  errors: string[];
}

export async function openPeer(target: Browser | BrowserContext, query = 'storage=memory'): Promise<PeerPage> {
  const { page, context, nodeId, errors } = await openTestPeer(target, { url: `/?${query}` });
  expect(nodeId).toMatch(/^[0-9a-f]{64}$/);
  return { page, context, nodeId, errors };
}

export async function waitForPeer(page: Page): Promise<string> {
  await page.waitForFunction(() => window.peer !== undefined || window.peerError !== undefined);
  const id = await page.evaluate(() => window.peer?.nodeId ?? `error: ${JSON.stringify(window.peerError)}`);
  expect(id).toMatch(/^[0-9a-f]{64}$/);
  return id;
}

export const openChannels = async (p: PeerPage): Promise<number> => (await channelsOf(p)).length;

/** Wait until every peer has at least `min` open channels and they form one mesh. */
export async function meshed(peers: PeerPage[], min = 1): Promise<void> {
  await waitForMesh(peers, { minChannels: min });
}

export const discover = (
  p: PeerPage,
  name: string,
): Promise<Array<{ nodeId: string; metadata: Record<string, unknown> }>> =>
  p.page.evaluate((n) => window.peer!.discover(n, { forceRefresh: true }), name);

export const stat = async (p: PeerPage, name: string): Promise<number> => (await peerStats(p))[name] ?? 0;

/** Every node id in a peer's routing table. */
export const routingIds = (p: PeerPage): Promise<string[]> =>
  p.page.evaluate(async () => (await window.peer!.routingTable()).flatMap((b) => b.contacts.map((c) => c.nodeId)));

/** Node ids of a peer's open channels. */
export const channelIds = (p: PeerPage): Promise<string[]> => channelsOf(p);

/** Query for a demo page whose peer keeps its state in memory and signals through the relay at `relayUrl`. */
export const viaRelay = (relayUrl: string, storage: 'memory' | 'indexeddb' = 'memory'): string =>
  `storage=${storage}&relay=${encodeURIComponent(relayUrl)}`;

/** Wait for the (re)loaded page's peer without checking its id (see waitForPeer for a fresh one). */
export async function peerIdAfterReload(page: Page): Promise<string> {
  await page.waitForFunction(() => window.peer !== undefined || window.peerError !== undefined, undefined, {
    timeout: 30_000,
  });
  return page.evaluate(() => window.peer?.nodeId ?? `error: ${JSON.stringify(window.peerError)}`);
}
