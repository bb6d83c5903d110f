import type { IdHex } from '../../core/id.js';
import type { RelayIce } from '../../signaling/ice.js';
import type { StampedSignal } from '../../signaling/protocol.js';
import { RelayLink, type RelayLinkDeps } from './relay-link.js';

/**
 * Every relay link a peer holds. A browser tab holds one (its `bootstrap` list, then the
 * relays it learned); a relay's own peer holds one to its relay and one per relay it joins
 * (README, Deploying: several relays). Introductions from every link feed the same
 * connection manager, and a signal to a peer goes through the link that introduced it (or
 * last brought a signal from it): the peer is admitted at that relay, and most likely at
 * no other. When that link is down, or the peer was never heard of through any, the other
 * links are tried in order; the connection manager has tried the overlay before any relay.
 */

/** Peers whose link is remembered; the oldest are forgotten first (they fall back to trying every link). */
const MAX_ROUTES = 4_096;

export interface RelayLinksDeps extends Omit<RelayLinkDeps, 'urls' | 'learned' | 'heard' | 'unreachable' | 'onStatus'> {
  /** One URL list per link; the first link is the peer's own (its ICE comes from it). */
  links: ReadonlyArray<readonly string[]>;
  /** Relays learned from the DHT: the first link fails over to them once its list is exhausted. */
  learned?: () => readonly string[];
  /** A link came up or went down, with its relay's URL. */
  onStatus?(up: boolean, url: string, link: number): void;
}

export class RelayLinks {
  /** Resolves at the first welcome of the first link. */
  readonly welcomed: Promise<void>;
  private readonly links: RelayLink[];
  /** Which link each peer was last heard through. */
  private readonly via = new Map<IdHex, number>();

  constructor(deps: RelayLinksDeps) {
    if (deps.links.length === 0) throw new TypeError('RelayLinks needs at least one link');
    const { links, learned, onStatus, onIce, ...shared } = deps;
    this.links = links.map(
      (urls, index) =>
        new RelayLink({
          ...shared,
          urls,
          ...(index === 0 && learned ? { learned } : {}),
          // STUN/TURN come from the peer's own relay; a joined relay's would only replace them.
          onIce: (ice: RelayIce) => {
            if (index === 0) onIce(ice);
          },
          heard: (peer) => this.heard(peer, index),
          unreachable: (peer) => {
            if (this.via.get(peer) === index) this.via.delete(peer);
          },
          onStatus: (up, url) => onStatus?.(up, url, index),
        }),
    );
    this.welcomed = this.links[0]!.welcomed;
  }

  /** Whether any link is up. */
  get connected(): boolean {
    return this.links.some((l) => l.connected);
  }

  /** The peer's own link (its bootstrap list, then the relays learned): what relayStatus() and relays() report. */
  get primary(): RelayLink {
    return this.links[0]!;
  }

  /** Each link's relay (connected to, or tried next) and whether it is up, in link order. */
  status(): Array<{ url: string; connected: boolean }> {
    return this.links.map((l) => ({ url: l.url, connected: l.connected }));
  }

  /** The link a signal to `peer` would go through first, if one is remembered. */
  routeOf(peer: IdHex): number | undefined {
    return this.via.get(peer);
  }

  get rejectedSignals(): number {
    return this.links.reduce((sum, l) => sum + l.rejectedSignals, 0);
  }

  /** Fresh ICE credentials come from the peer's own relay. */
  requestIce(): boolean {
    return this.links[0]!.requestIce();
  }

  channelOpened(): void {
    for (const link of this.links) link.channelOpened();
  }

  /** Through the link that knows `to`, else the first other link that is up; false when none took it. */
  sendSignal(to: IdHex, signal: StampedSignal): boolean {
    const known = this.via.get(to);
    if (known !== undefined && this.links[known]!.sendSignal(to, signal)) return true;
    for (let i = 0; i < this.links.length; i++) {
      if (i !== known && this.links[i]!.sendSignal(to, signal)) return true;
    }
    return false;
  }

  close(): void {
    for (const link of this.links) link.close();
  }

  private heard(peer: IdHex, link: number): void {
    this.via.delete(peer);
    this.via.set(peer, link);
    if (this.via.size > MAX_ROUTES) this.via.delete(this.via.keys().next().value!);
  }
}
