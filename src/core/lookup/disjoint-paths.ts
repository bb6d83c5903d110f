import { compareDistance, type NodeId } from '../id.js';

/**
 * Keeping a lookup's routed paths apart (S/Kademlia's disjoint paths, adapted to routing
 * through neighbours). A lookup cannot choose the hops after the first, but it learns them:
 * every answer carries the path it travelled. So each new path or direct query leaves
 * through a neighbour that no earlier path of this lookup has used, and never through one
 * that sat on a path that failed or came back empty-handed: if a colluder was on that path,
 * the next attempt does not hand it the envelope again.
 */
export interface FirstHop {
  readonly id: NodeId;
  readonly idHex: string;
}

export class DisjointPaths {
  /** Neighbours that already carried a path of this lookup. */
  private readonly used = new Set<string>();
  /** Nodes seen on a path that failed or answered without what we look for. */
  private readonly suspect = new Set<string>();

  constructor(
    private readonly neighbours: () => Iterable<FirstHop>,
    /** False for neighbours not (or no longer) proven to carry our requests: they come after all the proven ones. */
    private readonly proven: (hex: string) => boolean = () => true,
  ) {}

  /**
   * Up to `count` neighbours closest to `dest` that no path used yet and no failed path
   * went through; marks them used.
   */
  fresh(dest: NodeId, count: number): FirstHop[] {
    const out = this.ranked(dest)
      .filter((n) => !this.used.has(n.idHex))
      .slice(0, count);
    for (const n of out) this.used.add(n.idHex);
    return out;
  }

  /**
   * The neighbour a direct query to `dest` should leave through: the closest one to it
   * that is not suspect and not in `avoid` (the ones this query already tried). Unlike
   * `fresh` it may reuse a neighbour: these queries aim at distinct nodes, so they part
   * ways soon anyway; what matters is not to trust a hop that already misbehaved.
   */
  towards(dest: NodeId, avoid: ReadonlySet<string>): FirstHop | undefined {
    return this.ranked(dest).find((n) => !avoid.has(n.idHex));
  }

  /** The nodes (hex) of a path that failed or answered empty: none of them is a first hop again. */
  distrust(nodes: Iterable<string>): void {
    for (const hex of nodes) this.suspect.add(hex);
  }

  isSuspect(hex: string): boolean {
    return this.suspect.has(hex);
  }

  private ranked(dest: NodeId): FirstHop[] {
    const candidates = [...this.neighbours()].filter((n) => !this.suspect.has(n.idHex));
    const proven = new Set(candidates.filter((n) => this.proven(n.idHex)).map((n) => n.idHex));
    return candidates.sort(
      (a, b) => Number(proven.has(b.idHex)) - Number(proven.has(a.idHex)) || compareDistance(dest, a.id, b.id),
    );
  }
}
