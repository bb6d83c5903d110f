import { expect, test, type Page } from '@playwright/test';
import { openPeer, type PeerPage } from './peers.js';

/**
 * The demo page, driven the way a person would: through its forms and buttons, never
 * through window.peer (only openPeer's wait for the peer to exist uses it). Three tabs in
 * separate contexts: one provides and publishes, one discovers and calls, one subscribes.
 */

const short = (id: string): string => id.slice(0, 8);

/** The mesh picture of a tab: markers and channel curves carry the node id they stand for. */
const markers = (p: Page, kind: 'self' | 'open' | 'known') => p.locator(`.mesh-svg [data-peer][data-kind="${kind}"]`);
const channels = (p: Page) => p.locator('.mesh-svg path[data-channel]');

async function screenshot(p: PeerPage, name: string): Promise<void> {
  await p.page.screenshot({ path: `e2e/output/demo-${name}.png`, fullPage: true });
}

test.describe('the demo page', () => {
  test('three tabs: the mesh picture, advertise, discover and call, subscribe and publish, all from the controls', async ({
    browser,
  }) => {
    const tabs: PeerPage[] = [];
    for (let i = 0; i < 3; i++) {
      const tab = await openPeer(browser);
      await tab.page.setViewportSize({ width: 1440, height: 900 });
      tabs.push(tab);
    }
    const [provider, caller, listener] = tabs as [PeerPage, PeerPage, PeerPage];

    // Each tab draws itself and the other two, with a channel curve to each of them.
    for (const t of tabs) {
      await expect(t.page.locator('#node-id')).toHaveAttribute('title', t.nodeId);
      await expect(t.page.locator('#relay-status')).toHaveText('relay connected');
      await expect(markers(t.page, 'self')).toHaveAttribute('data-peer', t.nodeId);
      await expect(markers(t.page, 'open')).toHaveCount(2);
      await expect(channels(t.page)).toHaveCount(2);
      for (const other of tabs) {
        if (other === t) continue;
        await expect(t.page.locator(`.mesh-svg [data-peer="${other.nodeId}"]`)).toHaveAttribute('data-kind', 'open');
        await expect(t.page.locator(`#routing [data-contact="${other.nodeId}"]`)).toBeVisible();
      }
      await expect(t.page.locator('#mesh-status')).toHaveAttribute('data-state', 'ok');
    }

    // Advertise with the keyboard: type the name and press Enter in the form.
    await provider.page.locator('#advertise-name').fill('demo.echo');
    await provider.page.locator('#advertise-meta').fill('{"room": "lab"}');
    await provider.page.locator('#advertise-name').press('Enter');
    await expect(provider.page.locator('#local-services [data-service="demo.echo"]')).toBeVisible();

    // Discover from another tab; the record may take a moment to reach the k closest nodes.
    await caller.page.locator('#discover-name').fill('demo.echo');
    const found = caller.page.locator(`#providers [data-provider="${provider.nodeId}"]`);
    await expect(async () => {
      await caller.page.getByRole('button', { name: 'Discover' }).click();
      await expect(found).toBeVisible({ timeout: 2_000 });
    }).toPass();
    await expect(found).toContainText('"room": "lab"');
    await expect(caller.page.locator('#discover-summary')).toContainText('1 provider of demo.echo');
    // The discovery was a real lookup: the picture captioned it and the counters saw it.
    await expect(caller.page.locator('#lookup-caption')).toHaveAttribute('data-state', 'done');
    await expect(caller.page.locator('#tile-lookups')).not.toHaveText('0');

    // Call the chosen provider (callTo), then any provider (call).
    await caller.page.locator('#call-args').fill('{"hello": "from the caller"}');
    await found.getByRole('button', { name: /Call demo\.echo on/ }).click();
    const result = caller.page.locator('#call-result');
    await expect(result).toHaveAttribute('data-state', 'ok');
    await expect(result).toContainText(`on ${short(provider.nodeId)}`);
    await expect(result.locator('.result-value')).toContainText('"hello": "from the caller"');
    await expect(result.locator('.latency')).toHaveText(/^\d+(\.\d)? ms$/);
    await caller.page.locator('#call-args').fill('{"n": 2}');
    await caller.page.getByRole('button', { name: 'Call any provider' }).click();
    await expect(result.locator('.result-value')).toContainText('"n": 2');
    await expect(provider.page.locator('#log [data-kind="call"]').first()).toContainText('served demo.echo');

    // Subscribe with a wildcard in the third tab; publish from the first until it is delivered.
    await listener.page.locator('#subscribe-topic').fill('sensors.*.temp');
    await listener.page.getByRole('button', { name: 'Subscribe', exact: true }).click();
    await expect(listener.page.locator('#subscriptions [data-subscription="sensors.*.temp"]')).toBeVisible();
    await provider.page.locator('#publish-topic').fill('sensors.kitchen.temp');
    await provider.page.locator('#publish-payload').fill('{"celsius": 22.5}');
    await expect(async () => {
      await provider.page.getByRole('button', { name: 'Publish' }).click();
      await expect(provider.page.locator('#publish-result')).toContainText('delivered to 1 subscriber', {
        timeout: 2_000,
      });
    }).toPass();
    const item = listener.page.locator('#feed .feed-item').first();
    await expect(item).toContainText('sensors.kitchen.temp');
    await expect(item).toContainText('"celsius": 22.5');
    await expect(item.locator(`[data-node="${provider.nodeId}"]`)).toBeVisible();

    // The log filters by kind and by text.
    const log = caller.page.locator('#log li:visible');
    await caller.page.locator('#log-kind').selectOption('call');
    await expect(log.first()).toBeVisible();
    for (const kind of await log.evaluateAll((els) => els.map((e) => e.getAttribute('data-kind'))))
      expect(kind).toBe('call');
    await caller.page.locator('#log-kind').selectOption('');
    await caller.page.locator('#log-filter').fill('discovered');
    await expect(log.first()).toBeVisible();
    for (const text of await log.allTextContents()) expect(text).toContain('discovered');
    await caller.page.locator('#log-filter').fill('');

    for (const [i, t] of tabs.entries()) await screenshot(t, ['provider', 'caller', 'listener'][i]!);

    // Unadvertise and unsubscribe from the controls.
    await provider.page.getByRole('button', { name: 'Unadvertise demo.echo' }).click();
    await expect(provider.page.locator('#local-services [data-service]')).toHaveCount(0);
    await expect(async () => {
      await caller.page.getByRole('button', { name: 'Discover' }).click();
      await expect(caller.page.locator('#providers')).toContainText('Nobody provides demo.echo', { timeout: 2_000 });
    }).toPass();
    await listener.page.getByRole('button', { name: 'Unsubscribe from sensors.*.temp' }).click();
    await expect(listener.page.locator('#subscriptions [data-subscription]')).toHaveCount(0);

    for (const t of tabs) expect(t.errors).toEqual([]);
    for (const t of tabs) await t.context.close();
  });

  test('a new tab pops into the picture and a closed one leaves it', async ({ browser }) => {
    const a = await openPeer(browser);
    const b = await openPeer(browser);
    await expect(markers(a.page, 'open')).toHaveCount(1);
    const c = await openPeer(browser);
    await expect(a.page.locator(`.mesh-svg [data-peer="${c.nodeId}"]`)).toHaveAttribute('data-kind', 'open');
    await expect(channels(a.page)).toHaveCount(2);
    await c.context.close();
    // A tab that vanishes without saying goodbye is noticed when its channel times out (about 15 s here).
    await expect(a.page.locator(`.mesh-svg path[data-channel="${c.nodeId}"]`)).toHaveCount(0, { timeout: 60_000 });
    await expect(a.page.locator('#log')).toContainText(`channel closed to ${short(c.nodeId)}`);
    for (const t of [a, b]) expect(t.errors).toEqual([]);
    for (const t of [a, b]) await t.context.close();
  });

  test('phone width: one column, nothing wider than the screen', async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const tab = await openPeer(context);
    await expect(tab.page.locator('.mesh-svg')).toBeVisible();
    const widths = await tab.page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      screen: window.innerWidth,
    }));
    expect(widths.page).toBeLessThanOrEqual(widths.screen);
    await screenshot(tab, 'phone');
    expect(tab.errors).toEqual([]);
    await context.close();
  });
});
