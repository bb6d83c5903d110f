import { expect, test } from '@playwright/test';
import { startRelay } from '../src/relay/relay.js';
import { RELAY_SERVICE, relayServiceMetadata } from '../src/signaling/relay-service.js';
import { channelIds, discover, meshed, openPeer, viaRelay, type PeerPage } from './peers.js';

/**
 * Two relays; a tab whose relay dies reconnects to a relay it learned from the DHT (not
 * from its bootstrap list) and keeps its channels meanwhile (README, Deploying: several
 * relays).
 *
 * The relays here are signaling only (started from code without a peer), and a tab
 * advertises RELAY_SERVICE with relay B's URL, as B's own peer does once it has joined A's
 * mesh: the record, its lookup and everything the learning tab does with it are the real
 * ones, without the cost of relay peers. Relays with their own peers, joined in a chain:
 * e2e/federation.spec.ts.
 */

const relaysOf = (p: PeerPage) => p.page.evaluate(() => window.peer!.relays());

test('a tab learns relay B from the DHT, and when relay A dies it reconnects through B with its channels kept', async ({
  browser,
}) => {
  test.setTimeout(150_000);
  const a = await startRelay({ port: 0, host: '127.0.0.1' });
  const b = await startRelay({ port: 0, host: '127.0.0.1' });
  // Read now: a closed relay has no address.
  const [aUrl, bUrl] = [a.address, b.address];
  const peers: PeerPage[] = [];
  try {
    const provider = await openPeer(browser, viaRelay(aUrl));
    const standIn = await openPeer(browser, viaRelay(aUrl));
    const tab = await openPeer(browser, viaRelay(aUrl));
    peers.push(provider, standIn, tab);
    await meshed(peers);
    await provider.page.evaluate(() => window.peer!.advertise('fed.echo', (x) => x));
    // Relay B's peer would advertise this from inside the mesh; the stand-in does it for it.
    await standIn.page.evaluate(([service, metadata]) => window.peer!.advertise(service, () => null, { metadata }), [
      RELAY_SERVICE,
      relayServiceMetadata(bUrl),
    ] as const);

    // The tab learns B a little after joining (first refresh 15 s after its first channel).
    await expect.poll(async () => (await relaysOf(tab)).learned.map((r) => r.url), { timeout: 60_000 }).toContain(bUrl);
    expect(await relaysOf(tab)).toMatchObject({ current: aUrl, entered: aUrl, bootstrap: [aUrl] });
    await expect(tab.page.locator('#relay-list [data-relay="learned"]')).toHaveText(bUrl);
    // The peer that advertised a relay is marked as one in the routing table, with its URL.
    await expect(tab.page.locator(`#routing [data-contact="${standIn.nodeId}"] .state-relay`)).toHaveAttribute(
      'title',
      bUrl,
    );

    const before = await channelIds(tab);
    expect(before.length).toBeGreaterThan(0);
    let disconnects = 0;
    await tab.page.exposeFunction('countDisconnect', () => void disconnects++);
    await tab.page.evaluate(() => {
      window.peer!.on(
        'peer:disconnect',
        () => void (window as unknown as { countDisconnect(): void }).countDisconnect(),
      );
    });

    await a.close();
    await expect
      .poll(async () => relaysOf(tab), { timeout: 30_000 })
      .toMatchObject({
        current: bUrl,
        connected: true,
        entered: aUrl,
      });
    expect(b.stats().authenticated).toBeGreaterThanOrEqual(1);
    // Its WebRTC channels never needed the relay: all still open, none closed meanwhile.
    expect((await channelIds(tab)).sort()).toEqual([...before].sort());
    expect(disconnects).toBe(0);
    await expect(tab.page.locator('#relay-list [data-relay="current"]')).toHaveText(bUrl);

    // A newcomer at B meets the mesh through the tab that moved there, and reaches A's provider.
    const newcomer = await openPeer(browser, viaRelay(bUrl));
    peers.push(newcomer);
    await expect.poll(() => channelIds(newcomer)).toContain(tab.nodeId);
    await expect
      .poll(async () => (await discover(newcomer, 'fed.echo')).map((p) => p.nodeId), { timeout: 30_000 })
      .toEqual([provider.nodeId]);
    expect(await newcomer.page.evaluate(() => window.peer!.call('fed.echo', 'across'))).toBe('across');

    // Every tab of A learned B too and moved there.
    for (const p of [provider, standIn]) await expect.poll(async () => (await relaysOf(p)).current).toBe(bUrl);
    expect(newcomer.errors).toEqual([]);
    // The browser reports the refused reconnects to A; nothing else went wrong.
    for (const p of [provider, standIn, tab]) expect(p.errors.filter((e) => !e.includes(aUrl))).toEqual([]);
  } finally {
    for (const p of peers) await p.context.close();
    await a.close();
    await b.close();
  }
});
