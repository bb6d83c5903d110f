/**
 * Standalone relay: `tsx src/relay/main.ts [flags]`. Flags and their environment
 * equivalents are in relay-args.ts (PORT default 8787, HOST default 0.0.0.0, since a
 * standalone relay exists to be reached from other machines; STUN/TURN; TLS).
 * `npm start` serves the demo and attaches the relay to that server instead.
 */
import { describeDeployment, parseRelayArgs, RELAY_FLAGS_HELP, relayDeployment } from './relay-args.js';
import { startRelay } from './relay.js';

let args;
let deployment;
try {
  args = parseRelayArgs(process.argv.slice(2), process.env);
  deployment = relayDeployment(args);
} catch (e) {
  console.error(`relay: ${(e as Error).message}\nflags:\n${RELAY_FLAGS_HELP}`);
  process.exit(2);
}

const relay = await startRelay({
  port: args.port ?? 8787,
  host: args.host ?? '0.0.0.0',
  trustProxy: args.trustProxy === true,
  ...(deployment.ice ? { ice: deployment.ice } : {}),
  ...(deployment.tls ? { tls: deployment.tls } : {}),
});
console.log(`relay: listening on ${relay.address}`);
console.log(`relay: ${describeDeployment(args)}`);

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
