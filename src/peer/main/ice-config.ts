import type { Clock } from '../../core/environment.js';
import type { IceServerSpec, RelayIce } from '../../signaling/ice.js';

/**
 * The RTCPeerConnection configuration each new channel gets: the relay's STUN/TURN servers
 * (with this node's TURN credentials) followed by the app's own, under the app's transport
 * policy. Each connection reads it when it is created, so credentials renewed in between
 * apply to the next connection; a connection already open keeps the ones it started with.
 *
 * TURN credentials expire, and a tab lives for hours: the relay says how long they hold
 * (`ttl`), and they are asked for again once RENEW_AT of that time has passed. A relay
 * reconnect brings fresh ones with its welcome, which replaces the pending renewal.
 */

/** Renew when this share of the credentials' lifetime has passed. */
const RENEW_AT = 0.8;
/** Retry a renewal the relay could not take (not connected) this much later. */
const RETRY_MS = 5_000;

export interface IceStats {
  /** ICE server entries the relay handed out (0 when it configures none). */
  relayServers: number;
  /** ICE configurations received: one per welcome, one per renewal. */
  updates: number;
}

export class IceConfig {
  private relayServers: IceServerSpec[] = [];
  private cancelRenewal: (() => void) | undefined;
  private closed = false;
  readonly stats: IceStats = { relayServers: 0, updates: 0 };

  constructor(
    private readonly appServers: IceServerSpec[],
    private readonly policy: 'all' | 'relay',
    private readonly clock: Clock,
    /** Ask the relay for fresh credentials; false when it cannot be asked now. */
    private readonly requestRenewal: () => boolean,
  ) {}

  /** What the relay sent, with a welcome or in answer to a renewal request. */
  fromRelay(ice: RelayIce): void {
    if (this.closed) return;
    this.relayServers = ice.iceServers;
    this.stats.relayServers = ice.iceServers.length;
    this.stats.updates++;
    this.schedule(ice.ttl === undefined ? undefined : ice.ttl * 1000 * RENEW_AT);
  }

  /** The configuration for a connection created now. */
  configuration(): RTCConfiguration {
    return {
      iceServers: [...this.relayServers, ...this.appServers].map((s) => ({ ...s, urls: [...s.urls] })),
      iceTransportPolicy: this.policy,
    };
  }

  close(): void {
    this.closed = true;
    this.cancelRenewal?.();
    this.cancelRenewal = undefined;
  }

  private schedule(afterMs: number | undefined): void {
    this.cancelRenewal?.();
    this.cancelRenewal = undefined;
    if (afterMs === undefined || this.closed) return;
    this.cancelRenewal = this.clock.setTimer(afterMs, () => {
      this.cancelRenewal = undefined;
      // Not connected: the reconnect's welcome brings fresh credentials, but ask again in case it is slow.
      if (!this.requestRenewal()) this.schedule(RETRY_MS);
    });
  }
}
