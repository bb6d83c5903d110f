import type { WebSocketConstructor, WebSocketLike } from './client.js';

/**
 * A relay socket opened before the peer can use it (docs/ARCHITECTURE.md, Joining). The
 * signaling client needs the peer's identity to sign the relay's challenge, but opening the
 * socket and receiving that challenge need nothing: a page opens it as createPeer starts, while
 * its identity is read or made, and the client takes it over when it connects to that relay
 * for the first time. Whatever the socket received or went through meanwhile (the challenge, a
 * close) is handed to the client's handlers in order once it has set them, as if it had
 * arrived just then. Every other socket the client makes is an ordinary one.
 */
export interface EarlySocket {
  /** The WebSocket class to give the signaling client: the early socket first, for its URL, once. */
  readonly Impl: WebSocketConstructor;
  /** Close the early socket if the client never took it (the peer failed to start). */
  discard(): void;
}

type Kind = 'message' | 'close' | 'error';
type Handler = ((event: never) => unknown) | null;

export function openEarlySocket(url: string, Impl: WebSocketConstructor): EarlySocket {
  let socket: WebSocketLike | undefined;
  try {
    socket = new Impl(url);
  } catch {
    // Refused at once (a blocked port): the client's own attempt meets the same and fails over.
    socket = undefined;
  }
  /** Events the socket had before the client set its handlers, in order. */
  const held: Array<[Kind, unknown]> = [];
  const handlers: Record<Kind, Handler> = { message: null, close: null, error: null };
  let taken = false;
  let flushing = false;
  let flushed = false;
  const deliver = (kind: Kind, event: unknown): void => {
    if (!flushed) {
      held.push([kind, event]);
      return;
    }
    (handlers[kind] as ((e: unknown) => unknown) | null)?.(event);
  };
  if (socket !== undefined) {
    socket.onmessage = ((e: unknown) => deliver('message', e)) as Handler;
    socket.onclose = ((e: unknown) => deliver('close', e)) as Handler;
    socket.onerror = ((e: unknown) => deliver('error', e)) as Handler;
  }
  /** After the client set its handlers (it sets all three in one turn): what was held, then live. */
  const flushSoon = (): void => {
    if (flushing) return;
    flushing = true;
    queueMicrotask(() => {
      flushed = true;
      for (const [kind, event] of held.splice(0)) (handlers[kind] as ((e: unknown) => unknown) | null)?.(event);
    });
  };
  const handlerProperty = (kind: Kind): PropertyDescriptor => ({
    get: () => handlers[kind],
    set: (fn: Handler) => {
      handlers[kind] = fn;
      flushSoon();
    },
  });

  function adopted(early: WebSocketLike): WebSocketLike {
    const view = {
      get readyState() {
        return early.readyState;
      },
      send: (data: string) => early.send(data),
      close: (code?: number, reason?: string) => early.close(code, reason),
    };
    Object.defineProperties(view, {
      onmessage: handlerProperty('message'),
      onclose: handlerProperty('close'),
      onerror: handlerProperty('error'),
    });
    return view as WebSocketLike;
  }

  class Early {
    constructor(to: string) {
      if (taken || socket === undefined || to !== url) return new Impl(to) as Early;
      taken = true;
      return adopted(socket) as unknown as Early;
    }
  }
  return {
    Impl: Early as unknown as WebSocketConstructor,
    discard() {
      if (taken || socket === undefined) return;
      taken = true;
      socket.close(1000, 'peer did not start');
    },
  };
}
