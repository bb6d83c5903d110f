import { expect, test } from '@playwright/test';
import { meshed, openPeer, type PeerPage } from './peers.js';

/**
 * A page whose browser has no WebCrypto Ed25519 loads the pure-JS one on demand (a chunk of
 * its own, crypto/pure-ed25519.ts) and works as before: its key, its hello and its signals
 * come from it, and it meshes with pages that sign with WebCrypto. One that has WebCrypto's
 * never fetches the chunk. (Init scripts run in pages, not workers: the worker keeps WebCrypto.)
 */
test('a page without WebCrypto Ed25519 loads the pure-JS one on demand and meshes with one that has it', async ({
  browser,
}) => {
  const withoutContext = await browser.newContext();
  await withoutContext.addInitScript(() => {
    const subtle = crypto.subtle;
    const importKey = subtle.importKey.bind(subtle) as (...args: unknown[]) => Promise<CryptoKey>;
    const isEd25519 = (a: unknown): boolean =>
      a === 'Ed25519' || (typeof a === 'object' && a !== null && (a as { name?: unknown }).name === 'Ed25519');
    // As a browser without it: importing an Ed25519 key is not supported.
    subtle.importKey = ((...args: unknown[]) =>
      isEd25519(args[2])
        ? Promise.reject(new DOMException('Ed25519 is not supported', 'NotSupportedError'))
        : importKey(...args)) as SubtleCrypto['importKey'];
  });
  const withContext = await browser.newContext();
  const fetched = { without: [] as string[], with: [] as string[] };
  withoutContext.on('request', (r) => fetched.without.push(r.url()));
  withContext.on('request', (r) => fetched.with.push(r.url()));

  const peers: PeerPage[] = [
    await openPeer(withoutContext),
    await openPeer(withoutContext),
    await openPeer(withContext),
  ];
  await meshed(peers, 2);
  const lazy = (urls: string[]): string[] => urls.filter((u) => /pure-ed25519[^/]*\.js$/.test(u));
  expect(lazy(fetched.without).length).toBeGreaterThan(0);
  expect(lazy(fetched.with)).toEqual([]);
  for (const p of peers) expect(p.errors).toEqual([]);
  await withoutContext.close();
  await withContext.close();
});
