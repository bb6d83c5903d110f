import type { DhtNode } from '../core/node/dht-node.js';
import { EntryRelays } from './entry-relays.js';
import type { Negotiator } from './network.js';
import { Swarm, type SwarmOptions } from './swarm.js';

/**
 * Connection negotiation as tabs behind different relays live it (README, Deploying:
 * several relays): two nodes a relay admitted both can trade offer and answer through it;
 * any other pair only through the overlay, as routed SIGNAL envelopes (DhtNode.sendSignal),
 * the offer from the dialling node and the answer back from the dialled one. An offer or
 * answer the overlay loses leaves the attempt to time out, as the page's connection
 * manager gives one up (its relay fallback cannot reach a node admitted elsewhere).
 *
 * The payloads are not WebRTC's: a kind byte and a negotiation number are all the
 * simulated network needs to tell which attempt an answer settles.
 */
const OFFER = 1;
const ANSWER = 2;
/** The page's connection manager abandons a connection that has not opened by then. */
const OPEN_TIMEOUT_MS = 15_000;

export class OverlaySignalling implements Negotiator {
  private readonly pending = new Map<number, (ok: boolean) => void>();
  private readonly listening = new Set<string>();
  private nextId = 1;
  readonly stats = { viaRelay: 0, viaOverlay: 0, answered: 0, timedOut: 0 };

  constructor(
    private readonly swarm: Swarm,
    /** Whether one relay admitted both nodes (EntryRelays.shareRelay). */
    private readonly shareRelay: (a: string, b: string) => boolean,
  ) {}

  negotiate(from: string, to: string, done: (ok: boolean) => void): void {
    const { queue } = this.swarm;
    if (this.shareRelay(from, to)) {
      this.stats.viaRelay++;
      // Offer and answer through the relay: two trips each way, about.
      queue.setTimer(100, () => done(true));
      return;
    }
    const a = this.swarm.nodes.get(from);
    const b = this.swarm.nodes.get(to);
    if (a === undefined || b === undefined) {
      queue.setTimer(0, () => done(false));
      return;
    }
    this.listen(a);
    this.listen(b);
    const id = this.nextId++;
    let settled = false;
    const finish = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      this.pending.delete(id);
      cancel();
      if (ok) this.stats.answered++;
      else this.stats.timedOut++;
      done(ok);
    };
    this.pending.set(id, finish);
    const cancel = queue.setTimer(OPEN_TIMEOUT_MS, () => finish(false));
    this.stats.viaOverlay++;
    // No channel to route through: nothing can carry the offer (settled later, never inside connect()).
    if (!a.sendSignal(to, message(OFFER, id))) queue.setTimer(0, () => finish(false));
  }

  private listen(node: DhtNode): void {
    if (this.listening.has(node.selfHex)) return;
    this.listening.add(node.selfHex);
    node.on((e) => {
      if (e.type !== 'signal' || e.payload.length !== 5) return;
      const id = new DataView(e.payload.buffer, e.payload.byteOffset, 5).getUint32(1);
      if (e.payload[0] === OFFER) node.sendSignal(e.from, message(ANSWER, id));
      else if (e.payload[0] === ANSWER) this.pending.get(id)?.(true);
    });
  }
}

/** A swarm entered through several relays, and how its connections were negotiated. */
export interface FederatedSwarm {
  swarm: Swarm;
  entries: EntryRelays;
  signalling: OverlaySignalling;
}

/**
 * The simulator's federation (README, Deploying: several relays): `relays` relays whose own
 * peers joined in a chain (entry-relays.ts), every connection negotiated as above, so two
 * nodes no relay admitted both connect only if the overlay carries their offer and answer.
 * Returns once the relays' peers are up; newcomers are the caller's (swarm.grow).
 */
export async function startFederatedSwarm(
  relays: number,
  seed: number,
  opts: Omit<SwarmOptions, 'seed' | 'introducer'> = {},
): Promise<FederatedSwarm> {
  const entries = new EntryRelays(relays, seed ^ 0xe7);
  const swarm = new Swarm({ ...opts, seed, introducer: entries });
  const signalling = new OverlaySignalling(swarm, (a, b) => entries.shareRelay(a, b));
  swarm.network.negotiator = signalling;
  await entries.start(swarm);
  return { swarm, entries, signalling };
}

function message(kind: number, id: number): Uint8Array {
  const bytes = new Uint8Array(5);
  bytes[0] = kind;
  new DataView(bytes.buffer).setUint32(1, id);
  return bytes;
}
