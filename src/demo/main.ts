/**
 * The demo page: starts this tab's peer and wires the panels to it. It uses only the
 * public API, so it doubles as the first example of embedding the library.
 *
 * URL parameters: `relay` (bootstrap URL, repeated for a list tried in order; default:
 * this server's /relay), `storage=memory` (no IndexedDB; tests use it so tabs of one
 * origin share nothing), `ttl=N` (default record TTL in seconds), `ice=relay` (TURN only:
 * checks by hand that the relay's TURN server works; the counters show channels as direct
 * or relayed). `window.peer` is set once the peer runs and `window.peerError`
 * if it could not start, for automation.
 */
import { createPeer, type Peer } from '../index.js';
import { Counters } from './counters.js';
import { EventLog } from './event-log.js';
import { shortId } from './ids.js';
import { KeyNames } from './key-names.js';
import { MeshPanel } from './mesh-panel.js';
import { PubSubPanel } from './pubsub-panel.js';
import { RoutingView } from './routing-view.js';
import { SelfPanel } from './self-panel.js';
import { ServicesPanel } from './services-panel.js';
import { SnapshotPoller } from './snapshot.js';

declare global {
  interface Window {
    peer?: Peer;
    peerError?: { code?: string; message: string };
  }
}

/** How often the views re-read the peer when nothing prompts them. */
const REFRESH_MS = 1_500;

function options(): Parameters<typeof createPeer>[0] {
  const params = new URLSearchParams(location.search);
  const relays = params.getAll('relay');
  const relay =
    relays.length > 0 ? relays : `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/relay`;
  const storage = params.get('storage') === 'memory' ? 'memory' : 'indexeddb';
  const ttl = params.get('ttl');
  return {
    bootstrap: relay,
    storage,
    ...(ttl ? { defaultTtl: Number(ttl) } : {}),
    ...(params.get('ice') === 'relay' ? { iceTransportPolicy: 'relay' as const } : {}),
  };
}

async function main(log: EventLog): Promise<void> {
  const opts = options();
  log.add(
    'info',
    `starting a peer (storage: ${opts.storage ?? 'indexeddb'}, relay: ${String(opts.bootstrap)}${opts.iceTransportPolicy === 'relay' ? ', TURN only' : ''})`,
  );
  const peer = await createPeer(opts);
  window.peer = peer;
  log.add('info', `started as ${shortId(peer.nodeId)} (${peer.nodeId})`);

  const self = new SelfPanel(peer.nodeId);
  const counters = new Counters();
  const routing = new RoutingView();
  const poller = new SnapshotPoller(peer, REFRESH_MS, (e) => log.error('refresh', e));
  const names = new KeyNames(peer.nodeId);
  new MeshPanel(peer, poller, names, counters, log);
  new ServicesPanel(peer, names, log);
  new PubSubPanel(peer, names, log);
  poller.onUpdate((s) => {
    self.update(s);
    routing.update(s);
    counters.update(s);
  });

  peer.on('peer:connect', (id) => {
    log.add('peer', `channel open to ${shortId(id)}`);
    poller.refreshSoon();
  });
  peer.on('peer:disconnect', (id) => {
    log.add('peer', `channel closed to ${shortId(id)}`);
    poller.refreshSoon();
  });
  poller.start();
  document.body.dataset['ready'] = 'true';
}

const log = new EventLog();
main(log).catch((e: { code?: string; message?: string }) => {
  const message = e.message ?? String(e);
  window.peerError = { ...(e.code ? { code: e.code } : {}), message };
  SelfPanel.failed(message);
  log.error('start', e);
});
