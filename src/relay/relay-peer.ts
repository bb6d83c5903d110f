/**
 * The seam where a relay starts a DHT peer of its own (README, Deploying: several relays).
 *
 * A relay that is also a peer holds records like any node, is introduced to newcomers
 * like any node, and joins other relays' meshes by dialling them as a client would; that
 * peer is a Node peer (WebRTC in Node), which this module does not provide. It only says
 * what such a peer is given and owes: the relay calls the factory once it listens, with
 * its own endpoint, the relays to join and the URL to advertise, and closes what it made
 * before it closes its sockets. The peer advertises the relay service
 * (signaling/relay-service.ts) itself, under its own key like every other record: the
 * relay has no special trust. Without a factory nothing is started.
 */
import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';

export interface RelayPeerInit {
  /** This relay's own endpoint (ws:// or wss://, as it listens): the peer's first relay link. */
  ownUrl: string;
  /** Relays whose meshes the peer enters, one link each (--join). */
  joinUrls: readonly string[];
  /** What the peer advertises as this relay's URL (--public-url; else ownUrl). */
  publicUrl: string;
}

/** What a factory returns: the running peer, closed with the relay (before its sockets). */
export interface RelayPeerHandle {
  /** The peer's node id: the relay introduces newcomers to it along with other peers. */
  readonly nodeId?: string;
  close(): Promise<void> | void;
}

export type RelayPeerFactory = (init: RelayPeerInit) => Promise<RelayPeerHandle> | RelayPeerHandle;

/** The relay options of federation (startRelay, startDemoServer). */
export interface RelayFederation {
  /** Starts the relay's own peer; absent: the relay is signaling only. */
  peer?: RelayPeerFactory;
  /** Relays to join (needs `peer`: the joining is the peer's). */
  join?: readonly string[];
  /** The URL advertised for this relay; default its listening address. */
  publicUrl?: string;
}

/** The relay's side of its peer. */
export interface RelayPeerSlot {
  /** true once the factory's peer runs, false when there is no factory; rejects with the factory's error. */
  readonly started: Promise<boolean>;
  /** The running peer's node id; undefined while it starts, without one, or after a failed start. */
  nodeId(): string | undefined;
  close(): Promise<void>;
}

/**
 * Start the relay's peer once `server` listens (at once if it already does): `address`
 * gives the relay's endpoint then. Resolves to a handle whose close() also waits for a
 * start still under way, so closing a relay that is still starting its peer leaves none behind.
 */
export function startRelayPeer(
  server: Server | HttpsServer,
  address: () => string,
  federation: RelayFederation | undefined,
): RelayPeerSlot {
  const factory = federation?.peer;
  if (factory === undefined)
    return { started: Promise.resolve(false), nodeId: () => undefined, close: () => Promise.resolve() };
  const started = new Promise<void>((resolve) => {
    if (server.listening) resolve();
    else server.once('listening', () => resolve());
  }).then(() => {
    const ownUrl = address();
    return factory({ ownUrl, joinUrls: [...(federation?.join ?? [])], publicUrl: federation?.publicUrl ?? ownUrl });
  });
  // A factory that throws is the deployment's error: reported through `started`, never unhandled.
  started.catch(() => undefined);
  let nodeId: string | undefined;
  let closing: Promise<void> | undefined;
  void started.then(
    (peer) => {
      if (closing === undefined) nodeId = peer.nodeId;
    },
    () => undefined,
  );
  return {
    started: started.then(() => true),
    nodeId: () => nodeId,
    close: () =>
      (closing ??= started.then(
        async (peer) => {
          nodeId = undefined;
          await peer.close();
        },
        () => undefined,
      )),
  };
}
