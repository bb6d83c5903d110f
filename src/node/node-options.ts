import { resolve } from 'node:path';
import { invalidArgument } from '../core/errors.js';
import { validateSharedOptions, type SharedPeerOptions, type ValidSharedOptions } from '../peer/main/peer-options.js';

export interface NodePeerOptions extends SharedPeerOptions {
  /**
   * Where the peer keeps its identity (key file, mode 0600) and its snapshot of records
   * and services, so a restart comes back with the same node id and services. Created if
   * missing; one peer per directory.
   */
  dataDir?: string;
  /** `'memory'` (the default without `dataDir`): nothing is kept, a new node id each start. */
  storage?: 'memory';
}

export interface ValidNodePeerOptions extends ValidSharedOptions {
  /** Absolute; absent for memory storage. */
  dataDir?: string;
}

/** Every option of the Node entry's createPeer; anything else is refused (INVALID_ARGUMENT). */
const NODE_OPTION_SET = {
  bootstrap: true,
  realm: true,
  defaultTtl: true,
  cacheTtl: true,
  k: true,
  alpha: true,
  maxNeighbours: true,
  iceServers: true,
  iceTransportPolicy: true,
  storage: true,
  dataDir: true,
} as const satisfies Record<keyof NodePeerOptions, true>;
export const NODE_PEER_OPTION_NAMES = Object.keys(NODE_OPTION_SET) as ReadonlyArray<keyof NodePeerOptions>;

export function validateNodePeerOptions(options: NodePeerOptions): ValidNodePeerOptions {
  const shared = validateSharedOptions(options, NODE_PEER_OPTION_NAMES);
  const { storage, dataDir } = options;
  if (storage !== undefined && storage !== 'memory') {
    throw invalidArgument('storage', "'memory' (a Node peer keeps its state in dataDir instead of IndexedDB)", storage);
  }
  if (dataDir === undefined) return shared;
  if (storage === 'memory') throw invalidArgument('dataDir', "absent with storage: 'memory'", dataDir);
  if (typeof dataDir !== 'string' || dataDir.trim().length === 0 || dataDir.includes('\0'))
    throw invalidArgument('dataDir', 'a directory path', dataDir);
  return { ...shared, dataDir: resolve(dataDir) };
}
