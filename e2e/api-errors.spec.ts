import { expect, test } from '@playwright/test';
import { meshed, openPeer } from './peers.js';

/** What an app is told when it gets something wrong, as it sees it in a browser. */
test.describe('API errors in the browser', () => {
  test('a refused advertise leaves nothing behind; unsendable arguments and results have their own codes', async ({
    browser,
  }) => {
    const [provider, caller] = [await openPeer(browser), await openPeer(browser)];
    try {
      await meshed([provider, caller]);
      const refused = await provider.page.evaluate(async () => {
        const peer = window.peer!;
        await peer.advertise('errors.echo', (x) => x);
        await peer.advertise('errors.bigint', () => 10n);
        const codes: string[] = [];
        for (const opts of [{ ttl: 5 }, { metadata: { big: 'x'.repeat(3_000) } }]) {
          await peer
            .advertise('errors.refused', () => 'should not answer', opts)
            .catch((e: { code: string }) => codes.push(e.code));
        }
        return { codes, local: (await peer.listLocalServices()).sort() };
      });
      expect(refused).toEqual({ codes: ['INVALID_ARGUMENT', 'TOO_LARGE'], local: ['errors.bigint', 'errors.echo'] });

      const seen = await caller.page.evaluate(async (providerId) => {
        const peer = window.peer!;
        const code = (p: Promise<unknown>): Promise<string> =>
          p.then(
            () => 'resolved',
            (e: { code: string }) => e.code,
          );
        return {
          refusedHandler: await code(peer.callTo(providerId, 'errors.refused', null)),
          functionArg: await code(peer.call('errors.echo', { onDone: () => 1 })),
          afterwards: await peer.callTo(providerId, 'errors.echo', 'still here'),
          bigintResult: await code(peer.callTo(providerId, 'errors.bigint', null)),
        };
      }, provider.nodeId);
      expect(seen).toEqual({
        refusedHandler: 'UNKNOWN_SERVICE',
        functionArg: 'INVALID_ARGUMENT',
        afterwards: 'still here',
        bigintResult: 'NOT_ENCODABLE',
      });
      for (const p of [provider, caller]) expect(p.errors).toEqual([]);
    } finally {
      for (const p of [provider, caller]) await p.context.close();
    }
  });
});
