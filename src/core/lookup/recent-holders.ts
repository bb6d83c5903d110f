/**
 * For each key a value lookup of this node found lately, the neighbour whose answer ended it:
 * one of the nearest holders, straight over its own channel, with records (value-holders.ts).
 * The next lookup of that key asks it alone first (lookup-run.ts, round): a forced discovery
 * repeated by an app costs one exchange instead of alpha, in frames and in the threads each
 * wakes, where nothing changed. A neighbour that lost its records or its place costs the
 * lookup one of its round trips before the other paths leave.
 *
 * Bounded: the key looked up least lately gives way; an entry older than KEEP_MS is not used.
 */

/** Keys remembered at once. */
export const MAX_KEYS = 256;
/** An answer older than this is not trusted to be the nearest any more (joins move the holders). */
export const KEEP_MS = 5 * 60_000;

export class RecentHolders {
  private readonly byKey = new Map<string, { holder: string; at: number }>();

  /** `holder` (hex) ended a lookup of `key` (hex) and `kind` at `now`. */
  remember(key: string, kind: string, holder: string, now: number): void {
    const slot = `${key}:${kind}`;
    this.byKey.delete(slot);
    this.byKey.set(slot, { holder, at: now });
    if (this.byKey.size > MAX_KEYS) this.byKey.delete(this.byKey.keys().next().value!);
  }

  /** The neighbour that ended the last lookup of `key` and `kind`, if recent. */
  holderOf(key: string, kind: string, now: number): string | undefined {
    const seen = this.byKey.get(`${key}:${kind}`);
    return seen !== undefined && now - seen.at < KEEP_MS ? seen.holder : undefined;
  }

  /** It ended nothing this time (no records, silent, gone): the next lookup sends every path at once. */
  forget(key: string, kind: string): void {
    this.byKey.delete(`${key}:${kind}`);
  }
}
