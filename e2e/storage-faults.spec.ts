import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { startRelay } from '../src/relay/relay.js';
import { discover, meshed, openPeer, peerIdAfterReload, stat, viaRelay, waitForPeer, type PeerPage } from './peers.js';

declare global {
  interface Window {
    burst?: { next: number };
  }
}

/** The raw state a node left in IndexedDB, read without starting a peer (Persistence's layout). */
interface RawState {
  meta: { version: number; parts: { state: number; contacts: number } } | undefined;
  recordsSnapshot: number | undefined;
  records: number;
  servicesSnapshot: number | undefined;
  services: string[];
}

function readRawState(page: Page, nodeId: string): Promise<RawState> {
  return page.evaluate(
    (id) =>
      new Promise<RawState>((resolve, reject) => {
        const open = indexedDB.open(`macula-web/node/${id}`);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const store = db.transaction('state', 'readonly').objectStore('state');
          const values: Record<string, unknown> = {};
          for (const key of ['meta', 'records', 'services'])
            store.get(key).onsuccess = (e) => (values[key] = (e.target as IDBRequest).result);
          store.transaction.oncomplete = () => {
            db.close();
            const records = values['records'] as { snapshot: number; data: { entries: unknown[] } } | undefined;
            const services = values['services'] as { snapshot: number; data: Array<{ serviceId: string }> } | undefined;
            resolve({
              meta: values['meta'] as RawState['meta'],
              recordsSnapshot: records?.snapshot,
              records: records?.data.entries.length ?? 0,
              servicesSnapshot: services?.snapshot,
              services: services?.data.map((s) => s.serviceId) ?? [],
            });
          };
        };
      }),
    nodeId,
  );
}

/**
 * Advertise burst.<n>, burst.<n+1>, ... one after another, returning at once. Paced, so
 * that several snapshots are written before the owner quota (64 keys per owner) is reached.
 */
function startBurst(page: Page, from: number): Promise<void> {
  return page.evaluate((first) => {
    window.burst = { next: first };
    const state = window.burst;
    // Metadata of some weight, so each snapshot is a write that takes a while.
    const padding = 'p'.repeat(1_500);
    void (async () => {
      while (state.next < 60) {
        const n = state.next;
        await window.peer!.advertise(`burst.${n}`, () => n, { metadata: { n, padding } });
        state.next = n + 1;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
  }, from);
}

/** A new tab of `context` that starts with the given sessionStorage: the same tab identity, reopened. */
async function reopenTab(context: BrowserContext, session: Array<[string, string]>): Promise<Page> {
  const page = await context.newPage();
  await page.addInitScript((entries) => {
    if (sessionStorage.length === 0) for (const [k, v] of entries) sessionStorage.setItem(k, v);
  }, session);
  return page;
}

test.describe('storage faults', () => {
  test('a tab closed while it persists a burst of advertisements reopens with exactly one snapshot', async ({
    browser,
  }) => {
    test.setTimeout(90_000);
    // A relay of its own: the node must be alone, so that it holds exactly its own records.
    const relay = await startRelay({ port: 0, host: '127.0.0.1' });
    const query = viaRelay(relay.address, 'indexeddb');
    const context = await browser.newContext();
    let tab = await openPeer(context, query);
    const nodeId = tab.nodeId;
    const session = await tab.page.evaluate(() => Object.entries(sessionStorage));
    let advertised = 0;
    for (let round = 0; round < 3; round++) {
      const writesBefore = await stat(tab, 'persistence.writes');
      await startBurst(tab.page, advertised);
      // Several snapshots written, the burst still going: then the tab goes, whatever it is doing.
      await expect.poll(() => stat(tab, 'persistence.writes')).toBeGreaterThanOrEqual(writesBefore + 2);
      expect(tab.errors).toEqual([]);
      await tab.page.close();

      // Look at what is stored before a peer runs again (a page of the origin that starts none).
      const page = await reopenTab(context, session);
      // Same origin, no demo script, no favicon request (a 404 would land in the next round's errors).
      await page.route('**/no-peer-here', (route) =>
        route.fulfill({
          contentType: 'text/html',
          body: '<!doctype html><link rel="icon" href="data:,"><title>no peer</title>',
        }),
      );
      await page.goto('/no-peer-here');
      const raw = await readRawState(page, nodeId);
      expect(raw.meta?.version).toBe(2);
      const snapshot = raw.meta!.parts.state;
      expect(snapshot).toBeGreaterThan(0);
      // One snapshot: both parts were written by the flush meta names.
      expect([raw.recordsSnapshot, raw.servicesSnapshot]).toEqual([snapshot, snapshot]);
      // A moment of one node: the services advertised so far, in order, and their records (the
      // record of the advertisement in progress may already be stored; nothing more, nothing less).
      const m = raw.services.length;
      expect(m).toBeGreaterThan(0);
      expect(raw.services).toEqual(Array.from({ length: m }, (_, i) => `burst.${i}`));
      expect(raw.records === m || raw.records === m + 1, `${raw.records} records with ${m} services`).toBe(true);

      // The same tab identity comes back and restores exactly that snapshot.
      const errors: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(msg.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`/?${query}`);
      expect(await peerIdAfterReload(page)).toBe(nodeId);
      tab = { page, context, nodeId, errors };
      expect(await page.evaluate(() => window.peer!.stats())).toMatchObject({
        'persistence.restoredSnapshot': snapshot,
        'persistence.restoredRecords': raw.records,
        'persistence.inconsistent': 0,
      });
      // Its services come back waiting for their handlers; as an app does at start, the test hands them back.
      const restored = await page.evaluate(() => window.peer!.restoredServices());
      expect(restored.map((s) => s.serviceId)).toEqual(raw.services);
      expect(await page.evaluate(() => window.peer!.listLocalServices())).toEqual([]);
      await page.evaluate(async () => {
        for (const s of await window.peer!.restoredServices())
          await window.peer!.advertise(s.serviceId, () => s.serviceId, { metadata: s.metadata, ttl: s.ttl });
      });
      expect((await page.evaluate(() => window.peer!.listLocalServices())).sort()).toEqual([...raw.services].sort());
      advertised = m;
    }
    expect(tab.errors).toEqual([]);
    await context.close();
    await relay.close();
  });

  test('a full IndexedDB quota: STORAGE_ERROR is reported, writes stop, and the peer keeps serving from memory', async ({
    browser,
    baseURL,
  }) => {
    const context = await browser.newContext();
    const warnings: string[] = [];
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'warning') warnings.push(m.text());
    });
    const cdp = await context.newCDPSession(page);
    // This origin may store almost nothing: every IndexedDB write fails with QuotaExceededError.
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(baseURL!).origin, quotaSize: 1 });
    await page.goto('/?storage=indexeddb');
    const full: PeerPage = { page, context, nodeId: await waitForPeer(page), errors: [] };
    const other = await openPeer(browser);
    try {
      await meshed([full, other]);
      await full.page.evaluate(() => window.peer!.advertise('quota.svc', (x) => ({ from: 'full', x })));
      await expect.poll(() => stat(full, 'persistence.disabled')).toBe(1);
      const stats = await page.evaluate(() => window.peer!.stats());
      expect(stats['persistence.quotaExceeded']).toBeGreaterThanOrEqual(3);
      expect(stats['persistence.writes']).toBe(0);
      await expect.poll(() => warnings.filter((w) => /STORAGE_ERROR: IndexedDB quota exceeded/.test(w)).length).toBe(1);

      // Still a working peer: found and called, and it finds and calls others.
      await expect.poll(async () => (await discover(other, 'quota.svc')).map((p) => p.nodeId)).toEqual([full.nodeId]);
      expect(await other.page.evaluate(() => window.peer!.call('quota.svc', 7))).toEqual({ from: 'full', x: 7 });
      await other.page.evaluate(() => window.peer!.advertise('quota.other', () => 'ok'));
      await expect.poll(async () => (await discover(full, 'quota.other')).length).toBe(1);
      expect(await full.page.evaluate(() => window.peer!.call('quota.other'))).toBe('ok');
      expect(other.errors).toEqual([]);
    } finally {
      await context.close();
      await other.context.close();
    }
  });
});
