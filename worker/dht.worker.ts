/// <reference lib="webworker" />
// The DHT worker: composition only. The node, registry and persistence live in src/peer.
import * as Comlink from 'comlink';
import { WorkerApi } from '../src/peer/worker/worker-api.js';
import { createIdbStore } from '../src/storage/idb-store.js';
import { createMemoryStore } from '../src/storage/memory-store.js';

Comlink.expose(
  new WorkerApi((kind, nodeIdHex) => (kind === 'memory' ? createMemoryStore() : createIdbStore(nodeIdHex))),
);
