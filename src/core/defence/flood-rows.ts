/** What may hold its own row's place (the neighbour's record, context.ts `Neighbour.floodRow`): -1 for none. */
export interface RowHolder {
  floodRow: number;
}

/** Every table's rows until its first (grow() replaces it before anything is written): shared, so never written to. */
const NO_ROWS = new Float64Array(0);

/**
 * Rows of numbers by peer, all in one Float64Array (the flood guard's token buckets,
 * rate-limit.ts): a new peer's row starts as NaN ("never charged"); a forgotten peer's row
 * goes back to a free list for the next one. One typed array per guard instead of one per
 * neighbour spares each neighbour the array's object and its buffer (some 200 bytes), which
 * a simulator of thousands of nodes with some 30 neighbours each pays many times over.
 *
 * Given `holders` (the node's open channels), a peer that has a record there keeps its
 * row's place in it rather than in a Map of the table's own (~1.2 KB a simulated node);
 * the Map serves peers without one (a guard used on its own, as in its tests).
 */
export class FloodRows {
  /**
   * Where each peer's row starts in `data`. Made with the first row, as `data` is: the rarely
   * charged buckets' table stays empty at most nodes, and an empty Map and typed array are
   * ~0.4 KB a node.
   */
  private at: Map<string, number> | undefined;
  private readonly free: number[] = [];
  /** The rows; read it after row(), which may replace it with a larger one. */
  data: Float64Array = NO_ROWS;

  constructor(
    private readonly width: number,
    private readonly holders?: ReadonlyMap<string, RowHolder>,
  ) {}

  /** Where `peer`'s row starts, a fresh one for a peer without one. */
  row(peer: string): number {
    const holder = this.holders?.get(peer);
    if (holder !== undefined) {
      if (holder.floodRow < 0) holder.floodRow = this.fresh();
      return holder.floodRow;
    }
    const at = (this.at ??= new Map());
    let row = at.get(peer);
    if (row === undefined) {
      row = this.fresh();
      at.set(peer, row);
    }
    return row;
  }

  /**
   * `peer`'s row goes back to the free list. `holder`: its record, when the caller has it
   * (a closed channel's record has already left `holders`).
   */
  forget(peer: string, holder = this.holders?.get(peer)): void {
    if (holder !== undefined && holder.floodRow >= 0) {
      this.free.push(holder.floodRow);
      holder.floodRow = -1;
    }
    const row = this.at?.get(peer);
    if (row === undefined) return;
    this.at!.delete(peer);
    this.free.push(row);
  }

  /** Peers holding a row. */
  get size(): number {
    return this.data.length / this.width - this.free.length;
  }

  /** A row of NaN ("never charged"). */
  private fresh(): number {
    if (this.free.length === 0) this.grow();
    const row = this.free.pop()!;
    this.data.fill(NaN, row, row + this.width);
    return row;
  }

  private grow(): void {
    const before = this.data.length;
    const data = new Float64Array(before + GROWTH * this.width);
    data.set(this.data);
    this.data = data;
    // Last first, so rows are handed out from the start of the table.
    for (let row = data.length - this.width; row >= before; row -= this.width) this.free.push(row);
  }
}

/** Rows added when the table is full: a node's neighbours come and go a few at a time. */
const GROWTH = 4;
