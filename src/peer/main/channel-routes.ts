import type { ChannelRoute } from '../../transport/channel-diagnostics.js';
import type { PeerChannel } from '../../transport/peer-channel.js';

/**
 * Which open channels go directly (host, server- or peer-reflexive candidates) and which
 * through a TURN relay, read from each connection's selected candidate pair once it opens.
 * TURN traffic costs the deployment bandwidth and adds a hop, so a page (the demo's
 * counters) and a test want to see it; `?ice=relay` forces it to check a TURN server.
 *
 * It wraps each channel the connection manager creates, so the manager needs no change:
 * the wrapper passes everything through and watches open and close on the way.
 */

/** A selected pair may not be in the first stats report right after `open` (Firefox): ask again once. */
const RETRY_MS = 1_000;

export class ChannelRoutes {
  private readonly open = new Map<PeerChannel, ChannelRoute | null>();
  private openedDirect = 0;
  private openedRelayed = 0;

  wrap(inner: PeerChannel): PeerChannel {
    const routes = this;
    const outer: PeerChannel = {
      signal: (data) => inner.signal(data),
      send: (frame) => inner.send(frame),
      close() {
        routes.open.delete(outer);
        inner.close();
      },
      onSignal: () => undefined,
      onOpen: () => undefined,
      onData: () => undefined,
      onClose: () => undefined,
      ...(inner.failureReason ? { failureReason: () => inner.failureReason!() } : {}),
      ...(inner.route ? { route: () => inner.route!() } : {}),
    };
    inner.onSignal = (data) => outer.onSignal(data);
    inner.onData = (frame) => outer.onData(frame);
    inner.onOpen = () => {
      this.open.set(outer, null);
      outer.onOpen();
      this.measure(outer, true);
    };
    inner.onClose = () => {
      this.open.delete(outer);
      outer.onClose();
    };
    return outer;
  }

  /** stats() entries: open channels by route, and how many opened each way so far. */
  toStats(): Record<string, number> {
    let direct = 0;
    let relayed = 0;
    for (const route of this.open.values()) {
      if (route?.relayed === true) relayed++;
      else if (route !== null && route !== undefined) direct++;
    }
    return {
      'connections.direct': direct,
      'connections.relayed': relayed,
      'connections.openedDirect': this.openedDirect,
      'connections.openedRelayed': this.openedRelayed,
    };
  }

  private measure(channel: PeerChannel, retry: boolean): void {
    if (channel.route === undefined) return;
    void channel.route().then((route) => {
      if (!this.open.has(channel) || this.open.get(channel) !== null) return;
      if (route === null) {
        if (retry) setTimeout(() => this.measure(channel, false), RETRY_MS);
        return;
      }
      this.open.set(channel, route);
      if (route.relayed) this.openedRelayed++;
      else this.openedDirect++;
    });
  }
}
