/**
 * The HTTP and socket plumbing under the relay: listening, routing the upgrade path,
 * and turning the listening address into a URL a client can dial.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import type { WebSocket } from 'ws';
import { ErrorCode, MeshError } from '../core/errors.js';

/** The relay's own HTTP server only speaks WebSocket; a plain request learns where to go. */
export const answerPlainHttp =
  (path: string) =>
  (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    res.end(`macula-web relay: open a WebSocket at ${path}\n`);
  };

export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export function pathOf(req: IncomingMessage): string | null {
  try {
    return new URL(req.url ?? '/', 'http://relay').pathname;
  } catch {
    return null;
  }
}

export function socketClosed(socket: WebSocket): Promise<void> {
  if (socket.readyState === socket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

export function listeningAddress(server: Server): AddressInfo {
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new MeshError(ErrorCode.NOT_CONNECTED, 'relay: the HTTP server is not listening on a TCP port yet');
  }
  return address;
}

/** A URL a local client can dial: the wildcard addresses are replaced by loopback; wss when the server speaks TLS. */
export function endpointUrl(server: Server, path: string): string {
  const { address, family, port } = listeningAddress(server);
  const ipv6 = family === 'IPv6' || (family as unknown) === 6;
  const host = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
  const scheme = server instanceof HttpsServer ? 'wss' : 'ws';
  return `${scheme}://${ipv6 ? `[${host}]` : host}:${port}${path}`;
}

/**
 * The address a socket's limits are kept under. Behind a reverse proxy every socket comes
 * from the proxy, so with `trustProxy` the relay takes the address the proxy appended to
 * X-Forwarded-For (the last one: earlier entries are whatever the client sent).
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const direct = req.socket.remoteAddress ?? 'unknown';
  if (!trustProxy) return direct;
  const header = req.headers['x-forwarded-for'];
  const value = Array.isArray(header) ? header.at(-1) : header;
  const last = value?.split(',').at(-1)?.trim();
  return last !== undefined && last.length > 0 && last.length <= 64 ? last : direct;
}
