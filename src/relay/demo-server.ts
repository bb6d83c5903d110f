/**
 * The demo and its relay on one port: what `npm start` and `npx macula-web demo` run.
 * Open the page in several tabs and they form a mesh.
 */
import type { Server } from 'node:http';
import { listen, listeningAddress } from './http.js';
import type { IceIssuer } from './ice-credentials.js';
import type { RelayLimits } from './limits.js';
import { startRelay, type Relay } from './relay.js';
import type { RelayFederation } from './relay-peer.js';
import { createStaticServer } from './static-server.js';
import type { TlsFiles } from './tls.js';

export interface DemoServerOptions {
  /** Directory holding the built demo (index.html and assets/). */
  root: string;
  /** 0 picks a free port. */
  port: number;
  host: string;
  limits?: Partial<RelayLimits>;
  /** STUN/TURN handed to peers in the relay's welcome. */
  ice?: IceIssuer;
  /** Serve https and wss on the same port. */
  tls?: TlsFiles;
  /** Behind a reverse proxy: per-address limits use X-Forwarded-For. */
  trustProxy?: boolean;
  /** The relay's own peer and the relays it joins (relay-peer.ts). */
  federation?: RelayFederation;
}

export interface DemoServer {
  /** http:// URL of the page (loopback when bound to every interface). */
  readonly url: string;
  readonly port: number;
  readonly relay: Relay;
  close(): Promise<void>;
}

export async function startDemoServer(options: DemoServerOptions): Promise<DemoServer> {
  const server: Server = createStaticServer(options.root, options.tls);
  const relay = await startRelay({
    server,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.ice ? { ice: options.ice } : {}),
    ...(options.trustProxy === true ? { trustProxy: true } : {}),
    ...(options.federation ? { federation: options.federation } : {}),
  });
  await listen(server, options.port, options.host);
  const { port } = listeningAddress(server);
  const host = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    port,
    relay,
    close: () =>
      (closing ??= relay.close().then(() => {
        server.close();
        server.closeAllConnections();
      })),
  };
}
