/**
 * macula-web: a browser-first peer-to-peer service registry. Every tab is a Kademlia
 * DHT node; services advertise into the DHT and clients discover and call them with no
 * central registry. This file is the whole public surface.
 */
export { createPeer } from './peer/main/create-peer.js';
export type {
  Peer,
  PeerEvent,
  PeerOptions,
  RelayEvent,
  RelayStatus,
  RelaysView,
  RestoredService,
  ServiceHandler,
} from './peer/main/create-peer.js';
export { RELAY_SERVICE } from './peer/main/create-peer.js';
export type { ProviderInfo } from './core/registry/service-registry.js';
export type { CallOptions, CallOutcome, CallPolicy } from './core/registry/rpc.js';
export type { LookupProgress } from './core/lookup/lookup.js';
export type { LookupEvent, LookupSubject } from './peer/worker/lookup-subjects.js';
export type { ChannelPeer, RoutingTableView } from './peer/worker/peer-core.js';
export type { PeerKind } from './core/wire/messages.js';
export { ErrorCode, MeshError, isMeshError } from './core/errors.js';
