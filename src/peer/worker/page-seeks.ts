import type { NodeEvent } from '../../core/context.js';
import { keyForName, type NodeId } from '../../core/id.js';
import type { FirstPaths } from '../../core/lookup/lookup-result.js';
import { toProviderInfo, type SignedRecord } from '../../core/records/records.js';
import type { FromWorker, SeekPlan } from '../bridge-protocol.js';

/**
 * The worker's side of the forced discoveries whose first FIND_VALUEs the requester's page
 * sends itself (docs/ARCHITECTURE.md, Threads: "A forced discovery starts on the requester's
 * page"; the page's side is main/page-seeks.ts). For each service the page discovered with
 * `forceRefresh` lately, the page holds what a lookup of it would send first if it started
 * now (lookup.ts, firstPaths: the first hops, the nodes nearest the key, the records this
 * node holds), and this keeps that copy the node's:
 * - `refresh` works the plan out again when anything it depends on may have changed (the
 *   routing table's members, the node's channels, the records it holds for the key, and on
 *   each tick for the neighbours' verdicts, which have no version) and sends it when it
 *   differs from what the page holds; it takes the copy back once the service was not
 *   discovered for KEEP_MS. The worker runs it after each message from the page, before each
 *   frame of its own leaves (frame-port.ts, beforeSend) and on its tick, so the page never
 *   starts from a plan older than what the node has said since.
 * The page sends those FIND_VALUEs and says so in order with the frames (`sought`); the
 * worker then runs the lookup with them as its first round (worker-api.ts, startSought).
 */

/** Services whose plans the page holds at once; past this the one discovered least lately gives way. */
export const MAX_SEEKS = 32;
/** A plan not used for this long is taken back. */
export const KEEP_MS = 60_000;

/** What this reads of the node. */
export interface SeeksHost {
  now(): number;
  firstPaths(key: NodeId): FirstPaths;
  /** The node's live records for the key (the store's own objects: a change is another object). */
  records(key: NodeId): readonly unknown[];
  /** Bumped when the routing table's membership changes (routing-table.ts, version). */
  tableVersion(): number;
  post(m: FromWorker): void;
}

interface Copy {
  key: NodeId;
  lastAsked: number;
  /** What the plan was worked out from (undefined: not yet). */
  records: readonly unknown[] | undefined;
  tableVersion: number;
  channels: number;
  ticks: number;
  /** The plan the page holds, as compared (undefined: none sent). */
  said: string | undefined;
}

export class WorkerSeeks {
  private readonly copies = new Map<string, Copy>();
  /** Bumped with each channel the node opens or closes, and each tick. */
  private channels = 0;
  private ticks = 0;

  constructor(private readonly host: SeeksHost) {}

  /** The page discovered `service` with forceRefresh: it holds the plan of its next one from now on. */
  sought(service: string): void {
    const now = this.host.now();
    const held = this.copies.get(service);
    if (held !== undefined) {
      held.lastAsked = now;
      return;
    }
    if (this.copies.size >= MAX_SEEKS) {
      let oldest: string | undefined;
      let at = Infinity;
      for (const [s, c] of this.copies) if (c.lastAsked < at) [oldest, at] = [s, c.lastAsked];
      if (oldest !== undefined) this.drop(oldest, this.copies.get(oldest)!);
    }
    const copy: Copy = {
      key: keyForName(service),
      lastAsked: now,
      records: undefined,
      tableVersion: -1,
      channels: -1,
      ticks: -1,
      said: undefined,
    };
    this.copies.set(service, copy);
    this.refresh();
  }

  /** A channel of the node's opened or closed: the first hops may differ. */
  neighbour(): void {
    this.channels++;
  }

  /** The worker's tick: neighbours' verdicts (which order the first hops) are looked at again. */
  tick(): void {
    this.ticks++;
    this.refresh();
  }

  /** Send the page each plan that changed; take back those not used lately. */
  refresh(): void {
    if (this.copies.size === 0) return;
    const { host } = this;
    const now = host.now();
    const version = host.tableVersion();
    for (const [service, copy] of this.copies) {
      if (now - copy.lastAsked >= KEEP_MS) {
        this.drop(service, copy);
        continue;
      }
      const records = host.records(copy.key);
      if (
        copy.records !== undefined &&
        copy.tableVersion === version &&
        copy.channels === this.channels &&
        copy.ticks === this.ticks &&
        sameItems(copy.records, records)
      )
        continue;
      copy.records = records;
      copy.tableVersion = version;
      copy.channels = this.channels;
      copy.ticks = this.ticks;
      const plan = planOf(host.firstPaths(copy.key));
      const said = JSON.stringify(plan);
      if (said === copy.said) continue;
      copy.said = said;
      host.post({ t: 'seeks', service, plan });
    }
  }

  private drop(service: string, copy: Copy): void {
    this.copies.delete(service);
    if (copy.said !== undefined) this.host.post({ t: 'seeks', service });
  }
}

/** The page's copy of a lookup's start: records as the app sees them (the page checks nothing of its own here). */
function planOf(first: FirstPaths): SeekPlan {
  const { brief } = first;
  return {
    hops: first.hops,
    brief: { key: brief.key, kind: brief.kind, near: brief.near, held: brief.held.map(toProviderInfo) },
  };
}

/** The same objects in the same order: the record store hands out the objects it holds. */
function sameItems(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What `seeksOf` reads of the node and its bridge (a DhtNode and a FramePort are these). */
export interface SeeksNode {
  readonly clock: { now(): number };
  readonly records: { get(key: NodeId, kind: 'provider', now: number): readonly SignedRecord[] };
  readonly table: { readonly version: number };
  firstPaths(key: NodeId, kind: 'provider'): FirstPaths;
  on(listener: (e: NodeEvent) => void): void;
}

export interface SeeksBridge {
  beforeSend: (() => void) | undefined;
  post(m: FromWorker): void;
}

/** The page's plans of `node`'s forced discoveries, kept through `bridge` (worker-api.ts ticks it). */
export function seeksOf(node: SeeksNode, bridge: SeeksBridge): WorkerSeeks {
  const seeks = new WorkerSeeks({
    now: () => node.clock.now(),
    firstPaths: (key) => node.firstPaths(key, 'provider'),
    records: (key) => node.records.get(key, 'provider', node.clock.now()),
    tableVersion: () => node.table.version,
    post: (m) => bridge.post(m),
  });
  node.on((e) => {
    if (e.type === 'neighbour:open' || e.type === 'neighbour:close') seeks.neighbour();
  });
  const before = bridge.beforeSend;
  bridge.beforeSend = () => {
    before?.();
    seeks.refresh();
  };
  return seeks;
}
