import { toHex, type NodeId } from '../id.js';
import type { RecordKind } from './records.js';

/** Nodes remembered per record: a few republishes' worth of k closest. */
const MAX_PER_RECORD = 60;
/** Records remembered at all; the oldest are forgotten first (they are the likeliest to have expired). */
const MAX_RECORDS = 10_000;

/**
 * Where copies of a record went from here: the STOREs an owner's publish placed, and the
 * hand-offs replication made to newcomers. A removal follows the same edges (the owner
 * sends it to its placements, every holder that accepts it passes it on to its own), so it
 * reaches copies that a lookup for the key would no longer find: holders pushed out of
 * the k closest as the network grew, or replicas placed while a partition hid the others.
 */
export class Placements {
  /** Made at the first placement: only nodes that publish or hand records over fill it (an empty Map is ~0.2 KB). */
  private byRecord: Map<string, Set<string>> | undefined;

  note(kind: RecordKind, key: NodeId, owner: NodeId, target: string): void {
    const id = recordId(kind, key, owner);
    const byRecord = (this.byRecord ??= new Map());
    let set = byRecord.get(id);
    if (set === undefined) {
      byRecord.set(id, (set = new Set()));
      if (byRecord.size > MAX_RECORDS) byRecord.delete(byRecord.keys().next().value!);
    } else set.delete(target);
    set.add(target);
    if (set.size > MAX_PER_RECORD) set.delete(set.values().next().value!);
  }

  /** The nodes a copy went to, forgotten here: a removal is passed on once. */
  take(kind: RecordKind, key: NodeId, owner: NodeId): string[] {
    const id = recordId(kind, key, owner);
    const set = this.byRecord?.get(id);
    this.byRecord?.delete(id);
    return set === undefined ? [] : [...set];
  }

  get size(): number {
    return this.byRecord?.size ?? 0;
  }
}

function recordId(kind: RecordKind, key: NodeId, owner: NodeId): string {
  return `${kind}:${toHex(key)}:${toHex(owner)}`;
}
