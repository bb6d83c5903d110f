/**
 * The mesh panel: the ring picture, fed by the shared snapshot for nodes and channels and
 * by the peer's lookup events for routes, plus a one-line caption of the latest lookup.
 * Lookup events also feed the hop histogram and the log, so this is where they are heard.
 */
import type { LookupProgress, Peer } from '../index.js';
import { byId } from './dom.js';
import type { Counters } from './counters.js';
import type { EventLog } from './event-log.js';
import { shortId } from './ids.js';
import type { KeyNames } from './key-names.js';
import { LINGER_MS, LookupTracer, type Trace } from './lookup-trace.js';
import { MeshView } from './mesh-view.js';
import type { SnapshotPoller } from './snapshot.js';

/** Short enough to look live, long enough to gather a lookup's start, replies and end. */
const REDRAW_MS = 40;

export class MeshPanel {
  private readonly view: MeshView;
  private readonly tracer: LookupTracer;
  private readonly caption = byId('lookup-caption');
  private fade: ReturnType<typeof setTimeout> | undefined;
  private pending: ReturnType<typeof setTimeout> | undefined;

  constructor(
    peer: Peer,
    poller: SnapshotPoller,
    private readonly names: KeyNames,
    private readonly counters: Counters,
    private readonly log: EventLog,
  ) {
    this.view = new MeshView(byId('mesh'), peer.nodeId);
    this.tracer = new LookupTracer(peer.nodeId);
    poller.onUpdate((s) => this.view.update(s));
    peer.on('lookup', (p) => this.onLookup(p));
    // Routes are not drawn while the tab is hidden; showing it draws those still lingering.
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) this.redrawSoon();
    });
  }

  private onLookup(p: LookupProgress): void {
    const trace = this.tracer.handle(p);
    this.redrawSoon();
    if (p.kind === 'done') {
      this.counters.lookupDone(p.hops, p.answered);
      const outcome =
        p.answered === 0
          ? 'no path answered'
          : `${p.answered}/${p.paths} paths answered, fastest in ${p.hops} hop${p.hops === 1 ? '' : 's'}`;
      this.log.add('lookup', `lookup of ${this.names.label(p.target)} done: ${outcome}, ${p.durationMs.toFixed(0)} ms`);
    } else if (p.kind === 'path-failed') {
      this.log.add(
        'lookup',
        `lookup of ${this.names.label(p.target)}: path via ${shortId(p.via)} failed (${p.reason})`,
      );
    }
    this.describe(trace);
  }

  /** A lookup sends a burst of events (and maintenance sends bursts of lookups): one redraw per burst. */
  private redrawSoon(): void {
    if (this.pending !== undefined || document.hidden) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.redraw();
    }, REDRAW_MS);
  }

  /** Redraw now, and again once the oldest finished trace has lingered long enough. */
  private redraw(): void {
    if (document.hidden) return;
    this.view.showLookups(this.tracer.visible(Date.now()), this.names);
    clearTimeout(this.fade);
    this.fade = setTimeout(() => this.redraw(), LINGER_MS / 3);
    if (this.tracer.visible(Date.now()).length === 0) clearTimeout(this.fade);
  }

  private describe(t: Trace): void {
    const key = this.names.label(t.target);
    if (t.done === undefined) {
      this.caption.textContent = `Looking up ${key}: ${t.pending.size} path${t.pending.size === 1 ? '' : 's'} out, ${t.routes.length} answered`;
      this.caption.dataset['state'] = 'running';
      return;
    }
    const d = t.done;
    this.caption.textContent =
      d.answered === 0
        ? `Lookup of ${key}: no path answered (${d.durationMs.toFixed(0)} ms)`
        : `Lookup of ${key}: ${d.answered} of ${d.paths} paths answered, fastest in ${d.hops} hop${d.hops === 1 ? '' : 's'}, ${d.durationMs.toFixed(0)} ms`;
    this.caption.dataset['state'] = 'done';
  }
}
