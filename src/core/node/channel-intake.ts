import { decodeFrame, type Frame } from '../wire/codec.js';
import type { NodeBasics, NodeEvent, Neighbours } from '../context.js';
import { fromHex, isIdHex } from '../id.js';
import type { Liars } from '../defence/liars.js';
import type { FloodClass, FloodGuard } from '../defence/rate-limit.js';
import { messageCounter } from '../counters.js';
import type { RoutingTable } from '../routing/routing-table.js';
import type { ContactBook } from './contacts.js';
import type { Gateway } from './gateway.js';
import type { Liveness } from './liveness.js';
import type { Messenger } from './messenger.js';
import type { NeighbourSet } from './neighbour-set.js';
import type { NeighbourVetting } from './neighbour-vetting.js';

export interface ChannelIntakeHost extends NodeBasics {
  readonly neighbours: Neighbours;
  /** A neighbour cut off for flooding is dead to the table too. */
  readonly table: Pick<RoutingTable, 'markDead'>;
  /** Flood protection; undefined when turned off. */
  readonly flood: FloodGuard | undefined;
  readonly liars: Pick<Liars, 'has'>;
  readonly vetting: Pick<NeighbourVetting, 'opened' | 'trust'>;
  readonly neighbourSet: Pick<NeighbourSet, 'opened' | 'refuse' | 'reviewSoon' | 'rejoinDue' | 'hangUp' | 'coolDown'>;
  readonly contacts: Pick<ContactBook, 'learn'>;
  readonly liveness: Pick<Liveness, 'opened' | 'heard' | 'junk' | 'pong'>;
  readonly messenger: Pick<Messenger, 'sendDirect' | 'acknowledged' | 'receive'>;
  readonly gateway: Pick<Gateway, 'dispatch'>;
  emit(event: NodeEvent): void;
  isClosed(): boolean;
  /** Back from isolation: join again (DhtNode.bootstrap). */
  rejoin(): void;
}

/**
 * What comes in from the channels, before any part of the node sees it: whether a channel
 * that opened may stay (liars, banned flooders and distrusted neighbours are refused), and
 * each frame's way in: only from an open channel, within the sender's flood budget, decoded
 * without throwing, then handed to the part that owns its type. Every frame is a sign of
 * life (liveness.ts), so busy channels need no pings.
 */
export class ChannelIntake {
  constructor(private readonly host: ChannelIntakeHost) {}

  opened(peer: string): void {
    const { host } = this;
    if (host.isClosed() || !isIdHex(peer) || peer === host.selfHex) return;
    const now = host.clock.now();
    const refusal = host.liars.has(peer, now)
      ? 'contacts.refusedLiar'
      : host.flood?.isBanned(peer, now) === true
        ? 'flood.refusedBanned'
        : host.vetting.trust.isDistrusted(peer, now)
          ? 'neighbours.refusedUnreliable'
          : undefined;
    if (refusal !== undefined) {
      host.count(refusal);
      host.neighbourSet.refuse(peer);
      return;
    }
    if (host.neighbourSet.opened(peer, now)) {
      host.vetting.opened(peer, now);
      host.liveness.opened(peer, now);
    }
    host.contacts.learn(fromHex(peer), true);
    host.count('channels.opened');
    host.emit({ type: 'neighbour:open', peer });
    host.neighbourSet.reviewSoon();
    if (host.neighbourSet.rejoinDue()) {
      // Back from isolation (the relay introduced someone): what we knew is gone or untrusted, so join again.
      host.count('rejoins');
      host.rejoin();
    }
  }

  frame(peer: string, frame: Frame): void {
    const { host } = this;
    if (host.isClosed()) return this.dropped('frames.afterClose');
    const neighbour = host.neighbours.get(peer);
    if (neighbour === undefined) return this.dropped('frames.fromStranger');
    if (host.flood !== undefined) {
      const admission = host.flood.admit(peer, frame, host.clock.now());
      if (!admission.ok) {
        this.dropped('flood.limited');
        return this.limited(host.flood, peer, admission.class, admission.disconnect);
      }
    }
    neighbour.lastHeard = host.clock.now();
    host.liveness.heard(neighbour);
    const decoded = decodeFrame(frame);
    if (!decoded.ok) {
      this.dropped('frames.malformed');
      host.count(`frames.malformed.${decoded.error}`);
      host.liveness.junk(peer);
      return;
    }
    const { message } = decoded;
    host.count('messages.in');
    host.count(messageCounter('in', message.type));
    switch (message.type) {
      case 'PING':
        if (message.body.kind !== undefined) neighbour.kind = message.body.kind;
        host.messenger.sendDirect(
          peer,
          'PONG',
          host.kind === undefined ? { rid: message.body.rid } : { rid: message.body.rid, kind: host.kind },
        );
        return;
      case 'PONG':
        if (message.body.kind !== undefined) neighbour.kind = message.body.kind;
        // A PONG that answers no liveness ping of ours settles a PING request (messenger.queryPeer).
        if (!host.liveness.pong(neighbour, message.body.rid))
          host.gateway.dispatch(message, { kind: 'direct', peer, id: neighbour.id });
        return;
      case 'ROUTE_ACK':
        host.messenger.acknowledged(peer, message.body.hid);
        return;
      case 'LEAVE':
        this.left(peer);
        return;
      case 'RPC_ROUTE':
        host.messenger.receive(peer, message.body);
        return;
      default:
        host.gateway.dispatch(message, { kind: 'direct', peer, id: neighbour.id });
    }
  }

  /**
   * An envelope that ends here is charged to the neighbour that handed it over, by what it
   * carries (defence/rate-limit.ts): a STORE wrapped in an envelope costs that neighbour what
   * a direct STORE would, strikes and ban included. One whose channel has closed since (the
   * envelope waited for a hop that timed out) was charged while it was open. The envelope
   * itself was read (messages.in), so a refusal here is not a dropped frame.
   */
  admitDelivered(flood: FloodGuard, from: string, inner: Frame): boolean {
    const { host } = this;
    const now = host.clock.now();
    if (flood.isBanned(from, now)) {
      host.count('flood.fromBanned');
      return false;
    }
    if (!host.neighbours.has(from)) return true;
    const admission = flood.admitDelivered(from, inner, now);
    if (admission.ok) return true;
    host.count('flood.limited');
    this.limited(flood, from, admission.class, admission.disconnect);
    return false;
  }

  /** Over its class's budget: counted by class; a neighbour out of strikes is cut off and banned. */
  private limited(flood: FloodGuard, peer: string, cls: FloodClass, disconnect: boolean): void {
    const { host } = this;
    host.count(`flood.limited.${cls}`);
    if (!disconnect) return;
    host.count('flood.disconnected');
    host.table.markDead(fromHex(peer));
    host.neighbourSet.hangUp(peer);
    const now = host.clock.now();
    flood.ban(peer, now);
    // The neighbour policy must not dial it again either while the ban lasts.
    host.neighbourSet.coolDown(peer, now + flood.limits.banMs);
  }

  /** A frame that arrived but was not read: counted by why, and in `frames.dropped` (counters.ts: frames add up). */
  private dropped(why: 'frames.afterClose' | 'frames.fromStranger' | 'frames.malformed' | 'flood.limited'): void {
    this.host.count('frames.dropped');
    this.host.count(why);
  }

  /**
   * A neighbour said it is closing (LEAVE, over its own channel: nobody else can say it for
   * it). It is dropped at once rather than kept as a lost contact to probe and redial:
   * gone from the table, not taken back on hearsay for a while (contacts.ts, departed), its
   * channel closed; the registry forgets it as a provider (neighbour:left).
   */
  private left(peer: string): void {
    const { host } = this;
    host.count('neighbours.left');
    host.table.markDead(fromHex(peer));
    host.neighbourSet.hangUp(peer);
    host.emit({ type: 'neighbour:left', peer });
  }
}
