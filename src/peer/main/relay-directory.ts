import type { Clock } from '../../core/environment.js';
import { relayUrlOf } from '../../signaling/relay-service.js';

/**
 * The relays a peer knows beyond its `bootstrap` list, learned from the DHT (README,
 * Deploying: several relays): every relay's own peer advertises RELAY_SERVICE with its
 * public URL, and this asks for it a little after the tab joined, then rarely, and once
 * more when its relay goes away (the overlay may still carry the lookup). The signaling
 * client turns to these relays once its bootstrap list fails (signaling/client.ts).
 *
 * Bounded and cheap: at most MAX_LEARNED URLs, one lookup per REFRESH_MS (and at most one
 * per MIN_GAP_MS when relays go down), and a lookup that fails or finds nothing keeps what
 * is known (a stale URL costs one failed attempt; knowing none costs the failover).
 */

/** A relay learned from the DHT: its URL and the peer that advertised it. */
export interface KnownRelay {
  url: string;
  nodeId: string;
}

export interface RelayDirectoryDeps {
  bootstrap: readonly string[];
  /** A forced lookup of RELAY_SERVICE (the worker's discover). */
  discover(): Promise<Array<{ nodeId: string; metadata: Record<string, unknown> }>>;
  clock: Clock;
  /** Shuffles learned relays, so the tabs of a relay that died spread over the others; in [0, 1). */
  random?: () => number;
}

const MAX_LEARNED = 16;
/** After the first channel: the join's own lookups have settled, and relays' records are reachable. */
export const FIRST_REFRESH_MS = 15_000;
export const REFRESH_MS = 15 * 60_000;
/** Least time between two lookups brought forward by a relay going down. */
export const MIN_GAP_MS = 60_000;

export class RelayDirectory {
  private known: KnownRelay[] = [];
  private lastRefresh = -Infinity;
  private running: Promise<void> | null = null;
  private cancel: () => void = () => undefined;
  private started = false;
  private closed = false;
  /** A wss:// page cannot open ws://: a peer whose bootstrap is all wss learns only wss. */
  private readonly secureOnly: boolean;

  constructor(private readonly deps: RelayDirectoryDeps) {
    this.secureOnly = deps.bootstrap.length > 0 && deps.bootstrap.every((u) => u.startsWith('wss://'));
  }

  /** URLs for the signaling client's failover, in the order to try them. */
  urls(): string[] {
    return this.known.map((r) => r.url);
  }

  /** What the peer knows, for display. */
  learned(): KnownRelay[] {
    return this.known.map((r) => ({ ...r }));
  }

  /** The peer has joined (its first channel opened): the first lookup comes a little later, then they recur. */
  joined(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.schedule(FIRST_REFRESH_MS);
  }

  /** The relay went away: look again soon, unless a lookup ran lately. */
  relayDown(): void {
    if (!this.started || this.closed) return;
    if (this.deps.clock.now() - this.lastRefresh < MIN_GAP_MS) return;
    this.schedule(0);
  }

  /** Look RELAY_SERVICE up now (at most one lookup at a time). */
  refresh(): Promise<void> {
    this.running ??= this.lookup().finally(() => (this.running = null));
    return this.running;
  }

  close(): void {
    this.closed = true;
    this.cancel();
  }

  private schedule(ms: number): void {
    this.cancel();
    this.cancel = this.deps.clock.setTimer(ms, () => {
      if (this.closed) return;
      this.schedule(REFRESH_MS);
      void this.refresh();
    });
  }

  private async lookup(): Promise<void> {
    this.lastRefresh = this.deps.clock.now();
    let providers: Awaited<ReturnType<RelayDirectoryDeps['discover']>>;
    try {
      providers = await this.deps.discover();
    } catch {
      return; // no channel yet, a lookup that timed out: keep what is known, the next refresh retries
    }
    if (this.closed) return;
    const found: KnownRelay[] = [];
    const seen = new Set<string>();
    for (const provider of providers) {
      const url = relayUrlOf(provider);
      if (url === null || seen.has(url) || (this.secureOnly && !url.startsWith('wss://'))) continue;
      seen.add(url);
      found.push({ url, nodeId: provider.nodeId });
    }
    if (found.length === 0) return;
    const random = this.deps.random ?? Math.random;
    for (let i = found.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [found[i], found[j]] = [found[j]!, found[i]!];
    }
    this.known = found.slice(0, MAX_LEARNED);
  }
}
