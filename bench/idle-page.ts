/**
 * The library-only page of `npm run bench:idle`: what an app with no visible mesh UI costs.
 * It does what a small app does (one service advertised, one topic subscribed, IndexedDB
 * storage as by default) and then nothing: everything it costs while idle is the library's.
 */
import { createPeer, type Peer } from '../src/index.js';

/** The same globals the demo sets (src/demo/main.ts), so the benchmark reads both pages alike. */
const page = window as unknown as { peer?: Peer; peerError?: { message: string } };
const relay = new URLSearchParams(location.search).get('relay') ?? `ws://${location.host}/relay`;

createPeer({ bootstrap: relay })
  .then(async (peer) => {
    await peer.advertise('idle.echo', (x: unknown) => x);
    await peer.subscribe('idle.news', () => undefined);
    page.peer = peer;
  })
  .catch((e: unknown) => {
    page.peerError = { message: String(e) };
  });
