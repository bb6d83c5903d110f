/**
 * Standalone relay: `tsx src/relay/main.ts`. PORT (default 8787) and HOST (default 0.0.0.0,
 * since a standalone relay exists to be reached from other machines) come from the
 * environment. `npm start` serves the demo and attaches the relay to that server instead.
 */
import { startRelay } from './relay.js';

const port = Number(process.env['PORT'] ?? 8787);
const host = process.env['HOST'] ?? '0.0.0.0';
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`relay: PORT must be an integer from 0 to 65535, got ${process.env['PORT']}`);
  process.exit(2);
}

const relay = await startRelay({ port, host });
console.log(`relay: listening on ${relay.address}`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  // A second Ctrl-C while sockets drain means "now".
  if (stopping) process.exit(1);
  stopping = true;
  console.log(`relay: ${signal}, closing`);
  await relay.close();
  const { socketsOpen, signalsForwarded } = relay.stats();
  console.log(`relay: closed (${signalsForwarded} signals forwarded, ${socketsOpen} sockets left)`);
}

process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
