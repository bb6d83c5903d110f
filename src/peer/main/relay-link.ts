import { systemClock, type Clock } from '../../core/environment.js';
import type { IdHex } from '../../core/id.js';
import type { Identity } from '../../core/identity.js';
import { createSignalingClient, type SignalingClient, type WebSocketConstructor } from '../../signaling/client.js';
import type { RelayIce } from '../../signaling/ice.js';
import { asyncEd25519, type AsyncEd25519 } from '../../crypto/async-ed25519.js';
import { IntroductionPacer } from './introduction-pacer.js';
import { markStartup } from './startup-marks.js';
import type { StampedSignal } from '../../signaling/protocol.js';

/**
 * One link to a relay: the signaling client (which fails over along its list in order, then
 * to relays learned from the DHT, see signaling/client.ts), the introductions the relay
 * hands out, and the periodic check that asks for new ones when the node needs them.
 * A peer may hold several (relay-links.ts); a browser tab holds one.
 */

/** Relay introductions a node dials when it has no channel at all. */
const FIRST_CONTACTS = 3;
const ISOLATION_CHECK_MS = 5_000;

/** What the link needs from the rest of the tab. */
export interface RelayLinkDeps {
  urls: readonly string[];
  /** Relays learned from the DHT, tried after `urls` (relay-directory.ts). */
  learned?: () => readonly string[];
  /** A peer this relay introduced, or sent us a signal from: reachable through this link. */
  heard?(peer: IdHex): void;
  /** The relay could not reach this peer (told before the attempt is dropped). */
  unreachable?(peer: IdHex): void;
  identity: Identity;
  realm: string;
  channels: {
    readonly openCount: number;
    connect(peer: IdHex): boolean;
    disconnect(peer: IdHex): void;
    signal(from: IdHex, signal: StampedSignal, viaRelay: boolean): void;
    /** Connection attempts given up so far (ConnectionFailures.total). */
    readonly failuresTotal: number;
  };
  /** STUN/TURN configuration the relay handed out (with its welcome, and when asked again). */
  onIce(ice: RelayIce): void;
  /** The link came up (a relay admitted us) or went down, with that relay's URL. */
  onStatus?(up: boolean, url: string): void;
  /** Whether the node wants introductions though it has channels (DhtNode.needsIntroductions). */
  needsIntroductions(): Promise<boolean>;
  clock?: Clock;
  WebSocketImpl?: WebSocketConstructor;
  /** The Ed25519 to sign and check the relay's signals with (crypto/async-ed25519.ts); `asyncEd25519()` when absent. */
  ed25519?: AsyncEd25519;
}

/** Where this tab's link to the relays stands (peer.relayStatus()). */
export interface RelayStatus {
  /** True while a relay has admitted this tab (authenticated, welcomed). */
  up: boolean;
  /** The relay that admitted it; while down, the relay it is trying (or will try next). */
  url: string;
}

export class RelayLink {
  /** Resolves at the first welcome from a relay. */
  readonly welcomed: Promise<void>;
  private readonly client: SignalingClient;
  private readonly clock: Clock;
  /** Set while the node asked for introductions with channels open (none of them gets its requests through). */
  private surrounded = false;
  private cancelCheck: () => void = () => undefined;
  /** Slows the requests for introductions of a tab whose attempts keep failing. */
  private readonly pacer = new IntroductionPacer(ISOLATION_CHECK_MS);
  private failuresSeen = 0;
  private closed = false;

  constructor(private readonly deps: RelayLinkDeps) {
    this.clock = deps.clock ?? systemClock;
    this.client = createSignalingClient({
      url: deps.urls,
      ...(deps.learned ? { learned: deps.learned } : {}),
      identity: deps.identity,
      realm: deps.realm,
      clock: this.clock,
      ...(deps.WebSocketImpl ? { WebSocketImpl: deps.WebSocketImpl } : {}),
      ed25519: deps.ed25519 ?? asyncEd25519(),
    });
    const { channels } = deps;
    this.welcomed = new Promise((resolve) => {
      this.client.on('welcome', ({ peers }) => {
        // Marked here, before the introductions are dialled (compose-peer's own mark would come after them).
        markStartup('relay-welcome');
        resolve();
        this.introduced(peers);
      });
    });
    this.client.on('peers', (peers) => this.introduced(peers));
    this.client.on('ice', (ice) => deps.onIce(ice));
    let up = false;
    let upUrl = '';
    this.client.on('status', (status) => {
      if ((status === 'open') === up) return;
      up = status === 'open';
      // Going down is reported with the relay that was up, whichever the client tries next.
      if (up) upUrl = this.client.url;
      deps.onStatus?.(up, upUrl);
    });
    this.client.on('signal', ({ from, data, ts, session, seq }) => {
      deps.heard?.(from);
      channels.signal(from, { data, ts, session, seq }, true);
    });
    this.client.on('error', (e) => {
      if (e.code === 'UNREACHABLE' && e.to) {
        deps.unreachable?.(e.to);
        channels.disconnect(e.to);
      }
    });
    this.scheduleCheck();
  }

  /** The relay this link is connected to, or tries next. */
  get url(): string {
    return this.client.url;
  }

  get connected(): boolean {
    return this.client.status === 'open';
  }

  /**
   * The state now, for an app that asks rather than listens: createPeer resolves after 5 s
   * even when no relay answered (the link keeps trying), and the events before that were
   * emitted before the app could subscribe.
   */
  status(): RelayStatus {
    return { up: this.connected && !this.closed, url: this.client.url };
  }

  /** Signals the relay refused to pass on as genuine (bad signature, wrong addressee). */
  get rejectedSignals(): number {
    return this.client.stats().rejectedSignals;
  }

  /** Ask the relay for fresh ICE credentials; false when not connected. */
  requestIce(): boolean {
    return this.client.requestIce();
  }

  /** A channel opened: introductions go back to their normal pace. */
  channelOpened(): void {
    this.pacer.opened();
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
    for (const peer of peers) this.deps.heard?.(peer);
    if (channels.openCount > 0 && !this.surrounded) return;
    this.surrounded = false;
    // The first dial goes out in this task (it takes the prepared connection, whose offer is ready);
    // the others a task later, so that offer is signed and sent without waiting for their connections to be made.
    const rest = [...peers];
    while (rest.length > 0 && !channels.connect(rest.shift()!));
    if (rest.length === 0) return;
    this.clock.setTimer(0, () => {
      if (this.closed) return;
      let dialled = 1;
      for (const peer of rest) {
        if (dialled >= FIRST_CONTACTS) break;
        if (channels.connect(peer)) dialled++;
      }
    });
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
      const { channels } = this.deps;
      if (channels.failuresTotal > this.failuresSeen) {
        this.failuresSeen = channels.failuresTotal;
        if (channels.openCount === 0) this.pacer.failed();
      }
      if (channels.openCount === 0) {
        if (this.pacer.due(this.clock.now())) this.client.requestPeers();
        return;
      }
      this.deps.needsIntroductions().then(
        (needed) => {
          if (!needed || !this.connected) return;
          this.surrounded = true;
          this.client.requestPeers();
        },
        () => undefined,
      );
    });
  }
}
