import { expect, test, type Browser } from '@playwright/test';
import { channelIds, openPeer, stat, viaRelay, type PeerPage } from './peers.js';
import { startTamperingRelay, type TamperMode, type TamperingRelay } from './tampering-relay.js';

/** Two fresh tabs that know each other only through `relay`: the second is introduced to the first and dials it. */
async function twoTabs(browser: Browser, relay: TamperingRelay): Promise<[PeerPage, PeerPage]> {
  const a = await openPeer(browser, viaRelay(relay.url));
  const b = await openPeer(browser, viaRelay(relay.url));
  return [a, b];
}

test.describe('a hostile relay', () => {
  test('control: through the same relay forwarding honestly, the two tabs connect', async ({ browser }) => {
    const relay = await startTamperingRelay('honest');
    const tabs = await twoTabs(browser, relay);
    try {
      const [a, b] = tabs;
      await expect.poll(() => channelIds(a)).toEqual([b.nodeId]);
      await expect.poll(() => channelIds(b)).toEqual([a.nodeId]);
      expect(relay.seen('answer')).toBeGreaterThanOrEqual(1);
      for (const p of tabs) expect(await stat(p, 'signals.rejected')).toBe(0);
      for (const p of tabs) expect(p.errors).toEqual([]);
    } finally {
      for (const p of tabs) await p.context.close();
      await relay.close();
    }
  });

  test('replay-offers: an offer delivered again after the channel opened is dropped as a duplicate, and the channel stays', async ({
    browser,
  }) => {
    test.setTimeout(60_000);
    const relay = await startTamperingRelay('replay-offers', 3_000);
    const tabs = await twoTabs(browser, relay);
    try {
      const [a, b] = tabs;
      await expect.poll(() => channelIds(a)).toEqual([b.nodeId]);
      await expect.poll(() => channelIds(b)).toEqual([a.nodeId]);
      await expect.poll(() => relay.replayed, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
      // Before signals carried a stamp, the offer looked like the peer starting over: the
      // receiver dropped its channel and spent a connection answering it.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      // The first tab's prepared dial, which the welcome gave nobody to take, is closed unused and is no answer.
      for (const p of tabs) {
        expect((await stat(p, 'connections.created')) - (await stat(p, 'connections.preparedUnused'))).toBe(1);
        expect(await stat(p, 'connections.open')).toBe(1);
      }
      expect(await channelIds(a)).toEqual([b.nodeId]);
      // Each replayed offer is counted where it landed, and nothing else happened.
      await expect
        .poll(async () => (await stat(a, 'signals.duplicate')) + (await stat(b, 'signals.duplicate')))
        .toBe(relay.replayed);
      for (const p of tabs) expect(p.errors).toEqual([]);
    } finally {
      for (const p of tabs) await p.context.close();
      await relay.close();
    }
  });

  for (const mode of ['rewrite-sdp', 'spoof-sender'] as const satisfies readonly TamperMode[]) {
    test(`${mode}: the receiving tab finds the signature broken, counts the signal, and no channel opens`, async ({
      browser,
    }) => {
      test.setTimeout(60_000);
      const relay = await startTamperingRelay(mode);
      const tabs = await twoTabs(browser, relay);
      try {
        // Each tab rejects exactly what the relay tampered with on its way to it.
        await expect
          .poll(() => tabs.reduce((sum, p) => sum + relay.delivered(p.nodeId).tampered, 0))
          .toBeGreaterThanOrEqual(1);
        for (const p of tabs) {
          await expect
            .poll(async () => (await stat(p, 'signals.rejected')) - relay.delivered(p.nodeId).tampered)
            .toBe(0);
        }
        // The dialling side gives up when its attempt times out (15 s): nothing opened by then.
        await expect
          .poll(
            async () =>
              (await stat(tabs[0], 'connections.openTimeouts')) + (await stat(tabs[1], 'connections.openTimeouts')),
            { timeout: 40_000 },
          )
          .toBeGreaterThanOrEqual(1);
        // A tampered offer never reached WebRTC, so nobody answered it.
        expect(relay.seen('offer')).toBeGreaterThanOrEqual(1);
        expect(relay.seen('answer')).toBe(0);
        for (const p of tabs) {
          expect(await channelIds(p)).toEqual([]);
          expect(await stat(p, 'connections.open')).toBe(0);
          expect(p.errors).toEqual([]);
        }
      } finally {
        for (const p of tabs) await p.context.close();
        await relay.close();
      }
    });
  }
});
