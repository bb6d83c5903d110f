import { createServer, type AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import { startRelay } from '../src/relay/relay.js';
import { channelIds, discover, openPeer, stat, viaRelay } from './peers.js';

/** A ws:// URL where nothing listens: a port taken from the system and given back. */
async function deadRelayUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `ws://127.0.0.1:${port}/relay`;
}

test('bootstrap [dead, live]: the tab fails over to the live relay and joins the mesh through it', async ({
  browser,
}) => {
  const relay = await startRelay({ port: 0, host: '127.0.0.1' });
  const dead = await deadRelayUrl();
  const first = await openPeer(browser, viaRelay(relay.address));
  const late = await openPeer(browser, `${viaRelay(dead)}&relay=${encodeURIComponent(relay.address)}`);
  try {
    await expect.poll(() => stat(late, 'relay.connected')).toBe(1);
    await expect.poll(() => channelIds(late)).toEqual([first.nodeId]);
    await first.page.evaluate(() => window.peer!.advertise('failover.echo', (x) => x));
    await expect.poll(async () => (await discover(late, 'failover.echo')).map((p) => p.nodeId)).toEqual([first.nodeId]);
    expect(relay.stats().authenticated).toBe(2);
    expect(first.errors).toEqual([]);
    // The browser itself reports the refused socket; nothing else went wrong.
    expect(late.errors.filter((e) => !(e.includes(dead) && e.includes('ERR_CONNECTION_REFUSED')))).toEqual([]);
  } finally {
    for (const p of [first, late]) await p.context.close();
    await relay.close();
  }
});
