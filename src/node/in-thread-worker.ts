import * as Comlink from 'comlink';
import { WorkerApi, type StoreFactory } from '../peer/worker/worker-api.js';
import type { WorkerLike } from '../peer/main/worker-client.js';

/**
 * The Node peer's "worker": the same WorkerApi the browser runs in a Web Worker, exposed
 * with Comlink on one end of a MessageChannel in this thread, so the main half
 * (worker-client.ts, frame-pump.ts) talks to it exactly as to a Web Worker. A page's
 * worker keeps the DHT's work off the thread that draws; a Node process has nothing to
 * draw, and staying in one thread spares a second copy of the code and a worker script
 * to ship and locate.
 */
export function startInThreadWorker(makeStore: StoreFactory): WorkerLike {
  const { port1, port2 } = new MessageChannel();
  const api = new WorkerApi(makeStore);
  Comlink.expose(api, port2);
  let terminated = false;
  return Object.assign(port1, {
    terminate() {
      if (terminated) return;
      terminated = true;
      // A Web Worker's terminate() stops its timers too: the API's close does that here.
      void api.close().finally(() => {
        port1.close();
        port2.close();
      });
    },
  });
}
