import { randomIdInBucket, type NodeId } from '../id.js';
import type { LookupHost } from './lookup-host.js';
import { LookupRun } from './lookup-run.js';
import type { FindWatch, LookupOptions, LookupProgress, LookupResult } from './lookup-result.js';

/**
 * Lookups without a connection per contacted node (docs/ARCHITECTURE.md, The neighbour-set rule): `alpha` routed
 * envelopes leave through the alpha neighbours closest to the target and travel greedily
 * to the node closest to it (or, for values, to the first node that holds one). Each
 * path's answer names the k closest contacts its last node knows. Dead hops are retried
 * hop by hop by the router, so a path only fails as a whole when no live neighbour
 * anywhere can carry it on.
 *
 * Against colluding nodes (S/Kademlia, issue #7) a lookup does not take a path's word:
 * - ids named in answers are candidates until they answer themselves (candidates.ts);
 *   node lookups return, and STOREs go to, only nodes that did;
 * - later paths and queries leave through first hops that no earlier path used and that
 *   were not on a path that failed or came back empty (disjoint-paths.ts);
 * - a value lookup that found nothing does not stop at that empty answer: it asks the
 *   closest candidates themselves (alpha at a time) until a record turns up or the
 *   VALUE_QUORUM closest nodes that answered all said they have none.
 * With every node honest, a value lookup whose key holds records costs what it did.
 */

export type { FindBrief, FindWatch, LookupOptions, LookupProgress, LookupResult } from './lookup-result.js';
export type { LookupHost } from './lookup-host.js';

/** Direct queries in flight at once after the paths of a node lookup. */
const REFINE_WIDTH = 10;
/** No new direct query starts after this long: a lookup under attack ends with what it has. */
export const LOOKUP_DEADLINE_MS = 60_000;
/** A value lookup believes "no records" once this many of the closest nodes said so themselves. */
const VALUE_QUORUM = 3;

/**
 * The k closest nodes to `target`. After the routed paths answer, the closest candidates
 * that have not answered themselves are asked directly (routed to their exact id), up to
 * REFINE_WIDTH at a time as an iterative Kademlia lookup would, until the closest all answered; candidates that stay
 * silent are dropped. This is what puts a STORE on the true k closest, and only on nodes
 * that exist.
 */
export async function findNode(host: LookupHost, target: NodeId, opts: LookupOptions = {}): Promise<LookupResult> {
  const run = new LookupRun(host, target, undefined, opts.onProgress);
  host.count('lookups.node');
  await run.round(run.hops.fresh(target, opts.paths ?? host.alpha), [], 'FIND_NODE');
  if (opts.refine === false) return finish(run, run.candidates.closestAny(host.k));
  const depth = typeof opts.refine === 'number' ? Math.min(opts.refine, host.k) : host.k;
  await run.pump(depth, REFINE_WIDTH, 'FIND_NODE', () => false, LOOKUP_DEADLINE_MS);
  return finish(run, run.candidates.closestAnswered(host.k, host.self));
}

/** `watch`: told of the first round's paths as they leave (lookup-result.ts, FindWatch). */
export async function findValue(
  host: LookupHost,
  key: NodeId,
  kind: 'provider' | 'subscriber',
  onProgress?: (p: LookupProgress) => void,
  watch?: FindWatch,
): Promise<LookupResult> {
  const run = new LookupRun(host, key, kind, onProgress, watch);
  host.count('lookups.value');
  const first = run.round(run.hops.fresh(key, host.alpha), [], 'FIND_VALUE');
  // The round sent its paths as it began; later ones are the worker's alone to settle.
  run.unwatch();
  await first;
  const believedEmpty = (): boolean => run.candidates.settled(VALUE_QUORUM);
  if (run.found.size === 0 && !believedEmpty()) {
    host.count('lookups.valueDeepened');
    // Fresh paths once, alongside the candidates' own answers, which are what is left to trust.
    const fresh = run.round(run.hops.fresh(key, host.alpha), [], 'FIND_VALUE');
    const asked = run.pump(
      VALUE_QUORUM + host.alpha,
      host.alpha,
      'FIND_VALUE',
      () => run.found.size > 0 || believedEmpty(),
      LOOKUP_DEADLINE_MS,
    );
    await Promise.all([fresh, asked]);
  }
  return finish(run, run.candidates.closestAnswered(host.k, host.self));
}

function finish(run: LookupRun, closest: string[]): LookupResult {
  const host = run.host;
  run.finish();
  const durationMs = host.clock.now() - run.startedAt;
  const hops = Number.isFinite(run.bestHops) ? run.bestHops : 0;
  if (run.answered === 0 && run.pathsStarted > 0) host.count('lookups.failed');
  run.report({
    kind: 'done',
    target: run.targetHex,
    hops,
    paths: run.pathsStarted,
    answered: run.answered,
    durationMs,
  });
  return {
    closest,
    records: [...run.found.values()],
    hops,
    messages: run.messages,
    paths: run.pathsStarted,
    answered: run.answered,
    responders: [...run.responders],
    connectionsOpened: host.connectionsCreated() - run.connectionsBefore,
    durationMs,
    routes: run.routes,
  };
}

/**
 * Look a bucket up again: a random id in it, one path, and its closest named node asked
 * itself (one query, and it catches a referrer that made that node up).
 */
export function refreshBucket(host: LookupHost, index: number): Promise<unknown> {
  host.table.touchBucket(index, host.clock.now());
  const target = randomIdInBucket(host.self, index, (n) => host.random.bytes(n));
  return findNode(host, target, { refine: 1, paths: 1 }).catch(() => undefined);
}
