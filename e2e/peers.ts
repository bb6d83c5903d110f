import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';

/** A page running the demo, with its console errors collected (a test fails on any). */
export interface PeerPage {
  page: Page;
  context: BrowserContext;
  nodeId: string;
  errors: string[];
}

export async function openPeer(target: Browser | BrowserContext, query = 'storage=memory'): Promise<PeerPage> {
  const context = 'newContext' in target ? await target.newContext() : target;
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`/?${query}`);
  const nodeId = await waitForPeer(page);
  return { page, context, nodeId, errors };
}

export async function waitForPeer(page: Page): Promise<string> {
  await page.waitForFunction(() => window.peer !== undefined || window.peerError !== undefined);
  const id = await page.evaluate(() => window.peer?.nodeId ?? `error: ${JSON.stringify(window.peerError)}`);
  expect(id).toMatch(/^[0-9a-f]{64}$/);
  return id;
}

export const openChannels = (p: PeerPage): Promise<number> => p.page.evaluate(async () => (await window.peer!.peers()).length);

/** Wait until every peer has at least `min` open channels. */
export async function meshed(peers: PeerPage[], min = 1): Promise<void> {
  for (const p of peers) await expect.poll(() => openChannels(p)).toBeGreaterThanOrEqual(min);
}

export const discover = (p: PeerPage, name: string): Promise<Array<{ nodeId: string; metadata: Record<string, unknown> }>> =>
  p.page.evaluate((n) => window.peer!.discover(n, { forceRefresh: true }), name);

export const stat = (p: PeerPage, name: string): Promise<number> =>
  p.page.evaluate(async (n) => (await window.peer!.stats())[n] ?? 0, name);

/** Every node id in a peer's routing table. */
export const routingIds = (p: PeerPage): Promise<string[]> =>
  p.page.evaluate(async () => (await window.peer!.routingTable()).flatMap((b) => b.contacts.map((c) => c.nodeId)));

/** Node ids of a peer's open channels. */
export const channelIds = (p: PeerPage): Promise<string[]> =>
  p.page.evaluate(async () => (await window.peer!.peers()).map((x) => x.nodeId));

/** Query for a demo page whose peer keeps its state in memory and signals through the relay at `relayUrl`. */
export const viaRelay = (relayUrl: string, storage: 'memory' | 'indexeddb' = 'memory'): string =>
  `storage=${storage}&relay=${encodeURIComponent(relayUrl)}`;

/** Wait for the (re)loaded page's peer without checking its id (see waitForPeer for a fresh one). */
export async function peerIdAfterReload(page: Page): Promise<string> {
  await page.waitForFunction(() => window.peer !== undefined || window.peerError !== undefined, undefined, { timeout: 30_000 });
  return page.evaluate(() => window.peer?.nodeId ?? `error: ${JSON.stringify(window.peerError)}`);
}
