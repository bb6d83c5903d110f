import type { NodeEvent } from '../../core/context.js';
import { toHex, type NodeId } from '../../core/id.js';
import { PAGE_FIND_CREDIT_BATCH, type FromWorker, type ValueAnswer } from '../bridge-protocol.js';

/**
 * The worker's side of the FIND_VALUEs its page answers (main/page-finds.ts; docs/ARCHITECTURE.md,
 * Threads). The node stays the owner of the answers: for each key it answered with records
 * lately (its gateway says so: `value:served`), the page holds a copy of the answer the
 * gateway would give now (gateway.ts, valueAnswer), and this keeps that copy the node's:
 * - `refresh` looks at every key held and sends the page the new answer when the records
 *   differ (a STORE, a removal, an expiry: the live records are other objects) or the
 *   routing table or the node's channels changed since (the closest nodes, which are linked),
 *   and takes the copy back once the node holds no records for the key, or the key was not
 *   asked for KEEP_MS. The worker runs it after each message from the page and before each
 *   frame of its own leaves (frame-port.ts), and on its tick, so a copy is never older than
 *   what the node has said since: a STORE's acknowledgement cannot reach the store's sender
 *   before the page has the answer with the record;
 * - each copy says until when it holds (the first of its records to expire here), so the page
 *   does not answer with a record the node would no longer give;
 * - the page's credit per neighbour comes back PAGE_FIND_CREDIT_BATCH at a time, for
 *   answers the node accounted for as its own (frame-port.ts).
 * At most MAX_KEYS keys are held; the one asked for least lately gives way.
 */

/** Keys whose answers the page holds at once. */
export const MAX_KEYS = 32;
/** A key not asked for this long is taken back (a forced discovery repeats well within it). */
export const KEEP_MS = 60_000;

/** What this reads of the node. */
export interface FindsHost {
  now(): number;
  /** The node's live records for the key, as its gateway answers with them (the store's own objects). */
  records(key: NodeId, kind: 'provider' | 'subscriber'): readonly unknown[];
  /** gateway.ts, valueAnswer: the node's answer now. */
  answer(key: NodeId, kind: 'provider' | 'subscriber'): ValueAnswer;
  /** When the first of the node's live records for the key expires here (Infinity: none). */
  firstExpiry(key: NodeId, kind: 'provider' | 'subscriber'): number;
  /** Bumped when the routing table's membership changes (routing-table.ts, version). */
  tableVersion(): number;
  post(m: FromWorker): void;
}

interface Copy {
  key: NodeId;
  kind: 'provider' | 'subscriber';
  lastAsked: number;
  /** What the page was sent (undefined: nothing yet). */
  records: readonly unknown[] | undefined;
  tableVersion: number;
  channels: number;
  until: number;
}

export class WorkerFinds {
  private readonly copies = new Map<string, Copy>();
  /** Bumped with each channel the node opens or closes: which contacts are linked changes. */
  private channels = 0;
  /** Answers the node accounted for, per neighbour, not yet given back as credit. */
  private readonly accounted = new Map<string, number>();

  constructor(private readonly host: FindsHost) {}

  /** The node answered a FIND_VALUE for (key, kind) with records: the page holds its answer from now on. */
  served(key: NodeId, kind: 'provider' | 'subscriber'): void {
    const slot = `${toHex(key)}:${kind}`;
    const now = this.host.now();
    const held = this.copies.get(slot);
    if (held !== undefined) {
      held.lastAsked = now;
      return;
    }
    if (this.copies.size >= MAX_KEYS) {
      let oldest: string | undefined;
      let at = Infinity;
      for (const [s, c] of this.copies) if (c.lastAsked < at) [oldest, at] = [s, c.lastAsked];
      if (oldest !== undefined) this.drop(oldest, this.copies.get(oldest)!);
    }
    this.copies.set(slot, { key, kind, lastAsked: now, records: undefined, tableVersion: -1, channels: -1, until: 0 });
    this.refresh();
  }

  /** A channel of the node's opened or closed. */
  neighbour(peer: string, open: boolean): void {
    this.channels++;
    if (!open) this.accounted.delete(peer);
  }

  /** The node took an answer the page gave `peer` as its own: credit back, a batch at a time. */
  accountedFor(peer: string): void {
    const n = (this.accounted.get(peer) ?? 0) + 1;
    if (n < PAGE_FIND_CREDIT_BATCH) return void this.accounted.set(peer, n);
    this.accounted.delete(peer);
    this.host.post({ t: 'finds', peer, credit: n });
  }

  /** Send the page every answer that changed; take back those the node no longer gives or nobody asked for. */
  refresh(): void {
    if (this.copies.size === 0) return;
    const { host } = this;
    const now = host.now();
    const version = host.tableVersion();
    for (const [slot, copy] of this.copies) {
      if (now - copy.lastAsked >= KEEP_MS) {
        this.drop(slot, copy);
        continue;
      }
      const records = host.records(copy.key, copy.kind);
      if (records.length === 0) {
        this.drop(slot, copy);
        continue;
      }
      const same =
        copy.records !== undefined &&
        copy.tableVersion === version &&
        copy.channels === this.channels &&
        now < copy.until &&
        sameItems(copy.records, records);
      if (same) continue;
      const answer = host.answer(copy.key, copy.kind);
      copy.records = answer.records;
      copy.tableVersion = version;
      copy.channels = this.channels;
      copy.until = Math.min(host.firstExpiry(copy.key, copy.kind), copy.lastAsked + KEEP_MS);
      host.post({ t: 'holds', key: toHex(copy.key), kind: copy.kind, answer, until: copy.until });
    }
  }

  private drop(slot: string, copy: Copy): void {
    this.copies.delete(slot);
    if (copy.records !== undefined) this.host.post({ t: 'holds', key: toHex(copy.key), kind: copy.kind });
  }
}

/** The same objects in the same order: the record store hands out the objects it holds. */
function sameItems(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What `findsOf` reads of the node and its bridge (a DhtNode and a FramePort are these). */
export interface FindsNode {
  readonly clock: { now(): number };
  readonly records: {
    get(key: NodeId, kind: 'provider' | 'subscriber', now: number): readonly unknown[];
    entriesForKey(key: NodeId, kind: 'provider' | 'subscriber', now?: number): ReadonlyArray<{ expiresAt: number }>;
  };
  readonly table: { readonly version: number };
  readonly gateway: { valueAnswer(rid: number, key: NodeId, kind: 'provider' | 'subscriber'): ValueAnswer };
  on(listener: (e: NodeEvent) => void): void;
}

export interface FindsBridge {
  onFound: ((peer: string) => void) | undefined;
  beforeSend: (() => void) | undefined;
  post(m: FromWorker): void;
}

/** The page's copies of `node`'s answers, kept through `bridge` (worker-api.ts ticks it: `refresh`). */
export function findsOf(node: FindsNode, bridge: FindsBridge): WorkerFinds {
  const finds = new WorkerFinds({
    now: () => node.clock.now(),
    records: (key, kind) => node.records.get(key, kind, node.clock.now()),
    answer: (key, kind) => {
      const { records, nodes, linked } = node.gateway.valueAnswer(0, key, kind);
      return linked === undefined ? { records, nodes } : { records, nodes, linked };
    },
    firstExpiry: (key, kind) => {
      let first = Infinity;
      for (const e of node.records.entriesForKey(key, kind, node.clock.now())) first = Math.min(first, e.expiresAt);
      return first;
    },
    tableVersion: () => node.table.version,
    post: (m) => bridge.post(m),
  });
  node.on((e) => {
    if (e.type === 'value:served') finds.served(e.key, e.kind);
    else if (e.type === 'neighbour:open' || e.type === 'neighbour:close')
      finds.neighbour(e.peer, e.type === 'neighbour:open');
  });
  bridge.onFound = (peer) => finds.accountedFor(peer);
  bridge.beforeSend = () => finds.refresh();
  return finds;
}
