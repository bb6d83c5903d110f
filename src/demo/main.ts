/**
 * The demo page: uses only the public API (it is also the first example of embedding the
 * library). `window.peer` is set once the peer runs, for automation.
 */
import { createPeer, type Peer } from '../index.js';

declare global {
  interface Window {
    peer?: Peer;
    peerError?: { code?: string; message: string };
  }
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function log(text: string): void {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $('log').prepend(li);
}

const short = (id: string): string => `${id.slice(0, 8)}…`;

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const relay = params.get('relay') ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/relay`;
  const storage = params.get('storage') === 'memory' ? 'memory' : 'indexeddb';
  const ttl = params.get('ttl');
  const peer = await createPeer({ bootstrap: relay, storage, ...(ttl ? { defaultTtl: Number(ttl) } : {}) });
  window.peer = peer;
  $('node-id').textContent = peer.nodeId;
  $('node-id').title = peer.nodeId;
  log(`started as ${short(peer.nodeId)}`);

  const refreshPeers = async (): Promise<void> => {
    const peers = await peer.peers();
    $('peer-count').textContent = String(peers.length);
    $('status').textContent = peers.length > 0 ? 'connected' : 'joining…';
    $('peer-list').replaceChildren(...peers.map((p) => {
      const li = document.createElement('li');
      li.textContent = `${short(p.nodeId)}${p.rttMs !== undefined ? ` — ${p.rttMs.toFixed(1)} ms` : ''}`;
      return li;
    }));
  };
  peer.on('peer:connect', (id) => { log(`channel open to ${short(id)}`); void refreshPeers(); });
  peer.on('peer:disconnect', (id) => { log(`channel closed to ${short(id)}`); void refreshPeers(); });
  setInterval(() => void refreshPeers(), 2_000);

  $('advertise-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $<HTMLInputElement>('advertise-name').value.trim();
    peer.advertise(name, () => ({ watts: Math.round(800 + Math.random() * 400), at: Date.now() }), { metadata: { demo: true } })
      .then(() => log(`advertised ${name}`), (err: Error) => log(`advertise failed: ${err.message}`));
  });
  $('discover-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $<HTMLInputElement>('discover-name').value.trim();
    const forceRefresh = $<HTMLInputElement>('discover-force').checked;
    const started = performance.now();
    peer.discover(name, { forceRefresh }).then((providers) => {
      $('discover-result').textContent = JSON.stringify(providers, null, 2);
      log(`discovered ${providers.length} provider(s) of ${name} in ${(performance.now() - started).toFixed(1)} ms`);
    }, (err: Error) => log(`discover failed: ${err.message}`));
  });
}

main().catch((e: { code?: string; message: string }) => {
  window.peerError = { ...(e.code ? { code: e.code } : {}), message: e.message };
  $('status').textContent = `failed: ${e.message}`;
});
