/**
 * The bounds on the calls a provider runs for others (rpc.ts, handleCall): per caller, per
 * neighbour that handed them over, and in all. A routed CALL names its caller in the
 * envelope's unauthenticated `src`, so a caller is only known as the pair (neighbour that
 * handed it over, claimed source); a direct caller is the neighbour itself.
 *
 * Slots can also be reserved ahead of time for one direct caller: the page of a browser
 * peer admits CALLs straight from a neighbour itself under such a reservation, granted by
 * the worker (docs/ARCHITECTURE.md, Threads; worker/page-admissions.ts). A reserved slot
 * counts as a running call of that neighbour, against all three bounds, until it is given
 * back, so the calls the page runs and those this node runs together never exceed them.
 */

/** Concurrent calls one caller may have running on this provider. */
export const MAX_CALLS_PER_CALLER = 16;
/**
 * Concurrent calls one neighbour may have handed this provider (its own and those it
 * routed): one neighbour making up sources gets this many slots, not all of them.
 */
export const MAX_CALLS_PER_NEIGHBOUR = 64;
/**
 * Concurrent calls on this provider overall: bounds the handlers running and the maps
 * counting them whatever the ids.
 */
export const MAX_RUNNING_CALLS = 256;

/** Which bound a call did not fit under. */
export type CallBound = 'caller' | 'neighbour' | 'total';

export class CallSlots {
  /** Calls running per caller: "neighbour/source" for a routed call, the neighbour for a direct one. */
  private readonly running = new Map<string, number>();
  /** Calls running per neighbour that handed them over (this node for its own). */
  private readonly byHop = new Map<string, number>();
  private total = 0;

  /**
   * Take a slot for a call of `caller` (the slot key above) handed over by `hop`; the bound
   * it would exceed when it does not fit, and nothing is taken.
   */
  take(caller: string, hop: string): CallBound | undefined {
    return this.takeMany(caller, hop, 1);
  }

  /** Give back what take() took. */
  release(caller: string, hop: string): void {
    this.releaseMany(caller, hop, 1);
  }

  /**
   * Reserve `n` slots for direct calls of neighbour `peer` (caller and hop at once), all or
   * none: true when they fit under every bound beside what runs now.
   */
  reserve(peer: string, n: number): boolean {
    return this.takeMany(peer, peer, n) === undefined;
  }

  /** Give back a reservation. */
  unreserve(peer: string, n: number): void {
    this.releaseMany(peer, peer, n);
  }

  /** Calls running (reservations included), distinct callers and neighbours that handed them over. */
  get load(): { calls: number; callers: number; neighbours: number } {
    return { calls: this.total, callers: this.running.size, neighbours: this.byHop.size };
  }

  private takeMany(caller: string, hop: string, n: number): CallBound | undefined {
    const running = this.running.get(caller) ?? 0;
    const byHop = this.byHop.get(hop) ?? 0;
    if (running + n > MAX_CALLS_PER_CALLER) return 'caller';
    if (byHop + n > MAX_CALLS_PER_NEIGHBOUR) return 'neighbour';
    if (this.total + n > MAX_RUNNING_CALLS) return 'total';
    this.running.set(caller, running + n);
    this.byHop.set(hop, byHop + n);
    this.total += n;
    return undefined;
  }

  private releaseMany(caller: string, hop: string, n: number): void {
    this.total -= n;
    lessBy(this.running, caller, n);
    lessBy(this.byHop, hop, n);
  }
}

/** `n` calls fewer under `key`; the entry goes at zero, so the maps hold running calls only. */
function lessBy(counts: Map<string, number>, key: string, n: number): void {
  const left = (counts.get(key) ?? n) - n;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}
