/**
 * `npm start`: the built demo and the bootstrap relay on one port (default 8787), over
 * https/wss when given a certificate. Flags and environment: relay-args.ts (`npm start --
 * --turn turn:host:3478 …`); also STATIC_ROOT (default dist) and RELAY_SOCKETS_PER_ADDRESS.
 * Open http://localhost:8787 in several tabs and they form a mesh.
 */
import { listen } from './http.js';
import { describeDeployment, parseRelayArgs, RELAY_FLAGS_HELP, relayDeployment } from './relay-args.js';
import { startRelay } from './relay.js';
import { createStaticServer } from './static-server.js';

let args;
let deployment;
try {
  args = parseRelayArgs(process.argv.slice(2), process.env);
  deployment = relayDeployment(args);
} catch (e) {
  console.error(`macula-web: ${(e as Error).message}\nflags:\n${RELAY_FLAGS_HELP}`);
  process.exit(2);
}
const port = args.port ?? 8787;
const host = args.host ?? '0.0.0.0';
const root = process.env['STATIC_ROOT'] ?? 'dist';
const socketsPerAddress = Number(process.env['RELAY_SOCKETS_PER_ADDRESS'] ?? 256);

const server = createStaticServer(root, deployment.tls);
const relay = await startRelay({
  server,
  limits: { socketsPerAddress },
  trustProxy: args.trustProxy === true,
  ...(deployment.ice ? { ice: deployment.ice } : {}),
});
await listen(server, port, host);
const [http, ws] = deployment.tls ? ['https', 'wss'] : ['http', 'ws'];
console.log(`macula-web: demo on ${http}://localhost:${port}/ , relay on ${ws}://localhost:${port}/relay`);
console.log(`macula-web: ${describeDeployment(args)}`);

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
