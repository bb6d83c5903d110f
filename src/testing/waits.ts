/**
 * The waits a multi-peer test needs: N peers that form one mesh, a service that lookups
 * find, and a page's counters.
 */
import type { Browser } from '@playwright/test';
import type { ProviderInfo } from '../core/registry/service-registry.js';
import { poll, type PollOptions } from './poll.js';
import { onPeer, openPeer, type OpenPeerOptions, type PeerPageLike, type TestPeer } from './test-peer.js';

export interface MeshOptions extends PollOptions {
  /** Open channels each peer must have (default 1; capped at the number of other peers). */
  minChannels?: number;
}

/**
 * Open `n` pages of the app, each in its own browser context (its own storage, as separate
 * users have), one after another as users arrive, and wait until they form one mesh.
 */
export async function openPeers(
  browser: Browser,
  n: number,
  options: OpenPeerOptions & { mesh?: MeshOptions },
): Promise<TestPeer[]> {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`openPeers: n must be a positive integer, got ${n}`);
  const peers: TestPeer[] = [];
  try {
    for (let i = 0; i < n; i++) peers.push(await openPeer(browser, options));
    await waitForMesh(peers, options.mesh);
  } catch (e) {
    await closePeers(peers);
    throw e;
  }
  return peers;
}

export const channelsOf = (p: PeerPageLike): Promise<string[]> =>
  onPeer(p, async (peer) => (await peer.peers()).map((c) => c.nodeId), undefined);

/**
 * Wait until every peer has at least `minChannels` open channels and the channels among
 * these peers connect them all (no two islands that each look healthy).
 */
export async function waitForMesh(peers: readonly PeerPageLike[], options: MeshOptions = {}): Promise<void> {
  const min = Math.min(options.minChannels ?? 1, Math.max(peers.length - 1, 1));
  const ids = new Set(peers.map((p) => p.nodeId));
  await poll(
    `${peers.length} peers to mesh (at least ${min} channel(s) each, all connected)`,
    () => Promise.all(peers.map(async (p) => ({ id: p.nodeId, channels: await channelsOf(p) }))),
    (views) => views.every((v) => v.channels.length >= min) && (peers.length === 1 || connected(views, ids)),
    options,
  );
}

function connected(views: Array<{ id: string; channels: string[] }>, ids: Set<string>): boolean {
  const edges = new Map<string, Set<string>>([...ids].map((id) => [id, new Set<string>()]));
  for (const v of views) {
    for (const c of v.channels) {
      if (!ids.has(c)) continue;
      edges.get(v.id)!.add(c);
      edges.get(c)!.add(v.id);
    }
  }
  const start = views[0]!.id;
  const seen = new Set([start]);
  const queue = [start];
  for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
    for (const next of edges.get(id)!) if (!seen.has(next)) (seen.add(next), queue.push(next));
  }
  return seen.size === ids.size;
}

export interface ServiceWaitOptions extends PollOptions {
  /** Wait until these node ids are all among the providers (default: any one provider). */
  providers?: readonly string[];
}

/**
 * Wait until `serviceId` is discoverable from `p` by a real DHT lookup (no cache), and
 * resolve with the providers found.
 */
export function waitForService(
  p: PeerPageLike,
  serviceId: string,
  options: ServiceWaitOptions = {},
): Promise<ProviderInfo[]> {
  const wanted = options.providers ?? [];
  return poll(
    `${serviceId} to be discoverable from ${p.nodeId.slice(0, 8)}${wanted.length > 0 ? ` with providers ${wanted.map((id) => id.slice(0, 8)).join(', ')}` : ''}`,
    () => onPeer(p, (peer, id) => peer.discover(id, { forceRefresh: true }), serviceId),
    (found) => (wanted.length === 0 ? found.length > 0 : wanted.every((id) => found.some((f) => f.nodeId === id))),
    options,
  );
}

/** The page's peer counters (messages by type, lookups, connections, relay link, ...). */
export const peerStats = (p: PeerPageLike): Promise<Record<string, number>> =>
  onPeer(p, (peer) => peer.stats(), undefined);

/** Close every peer the kit opened (their contexts too); failures to close are ignored. */
export async function closePeers(peers: readonly TestPeer[]): Promise<void> {
  await Promise.all(peers.map((p) => p.close().catch(() => undefined)));
}
