/**
 * The packed package in apps built four ways (Vite and webpack with their default
 * configuration, a page with no bundler, esbuild with the worker copied and named by
 * workerUrl) and the packaged demo, all on the demo's relay: each finds and calls every
 * other one's service, and pub/sub crosses apps.
 */
import { expect, test } from '@playwright/test';
import { closePeers, openPeer, waitForMesh, waitForService, type TestPeer } from 'macula-web/testing';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run through npm run test:consumers)`);
  return value;
};
const relay = encodeURIComponent(env('RELAY_URL'));
const APPS = {
  vite: `${env('VITE_APP_URL')}?relay=${relay}`,
  webpack: `${env('WEBPACK_APP_URL')}?relay=${relay}`,
  plain: `${env('PLAIN_APP_URL')}?relay=${relay}`,
  esbuild: `${env('ESBUILD_APP_URL')}?relay=${relay}`,
};
type Received = Array<{ topic: string; payload: unknown; publisher: string }>;
const received = (p: TestPeer): Promise<Received> =>
  p.page.evaluate(() => (globalThis as unknown as { received: Received }).received);

test('apps built with Vite, webpack, esbuild and no bundler, and the demo, meet on one relay', async ({ browser }) => {
  const apps = new Map<string, TestPeer>();
  for (const [name, url] of Object.entries(APPS)) apps.set(name, await openPeer(browser, { url }));
  const demo = await openPeer(browser, { url: `${env('DEMO_URL')}?storage=memory` });
  const everyone = [...apps.values(), demo];
  try {
    await waitForMesh(everyone);
    await demo.run((peer) => peer.advertise('consumer.demo.echo', (args) => ({ app: 'demo', args })));
    const providers = new Map([...apps, ['demo', demo]]);

    // Every peer discovers every other one's service by a real lookup and calls it.
    for (const caller of everyone) {
      for (const [name, provider] of providers) {
        if (provider === caller) continue;
        const service = `consumer.${name}.echo`;
        await waitForService(caller, service, { providers: [provider.nodeId] });
        const answer = await caller.run(
          (peer, [id, svc]) => peer.callTo(id, svc, { from: peer.nodeId }),
          [provider.nodeId, service],
        );
        expect(answer).toEqual({ app: name, args: { from: caller.nodeId } });
      }
    }

    // Pub/sub crosses apps: the demo publishes to every app, then each app to the others.
    const subscribers = [...apps.values()].map((p) => p.nodeId).sort();
    for (const publisher of [demo, ...apps.values()]) {
      const topic = `consumers.news.from-${publisher.nodeId.slice(0, 8)}`;
      await expect
        .poll(async () =>
          (await publisher.run((peer, t) => peer.discoverSubscribers(t, { forceRefresh: true }), topic))
            .map((s) => s.nodeId)
            .sort(),
        )
        .toEqual(subscribers);
      const acknowledged = await publisher.run((peer, t) => peer.publish(t, { hello: 'apps' }), topic);
      expect(acknowledged).toBeGreaterThanOrEqual(publisher === demo ? apps.size : apps.size - 1);
      for (const app of apps.values()) {
        if (app === publisher) continue;
        await expect
          .poll(async () => (await received(app)).filter((m) => m.topic === topic))
          .toEqual([{ topic, payload: { hello: 'apps' }, publisher: publisher.nodeId }]);
      }
    }
    for (const p of everyone) expect(p.errors, p.page.url()).toEqual([]);
  } finally {
    await closePeers(everyone);
  }
});
