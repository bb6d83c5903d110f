import { expect, test } from '@playwright/test';
import { startRelay } from '../src/relay/relay.js';
import { floodFromMany, floodFromOne } from './junk-offers.js';
import { channelIds, discover, meshed, openPeer, stat, viaRelay, type PeerPage } from './peers.js';

/**
 * README, Security model: an offer costs the receiving tab an RTCPeerConnection, of which
 * its page may create only 480 in its life. Here hostile relay clients send a joining tab
 * correctly signed offers with junk SDP, from one admitted identity at nearly the relay's
 * rate and from many throw-away ones, while it joins.
 */
test('a tab flooded with signed junk offers while it joins keeps its mesh and almost all of its connection budget', async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const relay = await startRelay({ port: 0, host: '127.0.0.1', limits: { socketsPerAddress: 512 } });
  const tabs: PeerPage[] = [];
  try {
    for (let i = 0; i < 2; i++) tabs.push(await openPeer(browser, viaRelay(relay.address)));
    await meshed(tabs);
    const target = await openPeer(browser, viaRelay(relay.address));
    tabs.push(target);
    const flood = Promise.all([
      floodFromOne(relay.address, target.nodeId, 90, 8),
      floodFromMany(relay.address, target.nodeId, 40, 5),
    ]);
    // It joins through its own dials while the offers pour in.
    await expect.poll(async () => (await channelIds(target)).sort()).toEqual([tabs[0]!.nodeId, tabs[1]!.nodeId].sort());
    await target.page.evaluate(() => window.peer!.advertise('flood.echo', (x) => x));
    const [fromOne, fromMany] = await flood;
    expect(fromOne).toBeGreaterThanOrEqual(600);
    expect(fromMany).toBe(200);

    // The one sender cost a single connection; throw-away ids at most the failure bucket's burst (24).
    const created = await stat(target, 'connections.created');
    expect(await stat(target, 'connections.inboundFailed')).toBeLessThanOrEqual(1 + 24);
    expect(created).toBeLessThanOrEqual(2 + 1 + 24 + 4);
    expect(await stat(target, 'offers.refused.cooling')).toBeGreaterThanOrEqual(fromOne / 2);
    expect(await stat(target, 'offers.refused.throttled')).toBeGreaterThan(0);
    // The worker counts the same budget as the main thread.
    await expect.poll(() => stat(target, 'connections.createdTotal')).toBe(await stat(target, 'connections.created'));
    expect(await stat(target, 'connections.budgetLeft')).toBeGreaterThanOrEqual(480 - 40);

    // Still in the mesh: it keeps its channels, and a newcomer finds and calls its service.
    expect((await channelIds(target)).length).toBeGreaterThanOrEqual(2);
    const newcomer = await openPeer(browser, viaRelay(relay.address));
    tabs.push(newcomer);
    await meshed([newcomer]);
    await expect
      .poll(async () => (await discover(newcomer, 'flood.echo')).map((p) => p.nodeId))
      .toEqual([target.nodeId]);
    expect(
      await newcomer.page.evaluate(() => window.peer!.call('flood.echo', 'still here', { timeoutMs: 10_000 })),
    ).toBe('still here');
    for (const p of tabs) expect(p.errors).toEqual([]);
  } finally {
    for (const p of tabs) await p.context.close();
    await relay.close();
  }
});
