/**
 * The admitted node ids of one realm, with O(1) add/remove and an O(count) random sample.
 * A relay serving thousands of tabs answers every hello and every `peers` request with a
 * sample; copying the whole membership into an array each time would make that O(n).
 */
export class PeerSet {
  private readonly ids: string[] = [];
  private readonly index = new Map<string, number>();

  get size(): number {
    return this.ids.length;
  }

  has(id: string): boolean {
    return this.index.has(id);
  }

  add(id: string): void {
    if (this.index.has(id)) return;
    this.index.set(id, this.ids.length);
    this.ids.push(id);
  }

  /** Swap the last id into the removed slot so the array never has holes. */
  delete(id: string): boolean {
    const at = this.index.get(id);
    if (at === undefined) return false;
    const last = this.ids.pop()!;
    if (last !== id) {
      this.ids[at] = last;
      this.index.set(last, at);
    }
    this.index.delete(id);
    return true;
  }

  /**
   * Up to `count` distinct ids other than `exclude`, uniformly at random (a partial
   * Fisher-Yates over chosen positions, so the set itself is not reordered).
   */
  sample(count: number, exclude: string | undefined, random: () => number = Math.random): string[] {
    const out: string[] = [];
    const n = this.ids.length;
    // Positions already drawn, mapped to the value a virtual shuffle moved into them.
    const swapped = new Map<number, number>();
    for (let i = 0; i < n && out.length < count; i++) {
      const j = i + Math.floor(random() * (n - i));
      const pick = swapped.get(j) ?? j;
      swapped.set(j, swapped.get(i) ?? i);
      const id = this.ids[pick]!;
      if (id !== exclude) out.push(id);
    }
    return out;
  }
}
