/**
 * Whether a neighbour carries what we hand it: Castro et al.'s routing-failure test, kept
 * per first hop. A request we route through a neighbour either comes back answered or
 * not. A colluder acknowledges the hop (so the router believes it delivered) and then
 * drops the envelope: nothing it carries for us comes back. An honest neighbour loses
 * some of our ordinary requests too (a later hop may be a colluder, the target may have
 * left), so those only raise doubt; the verdict rests on tests (neighbour-vetting.ts):
 * queries through the neighbour to a node it named as its own neighbour, which an honest
 * one delivers in a single hop, and which we know ourselves (a made-up id named by the
 * neighbour would prove nothing).
 *
 * The verdict is relative: a neighbour is unreliable once other neighbours do get our
 * requests through. A test counts as failed only when the neighbour answered our direct
 * question and then lost the query we routed through it: when we are the one cut off,
 * neighbours stop answering directly too, and their channels close instead.
 */

/** Ordinary requests lost in a row, with nothing through in between, that call for a test. */
export const LOSSES_BEFORE_DOUBT = 1;
/** Tests failed in a row, with nothing through in between, that make a neighbour unreliable. */
export const FAILED_TESTS_TO_DISTRUST = 3;
/**
 * The same when no other neighbour gets anything through: all our neighbours answer us
 * themselves yet none forwards (an honest node surrounded by colluders). Longer, then the
 * neighbours go one by one; a node with none left asks the relay for introductions.
 */
export const FAILED_TESTS_TO_DISTRUST_ALONE = 6;
/** Other neighbours that must be getting our requests through for a verdict to count. */
const MIN_OTHERS_THROUGH = 1;
/**
 * An unreliable neighbour is not taken back (dialled or accepted) for this long the first
 * time, twice as long each time again, up to MAX_DISTRUST_MS. An honest node is unreliable
 * for a while when colluders surround it (while its mesh forms): it gets back soon; a
 * colluder keeps failing its tests and stays out longer each time.
 */
export const DISTRUST_MS = 5 * 60_000;
export const MAX_DISTRUST_MS = 4 * 60 * 60_000;
/** Bound on remembered unreliable neighbours; the longest-standing verdicts are forgotten first. */
const MAX_DISTRUSTED = 4_096;

/**
 * `unproven`: nothing routed through it came back yet; `doubtful`: it got things through
 * before but lost the last few; `reliable`; `unreliable`: it failed its tests while others
 * got ours through.
 */
export type Verdict = 'unproven' | 'reliable' | 'doubtful' | 'unreliable';

/** What became of one request routed through a neighbour. */
export type Outcome = 'through' | 'lost' | 'test-failed';

/** What is kept per open channel: in the neighbour's record (context.ts, Neighbour); all zero when it opens. */
export interface HopRecord {
  through: number;
  lostInARow: number;
  testsFailedInARow: number;
}

export class NeighbourTrust {
  /** Verdicts, kept past their end to count repeat offences (bounded). */
  private readonly distrusted = new Map<string, { until: number; offences: number }>();

  /** `hops`: the open channels' records (the node's neighbours); a hop without one is unproven and records nothing. */
  constructor(private readonly hops: ReadonlyMap<string, HopRecord> = new Map()) {}

  /** Record what became of a request routed through `hop` (tests: see neighbour-vetting.ts); returns the verdict. */
  record(hop: string, outcome: Outcome): Verdict {
    const r = this.hops.get(hop);
    if (r === undefined) return 'unproven';
    if (outcome === 'through') {
      r.through++;
      r.lostInARow = 0;
      r.testsFailedInARow = 0;
    } else {
      r.lostInARow++;
      if (outcome === 'test-failed') r.testsFailedInARow++;
    }
    return this.verdict(hop);
  }

  verdict(hop: string): Verdict {
    return this.verdictOf(hop, this.hops.get(hop));
  }

  /** The verdict on `hop` with record `r` (a channel that just closed is no longer among the hops). */
  verdictOf(hop: string, r: HopRecord | undefined): Verdict {
    if (r === undefined) return 'unproven';
    if (r.testsFailedInARow >= FAILED_TESTS_TO_DISTRUST_ALONE) return 'unreliable';
    if (r.testsFailedInARow >= FAILED_TESTS_TO_DISTRUST && this.othersThrough(hop) >= MIN_OTHERS_THROUGH)
      return 'unreliable';
    if (r.through === 0) return 'unproven';
    return r.lostInARow >= LOSSES_BEFORE_DOUBT ? 'doubtful' : 'reliable';
  }

  /** The channel to `hop` closed: a new channel starts from nothing (it may be another tab with that id). */
  forget(hop: string): void {
    const r = this.hops.get(hop);
    if (r !== undefined) clear(r);
  }

  /** `hop` was dropped as unreliable: refuse it for DISTRUST_MS, doubled for each earlier verdict. Returns the end. */
  distrust(hop: string, now: number): number {
    this.forget(hop);
    const offences = (this.distrusted.get(hop)?.offences ?? 0) + 1;
    const until = now + Math.min(MAX_DISTRUST_MS, DISTRUST_MS * 2 ** (offences - 1));
    // Re-inserted, so that map order stays the order of the latest verdicts.
    this.distrusted.delete(hop);
    this.distrusted.set(hop, { until, offences });
    if (this.distrusted.size > MAX_DISTRUSTED) {
      const oldest = this.distrusted.keys().next().value;
      if (oldest !== undefined) this.distrusted.delete(oldest);
    }
    return until;
  }

  isDistrusted(hop: string, now: number): boolean {
    const entry = this.distrusted.get(hop);
    return entry !== undefined && entry.until > now;
  }

  /** How much longer the verdict on `hop` lasts: 0 when it is not distrusted. */
  distrustedForMs(hop: string, now: number): number {
    const entry = this.distrusted.get(hop);
    return entry !== undefined && entry.until > now ? entry.until - now : 0;
  }

  /** Neighbours with a verdict remembered (current or past). */
  get distrustedCount(): number {
    return this.distrusted.size;
  }

  private othersThrough(hop: string): number {
    let n = 0;
    for (const [other, r] of this.hops) if (other !== hop && r.through > 0 && r.lostInARow < LOSSES_BEFORE_DOUBT) n++;
    return n;
  }
}

function clear(r: HopRecord): void {
  r.through = 0;
  r.lostInARow = 0;
  r.testsFailedInARow = 0;
}
