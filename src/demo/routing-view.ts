/**
 * The routing table as text: each non-empty k-bucket with its contacts, whether this tab
 * has a data channel open to them, when they were last heard from and their round-trip
 * time; a contact that advertises a relay (RELAY_SERVICE: a relay's own peer) is marked
 * with the relay's URL. Bucket i holds the nodes whose id shares exactly i leading bits with ours, so low
 * buckets cover the far half of the id space and high ones our close neighbourhood.
 */
import { byId, h, nodeChip } from './dom.js';
import { ago } from './ids.js';
import type { Snapshot } from './snapshot.js';

export class RoutingView {
  private readonly host = byId('routing');
  private readonly summary = byId('routing-summary');

  update(s: Snapshot): void {
    const contacts = s.table.reduce((n, b) => n + b.contacts.length, 0);
    const open = s.table.reduce((n, b) => n + b.contacts.filter((c) => c.open).length, 0);
    this.summary.textContent = `${contacts} contact${contacts === 1 ? '' : 's'} in ${s.table.length} bucket${s.table.length === 1 ? '' : 's'} · ${open} with an open channel`;
    if (s.table.length === 0) {
      this.host.replaceChildren(
        h('p', { class: 'empty' }, 'No contacts yet: the table fills as this tab meets other peers.'),
      );
      return;
    }
    const relayOf = new Map(s.relays.learned.map((r) => [r.nodeId, r.url]));
    // Highest bucket first: the closest neighbourhood is the interesting part of a small mesh.
    const buckets = [...s.table].sort((a, b) => b.bucket - a.bucket);
    this.host.replaceChildren(
      ...buckets.map((b) => {
        const rows = [...b.contacts]
          .sort((x, y) => y.lastSeen - x.lastSeen)
          .map((c) =>
            h(
              'tr',
              { 'data-contact': c.nodeId },
              h(
                'td',
                {},
                nodeChip(c.nodeId),
                ...(relayOf.has(c.nodeId)
                  ? [' ', h('span', { class: 'state state-relay', title: relayOf.get(c.nodeId)! }, 'relay')]
                  : []),
              ),
              h(
                'td',
                {},
                h('span', { class: `state ${c.open ? 'state-open' : 'state-known'}` }, c.open ? 'channel' : 'known'),
              ),
              h('td', { class: 'num' }, ago(s.at - c.lastSeen)),
              h(
                'td',
                { class: 'num' },
                c.rttMs === undefined ? h('span', { title: 'not measured yet' }, '—') : `${c.rttMs.toFixed(1)} ms`,
              ),
            ),
          );
        return h(
          'section',
          { class: 'bucket', 'data-bucket': b.bucket },
          h(
            'h3',
            {},
            `Bucket ${b.bucket}`,
            h(
              'span',
              { class: 'muted' },
              ` · shares ${b.bucket} leading bit${b.bucket === 1 ? '' : 's'} · ${b.contacts.length} contact${b.contacts.length === 1 ? '' : 's'}`,
            ),
          ),
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
            h('tbody', {}, ...rows),
          ),
        );
      }),
    );
  }
}
