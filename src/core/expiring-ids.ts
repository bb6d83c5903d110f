/**
 * Node ids remembered for a while, in bounded memory: the shape shared by the node's short
 * memories of who misbehaved or left (liars.ts, flood bans in rate-limit.ts, DhtNode's
 * departed contacts). An id is forgotten `memoryMs` after it was last added; past `max`
 * ids the one added longest ago goes first, so a flood of ids costs a fixed amount of memory.
 */
export class ExpiringIds {
  /** Made at the first id: most of a node's memories (liars, bans) stay empty, and an empty Map is ~0.2 KB. */
  private until: Map<string, number> | undefined;

  constructor(
    readonly memoryMs: number,
    readonly max: number,
  ) {}

  /** Remember `hex` (again) from `now`; true when it was not remembered already. */
  add(hex: string, now: number): boolean {
    const known = this.has(hex, now);
    // Re-inserting keeps the map in order of last addition, so eviction takes the oldest.
    const until = (this.until ??= new Map());
    until.delete(hex);
    until.set(hex, now + this.memoryMs);
    if (until.size > this.max) until.delete(until.keys().next().value!);
    return !known;
  }

  has(hex: string, now: number): boolean {
    const until = this.until?.get(hex);
    if (until === undefined) return false;
    if (until > now) return true;
    this.until!.delete(hex);
    return false;
  }

  /** How much longer `hex` is remembered: 0 when it is not. */
  remainingMs(hex: string, now: number): number {
    return this.has(hex, now) ? this.until!.get(hex)! - now : 0;
  }

  delete(hex: string): void {
    this.until?.delete(hex);
  }

  get size(): number {
    return this.until?.size ?? 0;
  }
}
