import { expect, test } from '@playwright/test';
import { startTestRelay } from '../src/testing/index.js';
import { meshed, openPeer, stat, viaRelay } from './peers.js';

type Seen = { relay: string[][]; lookups: Array<{ kind: string; subject: { kind: string; name?: string } }> };
declare global {
  interface Window {
    seen?: Seen;
  }
}

test.describe('what an app learns from the peer', () => {
  test('relay:down when the relay goes away and relay:up when it is back, with its URL', async ({ browser }) => {
    let relay = await startTestRelay();
    const port = relay.port;
    const peers = [await openPeer(browser, viaRelay(relay.url)), await openPeer(browser, viaRelay(relay.url))];
    try {
      await meshed(peers);
      for (const p of peers) {
        await p.page.evaluate(() => {
          const seen: Seen = { relay: [], lookups: [] };
          window.seen = seen;
          window.peer!.on('relay:down', (url) => seen.relay.push(['down', url]));
          window.peer!.on('relay:up', (url) => seen.relay.push(['up', url]));
        });
      }
      await relay.close();
      for (const p of peers)
        await expect.poll(() => p.page.evaluate(() => window.seen!.relay)).toEqual([['down', relay.url]]);
      relay = await startTestRelay({ port });
      for (const p of peers)
        await expect
          .poll(() => p.page.evaluate(() => window.seen!.relay), { timeout: 60_000 })
          .toEqual([
            ['down', relay.url],
            ['up', relay.url],
          ]);
      for (const p of peers) expect(p.errors.filter((e) => !/WebSocket/.test(e))).toEqual([]);
    } finally {
      for (const p of peers) await p.context.close();
      await relay.close();
    }
  });

  test('relayStatus() says down, with the relay tried, when createPeer gave up waiting for an unreachable relay', async ({
    browser,
  }) => {
    // A port nothing listens on: the relay link never comes up, createPeer resolves after 5 s anyway.
    const dead = 'ws://127.0.0.1:9/relay';
    const peer = await openPeer(browser, viaRelay(dead));
    try {
      expect(await peer.page.evaluate(() => window.peer!.relayStatus())).toEqual({ up: false, url: dead });
      expect(await stat(peer, 'relay.connected')).toBe(0);
    } finally {
      await peer.context.close();
    }
    const relay = await startTestRelay();
    const reached = await openPeer(browser, viaRelay(relay.url));
    try {
      expect(await reached.page.evaluate(() => window.peer!.relayStatus())).toEqual({ up: true, url: relay.url });
    } finally {
      await reached.context.close();
      await relay.close();
    }
  });

  test('lookup events name the service or topic looked up; callDetailed names the provider and the attempts', async ({
    browser,
  }) => {
    const [provider, caller] = [await openPeer(browser), await openPeer(browser)];
    try {
      await meshed([provider, caller]);
      await provider.page.evaluate(() => window.peer!.advertise('events.echo', (x) => x));
      await caller.page.evaluate(() => {
        const seen: Seen = { relay: [], lookups: [] };
        window.seen = seen;
        window.peer!.on('lookup', (e) => seen.lookups.push({ kind: e.kind, subject: e.subject }));
      });
      await expect
        .poll(() =>
          caller.page.evaluate(async () => (await window.peer!.discover('events.echo', { forceRefresh: true })).length),
        )
        .toBe(1);
      // A discovery the page settled from its first answer resolves before the worker's lookup
      // reports its end (docs/ARCHITECTURE.md, Threads): the event follows within the worker's turn.
      await expect
        .poll(() =>
          caller.page.evaluate(() => window.seen!.lookups.filter((l) => l.kind === 'done').map((l) => l.subject)),
        )
        .toContainEqual({ kind: 'service', name: 'events.echo' });

      await caller.page.evaluate(() => window.peer!.publish('events.news.today', 'hello'));
      await expect
        .poll(() =>
          caller.page.evaluate(() => window.seen!.lookups.filter((l) => l.kind === 'done').map((l) => l.subject)),
        )
        .toContainEqual({ kind: 'topic', name: 'events.news.today' });

      const outcome = await caller.page.evaluate(() => window.peer!.callDetailed('events.echo', 'ping'));
      expect(outcome).toEqual({ result: 'ping', provider: provider.nodeId, attempts: 1, failed: [] });
      for (const p of [provider, caller]) expect(p.errors).toEqual([]);
    } finally {
      for (const p of [provider, caller]) await p.context.close();
    }
  });
});
