import type { Frame, HeldFrame } from './held-frame.js';

/**
 * What the core is given instead of doing I/O itself. The worker binds these to WebRTC,
 * performance.now() and IndexedDB; the simulator binds them to an in-memory network,
 * a virtual clock and a seeded generator.
 */

export interface Clock {
  /** Milliseconds since the epoch (records are dated with it); virtual in the simulator. */
  now(): number;
  /** Run `fn` after `ms`; returns a function that cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
  /**
   * Optional: call `target.fire()` after `ms`; the handle returned cancels it. For a holder
   * that keeps an object per timer anyway (a request waiting for its reply): no closure for
   * the timer and none to cancel it. The simulator's clock has it (thousands of requests
   * wait at once: BENCHMARKS.md, Simulator garbage); without it, setTimer does the same.
   */
  fireAfter?(ms: number, target: TimerTarget): TimerHandle;
}

/** What Clock.fireAfter calls when its time comes. */
export interface TimerTarget {
  fire(): void;
}

export interface TimerHandle {
  cancel(): void;
}

/** The platform's clock: Date.now() and setTimeout, present in browsers, workers and Node alike. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const handle = setTimeout(fn, ms);
    return () => clearTimeout(handle);
  },
};

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  bytes(n: number): Uint8Array;
}

/**
 * Moves frames between open channels. The core decides whom to connect to and whom to
 * drop; the transport carries that out and reports back through the node's
 * onChannelOpen / onChannelClose / onFrame methods.
 */
export interface Transport {
  /** Send a frame on an open channel; false when no channel to `peer` is open. */
  send(peer: string, frame: Uint8Array): boolean;
  /** Ask for a channel to `peer` (signaled through the overlay or the relay). Counted as a connection created. */
  connect(peer: string): void;
  /** Close the channel to `peer`. */
  disconnect(peer: string): void;
  /**
   * Present only on a transport within one process (the simulator's network): it carries
   * held frames (held-frame.ts), messages with their exact encoded length, and hands
   * them over as they are, so neither side runs MessagePack. The node checks for it once
   * (node/outgoing.ts) and then sends its own messages held; otherwise bytes.
   */
  sendHeld?(peer: string, frame: HeldFrame): boolean;
}

/** Durable state, written in batches by the node (idb-keyval in the worker, a Map in tests). */
export interface Store {
  getMany(keys: string[]): Promise<unknown[]>;
  setMany(entries: Array<[string, unknown]>): Promise<void>;
  delMany(keys: string[]): Promise<void>;
  keys(): Promise<string[]>;
}

/** A seeded, fast, well-distributed generator (mulberry32) for tests and the simulator. */
export function seededRandom(seed: number): Random {
  return new SeededRandom(seed);
}

/**
 * seededRandom's generator: an object with its state in a field, rather than closures over it
 * (a simulator gives each of thousands of nodes one; the closures were ~0.4 KB each under tsx).
 * Its methods are bound, since callers pass them on alone (`createIdentity(random.bytes)`).
 */
class SeededRandom implements Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
    this.next = this.next.bind(this);
    this.bytes = this.bytes.bind(this);
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }
}

/** Randomness from the platform's CSPRNG (browsers and Node both expose globalThis.crypto). */
export const cryptoRandom: Random = {
  next: () => crypto.getRandomValues(new Uint32Array(1))[0]! / 4294967296,
  bytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
};

/** What a transport calls back into: the node's side of the channels. */
export interface ChannelHandler {
  /** A channel to `peer` opened (either side initiated). */
  onChannelOpen(peer: string): void;
  /** The channel to `peer` closed or failed. */
  onChannelClose(peer: string): void;
  /**
   * A channel this node asked for was not opened because one side already holds its cap of
   * channels: `peer` answered "busy" (it is alive, just full), or this node's own page had
   * no room. Absent, the transport reports it as onChannelClose.
   */
  onChannelBusy?(peer: string): void;
  /** A frame arrived from `peer`; bytes are untrusted (held ones come only from a transport with sendHeld). */
  onFrame(peer: string, frame: Frame): void;
}
