// Built with `esbuild src/main.js --bundle --format=esm --outdir=dist`. esbuild does not emit
// the package's worker, so the app copies node_modules/macula-web/dist/browser/worker.js
// where it serves static files and says where with workerUrl (the escape hatch).
import { createPeer, isMeshError } from 'macula-web';

async function main() {
  const bootstrap = new URLSearchParams(location.search).get('relay') ?? 'ws://localhost:8787/relay';
  const peer = await createPeer({ bootstrap, storage: 'memory', workerUrl: '/static/macula-worker.js' });
  await peer.advertise('consumer.esbuild.echo', (args) => ({ app: 'esbuild', args }));
  const received = [];
  await peer.subscribe('consumers.**', (payload, { topic, publisher }) => received.push({ topic, payload, publisher }));
  window.received = received;
  window.peer = peer;
  document.querySelector('#status').textContent = `peer ${peer.nodeId.slice(0, 8)} ready`;
}

main().catch((e) => {
  document.querySelector('#status').textContent = isMeshError(e) ? `${e.code}: ${e.message}` : String(e);
  throw e;
});
