/**
 * The tab half of `npm run bench:federation-browser` (bench/federation-browser.bench.html
 * loads it): one peer made with the public API only, entered through the relay named by
 * `?relay=`, in the default realm, which is the one the relays' own peers join. The driver
 * (federation-browser.bench.ts) tells it what to advertise and which samples to take.
 */
import { createPeer } from '../src/index.js';
import { Sampler, type SampleKind } from './federation-sample.js';

const relay = new URLSearchParams(location.search).get('relay');
if (relay === null) throw new Error('federation-browser page: ?relay= is required');

const peer = await createPeer({ bootstrap: relay, storage: 'memory' });
const sampler = new Sampler(peer);

const fedBench = {
  nodeId: peer.nodeId,
  stats: () => peer.stats(),
  relays: () => peer.relays(),
  peers: () => peer.peers(),
  advertise: (serviceId: string) => peer.advertise(serviceId, (args) => args),
  sample: (kind: SampleKind, serviceId: string, deadlineMs: number) => sampler.sample(kind, serviceId, deadlineMs),
  takeHops: () => sampler.takeHops(),
};

declare global {
  interface Window {
    fedBench?: typeof fedBench;
  }
}
window.fedBench = fedBench;
export type FederationBenchPage = typeof fedBench;
