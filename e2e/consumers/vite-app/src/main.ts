// An app built with Vite's default configuration: no polyfill plugin, no alias, no optimizeDeps.
import { createPeer, isMeshError, type Peer } from 'macula-web';

interface Received {
  topic: string;
  payload: unknown;
  publisher: string;
}
declare global {
  interface Window {
    peer?: Peer;
    received?: Received[];
  }
}

async function main(): Promise<void> {
  const bootstrap = new URLSearchParams(location.search).get('relay') ?? 'ws://localhost:8787/relay';
  const peer = await createPeer({ bootstrap, storage: 'memory' });
  await peer.advertise('consumer.vite.echo', (args) => ({ app: 'vite', args }));
  const received: Received[] = [];
  await peer.subscribe('consumers.**', (payload, { topic, publisher }) => received.push({ topic, payload, publisher }));
  window.received = received;
  window.peer = peer;
  document.querySelector('#status')!.textContent = `peer ${peer.nodeId.slice(0, 8)} ready`;
}

main().catch((e: unknown) => {
  document.querySelector('#status')!.textContent = isMeshError(e) ? `${e.code}: ${e.message}` : String(e);
  throw e;
});
