/**
 * `npm run bench:connect`: how long a connection takes to set up directly and through TURN,
 * and how long a failing one holds its neighbour slot, in headless Chromium on this host.
 *
 *   npm run bench:connect -- [--rounds=20]
 *
 * Each round opens two fresh tabs against `npm start`'s server (with --turn and coturn on
 * loopback) and times the dialling tab's RTCPeerConnection from its creation to its data
 * channel's open: signaling through the relay, ICE gathering and checks, DTLS, SCTP. Direct
 * rounds use every candidate (on one host the pair is host/host); TURN rounds force
 * `?ice=relay`. Rounds alternate, so both see the same machine load. Then two relay-only
 * tabs with a wrong TURN secret fail for a while, and the time from each failed connection's
 * creation to its close is the time it held its slot.
 */
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, findBrowser } from '../scripts/find-browser.js';
import { pcTimes, trackerScript, type PcTimes } from '../e2e/net/pc-tracker.js';
import { startCoturn, startServe, until, type Service } from '../e2e/net/services.js';
import { percentile, table, writeSection } from './report.js';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const ROUNDS = Number(arg('rounds') ?? 20);
const PORT = 8843;
const FAIL_PORT = 8844;
const SECRET = 'bench-secret';
const FAILURES_PER_TAB = 3;

const services: Service[] = [];
let browser: Browser | undefined;

async function tab(origin: string, query: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser!.newContext();
  await context.addInitScript({ content: trackerScript });
  const page = await context.newPage();
  await page.goto(`${origin}/?storage=memory${query}`);
  await page.waitForFunction(() => window.peer !== undefined, undefined, { timeout: 30_000 });
  return { context, page };
}

const stat = (page: Page, name: string): Promise<number> =>
  page.evaluate(async (n) => (await window.peer!.stats())[n] ?? 0, name);

/** One round: two tabs until their channel opens; the dialling side's set-up time and its route. */
async function round(origin: string, relayOnly: boolean): Promise<{ ms: number; relayed: boolean }> {
  const tabs = [await tab(origin, relayOnly ? '&ice=relay' : ''), await tab(origin, relayOnly ? '&ice=relay' : '')];
  try {
    for (const t of tabs) await until('a channel', async () => (await stat(t.page, 'connections.open')) === 1, 60_000);
    const all = (await Promise.all(tabs.map((t) => pcTimes((fn) => t.page.evaluate(fn))))).flat();
    const dial = all.find((p: PcTimes) => p.initiator && p.opened !== null);
    if (dial === undefined) throw new Error('no dialling connection opened');
    // Which way the channel went, as the library's counters read it.
    await until(
      'the route',
      async () =>
        (await stat(tabs[0]!.page, 'connections.direct')) + (await stat(tabs[0]!.page, 'connections.relayed')) === 1,
      10_000,
    );
    return { ms: dial.opened! - dial.created, relayed: (await stat(tabs[0]!.page, 'connections.relayed')) === 1 };
  } finally {
    await closeTabs(tabs);
  }
}

/**
 * Close the peers before their pages: their RTCPeerConnections close and give their TURN
 * allocations back (the relay-port range is small); a closed context would leave them to
 * expire on the server after 10 minutes.
 */
async function closeTabs(tabs: Array<{ context: BrowserContext; page: Page }>): Promise<void> {
  await Promise.all(tabs.map((t) => t.page.evaluate(() => window.peer?.close()).catch(() => undefined)));
  await new Promise((r) => setTimeout(r, 500));
  for (const t of tabs) await t.context.close();
}

async function main(): Promise<void> {
  browser = await chromium.launch({ executablePath: await findBrowser(), args: CHROMIUM_ARGS });
  const turn = await startCoturn({
    listenIp: '127.0.0.1',
    port: 3478,
    minPort: 3480,
    maxPort: 3490,
    secret: SECRET,
    allowLoopbackPeers: true,
  });
  services.push(turn);
  const serve = await startServe({
    port: PORT,
    host: '127.0.0.1',
    args: ['--turn', turn.url],
    env: { TURN_SECRET: SECRET },
  });
  services.push(serve);

  const direct: number[] = [];
  const relayed: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    for (const relayOnly of [false, true]) {
      const r = await round(serve.origin, relayOnly);
      if (r.relayed !== relayOnly)
        throw new Error(
          `a ${relayOnly ? 'relay-only' : 'direct'} round went ${r.relayed ? 'through TURN' : 'directly'}`,
        );
      (relayOnly ? relayed : direct).push(r.ms);
    }
    console.log(
      `round ${i + 1}/${ROUNDS}: direct ${direct.at(-1)!.toFixed(0)} ms, TURN ${relayed.at(-1)!.toFixed(0)} ms`,
    );
  }

  // Failing connections: TURN refuses the relay's credentials, so relay-only tabs get no candidate.
  const failing = await startServe({
    port: FAIL_PORT,
    host: '127.0.0.1',
    args: ['--turn', turn.url],
    env: { TURN_SECRET: 'wrong' },
  });
  services.push(failing);
  const tabs = [await tab(failing.origin, '&ice=relay'), await tab(failing.origin, '&ice=relay')];
  const started = Date.now();
  for (const t of tabs)
    await until('failures', async () => (await stat(t.page, 'connections.failed')) >= FAILURES_PER_TAB, 300_000);
  const failingFor = (Date.now() - started) / 1000;
  const times = (await Promise.all(tabs.map((t) => pcTimes((fn) => t.page.evaluate(fn))))).flat();
  const held = times.filter((p) => p.opened === null && p.closed !== null).map((p) => p.closed! - p.created);
  const created = await Promise.all(tabs.map((t) => stat(t.page, 'connections.created')));
  const failed = await Promise.all(tabs.map((t) => stat(t.page, 'connections.failed')));
  await closeTabs(tabs);

  const row = (name: string, v: number[]): Array<string | number> => [
    name,
    v.length,
    Math.round(percentile(v, 50)),
    Math.round(percentile(v, 95)),
    Math.round(Math.max(...v)),
  ];
  const body = [
    `Two fresh tabs per round on one host, ${ROUNDS} rounds of each kind, alternating; coturn ${/Coturn-([\d.]+)/.exec(turn.output())?.[1] ?? ''} on loopback with TURN REST credentials from the relay. Time from the dialling tab's RTCPeerConnection to its data channel's open (signaling through the relay, ICE, DTLS, SCTP).`,
    '',
    table(
      ['Route', 'Connections', 'p50 ms', 'p95 ms', 'max ms'],
      [row('direct (host/host)', direct), row('through TURN (?ice=relay)', relayed)],
    ),
    '',
    `Failing connections (relay-only tabs, wrong TURN secret: no candidate at all), ${failingFor.toFixed(0)} s, two tabs: ${failed.join(' + ')} failures counted, ${created.join(' + ')} connections created; each held its slot from creation to close:`,
    '',
    table(
      ['Failed connections', 'p50 ms', 'p95 ms', 'max ms'],
      [
        [
          held.length,
          Math.round(percentile(held, 50)),
          Math.round(percentile(held, 95)),
          Math.round(Math.max(...held)),
        ],
      ],
    ),
  ].join('\n');
  console.log(body);
  writeSection('Connection set-up', `npm run bench:connect -- --rounds=${ROUNDS}`, body);
}

try {
  await main();
} finally {
  await browser?.close();
  for (const s of services.reverse()) await s.stop();
}
