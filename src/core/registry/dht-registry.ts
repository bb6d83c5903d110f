import { invalidArgument } from '../errors.js';
import { keyForName, type NodeId } from '../id.js';
import type { Identity } from '../identity.js';
import type { FindWatch, LookupProgress, LookupResult } from '../lookup/lookup-result.js';
import type { RecordStore } from '../records/record-store.js';
import { signRecord, signRemoval, toProviderInfo, type RecordKind } from '../records/records.js';
import {
  removeAtClosest,
  removeAtPlacements,
  requireStored,
  storeAtClosest,
  type StoreHost,
  type StoreOutcome,
} from '../node/store-at-closest.js';
import { checkServiceId, type ProviderInfo } from './service-registry.js';

/**
 * The DHT-facing functions of macula_service_registry: publish_to_dht,
 * query_dht_for_service and remove_from_dht. The key is SHA-256 of the name; records
 * are signed by this node and stored at the k closest nodes.
 */

/** What the registry uses of the node (a DhtNode is one): it signs, stores, looks up and removes. */
export interface RegistryHost extends StoreHost {
  readonly identity: Identity;
  /** Our own copy of a record we remove goes at once. */
  readonly records: Pick<RecordStore, 'remove'>;
  findValue(
    key: NodeId,
    kind: 'provider' | 'subscriber',
    onProgress?: (p: LookupProgress) => void,
    watch?: FindWatch,
  ): Promise<LookupResult>;
}

export interface Advertisement {
  endpoint?: string;
  metadata?: Record<string, unknown>;
}

/** Beyond macula's arguments: the record kind, and a key other than SHA-256(name) (wildcard subscriptions). */
export interface RecordPlacement {
  kind?: RecordKind;
  key?: NodeId;
}

export async function publishToDht(
  node: RegistryHost,
  serviceId: string,
  info: Advertisement,
  ttl: number,
  k: number = node.k,
  placement: RecordPlacement = {},
): Promise<StoreOutcome> {
  checkServiceId(serviceId);
  const kind = placement.kind ?? 'provider';
  if (!Number.isInteger(ttl) || ttl < 1) throw invalidArgument('ttl', 'a positive integer number of seconds', ttl);
  const record = signRecord(
    {
      kind,
      key: placement.key ?? keyForName(serviceId),
      endpoint: info.endpoint ?? `peer:${node.selfHex}`,
      metadata: info.metadata ?? {},
      advertisedAt: node.clock.now(),
      ttl,
    },
    node.identity,
  );
  return requireStored(await storeAtClosest(node, record, k), `publishToDht(${serviceId})`);
}

/**
 * Providers of `serviceId` found by a value lookup; [] when there are none. `watch`: told of
 * the lookup's first paths (a page that may settle it from the first answer: FindWatch).
 */
export async function queryDhtForService(
  node: RegistryHost,
  serviceId: string,
  k: number = node.k,
  kind: RecordKind = 'provider',
  watch?: FindWatch,
): Promise<ProviderInfo[]> {
  checkServiceId(serviceId);
  void k; // macula's K: the lookup already asks the alpha paths for k closest each.
  const result = await node.findValue(keyForName(serviceId), kind, undefined, watch);
  return result.records.map(toProviderInfo);
}

/** Remove this node's own advertisement from the k closest nodes (a signed removal). */
export async function removeFromDht(
  node: RegistryHost,
  serviceId: string,
  nodeId: string = node.selfHex,
  placement: RecordPlacement = {},
): Promise<StoreOutcome> {
  const kind = placement.kind ?? 'provider';
  checkServiceId(serviceId);
  if (nodeId !== node.selfHex)
    throw invalidArgument('nodeId', "this node's own id (only the owner can remove its entry)", nodeId);
  const removal = signRemoval(
    { kind, key: placement.key ?? keyForName(serviceId), removedAt: node.clock.now() },
    node.identity,
  );
  node.records.remove(removal, node.clock.now());
  return removeAtClosest(node, removal);
}

/**
 * As removeFromDht, for a peer that is closing: the signed removal goes straight to the
 * nodes this peer's STOREs placed copies on, without a lookup first (removeAtPlacements).
 */
export async function withdrawFromDht(
  node: RegistryHost,
  serviceId: string,
  placement: RecordPlacement = {},
): Promise<StoreOutcome> {
  checkServiceId(serviceId);
  const removal = signRemoval(
    { kind: placement.kind ?? 'provider', key: placement.key ?? keyForName(serviceId), removedAt: node.clock.now() },
    node.identity,
  );
  node.records.remove(removal, node.clock.now());
  return removeAtPlacements(node, removal);
}
