import { decodeFrame, type Frame } from '../core/wire/codec.js';
import { DhtNode } from '../core/node/dht-node.js';
import { seededRandom, type Random, type Transport } from '../core/environment.js';
import { DECODE_ERRORS, forgeries, makeFrame, type Category, type Material } from './fuzz-frames.js';
import { idsEqual, keyForName, toHex } from '../core/id.js';
import { createIdentity, type Identity } from '../core/identity.js';
import { messageNames } from '../core/wire/messages.js';
import {
  checkRecord,
  signRecord,
  signRemoval,
  type SignedRecord,
  type SignedRemoval,
} from '../core/records/records.js';
import { Swarm } from './swarm.js';

/**
 * Fuzzing a live node (src/core/fuzz.test.ts with 100,000 frames, bench/fuzz.bench.ts with
 * 1,000,000): frames from src/core/fuzz-frames.ts go through decodeFrame and, from eight
 * fake open neighbours, into the receive path of a real node of a seeded 16-node swarm on
 * virtual time, whose real neighbours carry on whatever it forwards or answers. The target
 * runs without flood limits, so every frame reaches the decoder and the handlers.
 *
 * `violations` lists every broken invariant: nothing thrown, decoder refusals named and
 * counted by the node, counters that add up, only genuine verified records held anywhere,
 * well-formed output, valid routing tables, pending tables drained once the input stops.
 */
export interface FuzzOutcome {
  swarm: Swarm;
  target: DhtNode;
  fakeIds: string[];
  /** A fake neighbour kept out of the fuzzing, for checks afterwards (the others may be refused as unreliable by then). */
  spareFake: string;
  /** Frames the target sent its fake neighbours since the last check (cleared as they are checked). */
  sentToFakes: Array<{ peer: string; frame: Uint8Array }>;
  sentToFakesTotal: number;
  random: Random;
  stranger: Identity;
  genuine: SignedRecord[];
  errors: Map<string, number>;
  categories: Map<Category, number>;
  decodedOk: number;
  malformed: number;
  /** Records the target holds at the end (all genuine). */
  held: number;
  peakPendingRequests: number;
  peakPendingHops: number;
  elapsedMs: number;
  violations: string[];
}

export async function runFuzz(frames: number, seed: number, onProgress?: (done: number) => void): Promise<FuzzOutcome> {
  const r = seededRandom(seed);
  const fakeIds = Array.from({ length: 8 }, (_, i) => createIdentity(seededRandom(9_000 + i).bytes).nodeIdHex);
  const spareFake = createIdentity(seededRandom(9_008).bytes).nodeIdHex;
  const fakes = new Set([...fakeIds, spareFake]);
  const sentToFakes: FuzzOutcome['sentToFakes'] = [];
  let targetHex: string | undefined;
  const swarm = fuzzSwarm(seed, fakes, sentToFakes, () => targetHex);
  await swarm.grow(16, 8);
  await swarm.run(5_000);
  const target = swarm.alive()[0]! as CountingNode;
  targetHex = target.selfHex;
  const fromSwarmBefore = target.fromSwarm;
  const inBefore = target.stats()['messages.in'] ?? 0;

  const owners = Array.from({ length: 4 }, (_, i) => createIdentity(seededRandom(9_100 + i).bytes));
  const genuine = owners.flatMap((o, i) =>
    ['a', 'b'].map((s) =>
      signRecord(
        {
          kind: s === 'a' ? 'provider' : 'subscriber',
          key: keyForName(`fuzz.${i}.${s}`),
          endpoint: `peer:${o.nodeIdHex}`,
          metadata: { v: 1, owner: i },
          advertisedAt: swarm.now,
          ttl: 300,
        },
        o,
      ),
    ),
  );
  const stranger = createIdentity(seededRandom(9_200).bytes);
  const removal: SignedRemoval = signRemoval(
    { kind: 'provider', key: genuine[0]!.key, removedAt: swarm.now + 10_000 },
    owners[0]!,
  );
  const removals: unknown[] = [
    removal,
    { ...removal, removedAt: removal.removedAt + 1 },
    { ...removal, nodeId: stranger.nodeId },
    { ...removal, key: genuine[2]!.key },
    {
      ...signRemoval({ kind: 'provider', key: genuine[2]!.key, removedAt: swarm.now }, stranger),
      publicKey: owners[1]!.publicKey,
    },
  ];
  const m: Material = { target, fakes: fakeIds, genuine, forged: forgeries(genuine, stranger), removals };

  const violations: string[] = [];
  const note = (problem: string): void => {
    if (violations.length < 50) violations.push(problem);
  };
  const errors = new Map<string, number>();
  const categories = new Map<Category, number>();
  let malformed = 0;
  let decodedOk = 0;
  let sentToFakesTotal = 0;
  let peakPendingRequests = 0;
  let peakPendingHops = 0;
  const checkOutput = (): void => {
    for (const s of sentToFakes)
      if (!decodeFrame(s.frame).ok) note(`the target sent ${s.peer.slice(0, 8)} an undecodable frame`);
    sentToFakesTotal += sentToFakes.length;
    sentToFakes.length = 0;
  };

  const started = performance.now();
  for (let i = 0; i < frames; i++) {
    const { frame, category } = makeFrame(r, m);
    categories.set(category, (categories.get(category) ?? 0) + 1);
    let result: ReturnType<typeof decodeFrame> | undefined;
    try {
      result = decodeFrame(frame);
    } catch (e) {
      note(`decodeFrame #${i} threw: ${String(e)}`);
    }
    if (result?.ok === true) {
      decodedOk++;
      if (result.message.type !== messageNames.get(frame[1]!))
        note(`#${i} decoded as another type than its header names`);
    } else if (result !== undefined) {
      errors.set(result.error, (errors.get(result.error) ?? 0) + 1);
      malformed++;
      if (!DECODE_ERRORS.has(result.error)) note(`#${i} refused with an unnamed error ${result.error}`);
      if (category === 'valid' || category === 'route' || category === 'records')
        note(`#${i} ${category} refused: ${result.error}`);
    }
    const peer = fakeIds[i % fakeIds.length]!;
    // Persistent junk gets a fake neighbour disconnected; open it again to keep fuzzing the handlers.
    if (!target.neighbours.has(peer)) target.onChannelOpen(peer);
    try {
      target.onFrame(peer, frame);
    } catch (e) {
      note(`onFrame #${i} (${category}) threw: ${String(e)}`);
    }
    if (i % 500 === 499) {
      peakPendingRequests = Math.max(peakPendingRequests, target.messenger.requests.size);
      peakPendingHops = Math.max(peakPendingHops, target.messenger.router.pendingHops);
      checkOutput();
      await swarm.run(25);
      onProgress?.(i + 1);
    }
  }
  const elapsedMs = performance.now() - started;
  // Long enough for the neighbour tests of the last fake channels to run out (neighbour-vetting.ts).
  await swarm.run(90_000);
  checkOutput();

  const stats = target.stats();
  if (stats['frames.malformed'] !== malformed)
    note(`frames.malformed ${stats['frames.malformed']} ≠ ${malformed} refused by the decoder`);
  // Every frame the decoder accepted, and every frame from the honest swarm, was counted in once.
  const counted = (stats['messages.in'] ?? 0) - inBefore;
  if (counted !== decodedOk + target.fromSwarm - fromSwarmBefore) {
    note(
      `messages.in grew by ${counted} ≠ ${decodedOk} decoded + ${target.fromSwarm - fromSwarmBefore} from the swarm`,
    );
  }
  if ((stats['frames.fromStranger'] ?? 0) !== 0)
    note(`${stats['frames.fromStranger']} frames counted as from strangers`);
  if (target.messenger.requests.size !== 0)
    note(`${target.messenger.requests.size} requests still pending after the input stopped`);
  if (target.messenger.router.pendingHops !== 0)
    note(`${target.messenger.router.pendingHops} hops still awaiting acknowledgement after the input stopped`);
  for (const node of swarm.alive()) {
    if (node !== target && (node.stats()['frames.malformed'] ?? 0) > 0)
      note(`junk reached ${node.selfHex.slice(0, 8)} through the target`);
  }
  const genuineSigs = new Set(genuine.map((g) => toHex(g.signature)));
  let held = 0;
  for (const node of swarm.alive()) {
    for (const { key, kind } of node.records.slotKeys()) {
      for (const { record } of node.records.entriesForKey(key, kind)) {
        if (!checkRecord(record, swarm.now, swarm.verify).ok)
          note(`${node.selfHex.slice(0, 8)} holds a record that fails checkRecord`);
        if (!idsEqual(record.key, key) || record.kind !== kind)
          note(`${node.selfHex.slice(0, 8)} holds a record under the wrong slot`);
        if (!genuineSigs.has(toHex(record.signature)))
          note(`${node.selfHex.slice(0, 8)} holds a record that is not one of the genuine ones`);
        if (node === target) held++;
      }
    }
    for (const c of node.table.all()) {
      if (!(c.id instanceof Uint8Array) || c.id.length !== 32 || c.idHex !== toHex(c.id))
        note(`${node.selfHex.slice(0, 8)} has a malformed contact`);
    }
  }
  return {
    swarm,
    target,
    fakeIds,
    spareFake,
    sentToFakes,
    sentToFakesTotal,
    random: r,
    stranger,
    genuine,
    errors,
    categories,
    decodedOk,
    malformed,
    held,
    peakPendingRequests,
    peakPendingHops,
    elapsedMs,
    violations,
  };
}

/** Counts the frames its real (swarm) neighbours deliver, so the fuzzed node's counters can be balanced. */
class CountingNode extends DhtNode {
  fromSwarm = 0;

  constructor(
    opts: ConstructorParameters<typeof DhtNode>[0],
    private readonly fakes: ReadonlySet<string>,
  ) {
    super(opts);
  }

  override onFrame(peer: string, frame: Frame): void {
    if (!this.fakes.has(peer) && this.neighbours.has(peer)) this.fromSwarm++;
    super.onFrame(peer, frame);
  }
}

/**
 * A swarm whose nodes send to `fakes` as if a channel were open, recording what `target`
 * sends them (the fakes are the fuzzing neighbours: only the target has them open).
 */
function fuzzSwarm(
  seed: number,
  fakes: ReadonlySet<string>,
  sentToFakes: FuzzOutcome['sentToFakes'],
  targetHex: () => string | undefined,
): Swarm {
  return new Swarm({
    seed,
    create: (deps) => {
      const inner = deps.transport;
      const self = deps.identity.nodeIdHex;
      const transport: Transport = {
        send: (peer, frame) => {
          if (!fakes.has(peer)) return inner.send(peer, frame);
          if (self !== targetHex()) return false;
          sentToFakes.push({ peer, frame });
          return true;
        },
        connect: (peer) => {
          if (!fakes.has(peer)) inner.connect(peer);
        },
        disconnect: (peer) => {
          if (!fakes.has(peer)) inner.disconnect(peer);
        },
      };
      const node = new CountingNode({ ...deps, transport, flood: false }, fakes);
      return { node, tick: () => node.tick() };
    },
  });
}
