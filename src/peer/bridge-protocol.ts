/**
 * The bytes bridge between the main thread (which owns the WebRTC channels) and the
 * worker (which owns the DHT). It runs over a dedicated MessagePort, apart from the
 * Comlink API calls, so frames never queue behind a slow API call. Frames are
 * transferred, not copied.
 */

/** Main thread → worker. */
export type ToWorker =
  | { t: 'open'; peer: string }
  | { t: 'close'; peer: string }
  | { t: 'frame'; peer: string; frame: Uint8Array };

/** Worker → main thread. */
export type FromWorker =
  | { t: 'send'; peer: string; frame: Uint8Array }
  | { t: 'connect'; peer: string }
  | { t: 'disconnect'; peer: string }
  /** A signal that arrived through the overlay (still to be verified by the main thread). */
  | { t: 'signal-in'; from: string; payload: Uint8Array };

const isString = (v: unknown): v is string => typeof v === 'string' && v.length <= 128;

/** Messages on the port come from our own code, but are still checked: a bug must not crash the loop. */
export function parseToWorker(data: unknown): ToWorker | null {
  if (typeof data !== 'object' || data === null) return null;
  const m = data as Record<string, unknown>;
  switch (m.t) {
    case 'open':
    case 'close':
      return isString(m.peer) ? { t: m.t, peer: m.peer } : null;
    case 'frame':
      return isString(m.peer) && m.frame instanceof Uint8Array ? { t: 'frame', peer: m.peer, frame: m.frame } : null;
    default:
      return null;
  }
}

export function parseFromWorker(data: unknown): FromWorker | null {
  if (typeof data !== 'object' || data === null) return null;
  const m = data as Record<string, unknown>;
  switch (m.t) {
    case 'send':
      return isString(m.peer) && m.frame instanceof Uint8Array ? { t: 'send', peer: m.peer, frame: m.frame } : null;
    case 'connect':
    case 'disconnect':
      return isString(m.peer) ? { t: m.t, peer: m.peer } : null;
    case 'signal-in':
      return isString(m.from) && m.payload instanceof Uint8Array ? { t: 'signal-in', from: m.from, payload: m.payload } : null;
    default:
      return null;
  }
}
