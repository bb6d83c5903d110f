/**
 * Turns the figures of `npm run bench:browser` into the BENCHMARKS.md section: every product
 * figure beside the floor measured in the same run, its ratio, its target and whether it met it.
 */
import { mean, percentile, table } from './report.js';

export interface RunFigures {
  peers: number;
  /** Per tab after the first, ms since its navigation started. */
  joins: Array<{ readyMs: number; firstChannelMs: number; firstContactMs: number; phases: Record<string, number> }>;
  floors: {
    /** setRemoteDescription(answer) → the bare channel open, one sample. */
    setupMs: number;
    channelRtt: number[];
    /** One page's message to 1, 3 and 5 tabs at once until all echoed it, by width (no library). */
    fanOut: Record<number, number[]>;
    postMessage: number[];
    comlink: number[];
    /** The product's worker boundary: peer.listLocalServices(). */
    productApi: number[];
  };
  cold: number[];
  cached: number[];
  call: number[];
  hops: number[];
  messagesPerLookup: number;
  connectionsPerDiscovery: number;
  connectionsPerCall: number;
  /**
   * Of the connections created while discoveries or calls ran, those the neighbour policy's
   * timed top-up of route-shortening extras opened (at most one per tab per 5 minutes).
   */
  optionalTopUps: { discovery: number; calls: number };
  publish: { subscribers: number; receipt: number[]; acked: number[]; rounds: number; incomplete: number };
}

export interface SoakFigures {
  minutes: number;
  tabs: number;
  lookups: number;
  failed: number;
  /** PeerConnections each tab created during the soak. */
  perTab: number[];
  latencies: number[];
}

/** createPeer's User Timing marks, in the order a tab passes them (plus the page script's own start). */
const JOIN_PHASES = [
  'script-start',
  'worker-start',
  'identity',
  'relay-connect',
  'worker-ready',
  'relay-welcome',
  'first-dial',
  'first-signal-out',
  'first-signal-in',
  'first-channel',
];
/**
 * The steps a join waits on one after the other (the worker starts beside them), timed within
 * each tab: the p50 of each step's own duration, which a page-load figure of each mark (from
 * different tabs) cannot give.
 */
const JOIN_STEPS: Array<[string, string, string]> = [
  ['script-start', 'identity', 'the tab identity (sessionStorage, Ed25519 public key, Web Lock)'],
  ['identity', 'relay-connect', 'the relay link made (its socket opened at worker-start)'],
  ['relay-connect', 'relay-welcome', 'the challenge signed, hello, welcome'],
  ['relay-welcome', 'first-dial', 'first introduced peer dialled'],
  ['first-dial', 'first-signal-out', 'offer made and signed, sent to the relay'],
  ['first-signal-out', 'first-signal-in', "the other tab's first signal back, checked"],
  ['first-signal-in', 'first-channel', 'ICE, DTLS, SCTP: the channel open'],
];
/** A join's welcome → first open channel may take this many bare set-ups, plus this much (issue #20). */
const WELCOME_TO_CHANNEL = { times: 3, plusMs: 20 };

/** Page load → first open channel at 8 peers, p50 (issue #20). */
const JOIN_TARGET_MS = 300;

/** Each join's time from mark `from` to mark `to`, for the joins that have both. */
function steps(f: RunFigures, from: string, to: string): number[] {
  const out: number[] = [];
  for (const j of f.joins) {
    const a = j.phases[from];
    const b = j.phases[to];
    if (a !== undefined && b !== undefined) out.push(b - a);
  }
  return out;
}

const p50 = (xs: number[]): number => percentile(xs, 50);
const p95 = (xs: number[]): number => percentile(xs, 95);
const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const ratio = (v: number, floor: number): string => `${(v / floor).toFixed(1)}×`;
const verdict = (ok: boolean): string => (ok ? 'met' : '**missed**');

/** A figure beside the fan-out floor of the same width, when the run measured one. */
function fanRow(name: string, xs: number[], floor: number[] | undefined): Array<Array<string | number>> {
  if (floor === undefined || floor.length === 0) return [];
  return [[name, ms(p50(xs)), '', 'fan-out', ratio(p50(xs), p50(floor)), '', '']];
}

function runTable(f: RunFigures): string {
  const raw = p50(f.floors.channelRtt);
  const hops = Math.max(1, mean(f.hops));
  const coldTarget = 3 * hops * raw + 5;
  const callTarget = 2 * raw + 2;
  const join = f.joins.map((j) => j.firstChannelMs);
  const contact = f.joins.map((j) => j.firstContactMs);
  const comlinkRatio = p50(f.floors.comlink) / p50(f.floors.postMessage);
  const rows: Array<Array<string | number>> = [
    ['raw data-channel round trip (floor)', ms(raw), ms(p95(f.floors.channelRtt)), '', '1.0×', '', ''],
    ...Object.entries(f.floors.fanOut).map(([width, xs]) => [
      `raw round trip to ${width} tab${width === '1' ? '' : 's'} at once, all echoed (fan-out floor)`,
      ms(p50(xs)),
      ms(p95(xs)),
      'raw',
      ratio(p50(xs), raw),
      '',
      '',
    ]),
    [
      'raw postMessage round trip to a worker (floor)',
      ms(p50(f.floors.postMessage)),
      ms(p95(f.floors.postMessage)),
      '',
      '',
      '',
      '',
    ],
    [
      'empty Comlink round trip',
      ms(p50(f.floors.comlink)),
      ms(p95(f.floors.comlink)),
      'postMessage',
      `${comlinkRatio.toFixed(1)}×`,
      '≤ 2× postMessage',
      verdict(comlinkRatio <= 2),
    ],
    [
      'product API round trip (listLocalServices)',
      ms(p50(f.floors.productApi)),
      ms(p95(f.floors.productApi)),
      'postMessage',
      ratio(p50(f.floors.productApi), p50(f.floors.postMessage)),
      '',
      '',
    ],
    [
      'join: page load → peer ready (relay welcome)',
      ms(p50(f.joins.map((j) => j.readyMs))),
      ms(p95(f.joins.map((j) => j.readyMs))),
      '',
      '',
      '',
      '',
    ],
    [
      'join: page load → first open channel',
      ms(p50(join)),
      ms(p95(join)),
      `bare set-up ${ms(f.floors.setupMs)}`,
      '',
      `≤ ${JOIN_TARGET_MS} ms`,
      f.peers === 8 ? verdict(p50(join) <= JOIN_TARGET_MS) : '(target at 8 peers)',
    ],
    ['join: page load → a routing-table contact', ms(p50(contact)), ms(p95(contact)), '', '', '', ''],
    ...JOIN_PHASES.map((phase) => {
      const at = f.joins.map((j) => j.phases[phase]).filter((v): v is number => v !== undefined);
      return [`  … of which page load → ${phase}`, ms(p50(at)), ms(p95(at)), '', '', '', ''];
    }),
    ...JOIN_STEPS.map(([from, to, what]) => {
      const d = steps(f, from, to);
      return [`  step ${from} → ${to} (${what})`, ms(p50(d)), ms(p95(d)), '', '', '', ''];
    }),
    (() => {
      const d = steps(f, 'relay-welcome', 'first-channel');
      const target = WELCOME_TO_CHANNEL.times * f.floors.setupMs + WELCOME_TO_CHANNEL.plusMs;
      return [
        'join: relay welcome → first open channel (within each tab)',
        ms(p50(d)),
        ms(p95(d)),
        `bare set-up ${ms(f.floors.setupMs)}`,
        ratio(p50(d), f.floors.setupMs),
        `≤ ${ms(target)} ms`,
        f.peers === 8 ? verdict(p50(d) <= target) : '(target at 8 peers)',
      ];
    })(),
    [
      'cold discovery (forceRefresh)',
      ms(p50(f.cold)),
      ms(p95(f.cold)),
      `${hops.toFixed(2)} hops × raw`,
      ratio(p50(f.cold), hops * raw),
      `≤ ${ms(coldTarget)} ms`,
      verdict(p50(f.cold) <= coldTarget),
    ],
    ...fanRow('  … against a message to 3 tabs at once (its first round asks 3)', f.cold, f.floors.fanOut[3]),
    [
      'cached discovery',
      ms(p50(f.cached)),
      ms(p95(f.cached)),
      'Comlink',
      ratio(p50(f.cached), p50(f.floors.comlink)),
      '≤ 1 ms',
      verdict(p50(f.cached) <= 1),
    ],
    [
      'call round trip',
      ms(p50(f.call)),
      ms(p95(f.call)),
      'raw',
      ratio(p50(f.call), raw),
      `≤ ${ms(callTarget)} ms`,
      verdict(p50(f.call) <= callTarget),
    ],
    [
      `publish → receipt, each of ${f.publish.subscribers} subscribers`,
      ms(p50(f.publish.receipt)),
      ms(p95(f.publish.receipt)),
      'raw',
      ratio(p50(f.publish.receipt), raw),
      '',
      '',
    ],
    [
      `publish → all ${f.publish.subscribers} acknowledged`,
      ms(p50(f.publish.acked)),
      ms(p95(f.publish.acked)),
      'raw',
      ratio(p50(f.publish.acked), raw),
      '',
      '',
    ],
    ...fanRow(
      `  … against a message to ${f.publish.subscribers} tabs at once`,
      f.publish.acked,
      f.floors.fanOut[f.publish.subscribers],
    ),
  ];
  const counts = table(
    ['per operation', 'value', 'target', ''],
    [
      [
        'lookup hops (mean / p50 / max)',
        `${mean(f.hops).toFixed(2)} / ${p50(f.hops)} / ${Math.max(...f.hops)}`,
        '',
        '',
      ],
      ['frames received by all tabs per cold discovery', f.messagesPerLookup.toFixed(1), '', ''],
      [
        'PeerConnections created per discovery (all tabs, while discoveries ran)',
        f.connectionsPerDiscovery.toFixed(3),
        '0',
        verdict(f.connectionsPerDiscovery === 0),
      ],
      [
        "  … of which optional neighbours topped up on the policy's timer (count)",
        String(f.optionalTopUps.discovery),
        '',
        '',
      ],
      [
        'PeerConnections created per call (all tabs, while calls ran)',
        f.connectionsPerCall.toFixed(3),
        '0',
        verdict(f.connectionsPerCall === 0),
      ],
      [
        "  … of which optional neighbours topped up on the policy's timer (count)",
        String(f.optionalTopUps.calls),
        '',
        '',
      ],
      [
        `publishes that reached fewer than ${f.publish.subscribers} subscribers`,
        `${f.publish.incomplete} of ${f.publish.rounds}`,
        '0',
        verdict(f.publish.incomplete === 0),
      ],
    ],
  );
  return [
    `### ${f.peers} peers`,
    '',
    `${f.cold.length} cold and ${f.cached.length} cached discoveries, ${f.call.length} calls (from every tab but the provider), ` +
      `${f.publish.rounds} publishes; ${f.floors.channelRtt.length} raw channel pings, ${f.floors.comlink.length} worker round trips each way. Times in ms.`,
    '',
    table(['figure', 'p50', 'p95', 'floor', 'ratio to floor', 'target', ''], rows),
    '',
    counts,
  ].join('\n');
}

function soakTable(s: SoakFigures): string {
  const worst = Math.max(...s.perTab);
  return [
    `### Soak: ${s.minutes} min, one forced discovery per second among ${s.tabs} tabs`,
    '',
    table(
      ['figure', 'value', 'target', ''],
      [
        ['lookups answered / failed', `${s.lookups} / ${s.failed}`, '', ''],
        ['discovery p50 / p95 (ms)', `${ms(p50(s.latencies))} / ${ms(p95(s.latencies))}`, '', ''],
        [
          'PeerConnections created per tab: max / mean',
          `${worst} / ${mean(s.perTab).toFixed(1)}`,
          '≤ 20',
          verdict(worst <= 20),
        ],
      ],
    ),
  ].join('\n');
}

export function renderReport(browserVersion: string, runs: RunFigures[], soak: SoakFigures | undefined): string {
  return [
    `Headless Chromium ${browserVersion}, every peer in its own browser context, loopback, the relay of \`npm start\` in a process of its own. ` +
      'Floors are measured between the same pages in the same run: a bare RTCDataChannel (64-byte ping) between two of the tabs, ' +
      'and a dedicated worker answering a MessagePort echo and an empty Comlink method.',
    '',
    ...runs.map(runTable).flatMap((t) => [t, '']),
    soak ? soakTable(soak) : '_Soak not run (`--soak-minutes=0`)._',
  ].join('\n');
}
