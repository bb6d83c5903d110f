/**
 * A Node peer in a process of its own, driven by e2e/node-peer.ts over stdin/stdout (one
 * JSON object a line): what an app on a server does with `macula-web/node`, with each
 * operation a test asks for. Started with `tsx e2e/node-peer-host.ts <bootstrap> [dataDir]`.
 */
import { createInterface } from 'node:readline';
import { Sampler, type SampleKind } from '../bench/federation-sample.js';
import { createPeer, isMeshError, type Peer } from '../src/node/index.js';

interface Request {
  id: number;
  op: string;
  args?: Record<string, unknown>;
}

const [bootstrap, dataDir] = process.argv.slice(2);
const received: Array<{ topic: string; payload: unknown; publisher: string }> = [];
const write = (message: object): void => void process.stdout.write(`${JSON.stringify(message)}\n`);

const operations = (
  peer: Peer,
  sampler: Sampler,
): Record<string, (a: Record<string, unknown>) => Promise<unknown>> => ({
  advertise: async (a) => {
    const serviceId = a['serviceId'] as string;
    await peer.advertise(serviceId, (args) => ({ by: peer.nodeId, args }), {
      metadata: (a['metadata'] as Record<string, unknown> | undefined) ?? {},
    });
    return null;
  },
  listLocalServices: () => peer.listLocalServices(),
  restoredServices: async () => (await peer.restoredServices()).map((s) => [s.serviceId, s.metadata]),
  discover: (a) => peer.discover(a['serviceId'] as string, { forceRefresh: true }),
  call: (a) => peer.call(a['serviceId'] as string, a['args']),
  subscribe: async (a) => {
    await peer.subscribe(a['pattern'] as string, (payload, { topic, publisher }) =>
      received.push({ topic, payload, publisher }),
    );
    return null;
  },
  discoverSubscribers: (a) => peer.discoverSubscribers(a['topic'] as string, { forceRefresh: true }),
  publish: (a) => peer.publish(a['topic'] as string, a['payload']),
  received: async () => received,
  stats: () => peer.stats(),
  // npm run bench:federation-browser: one timed discovery or call, timed in this process.
  sample: (a) => sampler.sample(a['kind'] as SampleKind, a['serviceId'] as string, a['deadlineMs'] as number),
  takeHops: async () => sampler.takeHops(),
  relays: async () => peer.relays(),
  peers: () => peer.peers(),
  close: async () => {
    await peer.close();
    return null;
  },
});

try {
  const peer = await createPeer({ bootstrap: bootstrap!, ...(dataDir ? { dataDir } : {}) });
  const ops = operations(peer, new Sampler(peer));
  write({ ready: true, nodeId: peer.nodeId });
  for await (const line of createInterface({ input: process.stdin })) {
    const request = JSON.parse(line) as Request;
    const op = ops[request.op];
    try {
      if (op === undefined) throw new Error(`no operation ${request.op}`);
      write({ id: request.id, ok: true, value: await op(request.args ?? {}) });
    } catch (e) {
      const code = isMeshError(e) ? e.code : 'ERROR';
      write({ id: request.id, ok: false, error: { code, message: (e as Error).message } });
    }
    if (request.op === 'close') break;
  }
} catch (e) {
  write({ ready: false, error: { code: (e as { code?: string }).code, message: (e as Error).message } });
  process.exitCode = 1;
}
