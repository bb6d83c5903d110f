/**
 * The routing table as text: each non-empty k-bucket with its contacts, whether this tab
 * has a data channel open to them, when they were last heard from and their round-trip
 * time; a relay's own peer is marked as such, with its relay's URL, and a Node peer as a
 * node (peer-roles.ts). Bucket i holds the nodes whose id shares exactly i leading bits with ours, so low
 * buckets cover the far half of the id space and high ones our close neighbourhood.
 *
 * Rows and bucket sections are kept by node id and bucket number and only the cells whose
 * text changed are written: an idle tab refreshes this every few seconds, and rebuilding
 * the whole table each time restyled all of it although only the ages had moved.
 */
import { byId, h, nodeChip } from './dom.js';
import { ago } from './ids.js';
import { peerRoles, roleText } from './peer-roles.js';
import type { Snapshot } from './snapshot.js';

interface Row {
  tr: HTMLElement;
  role: HTMLElement;
  state: HTMLElement;
  seen: HTMLElement;
  rtt: HTMLElement;
}

interface Section {
  root: HTMLElement;
  count: HTMLElement;
  tbody: HTMLElement;
  order: string;
}

const setText = (el: HTMLElement, text: string): void => {
  if (el.textContent !== text) el.textContent = text;
};

export class RoutingView {
  private readonly host = byId('routing');
  private readonly summary = byId('routing-summary');
  private readonly rows = new Map<string, Row>();
  private readonly sections = new Map<number, Section>();
  private order = '';

  update(s: Snapshot): void {
    const contacts = s.table.reduce((n, b) => n + b.contacts.length, 0);
    const open = s.table.reduce((n, b) => n + b.contacts.filter((c) => c.open).length, 0);
    setText(
      this.summary,
      `${contacts} contact${contacts === 1 ? '' : 's'} in ${s.table.length} bucket${s.table.length === 1 ? '' : 's'} · ${open} with an open channel`,
    );
    if (s.table.length === 0) {
      if (this.order !== 'empty') {
        this.host.replaceChildren(
          h('p', { class: 'empty' }, 'No contacts yet: the table fills as this tab meets other peers.'),
        );
      }
      this.order = 'empty';
      return;
    }
    const roles = peerRoles(s);
    const seen = new Set<string>();
    // Highest bucket first: the closest neighbourhood is the interesting part of a small mesh.
    const buckets = [...s.table].sort((a, b) => b.bucket - a.bucket);
    for (const b of buckets) {
      const section = this.sections.get(b.bucket) ?? this.section(b.bucket);
      setText(section.count, countText(b.bucket, b.contacts.length));
      const sorted = [...b.contacts].sort((x, y) => y.lastSeen - x.lastSeen);
      for (const c of sorted) {
        seen.add(c.nodeId);
        const row = this.rows.get(c.nodeId) ?? this.row(c.nodeId);
        const state = c.open ? 'channel' : 'known';
        if (row.state.textContent !== state) {
          row.state.className = `state ${c.open ? 'state-open' : 'state-known'}`;
          row.state.textContent = state;
        }
        const role = roles.get(c.nodeId);
        const { tag, title } = roleText(role);
        setText(row.role, tag);
        const className = role === undefined ? '' : `state state-${role.role}`;
        if (row.role.className !== className) row.role.className = className;
        // The relay's URL alone, as its title: what a reader (and e2e/relay-federation.spec.ts) wants from it.
        const roleHint = role?.role === 'relay' ? role.url : title;
        if (row.role.title !== roleHint) row.role.title = roleHint;
        setText(row.seen, ago(s.at - c.lastSeen));
        setText(row.rtt, c.rttMs === undefined ? '—' : `${c.rttMs.toFixed(1)} ms`);
        const hint = c.rttMs === undefined ? 'not measured yet' : '';
        if (row.rtt.title !== hint) row.rtt.title = hint;
      }
      const order = sorted.map((c) => c.nodeId).join(' ');
      if (order !== section.order) {
        section.order = order;
        section.tbody.replaceChildren(...sorted.map((c) => this.rows.get(c.nodeId)!.tr));
      }
    }
    for (const id of [...this.rows.keys()]) if (!seen.has(id)) this.rows.delete(id);
    const present = new Set(buckets.map((b) => b.bucket));
    for (const bucket of [...this.sections.keys()]) if (!present.has(bucket)) this.sections.delete(bucket);
    const order = buckets.map((b) => b.bucket).join(' ');
    if (order !== this.order) {
      this.order = order;
      this.host.replaceChildren(...buckets.map((b) => this.sections.get(b.bucket)!.root));
    }
  }

  private row(nodeId: string): Row {
    const state = h('span', {});
    const role = h('span', {});
    const seen = h('td', { class: 'num' });
    const rtt = h('td', { class: 'num' });
    const tr = h(
      'tr',
      { 'data-contact': nodeId },
      h('td', {}, nodeChip(nodeId), ' ', role),
      h('td', {}, state),
      seen,
      rtt,
    );
    const row = { tr, state, role, seen, rtt };
    this.rows.set(nodeId, row);
    return row;
  }

  private section(bucket: number): Section {
    const count = h('span', { class: 'muted' });
    const tbody = h('tbody', {});
    const root = h(
      'section',
      { class: 'bucket', 'data-bucket': bucket },
      h('h3', {}, `Bucket ${bucket}`, count),
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Node'),
            h('th', { scope: 'col' }, 'State'),
            h('th', { scope: 'col', class: 'num' }, 'Last seen'),
            h(
              'th',
              {
                scope: 'col',
                class: 'num',
                title: 'Round-trip time, measured by PING once a channel has been quiet for a while',
              },
              'RTT',
            ),
          ),
        ),
        tbody,
      ),
    );
    const section = { root, count, tbody, order: '' };
    this.sections.set(bucket, section);
    return section;
  }
}

const countText = (bucket: number, contacts: number): string =>
  ` · shares ${bucket} leading bit${bucket === 1 ? '' : 's'} · ${contacts} contact${contacts === 1 ? '' : 's'}`;
