/**
 * Counters from stats(): headline tiles, messages in and out by wire type, and the hop
 * counts of this tab's lookups. stats() counts lookups but not their hops, so the hop
 * histogram is built here from the 'done' progress events this tab receives.
 */
import { byId, h } from './dom.js';
import type { Snapshot } from './snapshot.js';

interface Tile {
  id: string;
  label: string;
  value: (s: Record<string, number>) => string;
  hint: string;
  /** Moves with every ping of an idle mesh: no highlight, which would then never stop animating. */
  steady?: true;
}

const n = (s: Record<string, number>, k: string): number => s[k] ?? 0;

const TILES: Tile[] = [
  {
    id: 'msg-in',
    label: 'Messages in',
    value: (s) => String(n(s, 'messages.in')),
    hint: 'frames received on data channels',
    steady: true,
  },
  {
    id: 'msg-out',
    label: 'Messages out',
    value: (s) => String(n(s, 'messages.out')),
    hint: 'frames sent on data channels',
    steady: true,
  },
  {
    id: 'records',
    label: 'Records stored',
    value: (s) => String(n(s, 'records.stored')),
    hint: 'signed records this node holds for the DHT',
  },
  {
    id: 'cache',
    label: 'Cache hits / misses',
    value: (s) => `${n(s, 'discovery.cacheHits')} / ${n(s, 'discovery.cacheMisses')}`,
    hint: 'discovery answered from the 60 s cache, or by a lookup',
  },
  {
    id: 'lookups',
    label: 'Lookups',
    value: (s) => String(n(s, 'lookups.value') + n(s, 'lookups.node')),
    hint: 'value lookups (discover) plus node lookups (stores, refreshes)',
  },
  {
    id: 'channels',
    label: 'Channels open / created',
    value: (s) => `${n(s, 'connections.open')} / ${n(s, 'connections.created')}`,
    hint: 'a tab may create at most ~500 in its lifetime',
  },
  {
    id: 'routes',
    label: 'Direct / via TURN',
    value: (s) => `${n(s, 'connections.direct')} / ${n(s, 'connections.relayed')}`,
    hint: 'open channels by their selected ICE candidate pair: peer to peer, or through a TURN relay (?ice=relay forces TURN)',
  },
  {
    id: 'failed',
    label: 'Failed connections',
    value: (s) => String(n(s, 'connections.failed')),
    hint: 'connections that never opened (ICE failed or timed out); the reasons are in the raw counters',
  },
  {
    id: 'rpc',
    label: 'Calls made / served',
    value: (s) => `${n(s, 'rpc.calls')} / ${n(s, 'rpc.served')}`,
    hint: 'service calls sent from and answered by this tab',
  },
  {
    id: 'pubsub',
    label: 'Published / received',
    value: (s) => `${n(s, 'pubsub.published')} / ${n(s, 'pubsub.received')}`,
    hint: 'pub/sub messages',
  },
];

/** Hop counts above this share the last bar. */
const MAX_HOP_BAR = 6;

interface BarCell {
  td: HTMLElement;
  bar: HTMLElement;
  num: HTMLElement;
}
interface TypeRow {
  tr: HTMLElement;
  in: BarCell;
  out: BarCell;
}
const EMPTY = '(none)';

/** Write a bar's width and number only when they differ from what is shown. */
function setBar(cell: BarCell, value: number, max: number): void {
  const width = `${((value / max) * 100).toFixed(1)}%`;
  if (cell.bar.style.width !== width) cell.bar.style.width = width;
  const text = String(value);
  if (cell.num.textContent !== text) cell.num.textContent = text;
}

export class Counters {
  private readonly tiles = new Map<string, HTMLElement>();
  private readonly types = byId('msg-types');
  private readonly raw = byId('raw-stats');
  private readonly rawOpen = byId<HTMLDetailsElement>('raw-details');
  private stats: Record<string, number> = {};
  private readonly histogram = byId('hop-histogram');
  private readonly hopSummary = byId('hop-summary');
  private readonly typeRows = new Map<string, TypeRow>();
  private typeOrder = '';
  private readonly hops: number[] = new Array<number>(MAX_HOP_BAR + 1).fill(0);
  private lookupsDone = 0;
  private hopsTotal = 0;

  constructor() {
    byId('tiles').replaceChildren(
      ...TILES.map((t) => {
        const value = h('span', { class: 'tile-value', id: `tile-${t.id}` }, '0');
        this.tiles.set(t.id, value);
        return h('div', { class: 'tile', title: t.hint }, value, h('span', { class: 'tile-label' }, t.label));
      }),
    );
    this.drawHistogram();
    this.rawOpen.addEventListener('toggle', () => {
      if (this.rawOpen.open) this.drawRaw();
    });
  }

  update(s: Snapshot): void {
    for (const t of TILES) {
      const el = this.tiles.get(t.id);
      const v = t.value(s.stats);
      if (el === undefined || el.textContent === v) continue;
      el.textContent = v;
      // A brief highlight so a changing counter catches the eye (Web Animations: no forced layout).
      if (t.steady !== true) el.animate([{ color: 'var(--accent)' }, {}], { duration: 900, easing: 'ease-out' });
    }
    this.drawTypes(s.stats);
    this.stats = s.stats;
    if (this.rawOpen.open) this.drawRaw();
  }

  /** The full list is long: drawn only while its <details> is open. */
  private drawRaw(): void {
    const s = this.stats;
    this.raw.replaceChildren(
      ...Object.keys(s)
        .sort()
        .map((k) => h('div', {}, h('dt', {}, k), h('dd', {}, String(s[k])))),
    );
  }

  /** A lookup of this tab finished; `answered` 0 means no path answered (not counted as hops). */
  lookupDone(hops: number, answered: number): void {
    if (answered === 0) return;
    this.lookupsDone++;
    this.hopsTotal += hops;
    const i = Math.min(hops, MAX_HOP_BAR);
    this.hops[i] = (this.hops[i] ?? 0) + 1;
    this.drawHistogram();
  }

  /**
   * Idle peers still ping, so the in/out counts move on every refresh: the rows are kept and
   * only the numbers and bars that changed are written, and the rows are re-placed only when
   * their order changes (rebuilding the table each time cost a style recalculation per row).
   */
  private drawTypes(stats: Record<string, number>): void {
    const types = new Map<string, { in: number; out: number }>();
    for (const [k, v] of Object.entries(stats)) {
      const m = /^messages\.(in|out)\.([A-Z_]+)$/.exec(k);
      if (m === null || m[1] === undefined || m[2] === undefined) continue;
      const row = types.get(m[2]) ?? { in: 0, out: 0 };
      row[m[1] as 'in' | 'out'] = v;
      types.set(m[2], row);
    }
    // stats() lists every type from the start: only those seen on the wire get a row.
    const rows = [...types.entries()]
      .filter(([, r]) => r.in + r.out > 0)
      .sort((a, b) => b[1].in + b[1].out - (a[1].in + a[1].out));
    if (rows.length === 0) {
      if (this.typeOrder !== EMPTY)
        this.types.replaceChildren(h('tr', {}, h('td', { colspan: 3, class: 'empty' }, 'No messages yet.')));
      this.typeOrder = EMPTY;
      return;
    }
    const max = Math.max(1, ...rows.map(([, r]) => Math.max(r.in, r.out)));
    for (const [type, r] of rows) {
      const row = this.typeRows.get(type) ?? this.typeRow(type);
      setBar(row.in, r.in, max);
      setBar(row.out, r.out, max);
    }
    const order = rows.map(([type]) => type).join(' ');
    if (order === this.typeOrder) return;
    this.typeOrder = order;
    this.types.replaceChildren(...rows.map(([type]) => this.typeRows.get(type)!.tr));
  }

  private typeRow(type: string): TypeRow {
    const cell = (cls: string): BarCell => {
      const bar = h('span', { class: `bar ${cls}` });
      const num = h('span', { class: 'bar-num' });
      return { td: h('td', { class: 'num' }, bar, num), bar, num };
    };
    const inCell = cell('bar-in');
    const outCell = cell('bar-out');
    const tr = h('tr', { 'data-type': type }, h('th', { scope: 'row' }, h('code', {}, type)), inCell.td, outCell.td);
    const row = { tr, in: inCell, out: outCell };
    this.typeRows.set(type, row);
    return row;
  }

  private drawHistogram(): void {
    const max = Math.max(1, ...this.hops);
    this.histogram.replaceChildren(
      ...this.hops.map((count, hop) =>
        h(
          'div',
          {
            class: 'hist-col',
            title: `${count} lookup${count === 1 ? '' : 's'} answered in ${hop}${hop === MAX_HOP_BAR ? '+' : ''} hop${hop === 1 ? '' : 's'}`,
          },
          h('span', { class: 'hist-count' }, count > 0 ? String(count) : ''),
          h('span', { class: 'hist-bar', style: `height:${((count / max) * 100).toFixed(1)}%` }),
          h('span', { class: 'hist-label' }, `${hop}${hop === MAX_HOP_BAR ? '+' : ''}`),
        ),
      ),
    );
    this.hopSummary.textContent =
      this.lookupsDone === 0
        ? 'No answered lookups yet.'
        : `${this.lookupsDone} answered lookup${this.lookupsDone === 1 ? '' : 's'} · ${(this.hopsTotal / this.lookupsDone).toFixed(2)} hops on average (fastest path)`;
  }
}
