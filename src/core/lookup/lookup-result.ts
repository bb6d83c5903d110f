import type { NodeId } from '../id.js';
import type { SignedRecord } from '../records/records.js';

/**
 * What a lookup reports while it runs and returns when it ends (lookup.ts runs it). Kept
 * apart so the capabilities handed to node parts (context.ts) can name a lookup without
 * importing the code that runs one.
 */

export type LookupProgress =
  | { kind: 'path-start'; target: string; via: string }
  /** `path`: the nodes between the answering node and us, answering node first (hex). */
  | { kind: 'path-reply'; target: string; from: string; hops: number; records: number; nodes: number; path: string[] }
  | { kind: 'path-failed'; target: string; via: string; reason: string }
  | { kind: 'done'; target: string; hops: number; paths: number; answered: number; durationMs: number };

export interface LookupResult {
  /**
   * The k closest nodes found (hex), closest first; may include this node. After a
   * refined node lookup (the default) only nodes that answered this lookup themselves.
   */
  closest: string[];
  /** Verified records found (value lookups). */
  records: SignedRecord[];
  /** Hops of the fastest answer (0 when answered locally or directly). */
  hops: number;
  /** Hops summed over every answer, requests and replies (acks not counted). */
  messages: number;
  /** Routed paths started. */
  paths: number;
  answered: number;
  /** Nodes whose own answer reached us (hex). */
  responders: string[];
  /** Connections this node created while the lookup ran (the goal: zero). */
  connectionsOpened: number;
  durationMs: number;
  /**
   * For each responder that is not a neighbour: the hops its answer came back over, our
   * neighbour first and the responder last. A STORE sent along it goes the one way known
   * to reach that node without crossing a node that drops honest traffic.
   */
  routes: Map<string, NodeId[]>;
}

/**
 * What a thread that may settle a value lookup from its first answer needs (the requester's
 * page: docs/ARCHITECTURE.md, Threads, "A forced discovery is settled by the requester's
 * page"), told as each of the lookup's first paths leaves.
 */
export interface FindBrief {
  /** The key looked up (hex) and the kind of record. */
  key: string;
  kind: 'provider' | 'subscriber';
  /** The lookup's start (the node's clock, ms). */
  startedAt: number;
  /**
   * The NEAREST_HOLDERS nearest nodes to the key the lookup knew as it started (hex, closest
   * first): with the ids the first answer names, whom value-holders.ts counts as near.
   */
  near: string[];
  /** The records this node holds for the key itself, in the order the lookup's union keeps them. */
  held: SignedRecord[];
}

/** Told of each of a value lookup's first paths as it leaves (lookup.ts, findValue). */
export interface FindWatch {
  /** Path `rid` leaves through neighbour `firstHop` (hex); its frame is the next one sent to it. */
  sending(rid: number, firstHop: string, brief: FindBrief): void;
}

export interface LookupOptions {
  onProgress?: (p: LookupProgress) => void;
  /**
   * Ask the closest candidates themselves afterwards (default true: the whole k, as a
   * STORE needs). A number limits it to that many of the closest (a join only needs its
   * siblings confirmed); false skips it.
   */
  refine?: boolean | number;
  /** Parallel paths (default alpha). */
  paths?: number;
}
