/// <reference lib="webworker" />
/**
 * The worker half of the floors in `npm run bench:browser`: an empty Comlink method, and a
 * MessagePort that echoes whatever it is sent (the raw postMessage round trip).
 */
import * as Comlink from 'comlink';

const api = {
  noop(): void {},
  attach(port: MessagePort): void {
    port.onmessage = (e: MessageEvent) => port.postMessage(e.data);
  },
};

export type EchoApi = typeof api;
Comlink.expose(api);
