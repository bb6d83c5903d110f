import { chromium, expect, test, type Browser } from '@playwright/test';
import { waitForPeer, type PeerPage } from '../peers.js';
import { buildNatWorld, type Home, type NatWorld } from './nat-world.js';
import { pcReport, trackerScript } from './pc-tracker.js';
import { startCoturn, startServe, type Service } from './services.js';
import { CHROMIUM_ARGS } from '../../scripts/find-browser.js';

/**
 * Browsers behind real NATs (nat-world.ts): two homes behind port-preserving NATs and two
 * behind symmetric ones, the relay and coturn on the "internet" between them, a Chromium
 * per home running inside its namespace. STUN gets tabs behind port-preserving NATs a
 * direct connection; behind symmetric NATs only TURN does; with neither configured tabs
 * in different homes do not connect, and each attempt fails within the bound with its
 * reason in stats().
 */

const SERVE_PORT = 8842;
const SECRET = 'nat-test-secret';
const OPEN_BOUND_MS = 15_000;
const CHROMIUM = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';
const ARGS = CHROMIUM_ARGS;

test.describe.configure({ mode: 'serial' });

let world: NatWorld;
let turn: Service & { url: string };
const running: Array<{ close(): Promise<void> }> = [];
const services: Service[] = [];

test.beforeAll(async () => {
  world = buildNatWorld(['preserving', 'preserving', 'symmetric', 'symmetric'], CHROMIUM);
  turn = await startCoturn({
    listenIp: world.publicIp,
    port: 3478,
    minPort: 3480,
    maxPort: 3490,
    secret: SECRET,
    netns: world.internet,
  });
});
test.afterAll(async () => {
  await turn?.stop();
  world?.teardown();
});
test.afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.close().catch(() => undefined);
  for (const s of services.splice(0)) await s.stop();
});

async function relay(args: string[]): Promise<string> {
  const serve = await startServe({
    port: SERVE_PORT,
    host: world.publicIp,
    netns: world.internet,
    args,
    env: args.includes('--turn') ? { TURN_SECRET: SECRET } : {},
  });
  services.push(serve);
  return serve.origin;
}

/** A Chromium inside `home`'s namespace with one tab on the demo. */
async function tabIn(home: Home, origin: string): Promise<PeerPage> {
  const browser: Browser = await chromium.launch({ executablePath: home.chromium, args: ARGS });
  running.push(browser);
  const context = await browser.newContext();
  await context.addInitScript({ content: trackerScript });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${origin}/?storage=memory`);
  return { page, context, nodeId: await waitForPeer(page), errors };
}

const stats = (p: PeerPage): Promise<Record<string, number>> => p.page.evaluate(() => window.peer!.stats());
const homes = (kind: 'preserving' | 'symmetric'): [Home, Home] =>
  world.homes.filter((h) => h.nat === kind) as [Home, Home];

test('behind port-preserving NATs, STUN is enough: the tabs connect directly (server- or peer-reflexive, not relayed)', async () => {
  const origin = await relay(['--stun', `stun:${world.publicIp}:3478`]);
  const [h1, h2] = homes('preserving');
  const tabs = [await tabIn(h1, origin), await tabIn(h2, origin)];
  for (const t of tabs)
    await expect.poll(async () => (await stats(t))['connections.open'], { timeout: 60_000 }).toBe(1);
  for (const t of tabs) {
    const r = await pcReport((fn) => t.page.evaluate(fn));
    expect(r.connected).toBe(1);
    const route = r.routes[0]!;
    expect(['srflx', 'prflx']).toContain(route.local);
    expect(['srflx', 'prflx']).toContain(route.remote);
    expect(route.relayed).toBe(false);
    await expect.poll(async () => (await stats(t))['connections.direct']).toBe(1);
  }
  await tabs[0]!.page.evaluate(() => window.peer!.advertise('nat.echo', (x) => x));
  await expect
    .poll(
      () =>
        tabs[1]!.page.evaluate(() => window.peer!.call('nat.echo', 'through two NATs').catch((e: Error) => e.message)),
      { timeout: 30_000 },
    )
    .toBe('through two NATs');
  for (const t of tabs) expect(t.errors).toEqual([]);
});

test('behind symmetric NATs, STUN alone fails (ICE finds no pair) and TURN connects them', async () => {
  test.setTimeout(300_000);
  const [h3, h4] = homes('symmetric');
  let origin = await relay(['--stun', `stun:${world.publicIp}:3478`]);
  let tabs = [await tabIn(h3, origin), await tabIn(h4, origin)];
  for (const t of tabs)
    await expect
      .poll(async () => (await stats(t))['connections.failed'], { timeout: 90_000 })
      .toBeGreaterThanOrEqual(1);
  for (const t of tabs) {
    const s = await stats(t);
    expect(s['connections.open']).toBe(0);
    expect(s['connections.failed.iceFailed']).toBe(s['connections.failed']);
  }
  for (const r of running.splice(0)) await r.close();
  for (const s of services.splice(0)) await s.stop();

  origin = await relay([
    '--stun',
    `stun:${world.publicIp}:3478`,
    '--turn',
    `turn:${world.publicIp}:3478?transport=udp`,
  ]);
  tabs = [await tabIn(h3, origin), await tabIn(h4, origin)];
  for (const t of tabs)
    await expect.poll(async () => (await stats(t))['connections.open'], { timeout: 60_000 }).toBe(1);
  for (const t of tabs) {
    const r = await pcReport((fn) => t.page.evaluate(fn));
    expect(r.connected).toBe(1);
    expect(r.routes[0]!.relayed).toBe(true);
    await expect.poll(async () => (await stats(t))['connections.relayed']).toBe(1);
  }
  await tabs[0]!.page.evaluate(() => window.peer!.advertise('nat.echo', (x) => x));
  await expect
    .poll(
      () => tabs[1]!.page.evaluate(() => window.peer!.call('nat.echo', 'via TURN').catch((e: Error) => e.message)),
      { timeout: 30_000 },
    )
    .toBe('via TURN');
  for (const t of tabs) expect(t.errors).toEqual([]);
});

test('with neither STUN nor TURN, tabs in different homes do not connect: each attempt fails within the bound and says why', async () => {
  const origin = await relay([]);
  const [h1, h2] = homes('preserving');
  const tabs = [await tabIn(h1, origin), await tabIn(h2, origin)];
  for (const t of tabs)
    await expect
      .poll(async () => (await stats(t))['connections.failed'], { timeout: 90_000 })
      .toBeGreaterThanOrEqual(1);
  for (const t of tabs) {
    const s = await stats(t);
    expect(s['ice.relayServers']).toBe(0);
    expect(s['connections.open']).toBe(0);
    // Only host candidates, on networks that cannot reach each other: no pair connects.
    expect(s['connections.failed.iceFailed']).toBe(s['connections.failed']);
    expect(s['connections.failedHeldMsMax']).toBeLessThan(OPEN_BOUND_MS + 5_000);
    const r = await pcReport((fn) => t.page.evaluate(fn));
    expect(r.connected).toBe(0);
    expect(r.live).toBeLessThanOrEqual(1);
    expect(t.errors).toEqual([]);
  }
});
