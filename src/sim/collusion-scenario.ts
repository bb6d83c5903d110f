import type { DhtNode } from '../core/node/dht-node.js';
import { publishToDht } from '../core/registry/dht-registry.js';
import { compareDistance, keyForName, toHex, type NodeId } from '../core/id.js';
import { seededRandom } from '../core/environment.js';
import { Coalition, colluderFactory } from './colluder.js';
import { Swarm } from './swarm.js';

/**
 * A swarm in which a fraction of the nodes collude (colluder.ts), with the measurements
 * issue #7 asks for: value lookups for services advertised by honest nodes, node lookups
 * held to the true closest honest nodes, and what each costs on the wire. Shared by the
 * simulation test (small, seeded) and bench/collusion.bench.ts (1,000 and 10,000 nodes).
 */
export interface CollusionSetup {
  swarm: Swarm;
  coalition: Coalition;
  honest: DhtNode[];
}

/**
 * What the coalition's made-up ids look like: `far` share 96 bits with the target (closer
 * than any real node), `plausible` log2(N) + 1 bits (as close as the real closest nodes),
 * `none`: colluders name only each other.
 */
export type FakeIds = 'far' | 'plausible' | 'none';

export async function colludedSwarm(opts: {
  nodes: number;
  fraction: number;
  seed: number;
  activeFromStart: boolean;
  fakes?: FakeIds;
}): Promise<CollusionSetup> {
  const fakes = opts.fakes ?? 'far';
  const coalition = new Coalition({
    active: opts.activeFromStart,
    fakeIdsPerAnswer: fakes === 'none' ? 0 : 8,
    fakePrefixBits: fakes === 'plausible' ? Math.ceil(Math.log2(opts.nodes)) + 1 : 96,
  });
  // Exactly round(fraction × n) colluders, spread over the join order by a seeded draw.
  const colluders = Math.round(opts.fraction * opts.nodes);
  const draw = seededRandom(opts.seed ^ 0xc011);
  let created = 0;
  let chosen = 0;
  const pick = (): boolean => {
    const remaining = opts.nodes - created++;
    const take = draw.next() < (colluders - chosen) / Math.max(1, remaining);
    if (take) chosen++;
    return take;
  };
  const swarm = new Swarm({ seed: opts.seed, create: colluderFactory(coalition, pick) });
  await swarm.grow(opts.nodes, Math.max(40, Math.round(opts.nodes / 20)));
  await swarm.run(60_000);
  coalition.active = true;
  const honest = swarm.alive().filter((n) => !coalition.has(n.selfHex));
  return { swarm, coalition, honest };
}

export interface Services {
  names: string[];
  owners: Map<string, DhtNode>;
  /** Per service, how many of the 20 closest honest nodes hold its record right after publish. */
  honestHolders: number[];
}

export async function publishServices(
  setup: CollusionSetup,
  count: number,
  prefix = 'collusion.service',
): Promise<Services> {
  const { swarm, honest } = setup;
  const names = Array.from({ length: count }, (_, i) => `${prefix}.${i}`);
  const owners = new Map<string, DhtNode>();
  const honestHolders: number[] = [];
  for (const name of names) {
    const owner = swarm.pick(honest);
    owners.set(name, owner);
    await swarm.settle(
      publishToDht(owner, name, { metadata: { name } }, 3_600).catch(() => undefined),
      300_000,
    );
    const key = keyForName(name);
    const closest = closestHonest(setup, key, 20);
    honestHolders.push(closest.filter((n) => n.records.get(key, 'provider', swarm.now).length > 0).length);
  }
  return { names, owners, honestHolders };
}

export const closestHonest = (setup: CollusionSetup, target: NodeId, k: number): DhtNode[] =>
  [...setup.honest].sort((a, b) => compareDistance(target, a.self, b.self)).slice(0, k);

export interface LookupFigures {
  lookups: number;
  success: number;
  hops: number[];
  /** Frames on the wire per lookup (routed envelopes and their acknowledgements). */
  frames: number;
  /** The lookup's own count of hops travelled by requests and replies. */
  messages: number;
  durationMs: number[];
}

const routedFrames = (swarm: Swarm): number =>
  (swarm.network.stats.framesByType.get('RPC_ROUTE') ?? 0) + (swarm.network.stats.framesByType.get('ROUTE_ACK') ?? 0);

/** Value lookups from random honest nodes for services advertised by honest nodes; success = the owner's record came back. */
export async function valueLookups(
  setup: CollusionSetup,
  services: Services,
  count: number,
  batch = 20,
): Promise<LookupFigures> {
  const { swarm, honest } = setup;
  return measure(swarm, count, batch, async () => {
    const name = services.names[Math.floor(swarm.random.next() * services.names.length)]!;
    const result = await swarm.pick(honest).findValue(keyForName(name), 'provider');
    const owner = services.owners.get(name)!;
    return {
      ok: result.records.some((r) => toHex(r.nodeId) === owner.selfHex),
      hops: result.hops,
      messages: result.messages,
      durationMs: result.durationMs,
    };
  });
}

/**
 * Node lookups (as a STORE runs them) for random targets from random honest nodes;
 * success = the true closest honest node is among the answer, and no node in it failed
 * to answer the lookup itself (which rules out made-up ids).
 */
export async function nodeLookups(
  setup: CollusionSetup,
  count: number,
  batch = 20,
): Promise<LookupFigures & { unproven: number }> {
  const { swarm, honest } = setup;
  let unproven = 0;
  const figures = await measure(swarm, count, batch, async () => {
    const target = swarm.random.bytes(32);
    const from = swarm.pick(honest);
    const result = await from.findNode(target);
    const answered = new Set([from.selfHex, ...result.responders]);
    unproven += result.closest.filter((hex) => !answered.has(hex)).length;
    const best = closestHonest(setup, target, 1)[0]!;
    return {
      ok: result.closest.includes(best.selfHex),
      hops: result.hops,
      messages: result.messages,
      durationMs: result.durationMs,
    };
  });
  return { ...figures, unproven };
}

async function measure(
  swarm: Swarm,
  count: number,
  batch: number,
  one: () => Promise<{ ok: boolean; hops: number; messages: number; durationMs: number }>,
): Promise<LookupFigures> {
  const before = routedFrames(swarm);
  const hops: number[] = [];
  const durationMs: number[] = [];
  let success = 0;
  let messages = 0;
  for (let done = 0; done < count; done += batch) {
    const runs = Array.from({ length: Math.min(batch, count - done) }, async () => {
      const r = await one();
      if (r.ok) success++;
      hops.push(r.hops);
      durationMs.push(r.durationMs);
      messages += r.messages;
    });
    await swarm.settle(Promise.all(runs), 600_000);
  }
  return {
    lookups: count,
    success: success / count,
    hops,
    frames: (routedFrames(swarm) - before) / count,
    messages: messages / count,
    durationMs,
  };
}
