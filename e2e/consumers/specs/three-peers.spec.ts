// What an app's own multi-peer test looks like with the kit (kept under 20 lines: the tier checks).
import { expect, test } from '@playwright/test';
import { closePeers, openPeers, startTestRelay, waitForService } from 'macula-web/testing';

test('three peers of my app find and call each other', async ({ browser }) => {
  const relay = await startTestRelay();
  const peers = await openPeers(browser, 3, { url: `/?relay=${encodeURIComponent(relay.url)}` });
  const [a, b, c] = peers;
  await waitForService(c, 'consumer.vite.echo', { providers: [a.nodeId, b.nodeId] });
  expect(await c.run((peer, id) => peer.callTo(id, 'consumer.vite.echo', 'kit'), a.nodeId)).toEqual({
    app: 'vite',
    args: 'kit',
  });
  await closePeers(peers);
  await relay.close();
});
