import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { startTestRelay, type TestRelay } from '../src/testing/index.js';
import { NodePeerProcess } from './node-peer.js';
import { openPeer, viaRelay, type PeerPage } from './peers.js';
import { RelayProcess } from './relay-process.js';

declare global {
  interface Window {
    nodeInbox?: unknown[];
  }
}

/**
 * The Node peer (`macula-web/node`, src/node) in one mesh with Chromium tabs: each side
 * discovers, calls and publishes to the other; a Node provider outlives every tab; a Node
 * peer restarted on its data directory comes back as the same node with its services.
 * Each test has a relay of its own, so only its own peers meet.
 */

let relay: TestRelay;
const nodes: NodePeerProcess[] = [];
let dataRoot: string;

test.beforeEach(async () => {
  relay = await startTestRelay();
  dataRoot = await mkdtemp(join(tmpdir(), 'macula-e2e-node-'));
});
test.afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.close()));
  await relay.close();
  await rm(dataRoot, { recursive: true, force: true });
});

const startNode = async (dataDir?: string): Promise<NodePeerProcess> => {
  const node = await NodePeerProcess.start(relay.url, dataDir);
  nodes.push(node);
  return node;
};

const tab = (browser: Parameters<typeof openPeer>[0]): Promise<PeerPage> => openPeer(browser, viaRelay(relay.url));

const discoveredBy = (p: PeerPage, serviceId: string): Promise<string[]> =>
  p.page.evaluate(
    async (s) => (await window.peer!.discover(s, { forceRefresh: true })).map((x) => x.nodeId),
    serviceId,
  );

const nodeDiscovers = async (n: NodePeerProcess, serviceId: string): Promise<string[]> =>
  (await n.request<Array<{ nodeId: string }>>('discover', { serviceId })).map((x) => x.nodeId);

test.describe('Node peer with browser peers', () => {
  // Each Node peer is a process that tsx compiles on start (seconds on a loaded 2-core runner), and the
  // restart test starts three: more room than the suite's 90 s, as a safety net, not a speed check.
  test.describe.configure({ timeout: 180_000 });

  test('Node and browser peers discover, call and publish to each other in both directions', async ({ browser }) => {
    const node = await startNode();
    const [a, b] = [await tab(browser), await tab(browser)];
    await node.request('advertise', { serviceId: 'node.greet' });
    await a.page.evaluate(() => window.peer!.advertise('tab.greet', (x) => ({ tab: window.peer!.nodeId, x })));

    // Browser -> Node.
    await expect.poll(() => discoveredBy(b, 'node.greet')).toContain(node.nodeId);
    expect(await b.page.evaluate(() => window.peer!.call('node.greet', { from: 'tab' }))).toEqual({
      by: node.nodeId,
      args: { from: 'tab' },
    });
    // Node -> browser.
    await expect.poll(() => nodeDiscovers(node, 'tab.greet')).toContain(a.nodeId);
    expect(await node.request('call', { serviceId: 'tab.greet', args: 7 })).toEqual({ tab: a.nodeId, x: 7 });

    // Pub/sub both ways: the Node peer and tab a subscribe, tab b and the Node peer publish.
    await node.request('subscribe', { pattern: 'news.**' });
    await a.page.evaluate(() => {
      window.nodeInbox = [];
      return window.peer!.subscribe('news.**', (payload, info) =>
        window.nodeInbox!.push([info.topic, payload, info.publisher]),
      );
    });
    await expect
      .poll(() =>
        b.page.evaluate(
          async () => (await window.peer!.discoverSubscribers('news.tab', { forceRefresh: true })).length,
        ),
      )
      .toBe(2);
    expect(await b.page.evaluate(() => window.peer!.publish('news.tab', { n: 1 }))).toBe(2);
    await expect
      .poll(() => node.request<Array<{ topic: string; payload: unknown; publisher: string }>>('received'))
      .toEqual([{ topic: 'news.tab', payload: { n: 1 }, publisher: b.nodeId }]);
    await expect
      .poll(() => node.request<unknown[]>('discoverSubscribers', { topic: 'news.node' }).then((l) => l.length))
      .toBe(2);
    expect(await node.request('publish', { topic: 'news.node', payload: { n: 2 } })).toBeGreaterThanOrEqual(1);
    await expect
      .poll(() => a.page.evaluate(() => window.nodeInbox))
      .toContainEqual(['news.node', { n: 2 }, node.nodeId]);
    for (const p of [a, b]) expect(p.errors).toEqual([]);
  });

  test('a Node provider keeps a service callable while every tab closes and new ones open', async ({ browser }) => {
    const node = await startNode();
    await node.request('advertise', { serviceId: 'always.there' });
    for (let round = 0; round < 2; round++) {
      // A fresh generation of tabs: the previous ones are all closed.
      const tabs = [await tab(browser), await tab(browser)];
      for (const t of tabs) {
        await expect.poll(() => discoveredBy(t, 'always.there')).toEqual([node.nodeId]);
        expect(await t.page.evaluate((r) => window.peer!.call('always.there', r), round)).toEqual({
          by: node.nodeId,
          args: round,
        });
      }
      for (const t of tabs) await t.context.close();
    }
  });

  test('a Node peer restarted on its data directory comes back with the same node id and its services', async ({
    browser,
  }) => {
    const dataDir = join(dataRoot, 'provider');
    const first = await startNode(dataDir);
    await first.request('advertise', { serviceId: 'kept.service', metadata: { region: 'eu' } });
    const watcher = await tab(browser);
    await expect.poll(() => discoveredBy(watcher, 'kept.service')).toEqual([first.nodeId]);
    await first.close();

    const again = await startNode(dataDir);
    expect(again.nodeId).toBe(first.nodeId);
    // Restored from the data directory, and waiting for the app's handler (README: restoredServices()):
    // a service is advertised again only with a handler to answer its calls.
    expect(await again.request('restoredServices')).toEqual([['kept.service', { region: 'eu' }]]);
    expect(await again.request('listLocalServices')).toEqual([]);
    // The app registers its handler again on start, as a server does: discovered and called again.
    await again.request('advertise', { serviceId: 'kept.service', metadata: { region: 'eu' } });
    const newcomer = await tab(browser);
    await expect
      .poll(() =>
        newcomer.page.evaluate(async () =>
          (await window.peer!.discover('kept.service', { forceRefresh: true })).map((p) => [p.nodeId, p.metadata]),
        ),
      )
      .toEqual([[first.nodeId, { region: 'eu' }]]);
    expect(await newcomer.page.evaluate(() => window.peer!.call('kept.service', 'back?'))).toEqual({
      by: first.nodeId,
      args: 'back?',
    });

    // A crash (SIGKILL: no close, the lock file left behind) loses neither the identity nor the services.
    await again.kill();
    const third = await startNode(dataDir);
    expect(third.nodeId).toBe(first.nodeId);
    expect(await third.request('restoredServices')).toEqual([['kept.service', { region: 'eu' }]]);
    await third.request('advertise', { serviceId: 'kept.service', metadata: { region: 'eu' } });
    await expect
      .poll(() =>
        newcomer.page.evaluate(() => window.peer!.call('kept.service', 'still?').catch((e: Error) => e.message)),
      )
      .toEqual({ by: first.nodeId, args: 'still?' });
  });

  test("the demo marks a Node peer and a relay's own peer, in the mesh picture and the routing table", async ({
    browser,
  }) => {
    // A relay that runs its own peer, as the command line starts one (the suite's relays are signaling only).
    const relayWithPeer = await RelayProcess.start(await freePort());
    try {
      const node = await NodePeerProcess.start(relayWithPeer.url);
      nodes.push(node);
      const { page } = await openPeer(browser, viaRelay(relayWithPeer.url));
      await expect(page.locator('#relay-list [data-relay="entered"]')).toHaveText(relayWithPeer.url);

      // The Node peer says what it is in its PINGs and PONGs: known within the channel's first round trip.
      const nodeRow = page.locator(`#routing [data-contact="${node.nodeId}"] .state-node`);
      await expect(nodeRow).toHaveText('node');
      await expect(page.locator(`#mesh [data-peer="${node.nodeId}"]`)).toHaveAttribute('data-role', 'node');
      await expect(page.locator(`#mesh [data-peer="${node.nodeId}"] .role-node`)).toHaveCount(1);

      // The relay's peer advertises RELAY_SERVICE: known once the tab has looked it up (15 s after its first channel).
      const relayRow = page.locator(`#routing [data-contact="${relayWithPeer.peerId}"] .state-relay`);
      await expect(relayRow).toHaveAttribute('title', relayWithPeer.url, { timeout: 60_000 });
      await expect(relayRow).toHaveText('relay');
      await expect(page.locator(`#mesh [data-peer="${relayWithPeer.peerId}"]`)).toHaveAttribute('data-role', 'relay');
      await expect(page.locator(`#mesh [data-peer="${relayWithPeer.peerId}"] .role-relay`)).toHaveCount(1);
      // The relay's peer is a Node peer too, but wears one mark, the relay's; the Node peer keeps its own.
      await expect(page.locator(`#mesh [data-peer="${relayWithPeer.peerId}"] .role-node`)).toHaveCount(0);
      await expect(page.locator(`#mesh [data-peer="${node.nodeId}"]`)).toHaveAttribute('data-role', 'node');
      await expect(page.locator('#mesh [data-role]')).toHaveCount(2);
    } finally {
      await relayWithPeer.close();
    }
  });
});

/** A port the system had free a moment ago, for a relay process (which needs a port on its command line). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
