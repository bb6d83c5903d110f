import type { Clock, Random, TimerHandle, TimerTarget } from '../environment.js';
import { ErrorCode, MeshError } from '../errors.js';
import type { Message } from '../wire/messages.js';

/**
 * Outstanding requests, matched to their replies by a random request id alone (macula
 * matched a reply to the first pending query, which mixed up concurrent lookups). A
 * reply arriving after its timeout finds no entry and is dropped, so nothing is ever
 * delivered twice.
 */
export interface ReplyInfo {
  /** Hops the reply travelled (0 when it came straight from a neighbour). */
  hops: number;
  /** The node that answered. */
  from: Uint8Array;
  /** The nodes the reply passed through, answering node first (empty for a direct reply). */
  path: Uint8Array[];
  /** The neighbour whose channel the reply came over (hex); absent for this node's own. */
  by?: string;
}

type Settle = (reply: Message, info: ReplyInfo) => void;

/**
 * One request waiting for its reply: everything about it in one object, which is also what its
 * timeout calls (Clock.fireAfter) where the clock can. A request waits for the network, which in
 * a large simulated swarm outlasts several scavenges, so whatever it holds is promoted and dies
 * old: a record, a timer, two closures for the timeout and its cancellation and a first hop's
 * record were six such objects (BENCHMARKS.md, Simulator garbage); this and the clock's timer
 * are two.
 */
class Waiting implements TimerTarget {
  /** The neighbour a routed request left through (leftThrough), and whether its timing out counts against it. */
  hop: string | undefined = undefined;
  failureCounts = false;
  timer: TimerHandle | undefined = undefined;

  constructor(
    private readonly owner: PendingRequests,
    readonly rid: number,
    readonly timeoutMs: number,
    readonly settle: Settle,
    readonly fail: (e: MeshError) => void,
    /** The neighbour the request went to directly. */
    readonly peer: string | undefined,
  ) {}

  fire(): void {
    this.owner.timedOut(this);
  }

  cancel(): void {
    this.timer!.cancel();
  }
}

export class PendingRequests {
  private readonly pending = new Map<number, Waiting>();

  constructor(
    private readonly clock: Clock,
    private readonly random: Random,
    /** Told whether each routed request came back, per first hop (neighbour-trust.ts). */
    private readonly onFirstHopOutcome: (hop: string, through: boolean) => void = () => undefined,
  ) {}

  /** A fresh id that is not in use. */
  newId(): number {
    for (;;) {
      const rid = Math.floor(this.random.next() * 0xffffffff);
      if (!this.pending.has(rid)) return rid;
    }
  }

  /** Wait for the reply to `rid`; rejects with TIMEOUT after `timeoutMs`. */
  /** `peer`: the neighbour the request went to directly; its channel closing fails the request at once. */
  wait(rid: number, timeoutMs: number, peer?: string): Promise<{ reply: Message; info: ReplyInfo }> {
    return new Promise((resolve, reject) => {
      this.expect(rid, timeoutMs, (reply, info) => resolve({ reply, info }), reject, peer);
    });
  }

  /** Callback form of `wait`, used on hot paths (lookups) to avoid promise churn. */
  expect(rid: number, timeoutMs: number, settle: Settle, fail: (e: MeshError) => void, peer?: string): void {
    if (this.pending.has(rid)) {
      // Two waiters on one id could not both be answered: refuse the second.
      fail(new MeshError(ErrorCode.INVALID_ARGUMENT, `request id ${rid} is already waiting for a reply`));
      return;
    }
    const entry = new Waiting(this, rid, timeoutMs, settle, fail, peer);
    const { clock } = this;
    entry.timer =
      clock.fireAfter !== undefined
        ? clock.fireAfter(timeoutMs, entry)
        : { cancel: clock.setTimer(timeoutMs, () => entry.fire()) };
    this.pending.set(rid, entry);
  }

  /** The timeout of `entry` came (Waiting.fire). */
  timedOut(entry: Waiting): void {
    if (this.pending.get(entry.rid) !== entry) return;
    this.pending.delete(entry.rid);
    if (entry.hop !== undefined && entry.failureCounts) this.onFirstHopOutcome(entry.hop, false);
    entry.fail(new MeshError(ErrorCode.TIMEOUT, `no reply within ${entry.timeoutMs} ms`));
  }

  /**
   * The request `rid` was routed and left through neighbour `hop`. Its answer counts for
   * `hop`; its timing out counts against it only when `failureCounts` (the destination
   * was known to be alive: a made-up or departed one fails through every neighbour).
   */
  leftThrough(rid: number, hop: string, failureCounts: boolean): void {
    const entry = this.pending.get(rid);
    if (entry === undefined) return;
    entry.hop = hop;
    entry.failureCounts = failureCounts;
  }

  /** The channel to `peer` closed: requests sent straight to it can no longer be answered. */
  failPeer(peer: string): void {
    for (const [rid, entry] of this.pending) {
      if (entry.peer !== peer) continue;
      this.pending.delete(rid);
      entry.cancel();
      entry.fail(new MeshError(ErrorCode.NOT_CONNECTED, 'the channel closed before the reply'));
    }
  }

  /** Route a reply to its request; false when nobody waits for it (late or unknown). */
  settle(rid: number, reply: Message, info: ReplyInfo): boolean {
    const entry = this.pending.get(rid);
    if (entry === undefined) return false;
    this.pending.delete(rid);
    entry.cancel();
    if (entry.hop !== undefined) this.onFirstHopOutcome(entry.hop, true);
    entry.settle(reply, info);
    return true;
  }

  has(rid: number): boolean {
    return this.pending.has(rid);
  }

  /** Stop waiting for `rid` without settling it. */
  forget(rid: number): void {
    const entry = this.pending.get(rid);
    if (entry === undefined) return;
    this.pending.delete(rid);
    entry.cancel();
  }

  rejectAll(error: MeshError): void {
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) {
      entry.cancel();
      entry.fail(error);
    }
  }

  get size(): number {
    return this.pending.size;
  }
}
