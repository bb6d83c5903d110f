/**
 * `npm run bench:federation-browser`: one mesh over three relays, in one run. Three relay
 * processes (the CLI, each with its own DHT peer) joined in a chain, B joins A and C joins B;
 * four headless Chromium tabs behind each (each in its own context) and two Node peers, one
 * behind A and one behind C. One provider per relay (a tab) and both Node peers provide too;
 * then every tab and both Node peers take rounds of cold discoveries and calls of every
 * service, each sample bounded by a deadline, and the figures are split by where the caller
 * and the provider entered: the same relay, neighbouring relays, or A and C (two relay hops).
 *
 *   npm run bench:federation-browser -- [--rounds=8] [--budget-minutes=15] [--ports=A,B,C]
 *
 * The relays listen on free ports unless --ports names three.
 *
 * A call that does not answer costs a failed sample (counted, with its error), never the run.
 */
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from '@playwright/test';
import { NodePeerProcess } from '../e2e/node-peer.js';
import { RelayProcess } from '../e2e/relay-process.js';
import { CHROMIUM_ARGS, findBrowser } from '../scripts/find-browser.js';
import { listen } from '../src/relay/http.js';
import { renderFederationReport, type PairRecord, type FederationRun } from './federation-browser-report.js';
import { freePort, nodeParticipant, tabParticipant, type Participant } from './federation-participants.js';
import { providerPlaces, type GraphNode } from './federation-channels.js';
import { CALL_TIMEOUT_MS } from './federation-sample.js';
import { writeSection } from './report.js';
import { isolatedPagesServer } from './isolated-pages.js';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const ROUNDS = Number(arg('rounds') ?? 8);
const BUDGET_MS = Number(arg('budget-minutes') ?? 15) * 60_000;
const PORTS = arg('ports')?.split(',').map(Number);
const TABS_PER_RELAY = 4;
const RELAY_NAMES = ['A', 'B', 'C'] as const;
/** A cold discovery is a few lookups at most; a call has its 5 s attempt plus slack. */
const DISCOVER_DEADLINE_MS = 15_000;
const CALL_DEADLINE_MS = CALL_TIMEOUT_MS + 3_000;
/** How long each pair may take to see its provider at all before its samples start. */
const FIRST_DISCOVERY_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Wait until no tab has created a connection for `quietMs`: the neighbour sets are built. */
async function settle(tabs: Participant[], quietMs = 5_000, maxMs = 120_000): Promise<number> {
  const created = async (): Promise<number> =>
    (await Promise.all(tabs.map(async (t) => (await t.stats())['connections.created'] ?? 0))).reduce((a, b) => a + b);
  const start = Date.now();
  let last = await created();
  let quietSince = Date.now();
  while (Date.now() - quietSince < quietMs && Date.now() - start < maxMs) {
    await sleep(500);
    const now = await created();
    if (now !== last) [last, quietSince] = [now, Date.now()];
  }
  return Date.now() - start;
}

async function servePages(): Promise<{ base: string; close: () => Promise<void> }> {
  const { server, close: closePages } = await isolatedPagesServer('bench/federation-browser.bench.html');
  await listen(server, 0, '127.0.0.1');
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/bench/federation-browser.bench.html`,
    close: async () => {
      await closePages();
    },
  };
}

async function main(): Promise<void> {
  const pages = await servePages();
  const relays: RelayProcess[] = [];
  const nodes: NodePeerProcess[] = [];
  let browser: Browser | undefined;
  try {
    // B joins A, C joins B: A and C meet only through the overlay.
    for (const [i, name] of RELAY_NAMES.entries()) {
      const port = PORTS?.[i] ?? (await freePort());
      relays.push(await RelayProcess.start(port, i === 0 ? [] : [relays[i - 1]!.url]));
      console.log(`bench:federation-browser: relay ${name} up at ${relays[i]!.url}`);
    }
    browser = await chromium.launch({ executablePath: await findBrowser(), args: CHROMIUM_ARGS });
    const participants: Participant[] = [];
    for (const [r, relay] of relays.entries())
      for (let i = 0; i < TABS_PER_RELAY; i++)
        participants.push(await tabParticipant(browser, pages.base, relay.url, r, `tab ${RELAY_NAMES[r]}${i}`));
    for (const r of [0, 2]) {
      const node = await NodePeerProcess.start(relays[r]!.url);
      nodes.push(node);
      participants.push(nodeParticipant(node, relays[r]!.url, r, `Node peer ${RELAY_NAMES[r]}`));
    }
    const tabs = participants.filter((p) => p.kind === 'tab');

    // One tab provider per relay, and each Node peer provides a service of its own.
    const providers: Array<{ service: string; by: Participant }> = [];
    for (const p of participants) {
      const first = p.kind === 'tab' && p.name.endsWith('0');
      if (!first && p.kind !== 'node') continue;
      const service = `fed.${p.kind}.${RELAY_NAMES[p.relay]}`;
      await p.advertise(service);
      providers.push({ service, by: p });
    }
    const settleMs = await settle(tabs);
    console.log(`bench:federation-browser: ${participants.length} peers advertised, settled after ${settleMs} ms`);

    const pairs: PairRecord[] = [];
    for (const caller of participants)
      for (const { service, by } of providers) {
        if (by === caller) continue;
        pairs.push({
          caller: caller.name,
          callerKind: caller.kind,
          service,
          providerKind: by.kind,
          relayHops: Math.abs(caller.relay - by.relay),
          firstDiscoveryMs: undefined,
          firstCall: undefined,
          discover: [],
          call: [],
        });
      }
    const callerOf = new Map(participants.map((p) => [p.name, p]));

    // Warm-up: each pair first waits to see its provider (the mesh has just formed), then makes one
    // call, reported on its own: whether a first call across relays goes through is itself a figure.
    for (const pair of pairs) {
      const caller = callerOf.get(pair.caller)!;
      const start = Date.now();
      while (Date.now() - start < FIRST_DISCOVERY_MS) {
        if ((await caller.sample('discover', pair.service, DISCOVER_DEADLINE_MS)).ok) {
          pair.firstDiscoveryMs = Date.now() - start;
          break;
        }
        await sleep(500);
      }
      pair.firstCall = await caller.sample('call', pair.service, CALL_DEADLINE_MS);
    }
    for (const p of participants) await p.takeHops();

    // Rounds: every pair once per round, a cold discovery then a call, so a pair whose calls fail
    // for a while is sampled across the whole run rather than in one burst.
    const started = Date.now();
    let rounds = 0;
    for (; rounds < ROUNDS && Date.now() - started < BUDGET_MS; rounds++) {
      for (const pair of pairs) {
        const caller = callerOf.get(pair.caller)!;
        pair.discover.push(await caller.sample('discover', pair.service, DISCOVER_DEADLINE_MS));
        pair.call.push(await caller.sample('call', pair.service, CALL_DEADLINE_MS));
      }
      const failed = pairs.reduce((n, p) => n + p.call.filter((s) => !s.ok).length, 0);
      console.log(
        `bench:federation-browser: round ${rounds + 1} done (${Math.round((Date.now() - started) / 1000)} s, ${failed} failed calls so far)`,
      );
    }
    const hops: FederationRun['hops'] = [];
    for (const p of participants)
      for (const h of await p.takeHops()) {
        const provider = providers.find((x) => x.service === h.service);
        if (provider !== undefined && provider.by !== p)
          hops.push({ callerKind: p.kind, relayHops: Math.abs(p.relay - provider.by.relay), hops: h.hops });
      }
    const entered = await Promise.all(participants.map((p) => p.enteredThroughOwnRelay()));
    const graph: GraphNode[] = [
      ...(await Promise.all(
        participants.map(async (p) => ({ name: p.name, nodeId: p.nodeId, channels: await p.channels() })),
      )),
      ...relays.map((r, i) => ({ name: `relay ${RELAY_NAMES[i]}'s peer`, nodeId: r.peerId, channels: undefined })),
    ];
    const places = providerPlaces(
      graph,
      providers.map(({ service, by }) => ({ service, nodeId: by.nodeId })),
    );

    const run: FederationRun = {
      browserVersion: browser.version(),
      tabs: tabs.length,
      nodePeers: nodes.length,
      rounds,
      plannedRounds: ROUNDS,
      settleMs,
      samplingMs: Date.now() - started,
      deadlines: { discoverMs: DISCOVER_DEADLINE_MS, callMs: CALL_DEADLINE_MS, callAttemptMs: CALL_TIMEOUT_MS },
      pairs,
      hops,
      movedRelay: participants.filter((_, i) => !entered[i]).map((p) => p.name),
      places,
    };
    const body = renderFederationReport(run);
    console.log(body);
    const extra = process.argv.slice(2);
    writeSection(
      'Federation (browsers)',
      `npm run bench:federation-browser${extra.length ? ` -- ${extra.join(' ')}` : ''}`,
      body,
    );
  } finally {
    await browser?.close();
    for (const n of nodes) await n.close().catch(() => undefined);
    for (const r of relays) await r.close().catch(() => undefined);
    await pages.close();
  }
}

await main();
process.exit(0);
