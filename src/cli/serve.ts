/**
 * Runs what the command line asked for until SIGINT or SIGTERM: a standalone relay, or
 * the demo with its relay on one port. A second signal while sockets drain means "now".
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startDemoServer } from '../relay/demo-server.js';
import { describeDeployment, relayDeployment } from '../relay/relay-args.js';
import { startRelay } from '../relay/relay.js';
import type { RelayFederation, RelayPeerFactory } from '../relay/relay-peer.js';
import type { ServeArgs } from './args.js';
import { relayOwnPeerFactory } from './relay-own-peer.js';

async function ownPeerFactory(): Promise<RelayPeerFactory | { missing: string }> {
  const found = await relayOwnPeerFactory();
  return 'factory' in found ? found.factory : found;
}

/**
 * The built demo: next to the compiled CLI in the package (dist/node → dist/demo), or the
 * repository's dist/demo when the CLI runs from source.
 */
export function packagedDemoRoot(): string | undefined {
  for (const relative of ['../demo/', '../../dist/demo/']) {
    const dir = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  return undefined;
}

/**
 * What the relay's own peer gets from the flags. `relayPeer` is the factory of the Node
 * peer (relay-own-peer.ts), or why there is none (@roamhq/wrtc missing): then the relay
 * runs signaling only, and refuses --join rather than start a relay that silently stays a
 * mesh of its own.
 */
export function federationOf(
  args: ServeArgs,
  relayPeer: RelayPeerFactory | { missing: string },
): { federation: RelayFederation | undefined; note: string } {
  const { peer, join, publicUrl } = args.deployment;
  if (!peer) return { federation: undefined, note: 'no DHT peer of its own (--no-peer): signaling only' };
  if (typeof relayPeer !== 'function') {
    if (join.length > 0)
      throw new Error(`--join needs the relay's own DHT peer, and ${relayPeer.missing}; drop --join (JOIN)`);
    return { federation: undefined, note: `${relayPeer.missing}: signaling only` };
  }
  const federation: RelayFederation = { peer: relayPeer, join, ...(publicUrl !== undefined ? { publicUrl } : {}) };
  const joining = join.length === 0 ? 'joins no other relay' : `joins ${join.join(' ')}`;
  return { federation, note: `the relay's own DHT peer ${joining}` };
}

export async function serve(
  args: ServeArgs,
  log: (line: string) => void = console.log,
  relayPeer?: RelayPeerFactory | { missing: string },
): Promise<void> {
  // The native WebRTC module is loaded only when the relay runs a peer.
  const own = relayPeer ?? (args.deployment.peer ? await ownPeerFactory() : { missing: 'unused' });
  const { federation, note } = federationOf(args, own);
  const limits = args.socketsPerAddress === undefined ? {} : { limits: { socketsPerAddress: args.socketsPerAddress } };
  // Reads the TLS files now, so a wrong path stops the start instead of the first connection.
  const { ice, tls } = relayDeployment(args.deployment);
  const deployment = {
    ...limits,
    ...(ice ? { ice } : {}),
    ...(tls ? { tls } : {}),
    ...(args.deployment.trustProxy === true ? { trustProxy: true } : {}),
    ...(federation ? { federation } : {}),
  };
  let close: () => Promise<string>;
  let peerStarted: Promise<boolean>;
  let peerId: () => string | undefined;
  if (args.command === 'relay') {
    const relay = await startRelay({ port: args.port, host: args.host, ...deployment });
    log(`macula-web relay: listening on ${relay.address}`);
    log(`macula-web relay: ${note}`);
    peerStarted = relay.peerStarted;
    peerId = () => relay.peerId;
    close = async () => {
      await relay.close();
      const { signalsForwarded, socketsOpen } = relay.stats();
      return `closed (${signalsForwarded} signals forwarded, ${socketsOpen} sockets left)`;
    };
  } else {
    const root = args.root ?? packagedDemoRoot();
    if (root === undefined || !existsSync(`${root}/index.html`)) {
      throw new Error(`no built demo at ${root ?? 'dist/demo'} (from a clone: npm run build)`);
    }
    const demo = await startDemoServer({ root, port: args.port, host: args.host, ...deployment });
    log(`macula-web: demo on ${demo.url} , relay on ${demo.url.replace(/^http/, 'ws')}relay`);
    log(`macula-web: ${describeDeployment(args.deployment)}`);
    log(`macula-web: ${note}`);
    peerStarted = demo.relay.peerStarted;
    peerId = () => demo.relay.peerId;
    close = async () => {
      await demo.close();
      return 'closed';
    };
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) process.exit(1);
    stopping = true;
    log(`macula-web: ${signal}, closing`);
    void close().then((summary) => log(`macula-web: ${summary}`));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // The peer starts after the port listens (and may take seconds to enter the meshes it
  // joins); a signal meanwhile still closes the relay in order. Its failure stops the start.
  if (await peerStarted) log(`macula-web: the relay's own DHT peer is up (node ${peerId() ?? 'closed'})`);
}
