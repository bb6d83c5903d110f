import type { IdHex, NodeId } from '../core/id.js';
import type { IdPool } from '../core/routing/routing-table.js';

/**
 * One copy of each node id for every routing table of a swarm (routing-table.ts IdPool).
 * Each of 10,000 simulated nodes knows some 200 others; with a copy per table the ids were
 * most of the simulator's memory. Ids of nodes that left stay: a few bytes each, and a
 * churn run meets only a few times N of them.
 */
export function sharedIdPool(): IdPool {
  const kept = new Map<IdHex, { readonly id: NodeId; readonly idHex: IdHex }>();
  return {
    keep(id, idHex) {
      let entry = kept.get(idHex);
      if (entry === undefined) {
        // A copy: the id handed in may be a view into a frame the pool must not keep alive.
        entry = { id: id.slice(), idHex };
        kept.set(idHex, entry);
      }
      return entry;
    },
    find: (idHex) => kept.get(idHex),
  };
}
