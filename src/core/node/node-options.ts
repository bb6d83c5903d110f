import type { Clock, Random, Transport } from '../environment.js';
import type { AsyncSigner, Identity, Verifier } from '../identity.js';
import type { FloodLimits } from '../defence/rate-limit.js';
import type { IdPool } from '../routing/routing-table.js';
import type { GatewayFactory } from './gateway.js';
import type { PeerKind } from '../wire/messages.js';

/**
 * What the host of a node (the worker, Node, the simulator) hands it: its identity and the
 * three capabilities it has no access to otherwise (transport, clock, randomness), and the
 * knobs of the protocol. Every knob is optional: numbers default to constants.ts, `verify` to
 * ed25519, `gateway` to an honest one. The simulator and the tests turn them to make rare
 * situations common.
 */
export interface DhtNodeOptions {
  identity: Identity;
  transport: Transport;
  clock: Clock;
  random: Random;
  verify?: Verifier;
  /**
   * Signs what this node publishes, off the thread (WebCrypto in the worker); without it the
   * node signs with @noble/curves, synchronously (the simulator, and runtimes without it).
   */
  signer?: AsyncSigner;
  k?: number;
  alpha?: number;
  hopTimeoutMs?: number;
  maxNeighbours?: number;
  neighboursPerBucket?: number;
  siblingNeighbours?: number;
  connectionBudget?: number;
  bucketRefreshMs?: number;
  pingIntervalMs?: number;
  /** What this node runs in, said in each PING and PONG over a channel (messages.ts, PeerKind); none for a browser tab. */
  kind?: PeerKind;
  /** Per-neighbour flood limits (rate-limit.ts); false turns them off (fuzzing the handlers). */
  flood?: FloodLimits | false;
  /** Where the routing table gets the ids it keeps (routing-table.ts IdPool); by default its own copies. */
  ids?: IdPool;
  /** Builds the gateway (the simulator's adversaries answer differently); by default an honest one. */
  gateway?: GatewayFactory;
}
