/**
 * "This peer": its node id (short, full on hover, in its own colour), whether the relay
 * connection is up, which relay it entered through and which others it knows (its
 * bootstrap list and the relays learned from the DHT), and whether it is still joining or
 * already has channels into the mesh. The tab title carries the short id too, so several demo tabs can be told apart.
 */
import { byId, h } from './dom.js';
import { idColour, shortId } from './ids.js';
import type { Snapshot } from './snapshot.js';

export class SelfPanel {
  private readonly relay = byId('relay-status');
  private readonly mesh = byId('mesh-status');
  private readonly relays = byId('relay-list');
  private relaysKey = '';

  constructor(nodeId: string) {
    const colour = idColour(nodeId);
    document.documentElement.style.setProperty('--self', colour);
    const id = byId('node-id');
    id.title = nodeId;
    id.dataset['node'] = nodeId;
    id.replaceChildren(
      h('span', { class: 'dot big', style: `background:${colour}`, 'aria-hidden': 'true' }),
      h('code', {}, shortId(nodeId)),
    );
    byId('node-id-full').textContent = nodeId;
    document.title = `${shortId(nodeId)} · macula-web`;
  }

  update(s: Snapshot): void {
    const relayUp = (s.stats['relay.connected'] ?? 0) === 1;
    this.setPill(this.relay, relayUp ? 'ok' : 'warn', relayUp ? 'relay connected' : 'relay offline');
    this.showRelays(s);
    const open = s.peers.length;
    if (open === 0) this.setPill(this.mesh, 'busy', 'joining…');
    else this.setPill(this.mesh, 'ok', `in the mesh · ${open} channel${open === 1 ? '' : 's'}`);
  }

  /** Entered through, now on (when it moved), and the other relays known, bootstrap first. */
  private showRelays(s: Snapshot): void {
    const { current, connected, entered, bootstrap, learned } = s.relays;
    const key = JSON.stringify(s.relays);
    if (key === this.relaysKey) return;
    this.relaysKey = key;
    const others = [...bootstrap, ...learned.map((r) => r.url)].filter(
      (url, i, all) => url !== current && url !== entered && all.indexOf(url) === i,
    );
    const parts: Array<Node | string> = [];
    parts.push('entered through ', h('code', { 'data-relay': 'entered' }, entered ?? '—'));
    if (entered !== current)
      parts.push(` · ${connected ? 'now on' : 'trying'} `, h('code', { 'data-relay': 'current' }, current));
    const learnedUrls = new Set(learned.map((r) => r.url));
    parts.push(
      ` · knows ${others.length} other${others.length === 1 ? '' : 's'}`,
      ...others.flatMap((url) => [
        ' ',
        h(
          'code',
          {
            'data-relay': learnedUrls.has(url) ? 'learned' : 'bootstrap',
            title: learnedUrls.has(url) ? 'learned from the DHT' : 'bootstrap list',
          },
          url,
        ),
      ]),
    );
    this.relays.replaceChildren(...parts);
  }

  /** The page could not start a peer at all. */
  static failed(message: string): void {
    const mesh = byId('mesh-status');
    mesh.dataset['state'] = 'error';
    mesh.textContent = `failed: ${message}`;
    byId('node-id').textContent = 'no peer';
  }

  private setPill(el: HTMLElement, state: 'ok' | 'warn' | 'busy', text: string): void {
    el.dataset['state'] = state;
    if (el.textContent !== text) el.textContent = text;
  }
}
