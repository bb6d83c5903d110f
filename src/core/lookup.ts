import type { DhtNode } from './dht-node.js';
import { compareDistance, fromHex, idsEqual, toHex, type NodeId } from './id.js';
import type { Message } from './messages.js';
import { checkRecord, type SignedRecord } from './records.js';
import type { ReplyInfo } from './requests.js';

/**
 * Lookups without a connection per contacted node (DESIGN.md §2): `alpha` routed
 * envelopes leave through the alpha neighbours closest to the target and travel greedily
 * to the node closest to it (or, for values, to the first node that holds one). Each
 * path's answer names the k closest contacts its last node knows; the lookup merges them.
 * Dead hops are retried hop by hop by the router, so a path only fails as a whole when
 * no live neighbour anywhere can carry it on.
 */

export type LookupProgress =
  | { kind: 'path-start'; target: string; via: string }
  /** `path`: the nodes between the answering node and us, answering node first (hex). */
  | { kind: 'path-reply'; target: string; from: string; hops: number; records: number; nodes: number; path: string[] }
  | { kind: 'path-failed'; target: string; via: string; reason: string }
  | { kind: 'done'; target: string; hops: number; paths: number; answered: number; durationMs: number };

export interface LookupResult {
  /** The k closest nodes found (hex), closest first; may include this node. */
  closest: string[];
  /** Verified records found (value lookups). */
  records: SignedRecord[];
  /** Hops of the fastest answering path (0 when answered locally). */
  hops: number;
  /** Hops summed over every answered path, requests and replies (acks not counted). */
  messages: number;
  paths: number;
  answered: number;
  /** Nodes whose own answer reached us (hex). */
  responders: string[];
  /** Connections this node created while the lookup ran (the goal: zero). */
  connectionsOpened: number;
  durationMs: number;
}

/**
 * The k closest nodes to `target`. After the routed paths answer, the closest candidates
 * that have not answered themselves are asked directly (routed to their exact id) for a
 * few rounds, as an iterative Kademlia lookup would; candidates that do not answer are
 * dropped. This is what puts a STORE on the true k closest, not on one node's view of them.
 */
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

export async function findNode(node: DhtNode, target: NodeId, opts: LookupOptions = {}): Promise<LookupResult> {
  const result = await lookup(node, target, undefined, opts.onProgress, opts.paths ?? node.alpha);
  if (result.answered === 0 || opts.refine === false) return result;
  const candidates = new Map(result.closest.map((hex) => [hex, fromHex(hex)] as const));
  const responded = new Set<string>([node.selfHex, ...result.responders]);
  const asked = new Set<string>(responded);
  const depth = typeof opts.refine === 'number' ? Math.min(opts.refine, node.k) : node.k;
  for (let round = 0; round < REFINE_ROUNDS; round++) {
    const top = [...candidates.entries()].sort((a, b) => compareDistance(target, a[1], b[1])).slice(0, depth);
    const next = top.filter(([hex]) => !asked.has(hex)).slice(0, REFINE_WIDTH);
    if (next.length === 0) break;
    await Promise.all(next.map(async ([hex]) => {
      asked.add(hex);
      try {
        const { reply, info } = await node.gateway.queryPeer(hex, 'FIND_NODE', { rid: node.requests.newId(), target }, node.hopTimeoutMs * 2);
        responded.add(hex);
        result.messages += 2 * info.hops;
        if (reply.type !== 'FIND_NODE_REPLY') return;
        for (const id of reply.body.nodes) {
          node.learn(id, false);
          const idHex = toHex(id);
          if (idHex !== node.selfHex && !candidates.has(idHex)) candidates.set(idHex, id);
        }
      } catch {
        candidates.delete(hex);
        node.count('lookups.candidateSilent');
      }
    }));
  }
  result.closest = [...candidates.entries()].sort((a, b) => compareDistance(target, a[1], b[1])).slice(0, node.k).map(([hex]) => hex);
  return result;
}

const REFINE_ROUNDS = 3;
const REFINE_WIDTH = 10;

export const findValue = (
  node: DhtNode, key: NodeId, kind: 'provider' | 'subscriber', onProgress?: (p: LookupProgress) => void,
): Promise<LookupResult> => lookup(node, key, kind, onProgress, node.alpha);

function lookup(
  node: DhtNode, target: NodeId, kind: 'provider' | 'subscriber' | undefined, onProgress: ((p: LookupProgress) => void) | undefined,
  paths: number,
): Promise<LookupResult> {
  const startedAt = node.clock.now();
  const connectionsBefore = node.connectionsCreated;
  const targetHex = toHex(target);
  const report = (p: LookupProgress): void => {
    onProgress?.(p);
    node.emit({ type: 'lookup', progress: p });
  };
  node.count(kind ? 'lookups.value' : 'lookups.node');

  const candidates = new Map<string, NodeId>([[node.selfHex, node.self]]);
  for (const c of node.table.closest(target, node.k)) candidates.set(c.idHex, c.id);
  const found = new Map<string, SignedRecord>();
  if (kind) for (const r of node.records.get(target, kind, startedAt)) keepNewest(found, r);

  const firstHops = [...node.neighbours.values()]
    .sort((a, b) => compareDistance(target, a.id, b.id))
    .slice(0, paths);

  let answered = 0;
  const responders = new Set<string>();
  let bestHops = Infinity;
  let messages = 0;
  let outstanding = firstHops.length;

  return new Promise((resolve) => {
    let finished = false;
    let cancelGrace: (() => void) | undefined;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      cancelGrace?.();
      const closest = [...candidates.entries()]
        .sort((a, b) => compareDistance(target, a[1], b[1]))
        .slice(0, node.k)
        .map(([hex]) => hex);
      const durationMs = node.clock.now() - startedAt;
      const hops = Number.isFinite(bestHops) ? bestHops : 0;
      if (answered === 0 && firstHops.length > 0) node.count('lookups.failed');
      report({ kind: 'done', target: targetHex, hops, paths: firstHops.length, answered, durationMs });
      resolve({
        closest, records: [...found.values()], hops, messages, paths: firstHops.length, answered, responders: [...responders],
        connectionsOpened: node.connectionsCreated - connectionsBefore, durationMs,
      });
    };

    const pathDone = (): void => {
      outstanding--;
      if (outstanding === 0) return finish();
      // A value is in hand: give the slower paths a short grace to add providers, then stop.
      if (kind && found.size > 0 && cancelGrace === undefined) {
        const elapsed = node.clock.now() - startedAt;
        cancelGrace = node.clock.setTimer(Math.max(20, elapsed), finish);
      }
    };

    const onReply = (reply: Message, info: ReplyInfo): void => {
      if (finished) return;
      answered++;
      bestHops = Math.min(bestHops, info.hops);
      messages += 2 * info.hops;
      node.learn(info.from, true);
      if (!idsEqual(info.from, node.self)) {
        candidates.set(toHex(info.from), info.from);
        responders.add(toHex(info.from));
      }
      let nodes: Uint8Array[] = [];
      let records = 0;
      if (reply.type === 'FIND_NODE_REPLY' || reply.type === 'FIND_VALUE_REPLY') nodes = reply.body.nodes;
      if (reply.type === 'FIND_VALUE_REPLY' && kind) {
        for (const raw of reply.body.records) {
          const checked = checkRecord(raw, node.clock.now(), node.verify);
          if (checked.ok && checked.record.kind === kind && idsEqual(checked.record.key, target)) {
            keepNewest(found, checked.record);
            records++;
          } else node.count('lookups.recordRejected');
        }
      }
      for (const id of nodes) {
        node.learn(id, false);
        if (!idsEqual(id, node.self)) candidates.set(toHex(id), id);
      }
      report({
        kind: 'path-reply', target: targetHex, from: toHex(info.from), hops: info.hops, records, nodes: nodes.length, path: info.path.map(toHex),
      });
      pathDone();
    };

    if (firstHops.length === 0) return finish();
    const timeoutMs = node.hopTimeoutMs * 3;
    for (const first of firstHops) {
      const rid = node.requests.newId();
      report({ kind: 'path-start', target: targetHex, via: first.idHex });
      node.requests.expect(rid, timeoutMs, onReply, (e) => {
        report({ kind: 'path-failed', target: targetHex, via: first.idHex, reason: e.code });
        if (!finished) pathDone();
      });
      if (kind) node.router.originate(target, false, 'FIND_VALUE', { rid, key: target, kind }, { firstHop: first.id });
      else node.router.originate(target, false, 'FIND_NODE', { rid, target }, { firstHop: first.id });
    }
  });
}

function keepNewest(found: Map<string, SignedRecord>, record: SignedRecord): void {
  const owner = toHex(record.nodeId);
  const current = found.get(owner);
  if (current === undefined || record.advertisedAt > current.advertisedAt) found.set(owner, record);
}
