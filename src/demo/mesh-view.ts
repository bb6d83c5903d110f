/**
 * The mesh as a picture: every node this tab knows, placed on a ring of the 256-bit id
 * space by its leading 32 bits (so all tabs draw the same node at the same angle), with a
 * curve for each data channel this tab has open and the routes of its lookups drawn over
 * them as they happen. A relay's own peer wears a square and a Node peer a dashed ring
 * around its dot (peer-roles.ts says which is which). Markers and curves are keyed by node id and updated in place, so
 * a refresh does not restart their animations and a newcomer visibly pops in.
 */
import { svg } from './dom.js';
import { idAngle, idColour, ringPoint, shortId } from './ids.js';
import { peerRoles, roleText, type PeerRole } from './peer-roles.js';
import type { Snapshot } from './snapshot.js';
import type { Trace } from './lookup-trace.js';

const SIZE = 440;
const C = SIZE / 2;
const R = 176;
/** Labels for more nodes than this would overlap into noise; hover still names them. */
const MAX_LABELS = 14;

type Point = { x: number; y: number };
const at = (id: string, r = R): Point => ringPoint(id, C, C, r);

/**
 * Writes that change nothing still cost a style recalculation (a text node replaced, an
 * attribute set again), and an idle tab redraws every few seconds: write only differences.
 */
function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}
function setAttr(el: Element, name: string, value: string): void {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

/** A chord bowed toward the centre: lines through the middle of the ring stay apart. */
function curve(a: Point, b: Point, bow = 0.45): string {
  const mx = (a.x + b.x) / 2;
  const my = (a.y + b.y) / 2;
  const cx = mx + (C - mx) * bow;
  const cy = my + (C - my) * bow;
  return `M${a.x.toFixed(1)},${a.y.toFixed(1)} Q${cx.toFixed(1)},${cy.toFixed(1)} ${b.x.toFixed(1)},${b.y.toFixed(1)}`;
}

export class MeshView {
  readonly root: SVGSVGElement;
  private readonly channels = svg('g', { class: 'channels' });
  private readonly lookups = svg('g', { class: 'lookups' });
  private readonly nodes = svg('g', { class: 'nodes' });
  private readonly centre = svg('text', { x: C, y: C - 6, class: 'centre-big', 'text-anchor': 'middle' });
  private readonly centreSub = svg('text', { x: C, y: C + 16, class: 'centre-sub', 'text-anchor': 'middle' });
  private readonly markers = new Map<string, SVGGElement>();
  private readonly lines = new Map<string, SVGPathElement>();
  private readonly tickLabels: Array<{ angle: number; el: SVGTextElement }> = [];

  constructor(
    host: HTMLElement,
    private readonly self: string,
  ) {
    this.root = svg('svg', {
      viewBox: `0 0 ${SIZE} ${SIZE}`,
      class: 'mesh-svg',
      role: 'img',
      'data-self': self,
      'aria-label': 'The mesh: known nodes on a ring of the id space, lines for open data channels',
    });
    this.root.append(
      svg('circle', { cx: C, cy: C, r: R, class: 'ring' }),
      this.ticks(),
      this.channels,
      this.lookups,
      this.nodes,
      this.centre,
      this.centreSub,
    );
    host.replaceChildren(this.root);
    this.place(self, 'self', undefined);
    this.centre.textContent = 'joining…';
  }

  /** Ring ticks every 1/16 of the id space, labelled with the leading hex digit pair. */
  private ticks(): SVGGElement {
    const g = svg('g', { class: 'ticks', 'aria-hidden': 'true' });
    for (let i = 0; i < 16; i++) {
      const id = (i * 16).toString(16).padStart(2, '0') + '000000';
      const a = at(id, R - 5);
      const b = at(id, i % 4 === 0 ? R + 9 : R + 5);
      g.append(svg('line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y }));
      if (i % 4 === 0) {
        const l = at(id, R + 24);
        const label = svg('text', { x: l.x, y: l.y + 4, 'text-anchor': 'middle' }, `${id.slice(0, 2)}…`);
        this.tickLabels.push({ angle: idAngle(id), el: label });
        g.append(label);
      }
    }
    return g;
  }

  /** Draw the nodes and channels of a snapshot. */
  update(s: Snapshot): void {
    const open = new Map(s.peers.map((p) => [p.nodeId, p.rttMs] as const));
    const known = new Map<string, { open: boolean; rttMs: number | undefined }>();
    for (const b of s.table)
      for (const c of b.contacts) known.set(c.nodeId, { open: c.open || open.has(c.nodeId), rttMs: c.rttMs });
    for (const [id, rtt] of open) known.set(id, { open: true, rttMs: rtt ?? known.get(id)?.rttMs });
    known.delete(this.self);

    for (const [id, el] of this.markers)
      if (id !== this.self && !known.has(id)) {
        el.remove();
        this.markers.delete(id);
      }
    for (const [id, el] of this.lines)
      if (!open.has(id)) {
        el.remove();
        this.lines.delete(id);
      }
    const labels = known.size <= MAX_LABELS;
    const roles = peerRoles(s);
    for (const [id, k] of known) {
      const role = roles.get(id);
      this.place(id, k.open ? 'open' : 'known', k.rttMs, labels, roleText(role).title);
      this.markRole(id, role);
    }
    for (const id of open.keys()) {
      if (this.lines.has(id)) continue;
      const line = svg('path', {
        d: curve(at(this.self), at(id)),
        class: 'channel',
        stroke: idColour(id),
        'data-channel': id,
      });
      this.lines.set(id, line);
      this.channels.append(line);
    }
    setText(this.centre, open.size === 0 ? 'joining…' : `${open.size} channel${open.size === 1 ? '' : 's'}`);
    setText(
      this.centreSub,
      open.size === 0 ? 'waiting for a first channel' : `${known.size} node${known.size === 1 ? '' : 's'} known`,
    );
    this.hideCrowdedTicks([this.self, ...known.keys()]);
    setAttr(this.root, 'data-open', String(open.size));
    setAttr(this.root, 'data-known', String(known.size));
  }

  /** A node label and a tick label share the outer rim: the tick gives way. */
  private hideCrowdedTicks(ids: string[]): void {
    const angles = ids.map(idAngle);
    for (const t of this.tickLabels) {
      const near = angles.some((a) => {
        const d = Math.abs(a - t.angle) % (2 * Math.PI);
        return Math.min(d, 2 * Math.PI - d) < 0.2;
      });
      const visibility = near ? 'hidden' : '';
      if (t.el.style.visibility !== visibility) t.el.style.visibility = visibility;
    }
  }

  /** The role's outline around the dot: a square for a relay's peer, a dashed ring for a Node peer. */
  private markRole(id: string, role: PeerRole | undefined): void {
    const g = this.markers.get(id);
    if (g === undefined) return;
    const name = role?.role ?? '';
    const outline = g.querySelector('.role');
    if ((outline?.getAttribute('data-outline') ?? '') !== name) {
      outline?.remove();
      if (role?.role === 'relay')
        g.prepend(
          svg('rect', { x: -12, y: -12, width: 24, height: 24, rx: 4, class: 'role role-relay', 'data-outline': name }),
        );
      else if (role?.role === 'node')
        g.prepend(svg('circle', { r: 12, class: 'role role-node', 'data-outline': name }));
    }
    if (name === '') g.removeAttribute('data-role');
    else setAttr(g, 'data-role', name);
  }

  private place(
    id: string,
    kind: 'self' | 'open' | 'known',
    rttMs: number | undefined,
    label = true,
    roleTitle = '',
  ): void {
    let g = this.markers.get(id);
    if (g === undefined) {
      g = svg('g', { class: 'marker pop', 'data-peer': id });
      const p = at(id);
      g.setAttribute('transform', `translate(${p.x.toFixed(1)},${p.y.toFixed(1)})`);
      if (kind === 'self') g.append(svg('circle', { r: 17, class: 'halo' }));
      g.append(svg('circle', { r: 1, class: 'dot', fill: idColour(id), stroke: idColour(id) }), svg('title'));
      const l = at(id, R + 24);
      g.append(
        svg('text', {
          x: (l.x - p.x).toFixed(1),
          y: (l.y - p.y + 4).toFixed(1),
          'text-anchor': 'middle',
          class: 'label',
        }),
      );
      this.markers.set(id, g);
      this.nodes.append(g);
    }
    setAttr(g, 'data-kind', kind);
    const dot = g.querySelector('circle.dot');
    if (dot) setAttr(dot, 'r', kind === 'self' ? '11' : kind === 'open' ? '8' : '5.5');
    const what = kind === 'self' ? 'this tab' : kind === 'open' ? 'open data channel' : 'known contact, no channel';
    const title = g.querySelector('title');
    const rtt = rttMs !== undefined ? ` · RTT ${rttMs.toFixed(1)} ms` : '';
    if (title) setText(title, `${id}\n${what}${rtt}${roleTitle === '' ? '' : `\n${roleTitle}`}`);
    const text = g.querySelector('text.label');
    if (text) setText(text, kind === 'self' ? 'you' : label ? shortId(id).slice(0, 6) : '');
  }

  /**
   * The name of a key (a service or topic this tab used), inside the ring and clear of the
   * hop badges; left out where it would run into the counts in the centre.
   */
  private keyCaption(target: string, key: Point, name: string): SVGTextElement | null {
    const text = name.length > 18 ? `${name.slice(0, 17)}…` : name;
    const p = at(target, R - 54);
    const anchor = p.x < C - 20 ? 'start' : p.x > C + 20 ? 'end' : 'middle';
    const width = text.length * 6.4;
    const left = anchor === 'start' ? p.x : anchor === 'end' ? p.x - width : p.x - width / 2;
    const hitsCentre = Math.abs(p.y - C) < 34 && left < C + 80 && left + width > C - 80;
    if (hitsCentre) return null;
    return svg(
      'text',
      { class: 'key-label', x: (p.x - key.x).toFixed(1), y: (p.y - key.y + 4).toFixed(1), 'text-anchor': anchor },
      text,
    );
  }

  /** Redraw the lookup layer: routes answered so far, first hops still waiting, the key. */
  showLookups(traces: Trace[], names: { label(key: string): string; name(key: string): string | undefined }): void {
    const layer: SVGElement[] = [];
    const onRoute = new Map<string, number>();
    const me = at(this.self);
    for (const t of traces) {
      const state = t.done === undefined ? 'running' : 'done';
      const key = at(t.target, R);
      const name = names.name(t.target);
      layer.push(
        svg(
          'g',
          {
            class: `lookup-key ${state}`,
            'data-lookup-target': t.target,
            transform: `translate(${key.x.toFixed(1)},${key.y.toFixed(1)})`,
          },
          svg('rect', { x: -6, y: -6, width: 12, height: 12, transform: 'rotate(45)' }),
          name === undefined ? null : this.keyCaption(t.target, key, name),
          svg('title', {}, `lookup of ${names.label(t.target)}\n${t.target}`),
        ),
      );
      for (const via of t.pending)
        layer.push(svg('path', { d: curve(me, at(via)), class: 'lookup-pending', 'data-lookup-via': via }));
      for (const via of t.failed) layer.push(svg('path', { d: curve(me, at(via)), class: 'lookup-failed' }));
      for (const r of t.routes) {
        // The same bow as the channel curves, so a first hop lies exactly on its channel.
        const d = r.nodes
          .slice(1)
          .map((id, i) => curve(at(r.nodes[i] ?? this.self), at(id)))
          .join(' ');
        layer.push(svg('path', { d, class: `lookup-route ${state}`, 'data-hops': r.hops }));
        r.nodes.forEach((id, i) => {
          if (i > 0) onRoute.set(id, Math.max(onRoute.get(id) ?? 0, i));
        });
      }
    }
    // Each node a route passed gets a badge with its hop number; unknown ones get a ghost dot.
    for (const [id, hop] of onRoute) {
      const p = at(id);
      const g = svg('g', {
        class: 'hop',
        'data-hop': hop,
        transform: `translate(${p.x.toFixed(1)},${p.y.toFixed(1)})`,
      });
      if (!this.markers.has(id))
        g.append(svg('circle', { r: 5, class: 'ghost' }, svg('title', {}, `${id}\non a lookup route`)));
      // The badge sits just inside the ring, where it cannot cover the node's label outside.
      const b = at(id, R - 19);
      const bx = (b.x - p.x).toFixed(1);
      const by = (b.y - p.y).toFixed(1);
      g.append(
        svg('circle', { r: 7.5, cx: bx, cy: by, class: 'hop-badge' }),
        svg('text', { x: bx, y: (b.y - p.y + 3.5).toFixed(1), 'text-anchor': 'middle', class: 'hop-num' }, String(hop)),
      );
      layer.push(g);
    }
    this.lookups.replaceChildren(...layer);
    const hi = new Set(onRoute.keys());
    for (const [id, g] of this.markers) g.classList.toggle('on-route', hi.has(id));
  }
}
