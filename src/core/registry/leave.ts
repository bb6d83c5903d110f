import type { Neighbours, NodeEvent } from '../context.js';
import { withdrawFromDht, type RecordPlacement, type RegistryHost } from './dht-registry.js';

/**
 * Leaving the mesh gracefully (docs/ARCHITECTURE.md, Semantics): this peer's own records
 * are taken out of the DHT, then its neighbours are told, all within `graceMs`. Whatever
 * has not arrived by then is left to the records' TTL, as after a tab that vanished.
 */

/** How long a graceful close gives its removals and goodbyes by default (Peer.close's timeoutMs). */
export const LEAVE_GRACE_MS = 1_500;

/** What leaving uses of the node (a DhtNode is one). */
export interface LeaveHost extends RegistryHost {
  readonly isClosed: boolean;
  readonly neighbours: Pick<Neighbours, 'has' | 'size'>;
  /** Send LEAVE to every neighbour. */
  sayGoodbye(): void;
  on(listener: (e: NodeEvent) => void): () => void;
}

/** One record this peer keeps in the DHT: its name and where it is stored. */
export interface OwnRecord {
  name: string;
  placement: RecordPlacement;
}

export async function leaveMesh(node: LeaveHost, records: readonly OwnRecord[], graceMs: number): Promise<void> {
  if (graceMs <= 0 || node.isClosed || node.neighbours.size === 0) return;
  const started = node.clock.now();
  const removals = Promise.all(
    records.map((r) =>
      withdrawFromDht(node, r.name, r.placement).then(
        (outcome) => node.count('leave.removed', outcome.stored),
        () => node.count('leave.removeFailed'),
      ),
    ),
  );
  // The removals get two thirds of the time, the goodbyes what is left.
  await within(node, Math.floor((graceMs * 2) / 3), removals);
  // After the removals, which travel through the neighbours: they hang up on LEAVE. Closing
  // our side at once could drop a LEAVE still in flight, so wait for them to hang up.
  node.sayGoodbye();
  await within(node, graceMs - (node.clock.now() - started), alone(node));
}

/** `work`, or `ms` passing on the node's clock, whichever comes first. */
async function within(node: LeaveHost, ms: number, work: Promise<unknown>): Promise<void> {
  if (ms <= 0) return;
  let cancel = (): void => undefined;
  const outOfTime = new Promise<void>((resolve) => (cancel = node.clock.setTimer(ms, resolve)));
  await Promise.race([work, outOfTime]);
  cancel();
}

/** Resolves once no channel is open. */
function alone(node: LeaveHost): Promise<void> {
  return new Promise((resolve) => {
    if (node.neighbours.size === 0) return resolve();
    const off = node.on((e) => {
      if (e.type === 'neighbour:close' && node.neighbours.size === 0) {
        off();
        resolve();
      }
    });
  });
}
