/**
 * The floor under the relay's admission, for `npm run bench:relay`: a bare WebSocket
 * server, in the relay's process, that speaks the same handshake (a challenge with a
 * fresh nonce, the hello parsed with the relay's own parser, the key hashed to a node id,
 * a welcome naming up to 8 peers) and does nothing else: no signature check, no limits,
 * no bookkeeping. The same load clients are admitted by it in the same run, so the
 * relay's figures can be read against what the WebSocket upgrade and the two frames cost
 * on this machine at this moment, which a shared machine's load moves from run to run.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { encodeMessage, parseClientMessage } from '../src/signaling/protocol.js';

export interface FloorServer {
  readonly url: string;
  close(): Promise<void>;
}

const PEERS_IN_WELCOME = 8;

export async function startFloorServer(): Promise<FloorServer> {
  const server: Server = createServer();
  const wss = new WebSocketServer({ noServer: true, clientTracking: false });
  const sockets = new Set<WebSocket>();
  const recent: string[] = [];
  server.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.send(encodeMessage({ t: 'challenge', nonce: randomBytes(32).toString('hex') })!);
      ws.once('message', (raw) => {
        const hello = parseClientMessage(String(raw));
        if (hello?.t !== 'hello') return ws.close();
        const nodeId = createHash('sha256').update(Buffer.from(hello.publicKey, 'hex')).digest('hex');
        ws.send(encodeMessage({ t: 'welcome', nodeId, peers: recent.slice(-PEERS_IN_WELCOME) })!);
        recent.push(nodeId);
        if (recent.length > 64) recent.splice(0, recent.length - PEERS_IN_WELCOME);
      });
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/relay`,
    async close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
