import { systemClock, type Clock } from '../../core/environment.js';
import type { IdHex } from '../../core/id.js';
import type { Identity } from '../../core/identity.js';
import { createSignalingClient, type SignalingClient, type WebSocketConstructor } from '../../signaling/client.js';
import type { StampedSignal } from '../../signaling/protocol.js';

/**
 * This tab's link to the bootstrap relays: the signaling client (which fails over along
 * the `bootstrap` list in order, see signaling/client.ts), the introductions the relay
 * hands out, and the periodic check that asks for new ones when the node needs them.
 */

/** Relay introductions a node dials when it has no channel at all. */
const FIRST_CONTACTS = 3;
const ISOLATION_CHECK_MS = 5_000;

/** What the link needs from the rest of the tab. */
export interface RelayLinkDeps {
  urls: readonly string[];
  identity: Identity;
  realm: string;
  channels: {
    readonly openCount: number;
    connect(peer: IdHex): boolean;
    disconnect(peer: IdHex): void;
    signal(from: IdHex, signal: StampedSignal, viaRelay: boolean): void;
  };
  /** Whether the node wants introductions though it has channels (DhtNode.needsIntroductions). */
  needsIntroductions(): Promise<boolean>;
  clock?: Clock;
  WebSocketImpl?: WebSocketConstructor;
}

export class RelayLink {
  /** Resolves at the first welcome from a relay. */
  readonly welcomed: Promise<void>;
  private readonly client: SignalingClient;
  private readonly clock: Clock;
  /** Set while the node asked for introductions with channels open (none of them gets its requests through). */
  private surrounded = false;
  private cancelCheck: () => void = () => undefined;
  private closed = false;

  constructor(private readonly deps: RelayLinkDeps) {
    this.clock = deps.clock ?? systemClock;
    this.client = createSignalingClient({
      url: deps.urls, identity: deps.identity, realm: deps.realm, clock: this.clock,
      ...(deps.WebSocketImpl ? { WebSocketImpl: deps.WebSocketImpl } : {}),
    });
    const { channels } = deps;
    this.welcomed = new Promise((resolve) => {
      this.client.on('welcome', ({ peers }) => {
        resolve();
        this.introduced(peers);
      });
    });
    this.client.on('peers', (peers) => this.introduced(peers));
    this.client.on('signal', ({ from, data, ts, session, seq }) => channels.signal(from, { data, ts, session, seq }, true));
    this.client.on('error', (e) => {
      if (e.code === 'UNREACHABLE' && e.to) channels.disconnect(e.to);
    });
    this.scheduleCheck();
  }

  get connected(): boolean {
    return this.client.status === 'open';
  }

  /** Signals the relay refused to pass on as genuine (bad signature, wrong addressee). */
  get rejectedSignals(): number {
    return this.client.stats().rejectedSignals;
  }

  /** Send a signal through the relay; false when not connected. */
  sendSignal(to: IdHex, signal: StampedSignal): boolean {
    return this.client.sendSignal(to, signal);
  }

  close(): void {
    this.closed = true;
    this.cancelCheck();
    this.client.close();
  }

  private introduced(peers: IdHex[]): void {
    const { channels } = this.deps;
    if (channels.openCount > 0 && !this.surrounded) return;
    this.surrounded = false;
    let dialled = 0;
    for (const peer of peers) {
      if (dialled >= FIRST_CONTACTS) break;
      if (channels.connect(peer)) dialled++;
    }
  }

  /**
   * A tab left with no channel asks the relay for new introductions, and so does one whose
   * node finds itself surrounded by neighbours that get nothing through.
   */
  private scheduleCheck(): void {
    this.cancelCheck = this.clock.setTimer(ISOLATION_CHECK_MS, () => {
      if (this.closed) return;
      this.scheduleCheck();
      if (!this.connected) return;
      if (this.deps.channels.openCount === 0) return void this.client.requestPeers();
      this.deps.needsIntroductions().then((needed) => {
        if (!needed || !this.connected) return;
        this.surrounded = true;
        this.client.requestPeers();
      }, () => undefined);
    });
  }
}
