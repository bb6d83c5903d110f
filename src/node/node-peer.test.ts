import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestRelay, type TestRelay } from '../testing/test-relay.js';
import { createPeer, type Peer } from './index.js';
import { SNAPSHOT_FILE } from './file-store.js';
import { KEY_FILE } from './key-file.js';

/**
 * Node peers over real WebRTC (@roamhq/wrtc) and a real relay on loopback: the Node entry
 * end to end, without a browser (e2e/node-peer.spec.ts meets Chromium tabs).
 */
let relay: TestRelay;
const peers: Peer[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  relay = await startTestRelay();
});
afterAll(async () => {
  await relay.close();
});
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const start = async (options: Parameters<typeof createPeer>[0] | object = {}): Promise<Peer> => {
  const peer = await createPeer({ bootstrap: relay.url, realm: 'node-test', ...options });
  peers.push(peer);
  return peer;
};

const dataDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'macula-node-'));
  dirs.push(dir);
  return join(dir, 'peer');
};

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => undefined as T);
    if (v !== undefined && ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('Node peer', () => {
  it('refuses browser-only and unknown options, and a data directory with memory storage', async () => {
    await expect(createPeer({ bootstrap: relay.url, storage: 'indexeddb' } as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^storage:.*dataDir/),
    });
    await expect(createPeer({ bootstrap: relay.url, workerUrl: '/w.js' } as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^workerUrl: not an option/),
    });
    await expect(createPeer({ bootstrap: relay.url, storage: 'memory', dataDir: '/tmp/x' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^dataDir:/),
    });
    await expect(createPeer({ bootstrap: relay.url, dataDir: '' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('calls, discovers and publishes between two Node peers over WebRTC', async () => {
    const a = await start();
    const b = await start();
    await a.advertise('node.echo', (x) => ({ echoed: x, by: a.nodeId }));
    const received: unknown[] = [];
    await a.subscribe('node.news.*', (payload, { topic }) => received.push([topic, payload]));
    await until(
      () => b.discover('node.echo', { forceRefresh: true }),
      (list) => list.some((p) => p.nodeId === a.nodeId),
    );
    expect(await b.call('node.echo', 'hi')).toEqual({ echoed: 'hi', by: a.nodeId });
    // With the worker's copy of the providers in, the page sends a call's CALL itself (page-calls.ts), for each shape.
    const before = await b.stats();
    expect(await b.call('node.echo', 'again')).toEqual({ echoed: 'again', by: a.nodeId });
    expect(await b.callDetailed('node.echo', 'detailed', { policy: 'first' })).toEqual({
      result: { echoed: 'detailed', by: a.nodeId },
      provider: a.nodeId,
      attempts: 1,
      failed: [],
    });
    expect(await b.callTo(a.nodeId, 'node.echo', 'to')).toEqual({ echoed: 'to', by: a.nodeId });
    await expect(b.callTo(a.nodeId, 'node.none', 'x')).rejects.toMatchObject({ code: 'UNKNOWN_SERVICE' });
    const after = await b.stats();
    expect(after['rpc.sentOnPage']! - before['rpc.sentOnPage']!).toBe(4);
    expect(after['rpc.calls']! - before['rpc.calls']!).toBe(4);
    expect(after['messages.out.CALL']! - before['messages.out.CALL']!).toBe(4);
    await until(
      () => b.discoverSubscribers('node.news.today', { forceRefresh: true }),
      (list) => list.length > 0,
    );
    expect(await b.publish('node.news.today', { n: 1 })).toBeGreaterThan(0);
    await until(
      async () => received,
      (r) => r.length === 1,
    );
    expect(received).toEqual([['node.news.today', { n: 1 }]]);
    expect((await b.stats())['connections.open']).toBeGreaterThan(0);
    // Each tells the other it is a Node peer (its PINGs and PONGs), so the channel and the table say so.
    await until(
      () => b.peers(),
      (peers) => peers.some((p) => p.nodeId === a.nodeId && p.kind === 'node'),
    );
    const contact = (await b.routingTable()).flatMap((bucket) => bucket.contacts).find((c) => c.nodeId === a.nodeId);
    expect(contact).toMatchObject({ open: true, kind: 'node' });
  });

  it('comes back from its data directory with the same node id and its services', async () => {
    const dir = await dataDir();
    const first = await start({ dataDir: dir });
    await first.advertise('node.kept', () => 'kept');
    const id = first.nodeId;
    await first.close();
    peers.splice(peers.indexOf(first), 1);
    expect((await stat(join(dir, KEY_FILE))).mode & 0o777).toBe(0o600);

    const again = await start({ dataDir: dir });
    expect(again.nodeId).toBe(id);
    // Restored, and advertised again only with a handler (as a reloaded tab: README, restoredServices()).
    expect((await again.restoredServices()).map((s) => s.serviceId)).toEqual(['node.kept']);
    expect(await again.listLocalServices()).toEqual([]);
    await again.advertise('node.kept', () => 'kept again');
    expect(await again.restoredServices()).toEqual([]);
    const other = await start();
    await until(
      () => other.discover('node.kept', { forceRefresh: true }),
      (list) => list.some((p) => p.nodeId === id),
    );
    expect(await other.call('node.kept')).toBe('kept again');
  });

  it('refuses a second peer on a data directory in use', async () => {
    const dir = await dataDir();
    await start({ dataDir: dir });
    await expect(createPeer({ bootstrap: relay.url, dataDir: dir })).rejects.toMatchObject({
      code: 'STORAGE_ERROR',
      message: expect.stringMatching(/in use/),
    });
  });

  it('starts fresh, with the same node id, from a damaged snapshot', async () => {
    const dir = await dataDir();
    const first = await start({ dataDir: dir });
    await first.advertise('node.lost', () => 1);
    await first.close();
    peers.splice(peers.indexOf(first), 1);
    await writeFile(join(dir, SNAPSHOT_FILE), 'not a snapshot at all');
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => void warnings.push(args.join(' '));
    try {
      const again = await start({ dataDir: dir });
      expect(again.nodeId).toBe(first.nodeId);
      expect(await again.listLocalServices()).toEqual([]);
    } finally {
      console.warn = warn;
    }
    expect(warnings.join('\n')).toMatch(/snapshot .* is damaged .*starting with no stored records or services/);
  });
});
