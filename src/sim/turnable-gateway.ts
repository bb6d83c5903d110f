import type { ReplyName, ReplyTo } from '../core/context.js';
import type { DhtNode } from '../core/node/dht-node.js';
import { Gateway, type GatewayFactory } from '../core/node/gateway.js';
import type { Message, MessageBodies } from '../core/wire/messages.js';

/**
 * A gateway that answers as an honest one until an adversary turns it (forger.ts,
 * hostile-peers.ts). A scenario may pick the nodes that turn long after its swarm was
 * built, so it builds those that may turn with `turnable` (DhtNodeOptions.gateway) and
 * turns them later: an unturned node behaves exactly as one built with the default gateway.
 */
export interface Turn {
  answersHere?(inner: Message): boolean;
  /** `honest`: answer as the node would have. */
  handleFindValue?(body: MessageBodies['FIND_VALUE'], replyTo: ReplyTo, honest: () => void): void;
  handleFindNode?(body: MessageBodies['FIND_NODE'], replyTo: ReplyTo): void;
}

export class TurnableGateway extends Gateway {
  private turn: Turn = {};

  turnTo(turn: Turn): void {
    this.turn = turn;
  }

  /** Answer a request the way it came, for a turn that answers itself. */
  answer<N extends ReplyName>(replyTo: ReplyTo, type: N, body: MessageBodies[N]): void {
    this.ctx.messenger.reply(replyTo, type, body);
  }

  override answersHere(inner: Message): boolean {
    return this.turn.answersHere ? this.turn.answersHere(inner) : super.answersHere(inner);
  }

  override handleFindValue(body: MessageBodies['FIND_VALUE'], replyTo: ReplyTo): void {
    if (this.turn.handleFindValue) this.turn.handleFindValue(body, replyTo, () => super.handleFindValue(body, replyTo));
    else super.handleFindValue(body, replyTo);
  }

  override handleFindNode(body: MessageBodies['FIND_NODE'], replyTo: ReplyTo): void {
    if (this.turn.handleFindNode) this.turn.handleFindNode(body, replyTo);
    else super.handleFindNode(body, replyTo);
  }
}

export const turnable: GatewayFactory = (ctx) => new TurnableGateway(ctx);

/** The gateway of a node built with `turnable`. */
export function turnableGatewayOf(node: DhtNode): TurnableGateway {
  if (!(node.gateway instanceof TurnableGateway))
    throw new Error('build the node with { gateway: turnable } to turn it');
  return node.gateway;
}
