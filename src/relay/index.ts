/**
 * `macula-web/relay`, the Node side of the package: the bootstrap relay (authenticated
 * signaling only) and the demo server that `npx macula-web demo` runs.
 */
export { startRelay, DEFAULT_RELAY_PATH } from './relay.js';
export type { Relay, RelayOptions, RelayStats } from './relay.js';
export type { RelayFederation, RelayPeerFactory, RelayPeerHandle, RelayPeerInit } from './relay-peer.js';
export { DEFAULT_RELAY_LIMITS } from './limits.js';
export type { RelayLimits } from './limits.js';
export { startDemoServer } from './demo-server.js';
export type { DemoServer, DemoServerOptions } from './demo-server.js';
export { RelayErrorCode } from '../signaling/protocol.js';
export { ErrorCode, MeshError, isMeshError } from '../core/errors.js';
