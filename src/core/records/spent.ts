/**
 * Versions of a record that expired here, so the record store does not take them back.
 *
 * A record passes checkRecord until its signed deadline (advertisedAt + ttl + the clock
 * skew allowance), up to 30 minutes after it expired on this node's clock. Without a
 * memory of what expired, a 60 s record STOREd again every minute was served for 31
 * minutes. So when an entry expires here, a marker per (key, kind, owner) refuses every
 * version advertised at or before it until the latest deadline of any version this node
 * held there (an older version with a longer TTL included).
 *
 * Markers are small (two numbers and an id); their number is bounded, the oldest
 * forgotten first: an attacker who cycles more short-lived records through a node than it
 * keeps markers can get an expired version of someone's record served again, for at most
 * its TTL and never past its signed deadline.
 */

export interface SpentMarker {
  /** Versions advertised at or before this are refused... */
  readonly upTo: number;
  /** ...until this local time. */
  readonly until: number;
}

export class SpentVersions {
  /** Made at the first marker: most nodes never see a record expire (an empty Map is ~0.2 KB). */
  private byId: Map<string, SpentMarker> | undefined;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.byId?.size ?? 0;
  }

  /** Remember that versions up to `upTo` expired at `id`, merged with what is already known. */
  note(id: string, upTo: number, until: number, now: number): void {
    if (!(until > now) || this.max <= 0) return;
    const byId = (this.byId ??= new Map());
    const previous = byId.get(id);
    if (previous !== undefined) {
      byId.delete(id);
      if (previous.until > now) {
        upTo = Math.max(upTo, previous.upTo);
        until = Math.max(until, previous.until);
      }
    }
    while (byId.size >= this.max) byId.delete(byId.keys().next().value!);
    byId.set(id, { upTo, until });
  }

  /** Whether a version advertised at `advertisedAt` already expired here. */
  refuses(id: string, advertisedAt: number, now: number): boolean {
    const m = this.byId?.get(id);
    if (m === undefined) return false;
    if (m.until <= now) {
      this.byId!.delete(id);
      return false;
    }
    return advertisedAt <= m.upTo;
  }

  /** The latest deadline a marker at `id` still holds versions to (0 when none). */
  until(id: string, now: number): number {
    const m = this.byId?.get(id);
    return m !== undefined && m.until > now ? m.until : 0;
  }

  prune(now: number): void {
    if (this.byId === undefined) return;
    for (const [id, m] of this.byId) if (m.until <= now) this.byId.delete(id);
  }
}
