/// <reference lib="webworker" />
/**
 * The worker half of the floors in `npm run bench:browser`: it is handed two MessagePorts,
 * one that echoes whatever it is sent (the raw postMessage round trip) and one that
 * exposes an empty Comlink method.
 */
import * as Comlink from 'comlink';

const api = {
  noop(): void {},
};

export type EchoApi = typeof api;

self.onmessage = (e: MessageEvent<{ raw: MessagePort; comlink: MessagePort }>) => {
  const { raw, comlink } = e.data;
  raw.onmessage = (m: MessageEvent) => raw.postMessage(m.data);
  Comlink.expose(api, comlink);
};
