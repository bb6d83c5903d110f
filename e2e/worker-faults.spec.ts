import { expect, test, type Worker } from '@playwright/test';
import { meshed, openPeer, type PeerPage } from './peers.js';

/**
 * The DHT worker of a real page, reached through Playwright's handle on it (no hook in the
 * library): an uncaught error it survives is counted and the peer keeps serving; a worker
 * that closes itself ends the peer with WORKER_CRASHED within the heartbeat's bound, for
 * pending calls and later ones alike, instead of each call waiting out its own deadline.
 */

async function dhtWorker(p: PeerPage): Promise<Worker> {
  await expect.poll(() => p.page.workers().length).toBeGreaterThan(0);
  return p.page.workers()[0]!;
}

test.describe('DHT worker faults', () => {
  test('an uncaught error is counted, not fatal; a worker that closes itself fails calls fast with WORKER_CRASHED', async ({
    browser,
  }) => {
    test.setTimeout(120_000);
    const [provider, caller] = [await openPeer(browser), await openPeer(browser)];
    try {
      await meshed([provider, caller]);
      await provider.page.evaluate(() => window.peer!.advertise('faults.echo', (x) => x));
      const worker = await dhtWorker(caller);

      // A timer in the worker throws: nobody catches it, and the worker runs on.
      await worker.evaluate(() => {
        setTimeout(() => {
          throw new Error('stray error from a worker timer');
        }, 0);
      });
      await expect.poll(() => caller.page.evaluate(async () => (await window.peer!.stats())['worker.errors'])).toBe(1);
      const afterError = await caller.page.evaluate(
        (id) => window.peer!.callTo(id, 'faults.echo', 'still serving'),
        provider.nodeId,
      );
      expect(afterError).toBe('still serving');
      // Let the heartbeat probe the worker after its error: it answers, so the peer lives on.
      await caller.page.waitForTimeout(1_000);
      expect(await caller.page.evaluate(async () => (await window.peer!.stats())['neighbours.open'])).toBeGreaterThan(
        0,
      );

      // The worker closes itself: no event reaches the page. A call with a 10-minute deadline is pending.
      await caller.page.evaluate(() => {
        const w = window as unknown as { pendingCode: Promise<string> };
        w.pendingCode = window.peer!.callTo('ab'.repeat(32), 'faults.echo', 'never', { timeoutMs: 600_000 }).then(
          () => 'resolved',
          (e: { code: string }) => e.code,
        );
      });
      await worker
        .evaluate(() => setTimeout(() => (self as unknown as { close(): void }).close(), 0))
        .catch(() => undefined);
      const pending = await caller.page.evaluate(
        () => (window as unknown as { pendingCode: Promise<string> }).pendingCode,
      );
      // Within the heartbeat's bound (15 s silent over three 5 s beats), where the call's own deadline is 600 s: the test's timeout would end it first.
      expect(pending).toBe('WORKER_CRASHED');
      const later = await caller.page.evaluate(() =>
        window.peer!.discover('faults.echo').then(
          () => ({ code: 'resolved', message: '' }),
          (e: { code: string; message: string }) => ({ code: e.code, message: e.message }),
        ),
      );
      expect(later.code).toBe('WORKER_CRASHED');
      expect(later.message).toMatch(/stopped answering/);
      // Its channels were closed with it: the provider sees it go.
      await expect
        .poll(() => provider.page.evaluate(async () => (await window.peer!.stats())['connections.open']), {
          timeout: 30_000,
        })
        .toBe(0);
      expect(provider.errors).toEqual([]);
    } finally {
      for (const p of [provider, caller]) await p.context.close();
    }
  });
});
