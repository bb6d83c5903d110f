/**
 * Nodes this node caught lying, remembered for a while (S/Kademlia's lesson that a lookup
 * should not have to rediscover, at a timeout per made-up id, what an earlier lookup
 * already proved). A lookup discredits a node whose named ids stay silent (candidates.ts);
 * discredited by OFFENCES_TO_CONVICT lookups, or caught naming an id implausibly close to a
 * lookup's target (`madeUp`: a forgery, not a stale contact), the node is convicted: no
 * lookup takes its word, and it loses its place in the routing table and its channel
 * (dht-node.ts).
 *
 * Honest nodes can name a contact that has just left, or one cut off by a partition or
 * frozen in a paused tab. So every accusation keeps its evidence, the ids that stayed
 * silent; when one of them is heard from after all, the accusation was wrong and is
 * withdrawn (`exonerate`). Whatever else remains is forgotten after LIAR_MEMORY_MS, and the
 * memory is bounded: the oldest offenders go first.
 */
export const LIAR_MEMORY_MS = 30 * 60_000;
/** Lookups that must discredit a node before it is convicted (one can be bad luck). */
export const OFFENCES_TO_CONVICT = 2;
const MAX_REMEMBERED = 4_096;
/** Silent ids kept as evidence per accused node. */
const MAX_EVIDENCE = 8;

interface Accused {
  until: number;
  offences: number;
  evidence: string[];
}

export class Liars {
  private readonly accused = new Map<string, Accused>();
  /** Silent id → the nodes that named it (possibly stale: checked against `accused`). */
  private readonly namedBy = new Map<string, Set<string>>();

  /**
   * A lookup discredited `hex` for naming `evidence` (ids that stayed silent), one of them
   * made up (`madeUp`) or not. Returns true when this accusation convicts it.
   */
  accuse(hex: string, evidence: readonly string[], madeUp: boolean, now: number): boolean {
    const before = this.get(hex, now);
    const entry: Accused = before ?? { until: 0, offences: 0, evidence: [] };
    const wasConvicted = entry.offences >= OFFENCES_TO_CONVICT;
    entry.offences = madeUp ? Math.max(OFFENCES_TO_CONVICT, entry.offences + 1) : entry.offences + 1;
    entry.until = now + LIAR_MEMORY_MS;
    for (const id of evidence) {
      if (entry.evidence.length >= MAX_EVIDENCE) break;
      if (entry.evidence.includes(id)) continue;
      entry.evidence.push(id);
      let by = this.namedBy.get(id);
      if (by === undefined) this.namedBy.set(id, (by = new Set()));
      by.add(hex);
    }
    // Re-inserting keeps the map in order of last offence, so eviction takes the oldest.
    this.accused.delete(hex);
    this.accused.set(hex, entry);
    if (this.accused.size > MAX_REMEMBERED) this.drop(this.accused.keys().next().value!);
    return !wasConvicted && entry.offences >= OFFENCES_TO_CONVICT;
  }

  /** True while `hex` stands convicted. */
  has(hex: string, now: number): boolean {
    return (this.get(hex, now)?.offences ?? 0) >= OFFENCES_TO_CONVICT;
  }

  /** `id` was heard from: every node accused of making it up is cleared. Returns the convicts among them. */
  exonerate(id: string): string[] {
    const by = this.namedBy.get(id);
    if (by === undefined) return [];
    this.namedBy.delete(id);
    const cleared: string[] = [];
    for (const hex of by) {
      const entry = this.accused.get(hex);
      if (entry === undefined || !entry.evidence.includes(id)) continue;
      if (entry.offences >= OFFENCES_TO_CONVICT) cleared.push(hex);
      this.drop(hex);
    }
    return cleared;
  }

  /** Nodes accused (convicted or not) and remembered. */
  get size(): number {
    return this.accused.size;
  }

  private get(hex: string, now: number): Accused | undefined {
    const entry = this.accused.get(hex);
    if (entry === undefined || entry.until > now) return entry;
    this.drop(hex);
    return undefined;
  }

  private drop(hex: string): void {
    const entry = this.accused.get(hex);
    if (entry === undefined) return;
    this.accused.delete(hex);
    for (const id of entry.evidence) {
      const by = this.namedBy.get(id);
      by?.delete(hex);
      if (by?.size === 0) this.namedBy.delete(id);
    }
  }
}
