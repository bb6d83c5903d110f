import { expect, test, type Browser } from '@playwright/test';
import { waitForPeer, type PeerPage } from '../peers.js';
import { pcReport, trackerScript } from './pc-tracker.js';
import { startCoturn, startServe, type Service } from './services.js';

/**
 * TURN through coturn with credentials from the relay: coturn on loopback with
 * use-auth-secret, the relay (`npm start`'s server) started with --turn and the secret,
 * and tabs that may only use relay candidates (`?ice=relay`). With the right secret they
 * mesh and call each other through TURN; with a wrong one no channel opens, every attempt
 * ends as a counted failure within the bound, and nothing leaks.
 */

const SERVE_PORT = 8840;
const TURN = { listenIp: '127.0.0.1', port: 3478, minPort: 3480, maxPort: 3490, allowLoopbackPeers: true };
/** ConnectionManager's openTimeoutMs: the bound on a connection that does not open. */
const OPEN_BOUND_MS = 15_000;

test.describe.configure({ mode: 'serial' });

async function openTab(browser: Browser, origin: string): Promise<PeerPage> {
  const context = await browser.newContext();
  await context.addInitScript({ content: trackerScript });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${origin}/?storage=memory&ice=relay`);
  return { page, context, nodeId: await waitForPeer(page), errors };
}

const stats = (p: PeerPage): Promise<Record<string, number>> => p.page.evaluate(() => window.peer!.stats());
const report = (p: PeerPage) => pcReport((fn) => p.page.evaluate(fn));

test.describe('TURN with credentials from the relay (coturn)', () => {
  const services: Service[] = [];
  const tabs: PeerPage[] = [];
  test.afterEach(async () => {
    for (const t of tabs.splice(0)) await t.context.close().catch(() => undefined);
    for (const s of services.splice(0).reverse()) await s.stop();
  });

  test("three relay-only tabs mesh and call each other, every open connection's selected pair is a relay candidate", async ({
    browser,
  }) => {
    test.setTimeout(150_000);
    const turn = await startCoturn({ ...TURN, secret: 'right-secret' });
    services.push(turn);
    // A short credential lifetime, so the tabs renew during the test.
    const serve = await startServe({
      port: SERVE_PORT,
      host: '127.0.0.1',
      args: ['--turn', turn.url, '--turn-ttl', '20'],
      env: { TURN_SECRET: 'right-secret' },
    });
    services.push(serve);
    for (let i = 0; i < 3; i++) tabs.push(await openTab(browser, serve.origin));

    for (const t of tabs) {
      await expect.poll(async () => (await stats(t))['connections.open'], { timeout: 60_000 }).toBe(2);
      expect((await stats(t))['ice.relayServers']).toBe(1);
    }
    for (const [i, t] of tabs.entries()) {
      await t.page.evaluate((n) => window.peer!.advertise(`turn.echo.${n}`, (x) => ({ from: n, x })), i);
    }
    for (const [i, caller] of tabs.entries()) {
      for (const [j] of tabs.entries()) {
        if (i === j) continue;
        await expect
          .poll(
            () =>
              caller.page.evaluate((n) => window.peer!.call(`turn.echo.${n}`, 'hi').catch((e: Error) => e.message), j),
            { timeout: 30_000 },
          )
          .toEqual({ from: j, x: 'hi' });
      }
    }
    for (const t of tabs) {
      const r = await report(t);
      expect(r.connected).toBe(2);
      expect(r.policies).toEqual(r.policies.map(() => 'relay'));
      for (const route of r.routes) {
        expect(route?.local).toBe('relay');
        expect(route?.relayed).toBe(true);
      }
      // The library saw the same: both channels go through TURN, none directly.
      await expect
        .poll(async () => {
          const s = await stats(t);
          return [s['connections.relayed'], s['connections.direct']];
        })
        .toEqual([2, 0]);
      // Every RTCPeerConnection the page made is one the library counted.
      expect(r.created).toBe((await stats(t))['connections.created']);
    }
    // Credentials valid for 20 s are renewed after 16 s.
    for (const t of tabs)
      await expect.poll(async () => (await stats(t))['ice.updates'], { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    for (const t of tabs) expect(t.errors).toEqual([]);
  });

  test('a wrong secret: no channel opens, each attempt fails within the bound and is closed, and the tabs keep trying', async ({
    browser,
  }) => {
    test.setTimeout(150_000);
    const turn = await startCoturn({ ...TURN, secret: 'right-secret' });
    services.push(turn);
    const serve = await startServe({
      port: SERVE_PORT,
      host: '127.0.0.1',
      args: ['--turn', turn.url],
      env: { TURN_SECRET: 'wrong-secret' },
    });
    services.push(serve);
    for (let i = 0; i < 2; i++) tabs.push(await openTab(browser, serve.origin));

    // Two failures per tab: the first attempt, and a retry after it.
    for (const t of tabs)
      await expect
        .poll(async () => (await stats(t))['connections.failed'], { timeout: 90_000 })
        .toBeGreaterThanOrEqual(2);
    for (const t of tabs) {
      const s = await stats(t);
      expect(s['connections.open']).toBe(0);
      expect(s['connections.openedDirect']! + s['connections.openedRelayed']!).toBe(0);
      // TURN refused the credentials, so a relay-only connection had no candidate at all.
      expect(s['connections.failed.noLocalCandidates']).toBe(s['connections.failed']);
      // Held its slot until the bound, not longer (timers fire late on a loaded machine: a few seconds' slack).
      expect(s['connections.failedHeldMsMax']).toBeGreaterThanOrEqual(OPEN_BOUND_MS);
      expect(s['connections.failedHeldMsMax']).toBeLessThan(OPEN_BOUND_MS + 5_000);
      // No leak: every RTCPeerConnection the page created is closed but the one (per other tab) still trying.
      const r = await report(t);
      expect(r.created).toBe(s['connections.created']);
      expect(r.live).toBeLessThanOrEqual(1);
      expect(r.created - r.live).toBeGreaterThanOrEqual(s['connections.failed']!);
      expect(t.errors).toEqual([]);
    }
    // The tab is still alive and answers its own API.
    expect(await tabs[0]!.page.evaluate(() => window.peer!.listLocalServices())).toEqual([]);
  });
});
