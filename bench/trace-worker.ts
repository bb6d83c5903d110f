/// <reference lib="webworker" />
/**
 * The DHT worker of a traced benchmark page (`?trace=1`): the worker's trace hooks first, then
 * the worker as worker/dht.worker.ts composes it (the package is `sideEffects: false`, so an
 * import of that file for its effect alone would be dropped from the build).
 */
import * as Comlink from 'comlink';
import { installWorkerTrace } from './trace-worker-hooks.js';
import { WorkerApi } from '../src/peer/worker/worker-api.js';
import { createIdbStore } from '../src/storage/idb-store.js';
import { createMemoryStore } from '../src/storage/memory-store.js';

installWorkerTrace();
Comlink.expose(
  new WorkerApi((kind, nodeIdHex) => (kind === 'memory' ? createMemoryStore() : createIdbStore(nodeIdHex))),
);
