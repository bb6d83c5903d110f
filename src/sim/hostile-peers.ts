import { encodeFrame } from '../core/wire/codec.js';
import { MAX_ENDPOINT_CHARS, MAX_METADATA_BYTES } from '../core/constants.js';
import type { DhtNode } from '../core/node/dht-node.js';
import type { Random, Transport } from '../core/environment.js';
import type { ReplyTo } from '../core/context.js';
import { toHex, type NodeId } from '../core/id.js';
import { sign, type Identity } from '../core/identity.js';
import { turnableGatewayOf } from './turnable-gateway.js';
import { recordSigningBytes, signRecord, type SignedRecord } from '../core/records/records.js';

/**
 * Misbehaving peers for the simulator (issue #7): forgers that answer value lookups with
 * forged records and push forged STOREs, liars that answer lookups with made-up contacts
 * or junk, and a flooder. Each is a real DhtNode with some of its behaviour replaced, so it
 * joins, routes and is routed through like any other node until it is caught.
 */

/** Every kind of forgery a storing node or a lookup must refuse, built from a genuine record. */
export function forgeries(
  genuine: SignedRecord,
  forger: Identity,
  now: number,
): Array<{ label: string; record: SignedRecord }> {
  const own = { kind: genuine.kind, key: genuine.key, endpoint: `peer:${forger.nodeIdHex}`, metadata: {}, ttl: 300 };
  const signedOver = (
    fields: Omit<SignedRecord, 'signature' | 'nodeId' | 'publicKey'>,
    nodeId: NodeId,
  ): SignedRecord => {
    const unsigned = { ...fields, publicKey: forger.publicKey };
    return { ...unsigned, nodeId, signature: sign(recordSigningBytes(unsigned), forger.secretKey) };
  };
  const flipped = Uint8Array.from(genuine.signature);
  flipped[7]! ^= 0x10;
  return [
    { label: 'altered metadata', record: { ...genuine, metadata: { ...genuine.metadata, forged: true } } },
    { label: 'altered endpoint', record: { ...genuine, endpoint: `peer:${forger.nodeIdHex}` } },
    { label: 'flipped signature bit', record: { ...genuine, signature: flipped } },
    { label: "someone else's node id", record: signedOver({ ...own, advertisedAt: now }, genuine.nodeId) },
    { label: 'expired', record: signRecord({ ...own, advertisedAt: now - 2 * 3_600_000 }, forger) },
    { label: 'future-dated', record: signRecord({ ...own, advertisedAt: now + 2 * 3_600_000 }, forger) },
    {
      label: 'oversized metadata',
      record: signedOver(
        { ...own, metadata: { pad: 'x'.repeat(MAX_METADATA_BYTES) }, advertisedAt: now },
        forger.nodeId,
      ),
    },
    {
      label: 'oversized endpoint',
      record: signedOver({ ...own, endpoint: 'e'.repeat(MAX_ENDPOINT_CHARS + 1), advertisedAt: now }, forger.nodeId),
    },
  ];
}

/**
 * Make `node` a forger: it stops every value lookup that passes through it and answers
 * with forgeries only (a black hole for the genuine records), and can push forged STOREs.
 */
export class Forger {
  /** Forgeries by key (hex); `forgeAll` fills it. */
  readonly forged = new Map<string, SignedRecord[]>();
  answered = 0;
  storesAccepted = 0;
  storesRefused = 0;

  constructor(
    readonly node: DhtNode,
    private readonly identity: Identity,
  ) {}

  /** From now on, answer value lookups with forgeries (`node` must be built with a turnable gateway: turnable-gateway.ts). */
  activate(): void {
    const gateway = turnableGatewayOf(this.node);
    gateway.turnTo({
      answersHere: (inner) => inner.type === 'FIND_VALUE',
      handleFindValue: (body, replyTo) => {
        this.answered++;
        const records = this.forged.get(toHex(body.key)) ?? [];
        gateway.answer(replyTo, 'FIND_VALUE_REPLY', {
          rid: body.rid,
          key: body.key,
          kind: body.kind,
          records,
          nodes: [],
        });
      },
    });
  }

  forgeAll(genuine: SignedRecord[]): void {
    for (const g of genuine) {
      const list = this.forged.get(toHex(g.key)) ?? [];
      list.push(...forgeries(g, this.identity, this.node.clock.now()).map((f) => f.record));
      this.forged.set(toHex(g.key), list);
    }
  }

  /** STORE every forgery at every neighbour and, routed, at the k closest nodes of its key. */
  async pushStores(): Promise<void> {
    const { node } = this;
    const sends: Array<Promise<void>> = [];
    for (const records of this.forged.values()) {
      const closest = (await node.findNode(records[0]!.key, { refine: false })).closest.filter(
        (hex) => hex !== node.selfHex,
      );
      const targets = new Set([...node.neighbours.keys(), ...closest]);
      for (const target of targets) {
        for (const record of records) {
          sends.push(
            node.messenger.queryPeer(target, 'STORE', { rid: node.messenger.newId(), record }).then(
              ({ reply }) => {
                if (reply.type === 'STORE_REPLY' && reply.body.ok) this.storesAccepted++;
                else this.storesRefused++;
              },
              () => undefined,
            ),
          );
        }
      }
    }
    await Promise.all(sends);
  }
}

/**
 * Make `node` a liar: lookups that reach it get made-up contacts that look closer to the
 * target than anyone real (no records), and requests straight from a neighbour get junk bytes.
 */
export class Liar {
  lies = 0;

  constructor(
    readonly node: DhtNode,
    private readonly random: Random,
    private readonly raw: Transport,
  ) {}

  /** From now on, lie to every lookup (`node` must be built with a turnable gateway: turnable-gateway.ts). */
  activate(): void {
    const { node, random } = this;
    const gateway = turnableGatewayOf(node);
    const madeUp = (target: Uint8Array): Uint8Array[] =>
      Array.from({ length: node.k }, () => {
        const id = Uint8Array.from(target);
        id.set(random.bytes(8), 24); // shares 192 bits with the target: closer than any real node
        return id;
      });
    const lie = (replyTo: ReplyTo, answer: () => void): void => {
      this.lies++;
      if (replyTo.kind === 'direct') this.raw.send(replyTo.peer, random.bytes(1 + Math.floor(random.next() * 64)));
      else answer();
    };
    gateway.turnTo({
      answersHere: (inner) => inner.type === 'FIND_VALUE',
      handleFindValue: (body, replyTo) =>
        lie(replyTo, () =>
          gateway.answer(replyTo, 'FIND_VALUE_REPLY', {
            rid: body.rid,
            key: body.key,
            kind: body.kind,
            records: [],
            nodes: madeUp(body.key),
          }),
        ),
      handleFindNode: (body, replyTo) =>
        lie(replyTo, () =>
          gateway.answer(replyTo, 'FIND_NODE_REPLY', {
            rid: body.rid,
            target: body.target,
            nodes: madeUp(body.target),
          }),
        ),
    });
  }
}

/**
 * A flooder: every `intervalMs` it sends `perInterval` frames of every kind to each open
 * channel through its raw transport (no shaping of its own), and dials one more victim
 * every `dialEveryMs` so the flood goes on after its neighbours have banned it.
 */
export class Flooder {
  sent = 0;
  private stopped = false;
  private dialling = true;

  constructor(
    readonly node: DhtNode,
    private readonly raw: Transport,
    private readonly random: Random,
    private readonly victims: () => string[],
  ) {}

  start(opts: { intervalMs: number; perInterval: number; dialEveryMs: number; service: string }): void {
    const { node, random } = this;
    const frames = (i: number): Uint8Array[] => [
      encodeFrame('FIND_VALUE', { rid: i, key: random.bytes(32), kind: 'provider' }),
      encodeFrame('FIND_NODE', { rid: i, target: random.bytes(32) }),
      encodeFrame('STORE', {
        rid: i,
        record: { kind: 'provider', key: random.bytes(32), signature: random.bytes(64) },
      }),
      encodeFrame('CALL', { rid: i, service: opts.service, args: i }),
      encodeFrame('RPC_ROUTE', {
        dest: random.bytes(32),
        src: random.bytes(32),
        hops: 0,
        max: 10,
        exact: true,
        path: [],
        hid: 0,
        body: encodeFrame('FIND_VALUE', { rid: i, key: random.bytes(32), kind: 'provider' }),
      }),
    ];
    const flood = (): void => {
      if (this.stopped) return;
      for (const peer of node.neighbours.keys()) {
        for (let i = 0; i < opts.perInterval; i += 5)
          for (const f of frames(i)) if (this.raw.send(peer, f)) this.sent++;
      }
      node.clock.setTimer(opts.intervalMs, flood);
    };
    const dial = (): void => {
      if (this.stopped || !this.dialling) return;
      const candidates = this.victims().filter((v) => !node.neighbours.has(v));
      if (candidates.length > 0) this.raw.connect(candidates[Math.floor(random.next() * candidates.length)]!);
      node.clock.setTimer(opts.dialEveryMs, dial);
    };
    flood();
    dial();
  }

  /** No new victims from now on: the ones it has keep being flooded. */
  stopDialling(): void {
    this.dialling = false;
  }

  stop(): void {
    this.stopped = true;
  }
}
