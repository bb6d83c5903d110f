import type { DhtNode } from '../core/node/dht-node.js';
import { publishToDht } from '../core/registry/dht-registry.js';
import { keyForName, toHex } from '../core/id.js';
import { prefixOf } from '../core/routing/router.js';
import type { EntryRelays } from './entry-relays.js';
import { startFederatedSwarm } from './overlay-signalling.js';

/**
 * Newcomers that enter through several relays whose own peers joined each other
 * (entry-relays.ts), and what issue #18 asks of such a mesh: lookups for services whose
 * provider entered through another relay succeed, and the relays' peers do not become hubs
 * that lookups must cross. Shared by the simulation test (400 nodes) and
 * bench/federation.bench.ts (1,000 to 10,000).
 *
 * Connections are negotiated as in the browser (overlay-signalling.ts): a relay carries offer
 * and answer only between nodes it admitted both, and any other pair's go through the
 * overlay, the answer retracing the offer's path. A mesh that forms at all here had to be
 * knit across the relays by the overlay itself.
 *
 * Hubs are measured on the paths of value lookups: each routed path's answer names the
 * nodes it crossed (LookupProgress 'path-reply'), and a path "passes through" a node when
 * that node forwarded or answered it. The relays' peers are held against a control group
 * of as many ordinary nodes drawn at random: if relays were hubs their share would be
 * well above the control's.
 */
export interface FederationFigures {
  nodes: number;
  relays: number;
  lookups: number;
  /** Lookups that returned the provider's record. */
  found: number;
  /** Lookups whose looker and provider entered through different relays. */
  acrossRelays: number;
  paths: number;
  /** Share of paths crossing at least one relay peer. */
  entryShare: number;
  /** The same for a control group of as many random ordinary nodes. */
  controlShare: number;
  /** Share of paths crossing the busiest relay peer, and the busiest ordinary node. */
  busiestEntry: number;
  busiestOther: number;
  /** Open channels of relay peers and of the others (mean, max). */
  entryChannels: { mean: number; max: number };
  otherChannels: { mean: number; max: number };
  /** Hops of the fastest answer of each lookup. */
  hops: number[];
  /** Routed PINGs (the way a CALL goes) between nodes that entered through different relays. */
  pings: { tried: number; reached: number };
  /** Connection negotiations: through a shared relay, through the overlay, and of those answered or given up. */
  negotiations: { viaRelay: number; viaOverlay: number; answered: number; timedOut: number };
  /** Signals sent back along the path their offer came by (counter signals.retraced, all nodes). */
  retraced: number;
  /** Offers sent by way of the node that introduced their target in a lookup (counter signals.introduced). */
  introduced: number;
  /** How many of its NEAR_LINKS closest nodes each ordinary node holds a channel to: the fewest, and the mean. */
  nearLinks: { fewest: number; mean: number };
  buildSeconds: number;
  /** Process CPU time (user + system) of the whole run, and simulator events processed. */
  cpuSeconds: number;
  events: number;
}

export interface FederationOptions {
  nodes: number;
  relays: number;
  services: number;
  lookups: number;
  seed: number;
  /** Routed PINGs between random pairs of nodes that entered through different relays. */
  pings: number;
  /** Told how far the run is (phases, then every 100 lookups), with the CPU time so far. */
  progress?: (line: string) => void;
}

export async function runFederation(opts: FederationOptions): Promise<FederationFigures> {
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const cpu = (): number => {
    const used = process.cpuUsage(cpuStart);
    return (used.user + used.system) / 1e6;
  };
  const { swarm, entries, signalling } = await startFederatedSwarm(opts.relays, opts.seed);
  const say = (what: string): void =>
    opts.progress?.(`${what}: ${swarm.queue.processed} events, ${cpu().toFixed(0)} s CPU`);
  await swarm.grow(opts.nodes - opts.relays, Math.max(40, Math.round(opts.nodes / 20)));
  say(`${swarm.alive().length} nodes joined`);
  await swarm.run(60_000);
  const buildSeconds = (performance.now() - started) / 1000;
  say('network built');

  const ordinary = swarm.alive().filter((n) => !entries.isEntry(n.selfHex));
  const entryIds = new Set(entries.peers.map((p) => p.selfHex));
  const control = new Set<string>();
  while (control.size < Math.min(opts.relays, ordinary.length)) control.add(swarm.pick(ordinary).selfHex);

  const owners: DhtNode[] = [];
  const names: string[] = [];
  for (let i = 0; i < opts.services; i++) {
    const owner = swarm.pick(ordinary);
    const name = `fed.${i}.svc`;
    await swarm.settle(publishToDht(owner, name, { metadata: { i } }, 3_600));
    owners.push(owner);
    names.push(name);
  }
  say(`${opts.services} services published`);

  const crossings = new Map<string, number>();
  let paths = 0;
  let throughEntry = 0;
  let throughControl = 0;
  let found = 0;
  let acrossRelays = 0;
  const hops: number[] = [];
  for (let i = 0; i < opts.lookups; i++) {
    const s = i % opts.services;
    const owner = owners[s]!;
    // Lookers entered through another relay than the provider whenever the draw allows.
    let looker = swarm.pick(ordinary);
    for (let tries = 0; tries < 8 && (looker === owner || sameEntry(entries, looker, owner)); tries++)
      looker = swarm.pick(ordinary);
    if (!sameEntry(entries, looker, owner)) acrossRelays++;
    const result = await swarm.settle(
      looker.findValue(keyForName(names[s]!), 'provider', (p) => {
        if (p.kind !== 'path-reply') return;
        paths++;
        const crossed = new Set([p.from, ...p.path]);
        crossed.delete(looker.selfHex);
        let entry = false;
        let ctl = false;
        for (const id of crossed) {
          crossings.set(id, (crossings.get(id) ?? 0) + 1);
          if (entryIds.has(id)) entry = true;
          if (control.has(id)) ctl = true;
        }
        if (entry) throughEntry++;
        if (ctl) throughControl++;
      }),
      120_000,
    );
    if (result.records.some((r) => toHex(r.nodeId) === owner.selfHex)) found++;
    hops.push(result.hops);
    if ((i + 1) % 100 === 0) say(`${i + 1} lookups, ${found} found`);
  }

  // Exact envelopes across the relays: a CALL to a provider is routed to that node itself,
  // which fails if nodes behind other relays could not connect near it in the id space.
  let reached = 0;
  for (let i = 0; i < opts.pings; i++) {
    const from = swarm.pick(ordinary);
    let to = swarm.pick(ordinary);
    for (let tries = 0; tries < 8 && (to === from || sameEntry(entries, from, to)); tries++) to = swarm.pick(ordinary);
    const ping = from.messenger.queryPeer(to.selfHex, 'PING', { rid: from.messenger.newId() }, 5_000);
    if (
      await swarm.settle(ping, 10_000).then(
        () => true,
        () => false,
      )
    )
      reached++;
  }
  say(`${opts.pings} pings, ${reached} reached`);

  const busiest = (ids: Iterable<string>): number =>
    Math.max(0, ...[...ids].map((id) => crossings.get(id) ?? 0)) / Math.max(1, paths);
  const channels = (nodes: DhtNode[]) => {
    const counts = nodes.map((n) => n.neighbours.size);
    return { mean: counts.reduce((a, b) => a + b, 0) / Math.max(1, counts.length), max: Math.max(0, ...counts) };
  };
  return {
    nodes: swarm.alive().length,
    relays: opts.relays,
    lookups: opts.lookups,
    found,
    acrossRelays,
    paths,
    entryShare: throughEntry / Math.max(1, paths),
    controlShare: throughControl / Math.max(1, paths),
    busiestEntry: busiest(entryIds),
    busiestOther: busiest(ordinary.map((n) => n.selfHex)),
    entryChannels: channels(entries.peers),
    otherChannels: channels(ordinary),
    hops,
    pings: { tried: opts.pings, reached },
    negotiations: { ...signalling.stats },
    retraced: swarm.alive().reduce((n, node) => n + (node.stats()['signals.retraced'] ?? 0), 0),
    introduced: swarm.alive().reduce((n, node) => n + (node.stats()['signals.introduced'] ?? 0), 0),
    nearLinks: nearLinks(ordinary, swarm.alive()),
    buildSeconds,
    cpuSeconds: cpu(),
    events: swarm.queue.processed,
  };
}

/** Closest nodes whose channels a node's own part of the id space depends on (a bucket's worth, k = 8). */
export const NEAR_LINKS = 8;

/**
 * For each node, how many of its NEAR_LINKS closest live nodes (XOR on the first 32 bits,
 * decisive at these sizes) it has a channel to. Offers that dead-end near their target
 * show here first: a node linked to few of its closest is one greedy routing misses.
 */
function nearLinks(nodes: DhtNode[], all: DhtNode[]): { fewest: number; mean: number } {
  const prefixes = all.map((n) => ({ hex: n.selfHex, prefix: prefixOf(n.self) }));
  let fewest = Infinity;
  let sum = 0;
  for (const node of nodes) {
    const own = prefixOf(node.self);
    const closest = prefixes
      .filter((p) => p.hex !== node.selfHex)
      .sort((a, b) => ((a.prefix ^ own) >>> 0) - ((b.prefix ^ own) >>> 0))
      .slice(0, NEAR_LINKS);
    const linked = closest.filter((p) => node.neighbours.has(p.hex)).length;
    fewest = Math.min(fewest, linked);
    sum += linked;
  }
  return { fewest: nodes.length > 0 ? fewest : 0, mean: sum / Math.max(1, nodes.length) };
}

function sameEntry(entries: EntryRelays, a: DhtNode, b: DhtNode): boolean {
  return entries.entryOf(a.selfHex) === entries.entryOf(b.selfHex);
}
