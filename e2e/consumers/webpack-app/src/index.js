// An app built by `webpack` with no configuration file (entry src/index.js, output dist/main.js).
import { createPeer, isMeshError } from 'macula-web';

async function main() {
  const bootstrap = new URLSearchParams(location.search).get('relay') ?? 'ws://localhost:8787/relay';
  const peer = await createPeer({ bootstrap, storage: 'memory' });
  await peer.advertise('consumer.webpack.echo', (args) => ({ app: 'webpack', args }));
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
