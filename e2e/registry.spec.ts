import { expect, test } from '@playwright/test';
import { discover, meshed, openPeer, peerIdAfterReload, stat, type PeerPage } from './peers.js';

test.describe('service registry across browser peers', () => {
  test('six peers in separate contexts: advertise, discover by real lookup, unadvertise', async ({ browser }) => {
    const peers: PeerPage[] = [];
    for (let i = 0; i < 6; i++) peers.push(await openPeer(browser));
    await meshed(peers);
    const [provider, ...others] = peers as [PeerPage, ...PeerPage[]];
    await provider.page.evaluate(() =>
      window.peer!.advertise('energy.home.get', () => ({ watts: 1000 }), { metadata: { unit: 'W', site: 'home' } }),
    );
    for (const p of others) {
      await expect
        .poll(async () => (await discover(p, 'energy.home.get')).map((x) => x.nodeId))
        .toEqual([provider.nodeId]);
      const [found] = await discover(p, 'energy.home.get');
      expect(found!.metadata).toEqual({ unit: 'W', site: 'home' });
    }
    expect(await stat(others[0]!, 'lookups.value')).toBeGreaterThan(0);
    // A forced discovery's first answer, straight from a near holder, is settled by the requester's page when it
    // comes within 15 ms of the lookup's start (most do on an idle machine; the poll allows for a loaded one):
    // the worker takes the same answer, counts it, and sends no result back.
    await expect
      .poll(
        async () => {
          expect((await discover(others[0]!, 'energy.home.get')).map((x) => x.nodeId)).toEqual([provider.nodeId]);
          return stat(others[0]!, 'lookups.settledOnPage');
        },
        { timeout: 30_000, intervals: [20] },
      )
      .toBeGreaterThan(0);
    await provider.page.evaluate(() => window.peer!.unadvertise('energy.home.get'));
    for (const p of others) await expect.poll(() => discover(p, 'energy.home.get')).toEqual([]);
    for (const p of peers) expect(p.errors).toEqual([]);
    for (const p of peers) await p.context.close();
  });

  test('three tabs of one context: distinct identities that find each other', async ({ browser }) => {
    const context = await browser.newContext();
    const tabs: PeerPage[] = [];
    for (let i = 0; i < 3; i++) tabs.push(await openPeer(context));
    expect(new Set(tabs.map((t) => t.nodeId)).size).toBe(3);
    await meshed(tabs);
    for (const [i, t] of tabs.entries()) {
      await t.page.evaluate((n) => window.peer!.advertise(`tab.${n}.echo`, (x) => x), i);
    }
    for (const [i, t] of tabs.entries()) {
      for (const [j, other] of tabs.entries()) {
        if (i === j) continue;
        await expect
          .poll(async () => (await discover(t, `tab.${j}.echo`)).map((x) => x.nodeId))
          .toEqual([other.nodeId]);
      }
    }
    for (const t of tabs) expect(t.errors).toEqual([]);
    await context.close();
  });

  test('a duplicated tab (a copy of sessionStorage) gets an identity of its own', async ({ browser }) => {
    const context = await browser.newContext();
    const first = await openPeer(context);
    const saved = await first.page.evaluate(() => Object.entries(sessionStorage));
    const copy = await context.newPage();
    // What a browser's "duplicate tab" does: the new tab starts with the old tab's sessionStorage.
    await copy.addInitScript((entries) => {
      if (sessionStorage.length === 0) for (const [k, v] of entries) sessionStorage.setItem(k, v);
    }, saved);
    await copy.goto('/?storage=memory');
    await copy.waitForFunction(() => window.peer !== undefined);
    const copyId = await copy.evaluate(() => window.peer!.nodeId);
    expect(copyId).not.toBe(first.nodeId);
    await context.close();
  });

  test('a reloaded tab keeps its node id and serves the records it stored from IndexedDB', async ({ browser }) => {
    const holder = await openPeer(browser, 'storage=indexeddb');
    const provider = await openPeer(browser, 'storage=indexeddb');
    await meshed([holder, provider]);
    await provider.page.evaluate(() => window.peer!.advertise('reload.svc', () => 1, { metadata: { v: 1 } }));
    // The holder stores the provider's record and writes it to IndexedDB.
    await expect.poll(() => stat(holder, 'persistence.savedRecords')).toBeGreaterThanOrEqual(1);
    await provider.context.close();
    await holder.page.reload();
    expect(
      await holder.page.evaluate(
        () =>
          new Promise<string>((resolve) => {
            const wait = (): void => {
              if (window.peer) resolve(window.peer.nodeId);
              else setTimeout(wait, 20);
            };
            wait();
          }),
      ),
    ).toBe(holder.nodeId);
    expect(await stat(holder, 'persistence.restoredRecords')).toBeGreaterThanOrEqual(1);
    // Alone now: the answer can only come from what it restored.
    expect(await stat(holder, 'neighbours.open')).toBe(0);
    expect((await discover(holder, 'reload.svc')).map((p) => p.nodeId)).toEqual([provider.nodeId]);
    await holder.context.close();
  });

  test('a reloaded provider lists its earlier services in restoredServices() and advertises none until the app hands a handler back', async ({
    browser,
  }) => {
    const provider = await openPeer(browser, 'storage=indexeddb');
    const caller = await openPeer(browser);
    try {
      await meshed([provider, caller]);
      const callTo = (arg: string) =>
        caller.page.evaluate(
          ([id, a]) =>
            window.peer!.callTo(id, 'reload.echo', a).then(
              (r) => ({ ok: r }),
              (e: { code?: string }) => ({ code: e.code }),
            ),
          [provider.nodeId, arg] as const,
        );
      const snapshot = await stat(provider, 'persistence.snapshot');
      await provider.page.evaluate(() =>
        window.peer!.advertise('reload.echo', (x) => `first ${String(x)}`, { metadata: { v: 1 }, ttl: 120 }),
      );
      expect(await callTo('a')).toEqual({ ok: 'first a' });
      // The advertisement is saved, then the tab reloads: its handler is gone. A snapshot written
      // after the advertise may still be one begun before it, so the caller's own advertisement
      // (a record the provider stores) makes the state change again after it: the snapshot that
      // follows began after the provider's advertise and holds its service.
      await expect.poll(() => stat(provider, 'persistence.snapshot')).toBeGreaterThan(snapshot);
      await caller.page.evaluate(() => window.peer!.advertise('reload.other', () => 'other'));
      await expect.poll(() => stat(provider, 'persistence.savedRecords')).toBeGreaterThanOrEqual(2);
      await provider.page.reload();
      expect(await peerIdAfterReload(provider.page)).toBe(provider.nodeId);

      expect(await provider.page.evaluate(() => window.peer!.restoredServices())).toEqual([
        { serviceId: 'reload.echo', metadata: { v: 1 }, ttl: 120 },
      ]);
      expect(await provider.page.evaluate(() => window.peer!.listLocalServices())).toEqual([]);
      await meshed([provider, caller]);
      // Not advertised, so nothing here answers for it: a caller is told so at once (and fails over with call()).
      expect(await callTo('b')).toEqual({ code: 'UNKNOWN_SERVICE' });

      // The demo, as an app would, offers to hand the service its handler back.
      await provider.page.getByRole('button', { name: 'Advertise reload.echo again' }).click();
      await expect(provider.page.locator('#local-services [data-service="reload.echo"]')).toBeVisible();
      expect(await provider.page.evaluate(() => window.peer!.restoredServices())).toEqual([]);
      expect(await provider.page.evaluate(() => window.peer!.listLocalServices())).toEqual(['reload.echo']);
      const again = await callTo('c');
      expect(again).toMatchObject({ ok: { service: 'reload.echo', args: 'c' } });
      // Its record is this session's now, with the metadata it was restored with.
      await expect
        .poll(async () => (await discover(caller, 'reload.echo')).map((p) => [p.nodeId, p.metadata]))
        .toEqual([[provider.nodeId, { v: 1 }]]);
      for (const p of [provider, caller]) expect(p.errors).toEqual([]);
    } finally {
      await provider.context.close();
      await caller.context.close();
    }
  });

  test('close() leaves gracefully: discovery stops returning the peer at once and a call does not wait on it', async ({
    browser,
  }) => {
    const [leaving, staying, caller] = [await openPeer(browser), await openPeer(browser), await openPeer(browser)];
    try {
      await meshed([leaving, staying, caller]);
      for (const p of [leaving, staying])
        await p.page.evaluate(() => window.peer!.advertise('leave.svc', () => window.peer!.nodeId, { ttl: 3_600 }));
      await expect
        .poll(async () => (await discover(caller, 'leave.svc')).map((p) => p.nodeId).sort())
        .toEqual([leaving.nodeId, staying.nodeId].sort());
      await leaving.page.evaluate(() => window.peer!.close());
      // Its record (ttl an hour) is gone from the DHT now, not in an hour.
      expect((await discover(caller, 'leave.svc')).map((p) => p.nodeId)).toEqual([staying.nodeId]);
      for (let i = 0; i < 3; i++) {
        const outcome = await caller.page.evaluate(() => window.peer!.callDetailed('leave.svc', null));
        expect(outcome).toMatchObject({ provider: staying.nodeId, attempts: 1, failed: [] });
      }
      for (const p of [leaving, staying, caller]) expect(p.errors).toEqual([]);
    } finally {
      for (const p of [leaving, staying, caller]) await p.context.close();
    }
  });

  test("a closed provider's short-lived record expires and discovery stops returning it", async ({ browser }) => {
    const provider = await openPeer(browser);
    const client = await openPeer(browser);
    await meshed([provider, client]);
    await provider.page.evaluate(() => window.peer!.advertise('short.ttl', () => 1, { ttl: 10 }));
    await expect.poll(async () => (await discover(client, 'short.ttl')).length).toBe(1);
    await provider.context.close();
    await expect.poll(async () => (await discover(client, 'short.ttl')).length, { timeout: 40_000 }).toBe(0);
    expect(client.errors).toEqual([]);
    await client.context.close();
  });
});
