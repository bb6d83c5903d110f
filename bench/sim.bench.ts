/**
 * `npm run bench:sim`: the real core in a simulated network of 1,000 and 10,000 nodes.
 * Prints the figures and writes them to BENCHMARKS.md. Arguments: node counts to run
 * (default "1000 10000"), e.g. `npm run bench:sim -- 1000`.
 */
import { readvertiseIntervalS } from '../src/core/constants.js';
import type { DhtNode } from '../src/core/node/dht-node.js';
import { publishToDht, queryDhtForService } from '../src/core/registry/dht-registry.js';
import { compareDistance, keyForName, toHex } from '../src/core/id.js';
import { Swarm } from '../src/sim/swarm.js';
import { mean, percentile, table, writeSection } from './report.js';
import { SimProgress } from './sim-progress.js';

interface LookupFigures {
  lookups: number;
  success: number;
  hops: number[];
  /** Frames that carried the lookups' requests and answers, per lookup. */
  messages: number;
  /** Every routed frame in the window (maintenance included), per lookup: the figure of earlier runs. */
  routedAll: number;
  connections: number;
}

async function lookupsFor(
  swarm: Swarm,
  names: string[],
  owners: Map<string, DhtNode>,
  count: number,
): Promise<LookupFigures> {
  const framesBefore = routedFrames(swarm);
  const lookupFramesBefore = lookupFrames(swarm);
  const connectionsBefore = swarm.network.stats.connectionsCreated;
  const hops: number[] = [];
  let success = 0;
  const batch = 25;
  for (let done = 0; done < count; done += batch) {
    const runs = Array.from({ length: Math.min(batch, count - done) }, async () => {
      const name = names[Math.floor(swarm.random.next() * names.length)]!;
      const from = swarm.pick();
      const result = await from.findValue(keyForName(name), 'provider');
      const owner = owners.get(name)!;
      if (result.records.some((r) => toHex(r.nodeId) === owner.selfHex)) success++;
      if (result.answered > 0) hops.push(result.hops);
    });
    await swarm.settle(Promise.all(runs), 300_000);
  }
  return {
    lookups: count,
    success: success / count,
    hops,
    messages: (lookupFrames(swarm) - lookupFramesBefore) / count,
    routedAll: (routedFrames(swarm) - framesBefore) / count,
    connections: (swarm.network.stats.connectionsCreated - connectionsBefore) / count,
  };
}

const summary = (f: LookupFigures): string =>
  `hops p50 ${percentile(f.hops, 50)} p95 ${percentile(f.hops, 95)}, frames/lookup ${f.messages.toFixed(1)}, success ${(f.success * 100).toFixed(2)}%`;

/** Every routed frame: envelopes and their hop acknowledgements, whatever they carried. */
const routedFrames = (swarm: Swarm): number =>
  (swarm.network.stats.framesByType.get('RPC_ROUTE') ?? 0) + (swarm.network.stats.framesByType.get('ROUTE_ACK') ?? 0);

/**
 * Frames that carried value lookups' requests and answers: envelope hops and direct frames.
 * Hop acknowledgements are left out (ROUTE_ACK names no type); so is the maintenance that
 * runs meanwhile, which grows with the swarm, not with the lookups (at 10,000 nodes it was
 * half of all routed frames in the window).
 */
function lookupFrames(swarm: Swarm): number {
  const { framesByType, routedByType } = swarm.network.stats;
  let sum = 0;
  for (const type of ['FIND_VALUE', 'FIND_VALUE_REPLY'])
    sum += (framesByType.get(type) ?? 0) + (routedByType.get(type) ?? 0);
  return sum;
}

async function scenario(n: number): Promise<string[]> {
  const started = performance.now();
  const swarm = new Swarm({ seed: n });
  const progress = new SimProgress(`n=${n}`, swarm);
  await swarm.grow(n, Math.max(100, n / 20), undefined, (added) => progress.say(`${added} nodes added`));
  progress.say('every join finished');
  await swarm.run(60_000);
  progress.say('a minute run');
  const builtS = (performance.now() - started) / 1000;
  const open = swarm.alive().map((x) => x.neighbours.size);
  const createdPerNode = mean(swarm.alive().map((x) => swarm.network.connectionsCreatedBy(x.selfHex)));

  const names = Array.from({ length: 50 }, (_, i) => `bench.service.${i}`);
  const owners = new Map<string, DhtNode>();
  const holders: number[] = [];
  // Published as the lookups run, 25 at a time: one after another, at 100,000 nodes the
  // publishes alone took ~30 million events of the swarm's maintenance (a node lookup of
  // several rounds each), none of which the figures below use.
  const batch = 25;
  for (let done = 0; done < names.length; done += batch) {
    const published = names.slice(done, done + batch);
    for (const name of published) owners.set(name, swarm.pick());
    await swarm.settle(
      Promise.all(published.map((name) => publishToDht(owners.get(name)!, name, { metadata: { name } }, 300))),
    );
    for (const name of published) {
      const key = keyForName(name);
      const truth = swarm
        .alive()
        .sort((a, b) => compareDistance(key, a.self, b.self))
        .slice(0, 20);
      holders.push(truth.filter((x) => x.records.get(key, 'provider', swarm.now).length > 0).length);
    }
  }
  progress.say(`50 names published, holders of 20 closest: mean ${mean(holders).toFixed(2)}`);
  const healthy = await lookupsFor(swarm, names, owners, 400);
  progress.say(`all live: ${summary(healthy)}`);

  const ownerSet = new Set([...owners.values()].map((o) => o.selfHex));
  const victims = swarm.alive().filter((x) => !ownerSet.has(x.selfHex));
  const failCount = Math.round(n * 0.3);
  for (let i = 0; i < failCount; i++) {
    const j = i + Math.floor(swarm.random.next() * (victims.length - i));
    [victims[i], victims[j]] = [victims[j]!, victims[i]!];
    swarm.fail(victims[i]!, true);
  }
  progress.say(`${failCount} nodes failed silently`);
  const failed = await lookupsFor(swarm, names, owners, 400);
  progress.say(`30% failed: ${summary(failed)}`);
  const wallS = (performance.now() - started) / 1000;

  const row = (label: string, f: LookupFigures): Array<string | number> => [
    `${n}`,
    label,
    percentile(f.hops, 50),
    percentile(f.hops, 95),
    Math.max(...f.hops),
    f.messages,
    f.routedAll,
    `${(f.success * 100).toFixed(2)}%`,
    f.connections,
  ];
  console.log(`n=${n}: built in ${builtS.toFixed(1)} s, total ${wallS.toFixed(1)} s`);
  return [
    `### ${n} nodes`,
    '',
    table(
      [
        'nodes',
        'phase',
        'hops p50',
        'hops p95',
        'hops max',
        'frames / lookup',
        'routed frames / lookup, maintenance included',
        'success',
        'connections opened / lookup',
      ],
      [row('all live', healthy), row('30% failed silently', failed)],
    ),
    '',
    `- frames / lookup: envelope hops and direct frames that carried FIND_VALUE and its answers (hop acknowledgements and the maintenance running meanwhile not counted); the next column counts every routed frame in the window, acknowledgements included, as the runs before 2026-12-07 did`,
    `- open channels per node: mean ${mean(open).toFixed(1)}, p95 ${percentile(open, 95)}, max ${Math.max(...open)}; connections created per node while joining: ${createdPerNode.toFixed(1)}`,
    `- of the 20 closest nodes, holding a record right after publish: mean ${mean(holders).toFixed(2)}, min ${Math.min(...holders)} (50 records)`,
    `- wall clock: network built in ${builtS.toFixed(1)} s, whole scenario ${wallS.toFixed(1)} s`,
    '',
  ];
}

/** Continuous churn: exponential sessions of mean 10 virtual minutes, Poisson arrivals keeping N steady. */
async function churn(n: number, minutes: number): Promise<string[]> {
  const started = performance.now();
  const swarm = new Swarm({ seed: n + 1 });
  await swarm.grow(n, Math.max(100, n / 20));
  await swarm.run(60_000);
  const meanSessionMs = 10 * 60_000;
  const ttl = 300;
  const owners = Array.from({ length: 20 }, () => swarm.pick());
  const ownerSet = new Set(owners.map((o) => o.selfHex));
  const names = owners.map((_, i) => `churn.service.${i}`);
  const advertise = async (): Promise<void> => {
    await Promise.all(owners.map((o, i) => publishToDht(o, names[i]!, {}, ttl).catch(() => undefined)));
  };
  await swarm.settle(advertise());
  // Arrivals, departures and re-advertisements stop with the window: otherwise the joins still
  // running when it ends keep the virtual network going, and their arrivals start new joins.
  let running = true;
  const readvertise = (): void => {
    if (!running) return;
    void advertise();
    swarm.queue.setTimer(readvertiseIntervalS(ttl) * 1000, readvertise);
  };
  swarm.queue.setTimer(readvertiseIntervalS(ttl) * 1000, readvertise);

  const exp = (meanMs: number): number => -Math.log(1 - swarm.random.next()) * meanMs;
  const scheduleDeparture = (node: DhtNode): void => {
    if (ownerSet.has(node.selfHex)) return;
    swarm.queue.setTimer(exp(meanSessionMs), () => {
      if (running) swarm.fail(node, false);
    });
  };
  for (const node of swarm.alive()) scheduleDeparture(node);
  const arrive = (): void => {
    if (!running) return;
    const existing = swarm.alive();
    const node = swarm.addNode();
    void swarm.joinAll([node], existing);
    scheduleDeparture(node);
    swarm.queue.setTimer(exp(meanSessionMs / n), arrive);
  };
  swarm.queue.setTimer(exp(meanSessionMs / n), arrive);

  const framesBefore = swarm.network.stats.frames;
  const bytesBefore = swarm.network.stats.bytes;
  const connBefore = swarm.network.stats.connectionsCreated;
  let lookups = 0;
  let found = 0;
  const windowMs = minutes * 60_000;
  const end = swarm.now + windowMs;
  while (swarm.now < end) {
    const i = Math.floor(swarm.random.next() * names.length);
    const result = await swarm.settle(queryDhtForService(swarm.pick(), names[i]!), 60_000);
    lookups++;
    if (result.some((p) => p.nodeId === owners[i]!.selfHex)) found++;
    await swarm.run(10_000);
  }
  running = false;
  const seconds = windowMs / 1000;
  const live = swarm.alive().length;
  const framesPerNodeS = (swarm.network.stats.frames - framesBefore) / live / seconds;
  const bytesPerNodeS = (swarm.network.stats.bytes - bytesBefore) / live / seconds;
  const connPerNodeH = (swarm.network.stats.connectionsCreated - connBefore) / live / (seconds / 3600);
  const wallS = (performance.now() - started) / 1000;
  console.log(`churn n=${n}: ${wallS.toFixed(1)} s`);
  return [
    `### Churn: ${n} nodes, sessions exponential with mean 10 virtual minutes, ${minutes} virtual minutes`,
    '',
    table(
      [
        'lookups',
        'success',
        'frames / node / s',
        'bytes / node / s',
        'connections opened / node / hour',
        'live nodes at end',
      ],
      [[lookups, `${((found / lookups) * 100).toFixed(2)}%`, framesPerNodeS, bytesPerNodeS, connPerNodeH, live]],
    ),
    '',
    `- frames and bytes count everything on the wire (maintenance, joins of newcomers, lookups, re-advertisements). Wall clock ${wallS.toFixed(1)} s.`,
    '',
  ];
}

const args = process.argv.slice(2);
const churnOnly = args.includes('--churn-only');
const churnMinutes = Number(args.find((a) => a.startsWith('--churn-minutes='))?.split('=')[1] ?? 30);
const sizes = args.map(Number).filter((x) => x > 0);
const runs = churnOnly ? [] : sizes.length > 0 ? sizes : [1000, 10000];
const lines: string[] = [];
for (const n of runs) lines.push(...(await scenario(n)));
lines.push(...(await churn(1000, churnMinutes)));
const body = lines.join('\n');
console.log(body);
writeSection('Simulator', `npm run bench:sim${sizes.length > 0 ? ` -- ${sizes.join(' ')}` : ''}`, body);
