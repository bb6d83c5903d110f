/**
 * `npm start`: the built demo and the bootstrap relay on one port (PORT, default 8787).
 * Open http://localhost:8787 in several tabs and they form a mesh.
 */
import { listen } from './http.js';
import { startRelay } from './relay.js';
import { createStaticServer } from './static-server.js';

const port = Number(process.env['PORT'] ?? 8787);
const host = process.env['HOST'] ?? '0.0.0.0';
const root = process.env['STATIC_ROOT'] ?? 'dist';
const socketsPerAddress = Number(process.env['RELAY_SOCKETS_PER_ADDRESS'] ?? 256);

const server = createStaticServer(root);
const relay = await startRelay({ server, limits: { socketsPerAddress } });
await listen(server, port, host);
console.log(`macula-web: demo on http://localhost:${port}/ , relay on ws://localhost:${port}/relay`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) process.exit(1);
  stopping = true;
  console.log(`macula-web: ${signal}, closing`);
  await relay.close();
  server.close();
  server.closeAllConnections();
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
