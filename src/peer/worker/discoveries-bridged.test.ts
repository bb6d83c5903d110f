import { afterEach, describe, expect, it } from 'vitest';
import { cryptoRandom, seededRandom, systemClock } from '../../core/environment.js';
import { toHex } from '../../core/id.js';
import { createIdentity } from '../../core/identity.js';
import type { ProviderInfo } from '../../core/records/records.js';
import { asyncEd25519 } from '../../crypto/async-ed25519.js';
import { unwrap } from '../api-result.js';
import { AppCallbacks } from '../main/app-callbacks.js';
import { FramePump, type PumpedChannels } from '../main/frame-pump.js';
import { WorkerApi } from './worker-api.js';

/**
 * Forced discoveries settled on the requester's page, with both halves of three tabs as they
 * run (each tab's worker API in this thread over a real MessageChannel, their pages' channels
 * joined to one another): the page settles from the lookup's first answer with the providers
 * the worker's own lookup ends with (the worker's cache holds its result), and the worker
 * counts each (`lookups.settledOnPage`) and sends no result back. Without WebCrypto's Ed25519
 * the worker settles every one, with the same providers.
 */

const closing: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  for (let waited = 0; !(await done()) && waited < 10_000; waited += 10)
    await new Promise((resolve) => setTimeout(resolve, 10));
}

interface Tab {
  hex: string;
  api: WorkerApi;
  pump: FramePump;
  app: AppCallbacks;
  stats(): Promise<Record<string, number>>;
}

/** Tabs whose channels reach one another (a frame arrives a task after it was sent, as over a data channel). */
function mesh() {
  const tabs = new Map<string, Tab>();
  const open = async (seed: number, opts: { webCrypto?: boolean } = {}): Promise<Tab> => {
    const channel = new MessageChannel();
    const identity = createIdentity(seededRandom(seed).bytes);
    const api = new WorkerApi(() => undefined);
    const app = new AppCallbacks();
    const web = opts.webCrypto === false ? Promise.resolve(undefined) : undefined;
    const pump =
      web === undefined
        ? new FramePump(channel.port1, identity, systemClock)
        : new FramePump(channel.port1, identity, systemClock, cryptoRandom, asyncEd25519(web), web);
    const channels: PumpedChannels = {
      send: (peer, frame) => {
        const copy = frame.slice();
        setTimeout(() => tabs.get(peer)?.pump.frame(identity.nodeIdHex, copy), 0);
        return tabs.has(peer);
      },
      connect: () => true,
      disconnect: () => undefined,
      signal: () => undefined,
      refuse: () => undefined,
      stats: { created: 0 },
    };
    unwrap(
      await api.init(
        { secretKeyHex: toHex(identity.secretKey), storage: 'memory', tuning: {} },
        app.bridge,
        channel.port2,
      ),
    );
    closing.push(async () => {
      await api.close(0);
      pump.close();
    });
    pump.drive(channels, app);
    const tab: Tab = { hex: identity.nodeIdHex, api, pump, app, stats: async () => unwrap(await api.stats()) };
    tabs.set(tab.hex, tab);
    return tab;
  };
  const link = async (a: Tab, b: Tab): Promise<void> => {
    const before = [(await a.stats())['channels.opened'] ?? 0, (await b.stats())['channels.opened'] ?? 0];
    a.pump.opened(b.hex as never);
    b.pump.opened(a.hex as never);
    await until(
      async () =>
        (await a.stats())['channels.opened'] === before[0]! + 1 &&
        (await b.stats())['channels.opened'] === before[1]! + 1,
    );
  };
  return { open, link };
}

/** Two providers of svc.echo and a requester, all linked; once the requester's lookups find both. */
async function threeTabs(requesterOpts: { webCrypto?: boolean } = {}) {
  const { open, link } = mesh();
  const requester = await open(81, requesterOpts);
  const providers = [await open(82), await open(83)];
  await link(requester, providers[0]!);
  await link(requester, providers[1]!);
  await link(providers[0]!, providers[1]!);
  for (const p of providers) {
    p.app.handlers.set('svc.echo', (args) => args);
    unwrap(await p.api.advertise('svc.echo', undefined, undefined));
  }
  const byWorker = async (): Promise<ProviderInfo[]> => unwrap(await requester.api.discover('svc.echo', true)) ?? [];
  await until(async () => (await byWorker()).length === 2);
  /** A forced discovery as the app makes it: named by the page, which may settle it. */
  const discover = (): Promise<ProviderInfo[]> =>
    requester.pump.replies.run('discover', async (token) =>
      unwrap(await requester.api.discover('svc.echo', true, token)),
    );
  /** What the worker's own lookup ended with: its cache holds it. */
  const cached = async (): Promise<ProviderInfo[]> => unwrap(await requester.api.discover('svc.echo', false)) ?? [];
  return { requester, providers, discover, cached };
}

const ids = (providers: ProviderInfo[]): string[] => providers.map((p) => p.nodeId).sort();

describe('forced discoveries settled on the requester’s page', () => {
  it('settle from the first answer with the providers the worker’s lookup ends with', async () => {
    const { requester, providers, discover, cached } = await threeTabs();
    const expected = providers.map((p) => p.hex).sort();
    let settledHere = 0;
    // Each forced discovery: the page's result is the worker's own (its cache), field for field and in order.
    for (let round = 0; round < 20; round++) {
      const before = requester.pump.replies.settledHere;
      const found = await discover();
      expect(ids(found)).toEqual(expected);
      const fromPage = requester.pump.replies.settledHere > before;
      if (fromPage) {
        settledHere++;
        // The worker takes the same answer, ends its lookup on it and caches its result.
        await until(async () => (await requester.stats())['lookups.settledOnPage'] === settledHere);
      }
      expect(await cached()).toEqual(found);
    }
    // Within its window on this machine at least once (each round is a few ms here); the worker counted each.
    expect(settledHere).toBeGreaterThan(0);
    expect((await requester.stats())['lookups.settledOnPage']).toBe(settledHere);
  });

  it('are all the worker’s where the page has no WebCrypto Ed25519, with the same providers', async () => {
    const { requester, providers, discover, cached } = await threeTabs({ webCrypto: false });
    for (let round = 0; round < 5; round++) {
      const found = await discover();
      expect(ids(found)).toEqual(providers.map((p) => p.hex).sort());
      expect(await cached()).toEqual(found);
    }
    expect(requester.pump.replies.settledHere).toBe(0);
    expect((await requester.stats())['lookups.settledOnPage'] ?? 0).toBe(0);
  });
});
