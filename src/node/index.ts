/**
 * macula-web/node: a peer in Node (>= 20) with the browser's Peer API, for long-lived
 * providers and stable DHT nodes on servers. Needs the optional package @roamhq/wrtc
 * (`npm install macula-web @roamhq/wrtc`). This file is the Node entry's whole surface.
 */
export { createPeer } from './create-peer.js';
export type { NodePeerOptions } from './node-options.js';
export type { Peer } from '../peer/main/peer-handle.js';
export type { PeerEvent, RelayEvent } from '../peer/main/app-callbacks.js';
export type { ServiceHandler } from '../core/registry/service-registry.js';
export type { ProviderInfo } from '../core/registry/service-registry.js';
export type { CallOptions, CallOutcome, CallPolicy } from '../core/registry/rpc.js';
export type { LookupProgress } from '../core/lookup/lookup.js';
export type { LookupEvent, LookupSubject } from '../peer/worker/lookup-subjects.js';
export type { RoutingTableView } from '../peer/worker/peer-core.js';
export { ErrorCode, MeshError, isMeshError } from '../core/errors.js';
