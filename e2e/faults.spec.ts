import { createHash } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { startRelay, type Relay } from '../src/relay/relay.js';
import { channelIds, discover, meshed, openPeer, routingIds, stat, viaRelay, type PeerPage } from './peers.js';

declare global {
  interface Window {
    served?: number;
  }
}

/** XOR distance between two 256-bit ids in hex, as a BigInt for ordering. */
const distance = (a: string, b: string): bigint => BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
const serviceKey = (name: string): string => createHash('sha256').update(name).digest('hex');

/** Provide `name` with a handler that answers with this peer's id and counts what it served. */
async function provide(p: PeerPage, name: string): Promise<void> {
  await p.page.evaluate((n) => {
    window.served = 0;
    return window.peer!.advertise(n, (x) => {
      window.served!++;
      return { by: window.peer!.nodeId, echo: x };
    });
  }, name);
}

const callEcho = (p: PeerPage, name: string, x: unknown): Promise<{ by: string; echo: unknown }> =>
  p.page.evaluate(
    ([n, arg]) => window.peer!.call(n, arg, { timeoutMs: 10_000 }) as Promise<{ by: string; echo: unknown }>,
    [name, x] as const,
  );

/** Nine peers in separate contexts; the three closest holders of the service's record are closed abruptly. */
test.describe.serial('faults: three of nine peers vanish', () => {
  const service = 'faults.echo';
  let survivors: PeerPage[] = [];
  let providerIds: string[] = [];
  let deadIds: string[] = [];

  test.beforeAll(async ({ browser }) => {
    test.setTimeout(120_000);
    const peers: PeerPage[] = [];
    for (let i = 0; i < 9; i++) peers.push(await openPeer(browser));
    await meshed(peers, 2);
    const providers = peers.slice(0, 2);
    for (const p of providers) await provide(p, service);
    providerIds = providers.map((p) => p.nodeId).sort();
    // The record's closest holders are the ones to die: what survives must come from the other replicas.
    const key = serviceKey(service);
    const victims = peers
      .slice(2)
      .sort((a, b) => (distance(a.nodeId, key) < distance(b.nodeId, key) ? -1 : 1))
      .slice(0, 3);
    survivors = peers.filter((p) => !victims.includes(p));
    for (const v of victims) {
      await expect.poll(async () => (await discover(v, service)).map((x) => x.nodeId).sort()).toEqual(providerIds);
      // The victims hold the record (the only one in this mesh) themselves.
      await expect.poll(() => stat(v, 'records.stored')).toBeGreaterThan(0);
    }
    deadIds = victims.map((v) => v.nodeId);
    // No unadvertise, no close(): the tab just goes away.
    await Promise.all(victims.map((v) => v.context.close()));
  });

  test.afterAll(async () => {
    for (const p of survivors) await p.context.close();
  });

  test('survivors close the dead channels, then discover and call the providers that remain; a newcomer too', async ({
    browser,
  }) => {
    for (const p of survivors) {
      await expect
        .poll(async () => (await channelIds(p)).filter((id) => deadIds.includes(id)), { timeout: 30_000 })
        .toEqual([]);
    }
    for (const p of survivors) {
      await expect.poll(async () => (await discover(p, service)).map((x) => x.nodeId).sort()).toEqual(providerIds);
      const answer = await callEcho(p, service, p.nodeId);
      expect(providerIds).toContain(answer.by);
      expect(answer.echo).toBe(p.nodeId);
    }
    // A newcomer never held the record: its answer can only come from the surviving replicas.
    const newcomer = await openPeer(browser);
    try {
      await meshed([newcomer], 1);
      await expect
        .poll(async () => (await discover(newcomer, service)).map((x) => x.nodeId).sort(), { timeout: 30_000 })
        .toEqual(providerIds);
      expect(providerIds).toContain((await callEcho(newcomer, service, 'hi')).by);
      for (const p of [...survivors, newcomer]) expect(p.errors).toEqual([]);
    } finally {
      await newcomer.context.close();
    }
  });

  test('survivors drop the dead contacts from their routing tables', async () => {
    // A closed channel marks the contact lost at once (liveness pings may declare it dead first).
    for (const p of survivors) {
      await expect
        .poll(async () => (await routingIds(p)).filter((id) => deadIds.includes(id)), { timeout: 30_000 })
        .toEqual([]);
    }
  });
});

test.describe('faults: a relay that goes away', () => {
  test('relay stopped: open channels keep carrying calls; restarted: peers reconnect and a new tab joins', async ({
    browser,
  }) => {
    test.setTimeout(120_000);
    let relay: Relay = await startRelay({ port: 0, host: '127.0.0.1' });
    const port = relay.port;
    const query = viaRelay(`ws://127.0.0.1:${port}/relay`);
    const peers: PeerPage[] = [];
    try {
      for (let i = 0; i < 3; i++) peers.push(await openPeer(browser, query));
      await meshed(peers, 2);
      const [provider, caller, third] = peers as [PeerPage, PeerPage, PeerPage];
      await provide(provider, 'faults.relayless');
      await expect.poll(async () => (await discover(caller, 'faults.relayless')).length).toBe(1);
      expect(relay.stats().authenticated).toBe(3);

      await relay.close();
      for (const p of peers) await expect.poll(() => stat(p, 'relay.connected')).toBe(0);
      // Without the relay: calls, and fresh lookups, over the channels already open.
      for (const p of [caller, third]) {
        expect((await callEcho(p, 'faults.relayless', 'no relay')).by).toBe(provider.nodeId);
        expect((await discover(p, 'faults.relayless')).map((x) => x.nodeId)).toEqual([provider.nodeId]);
      }
      expect(await provider.page.evaluate(() => window.served)).toBe(2);
      // The mesh itself outlived the relay: every channel is still open.
      for (const p of peers) expect((await channelIds(p)).length).toBeGreaterThanOrEqual(2);

      relay = await startRelay({ port, host: '127.0.0.1' });
      // Backoff retries find the relay again: each peer proves its id afresh.
      for (const p of peers) await expect.poll(() => stat(p, 'relay.connected'), { timeout: 45_000 }).toBe(1);
      expect(relay.stats().authenticated).toBe(3);

      const newcomer = await openPeer(browser, query);
      peers.push(newcomer);
      await meshed([newcomer], 1);
      expect(await stat(newcomer, 'relay.connected')).toBe(1);
      await expect
        .poll(async () => (await discover(newcomer, 'faults.relayless')).map((x) => x.nodeId))
        .toEqual([provider.nodeId]);
      expect((await callEcho(newcomer, 'faults.relayless', 'back')).by).toBe(provider.nodeId);
      // The browser itself logs each reconnect attempt that found the relay down; anything else is a failure.
      const refused = `WebSocket connection to 'ws://127.0.0.1:${port}/relay' failed: Error in connection establishment: net::ERR_CONNECTION_REFUSED`;
      for (const p of peers) expect(p.errors.filter((e) => e !== refused)).toEqual([]);
    } finally {
      for (const p of peers) await p.context.close();
      await relay.close();
    }
  });
});
