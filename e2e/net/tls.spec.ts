import { expect, test } from '@playwright/test';
import { meshed, waitForPeer, type PeerPage } from '../peers.js';
import { selfSignedCert } from './self-signed.js';
import { startServe } from './services.js';

/**
 * `npm start -- --tls-cert … --tls-key …`: the demo over https and the relay over wss on one
 * port, with a self-signed certificate made at test time (the browser contexts are told to
 * accept it, as a user would after checking it).
 */

const SERVE_PORT = 8841;

test('the demo and relay over TLS: https page, wss relay, tabs mesh and call', async ({ browser }) => {
  test.setTimeout(120_000);
  const cert = selfSignedCert();
  const serve = await startServe({
    port: SERVE_PORT,
    host: '127.0.0.1',
    tls: true,
    args: ['--tls-cert', cert.certPath, '--tls-key', cert.keyPath],
  });
  const tabs: PeerPage[] = [];
  try {
    expect(serve.output()).toMatch(new RegExp(`relay on wss://(localhost|127\\.0\\.0\\.1):${SERVE_PORT}/relay`));
    for (let i = 0; i < 3; i++) {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(`https://localhost:${SERVE_PORT}/?storage=memory`);
      tabs.push({ page, context, nodeId: await waitForPeer(page), errors });
    }
    for (const t of tabs) {
      expect(await t.page.evaluate(() => location.protocol)).toBe('https:');
      // The page derived its relay URL from its own origin: wss on the same port.
      await expect(t.page.locator('#log')).toContainText(`relay: wss://localhost:${SERVE_PORT}/relay`);
      await expect(t.page.locator('#relay-status')).toHaveText('relay connected');
    }
    await meshed(tabs, 2);
    await tabs[0]!.page.evaluate(() => window.peer!.advertise('tls.echo', (x) => x));
    await expect
      .poll(() =>
        tabs[2]!.page.evaluate(() => window.peer!.call('tls.echo', 'over wss').catch((e: Error) => e.message)),
      )
      .toBe('over wss');
    for (const t of tabs) expect(t.errors).toEqual([]);
  } finally {
    for (const t of tabs) await t.context.close();
    await serve.stop();
    cert.remove();
  }
});

test('a plain http request to the TLS port gets no page', async ({ request }) => {
  const cert = selfSignedCert();
  const serve = await startServe({
    port: SERVE_PORT,
    host: '127.0.0.1',
    tls: true,
    args: ['--tls-cert', cert.certPath, '--tls-key', cert.keyPath],
  });
  try {
    const plain = await request.get(`http://127.0.0.1:${SERVE_PORT}/`).then(
      (r) => r.status(),
      () => 'refused',
    );
    expect(plain).not.toBe(200);
    expect((await request.get(`https://127.0.0.1:${SERVE_PORT}/`, { ignoreHTTPSErrors: true })).status()).toBe(200);
  } finally {
    await serve.stop();
    cert.remove();
  }
});
