import { expect, test } from '@playwright/test';
import type { Browser as PpBrowser } from 'puppeteer-core';
import { chromiumTab, firefoxTab, launchFirefox, openCount, statOf, type Tab } from './tabs.js';

/**
 * A second engine: Firefox ESR tabs (puppeteer-core over WebDriver BiDi) in one mesh with
 * Chromium tabs (Playwright), served by the e2e server as `npm start` serves them.
 */

let firefox: PpBrowser;
const tabs: Tab[] = [];

test.beforeAll(async () => {
  firefox = await launchFirefox();
});
test.afterAll(async () => {
  await firefox?.close();
});
test.afterEach(async () => {
  for (const t of tabs.splice(0)) await t.close().catch(() => undefined);
});

declare global {
  interface Window {
    received?: Array<{ topic: string; payload: unknown; publisher: string }>;
  }
}

async function subscribeAll(t: Tab, pattern: string): Promise<void> {
  await t.evaluate(async (p) => {
    window.received = [];
    await window.peer!.subscribe(p, (payload, info) =>
      window.received!.push({ topic: info.topic, payload, publisher: info.publisher }),
    );
  }, pattern);
}

test('a Firefox tab and two Chromium tabs advertise, discover, call, publish and subscribe with each other', async ({
  browser,
  baseURL,
}) => {
  test.setTimeout(120_000);
  const origin = baseURL!;
  const ff = await firefoxTab(firefox, `${origin}/?storage=memory`);
  const c1 = await chromiumTab(browser, `${origin}/?storage=memory`);
  const c2 = await chromiumTab(browser, `${origin}/?storage=memory`);
  tabs.push(ff, c1, c2);
  expect(await ff.evaluate(() => navigator.userAgent, undefined)).toContain('Firefox/');
  for (const t of tabs) await expect.poll(() => openCount(t), { timeout: 60_000 }).toBe(2);

  // Each engine provides a service that says which engine served it.
  for (const t of [ff, c1]) {
    await t.evaluate((engine) => window.peer!.advertise(`xb.${engine}`, (x) => ({ engine, x })), t.engine);
  }
  await expect
    .poll(async () =>
      (await c2.evaluate(() => window.peer!.discover('xb.firefox', { forceRefresh: true }), undefined)).map(
        (p) => p.nodeId,
      ),
    )
    .toEqual([ff.nodeId]);
  await expect
    .poll(async () =>
      (await ff.evaluate(() => window.peer!.discover('xb.chromium', { forceRefresh: true }), undefined)).map(
        (p) => p.nodeId,
      ),
    )
    .toEqual([c1.nodeId]);

  // Calls both ways, with a payload big enough to be chunked (the engines cap one message at 256 KiB).
  const big = 'f'.repeat(300_000);
  expect(await c2.evaluate((x) => window.peer!.call('xb.firefox', x), big)).toEqual({ engine: 'firefox', x: big });
  expect(await ff.evaluate((x) => window.peer!.call('xb.chromium', x), big)).toEqual({ engine: 'chromium', x: big });
  expect(await c1.evaluate((id) => window.peer!.callTo(id, 'xb.firefox', 7), ff.nodeId)).toEqual({
    engine: 'firefox',
    x: 7,
  });

  // Pub/sub both ways: Firefox and a Chromium tab subscribe, each engine publishes.
  await subscribeAll(ff, 'xb.news.*');
  await subscribeAll(c1, 'xb.news.**');
  await expect.poll(() => c2.evaluate(() => window.peer!.publish('xb.news.chromium', { n: 1 }), undefined)).toBe(2);
  await expect
    .poll(() => ff.evaluate(() => window.peer!.publish('xb.news.firefox', { n: 2 }), undefined))
    .toBeGreaterThanOrEqual(1);
  await expect
    .poll(() => ff.evaluate(() => window.received!.map((r) => r.topic), undefined))
    .toContain('xb.news.chromium');
  // Firefox's page took it itself, verified with its WebCrypto Ed25519 (main/page-publications.ts).
  await expect.poll(() => statOf(ff, 'pubsub.takenOnPage')).toBeGreaterThanOrEqual(1);
  await expect
    .poll(() => c1.evaluate(() => window.received!.map((r) => [r.topic, r.publisher]), undefined))
    .toEqual(
      expect.arrayContaining([
        ['xb.news.chromium', c2.nodeId],
        ['xb.news.firefox', ff.nodeId],
      ]),
    );

  // On one host both engines connect directly; Firefox reads its selected pair as Chromium does.
  await expect.poll(() => statOf(ff, 'connections.direct')).toBe(2);
  for (const t of tabs) expect(t.errors).toEqual([]);
});

test('a Firefox tab keeps its node id, stored records and services across a reload', async ({ browser, baseURL }) => {
  test.setTimeout(120_000);
  const origin = baseURL!;
  const ff = await firefoxTab(firefox, `${origin}/?storage=indexeddb`);
  const provider = await chromiumTab(browser, `${origin}/?storage=memory`);
  tabs.push(ff, provider);
  await expect.poll(() => openCount(ff), { timeout: 60_000 }).toBe(1);
  await ff.evaluate(
    () => window.peer!.advertise('ff.kept', () => 'still here', { metadata: { engine: 'firefox' } }),
    undefined,
  );
  await provider.evaluate(() => window.peer!.advertise('cr.stored', () => 1), undefined);
  // Firefox holds its own record and the Chromium tab's, and has written them to IndexedDB with its
  // services (one state, one write), in a flush after both advertisements. Waiting for "one more
  // write" instead could wait for nothing: with nothing changed, the next write is 30 s away.
  await expect.poll(() => statOf(ff, 'persistence.savedRecords'), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);

  expect(await ff.reload()).toBe(ff.nodeId);
  expect(await statOf(ff, 'persistence.restoredRecords')).toBeGreaterThanOrEqual(1);
  // Its service comes back without a handler, listed until the page hands one back.
  expect(
    await ff.evaluate(
      async () => (await window.peer!.restoredServices()).map((s) => [s.serviceId, s.metadata]),
      undefined,
    ),
  ).toEqual([['ff.kept', { engine: 'firefox' }]]);
  expect(await ff.evaluate(() => window.peer!.listLocalServices(), undefined)).toEqual([]);
  await ff.evaluate(
    () => window.peer!.advertise('ff.kept', () => 'still here', { metadata: { engine: 'firefox' } }),
    undefined,
  );
  expect(await ff.evaluate(() => window.peer!.listLocalServices(), undefined)).toEqual(['ff.kept']);
  // The Chromium tab still finds the Firefox tab's service, now re-advertised by the reloaded page.
  await expect
    .poll(
      async () =>
        (await provider.evaluate(() => window.peer!.discover('ff.kept', { forceRefresh: true }), undefined)).map(
          (p) => p.nodeId,
        ),
      { timeout: 30_000 },
    )
    .toEqual([ff.nodeId]);
  await expect.poll(() => openCount(ff), { timeout: 60_000 }).toBe(1);
  for (const t of tabs) expect(t.errors).toEqual([]);
});

test('the demo page renders and works in Firefox', async ({ browser, baseURL }) => {
  test.setTimeout(120_000);
  const origin = baseURL!;
  const ff = await firefoxTab(firefox, `${origin}/?storage=memory`);
  const cr = await chromiumTab(browser, `${origin}/?storage=memory`);
  tabs.push(ff, cr);
  const page = ff.firefox!;
  await page.setViewport({ width: 1440, height: 900 });
  const text = (selector: string): Promise<string> =>
    page.$eval(selector, (el) => el.textContent ?? '').catch(() => '');
  const fill = async (selector: string, value: string): Promise<void> => {
    await page.$eval(selector, (el) => ((el as HTMLInputElement).value = ''));
    await page.type(selector, value);
  };

  await expect.poll(() => text('#relay-status')).toBe('relay connected');
  await page.waitForSelector(`.mesh-svg [data-peer="${cr.nodeId}"][data-kind="open"]`, { timeout: 30_000 });
  await page.waitForSelector(`#routing [data-contact="${cr.nodeId}"]`);
  await expect.poll(() => text('#tile-routes')).toBe('1 / 0');

  // Advertise from the form; the Chromium tab discovers it and calls it.
  await fill('#advertise-name', 'demo.echo');
  await page.click('#advertise-form button[type="submit"]');
  await page.waitForSelector('#local-services [data-service="demo.echo"]');
  await expect
    .poll(() =>
      cr.evaluate(() => window.peer!.call('demo.echo', { from: 'chromium' }).catch((e: Error) => e.message), undefined),
    )
    .toEqual({ from: 'chromium' });

  // Discover and call the Chromium tab's service from Firefox's controls.
  await cr.evaluate(() => window.peer!.advertise('cr.echo', (x) => x), undefined);
  await fill('#discover-name', 'cr.echo');
  const provider = `#providers [data-provider="${cr.nodeId}"]`;
  await expect
    .poll(
      async () => {
        await page.click('#discover-form button[type="submit"]');
        return page.waitForSelector(provider, { timeout: 2_000 }).then(
          () => true,
          () => false,
        );
      },
      { timeout: 30_000 },
    )
    .toBe(true);
  await fill('#call-args', '{"hello": "from firefox"}');
  await page.click(`${provider} button`);
  await page.waitForSelector('#call-result[data-state="ok"]');
  expect(await text('#call-result')).toContain('"hello": "from firefox"');

  // Subscribe from the form; the Chromium tab publishes and the feed shows it.
  await fill('#subscribe-topic', 'xb.*.temp');
  await page.click('#subscribe-form button[type="submit"]');
  await page.waitForSelector('#subscriptions [data-subscription="xb.*.temp"]');
  await expect
    .poll(() => cr.evaluate(() => window.peer!.publish('xb.lab.temp', { celsius: 19 }), undefined), { timeout: 30_000 })
    .toBe(1);
  await page.waitForSelector('#feed .feed-item');
  expect(await text('#feed .feed-item')).toContain('xb.lab.temp');

  await page.screenshot({ path: 'e2e/output/firefox-demo.png', fullPage: true });
  for (const t of tabs) expect(t.errors).toEqual([]);
});
