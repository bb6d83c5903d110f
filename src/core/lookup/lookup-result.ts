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
