/**
 * One periodic read of the peer's state (open channels, routing table, counters) shared
 * by every view. A single poller rather than one timer per view keeps the worker from
 * being asked the same thing several times a second, and lets events (a channel opening
 * or closing) trigger an early refresh that all views see at once.
 */
import type { ChannelPeer, Peer, RelaysView, RoutingTableView } from '../index.js';

export interface Snapshot {
  peers: ChannelPeer[];
  table: RoutingTableView;
  stats: Record<string, number>;
  /** The relay this tab uses, the one it entered through, and those it learned from the DHT. */
  relays: RelaysView;
  /** When it was taken (Date.now), for "last seen" ages. */
  at: number;
}

export type SnapshotListener = (s: Snapshot) => void;

/** Coalesces bursts of events (a tab joining opens several channels at once). */
const SOON_MS = 120;
/**
 * An unchanged snapshot is not redrawn, except every few reads so that ages ("3 s ago")
 * move on: an idle demo tab should cost next to nothing, and many may be open at once.
 */
const REDRAW_UNCHANGED_EVERY = 4;

export class SnapshotPoller {
  private readonly listeners: SnapshotListener[] = [];
  private inFlight = false;
  private again = false;
  private soon: ReturnType<typeof setTimeout> | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastKey = '';
  private unchanged = 0;
  last: Snapshot | undefined;

  constructor(
    private readonly peer: Peer,
    private readonly intervalMs: number,
    private readonly onError: (e: unknown) => void,
  ) {}

  onUpdate(cb: SnapshotListener): void {
    this.listeners.push(cb);
  }

  /**
   * A hidden tab draws nothing, so it reads nothing either: the timer stops while the page
   * is hidden (no wake-ups, no calls into the worker) and a read on showing it brings every
   * view up to date at once.
   */
  start(): void {
    document.addEventListener('visibilitychange', this.onVisibility);
    this.onVisibility();
  }

  stop(): void {
    document.removeEventListener('visibilitychange', this.onVisibility);
    clearInterval(this.timer);
    this.timer = undefined;
    clearTimeout(this.soon);
  }

  private readonly onVisibility = (): void => {
    clearInterval(this.timer);
    this.timer = undefined;
    if (document.hidden) return;
    this.timer = setInterval(() => void this.refresh(), this.intervalMs);
    void this.refresh();
  };

  /** Refresh shortly, once, however many times this is called meanwhile; a hidden tab waits until it is shown. */
  refreshSoon(): void {
    if (this.soon !== undefined || document.hidden) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.refresh();
    }, SOON_MS);
  }

  async refresh(): Promise<void> {
    // Never two reads at once: a slow worker would otherwise pile up requests.
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = true;
    try {
      const [peers, table, stats, relays] = await Promise.all([
        this.peer.peers(),
        this.peer.routingTable(),
        this.peer.stats(),
        this.peer.relays(),
      ]);
      const snap: Snapshot = { peers, table, stats, relays, at: Date.now() };
      this.last = snap;
      const key = JSON.stringify([peers, table, stats, relays]);
      if (key === this.lastKey && ++this.unchanged % REDRAW_UNCHANGED_EVERY !== 0) return;
      this.lastKey = key;
      for (const cb of this.listeners) cb(snap);
    } catch (e) {
      this.onError(e);
    } finally {
      this.inFlight = false;
      if (this.again) {
        this.again = false;
        void this.refresh();
      }
    }
  }
}
