/**
 * `macula-web/testing`: a kit for an app's own multi-peer Playwright tests. Start a relay
 * on a free port, open N pages of the app in separate browser contexts, wait until they
 * form a mesh or a service is found, read a page's counters. The app only has to put the
 * Peer it created on `window.peer` (or a global it names) in the builds it tests.
 */
export { startTestRelay } from './test-relay.js';
export type { TestRelay, TestRelayOptions } from './test-relay.js';
export { openPeer, onPeer } from './test-peer.js';
export type { OpenPeerOptions, PeerPageLike, TestPeer } from './test-peer.js';
export { channelsOf, closePeers, openPeers, peerStats, waitForMesh, waitForService } from './waits.js';
export type { MeshOptions, ServiceWaitOptions } from './waits.js';
export type { PollOptions } from './poll.js';
