import type { Messaging, NodeBasics, Neighbours } from '../context.js';
import { ErrorCode, isErrorCode, MeshError } from '../errors.js';
import { MAX_HOPS } from '../constants.js';
import { fromHex, type NodeId } from '../id.js';
import type { Message } from '../wire/messages.js';
import type { LookupOptions, LookupProgress, LookupResult } from '../lookup/lookup-result.js';
import type { Placements } from '../records/placements.js';
import type { SignedRecord, SignedRemoval } from '../records/records.js';

/**
 * Storing at the k closest nodes, as Kademlia means it: a lookup for the key first
 * (macula stored at whatever its local table held: docs/ARCHITECTURE.md, Semantics), then a STORE to each of the k
 * closest, routed over the open channels. Every refusal comes back with its code.
 */
export interface StoreOutcome {
  /** Nodes that accepted (this node included when it is among the k closest). */
  stored: number;
  attempted: number;
  /** Refusal codes by node (hex); timeouts are listed as TIMEOUT. */
  refused: Array<{ node: string; code: string }>;
  hops: number;
}

/** What storing at the k closest uses of the node (a DhtNode is one). */
export interface StoreHost extends NodeBasics {
  readonly neighbours: Pick<Neighbours, 'has'>;
  /** Where our STOREs put copies, for a removal to follow them. */
  readonly placements: Pick<Placements, 'note' | 'take'>;
  readonly messenger: Pick<Messaging, 'newId' | 'wait' | 'routeRequest' | 'queryPeer'>;
  findNode(target: NodeId, opts?: LookupOptions): Promise<LookupResult>;
}

export async function storeAtClosest(
  node: StoreHost,
  record: SignedRecord,
  k = node.k,
  onProgress?: (p: LookupProgress) => void,
): Promise<StoreOutcome> {
  return fanOut(node, record.key, k, 'STORE', record, onProgress);
}

export async function removeAtClosest(node: StoreHost, removal: SignedRemoval, k = node.k): Promise<StoreOutcome> {
  return fanOut(node, removal.key, k, 'REMOVE', removal);
}

/**
 * A removal for a peer that is closing: straight to the nodes our STOREs put copies on
 * (placements.ts), with no lookup first, so that it fits in the moment a closing tab has.
 * Each of them passes it on to where it handed copies (gateway.ts, handleRemove). With no
 * placement known (nothing stored from here this session) it takes the lookup's way.
 */
export async function removeAtPlacements(node: StoreHost, removal: SignedRemoval): Promise<StoreOutcome> {
  const targets = node.placements.take(removal.kind, removal.key, node.self).filter((t) => t !== node.selfHex);
  if (targets.length === 0) return removeAtClosest(node, removal);
  const refused: StoreOutcome['refused'] = [];
  let stored = 0;
  await Promise.all(
    targets.map(async (target) => {
      try {
        const { reply } = await node.messenger.queryPeer(target, 'REMOVE', { rid: node.messenger.newId(), removal });
        if (reply.type === 'STORE_REPLY' && reply.body.ok) stored++;
        else
          refused.push({
            node: target,
            code: reply.type === 'STORE_REPLY' ? (reply.body.code ?? 'REFUSED') : 'MALFORMED',
          });
      } catch (e) {
        refused.push({ node: target, code: (e as MeshError).code ?? ErrorCode.TIMEOUT });
      }
    }),
  );
  node.count('publish.removed', stored);
  return { stored, attempted: targets.length, refused, hops: 0 };
}

/**
 * With colluders about (issue #7), two things keep a STORE on honest nodes: the targets
 * are only nodes that answered the lookup themselves (a made-up id is never one), and each
 * STORE travels the route that answer came back on.
 */
async function fanOut(
  node: StoreHost,
  key: NodeId,
  k: number,
  type: 'STORE' | 'REMOVE',
  payload: SignedRecord | SignedRemoval,
  onProgress?: (p: LookupProgress) => void,
): Promise<StoreOutcome> {
  const lookup = await node.findNode(key, onProgress ? { onProgress } : {});
  const targets = lookup.closest.slice(0, k);
  // A removal also goes wherever our STOREs put a copy, found by this lookup or not (placements.ts).
  if (type === 'REMOVE') {
    for (const hex of node.placements.take(payload.kind, key, node.self))
      if (!targets.includes(hex) && hex !== node.selfHex) targets.push(hex);
  }
  let refused: StoreOutcome['refused'] = [];
  let stored = 0;
  const send = async (target: string): Promise<void> => {
    const body = (rid: number) => (type === 'STORE' ? { rid, record: payload } : { rid, removal: payload });
    try {
      const { reply } = await sendAlongRoute(node, target, lookup.routes.get(target), type, body);
      if (reply.type === 'STORE_REPLY' && reply.body.ok) {
        stored++;
        if (type === 'STORE') node.placements.note(payload.kind, key, node.self, target);
      } else
        refused.push({
          node: target,
          code: reply.type === 'STORE_REPLY' ? (reply.body.code ?? 'REFUSED') : 'MALFORMED',
        });
    } catch (e) {
      refused.push({ node: target, code: (e as MeshError).code ?? ErrorCode.TIMEOUT });
    }
  };
  await Promise.all(targets.map(send));
  // A removal that did not arrive leaves the record served until its TTL: worth one more try.
  const lost = type === 'REMOVE' ? refused.filter((r) => RETRYABLE.has(r.code)).map((r) => r.node) : [];
  if (lost.length > 0) {
    refused = refused.filter((r) => !RETRYABLE.has(r.code));
    node.count('publish.removeRetried', lost.length);
    await Promise.all(lost.map(send));
  }
  node.count(type === 'STORE' ? 'publish.stored' : 'publish.removed', stored);
  return { stored, attempted: targets.length, refused, hops: lookup.hops };
}

/**
 * Send to a node the lookup proved: first along the route its answer came back on (a node
 * that drops honest traffic on the greedy way there cannot swallow the STORE), then, if
 * that goes unanswered, the ordinary way (greedy routing, or straight to a neighbour).
 */
async function sendAlongRoute(
  node: StoreHost,
  target: string,
  route: NodeId[] | undefined,
  type: 'STORE' | 'REMOVE',
  body: (rid: number) => object,
): Promise<{ reply: Message }> {
  if (route !== undefined && route.length > 0 && route.length < MAX_HOPS && !node.neighbours.has(target)) {
    const rid = node.messenger.newId();
    const waiting = node.messenger.wait(rid, node.hopTimeoutMs * 2);
    node.messenger.routeRequest(fromHex(target), type, body(rid) as never, { via: route });
    try {
      return await waiting;
    } catch {
      node.count('publish.routeRetried');
    }
  }
  return node.messenger.queryPeer(target, type, body(node.messenger.newId()) as never);
}

const RETRYABLE: ReadonlySet<string> = new Set([ErrorCode.TIMEOUT, ErrorCode.NOT_CONNECTED]);

/** Turn an outcome where nobody accepted into the typed error of the most common refusal. */
export function requireStored(outcome: StoreOutcome, what: string): StoreOutcome {
  if (outcome.stored > 0) return outcome;
  const counts = new Map<string, number>();
  for (const r of outcome.refused) counts.set(r.code, (counts.get(r.code) ?? 0) + 1);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? ErrorCode.UNREACHABLE;
  const code = isErrorCode(top) ? top : ErrorCode.UNREACHABLE;
  throw new MeshError(code, `${what}: refused by all ${outcome.attempted} storing nodes (${top})`, {
    refused: outcome.refused,
  });
}
