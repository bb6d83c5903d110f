import { peekType } from '../core/codec.js';
import type { ChannelHandler, Random, Transport } from '../core/environment.js';
import type { EventQueue } from './event-queue.js';

/**
 * An in-memory network of data channels on virtual time. It plays the part of WebRTC
 * and the relay for the simulator: channels must be opened before frames flow, opening
 * one is counted (the browser's scarce resource), and nodes can leave cleanly, fail
 * silently (their channels look open but swallow everything) or drop messages.
 */
export interface NetworkOptions {
  random: Random;
  /** One-way latency range of a link, ms (each link gets a fixed value in it, so channels stay FIFO). */
  minLatencyMs?: number;
  maxLatencyMs?: number;
  /** Probability that a frame is lost. */
  loss?: number;
  /** A connection takes this many one-way latencies to open (signaling, ICE, DTLS). */
  connectLatencies?: number;
}

interface Host {
  handler: ChannelHandler;
  alive: boolean;
  channels: Set<string>;
  connectionsCreated: number;
}

export class SimNetwork {
  private readonly hosts = new Map<string, Host>();
  readonly stats = { frames: 0, bytes: 0, lost: 0, toDead: 0, connectionsCreated: 0, framesByType: new Map<string, number>() };
  private readonly minLatency: number;
  private readonly maxLatency: number;
  private readonly connectLatencies: number;
  loss: number;

  constructor(private readonly queue: EventQueue, private readonly opts: NetworkOptions) {
    this.minLatency = opts.minLatencyMs ?? 5;
    this.maxLatency = opts.maxLatencyMs ?? 60;
    this.loss = opts.loss ?? 0;
    this.connectLatencies = opts.connectLatencies ?? 3;
  }

  /** Attach a node; returns the transport it sends through. */
  attach(id: string, handler: ChannelHandler): Transport {
    const host: Host = { handler, alive: true, channels: new Set(), connectionsCreated: 0 };
    this.hosts.set(id, host);
    return {
      send: (peer, frame) => this.send(id, peer, frame),
      connect: (peer) => this.connect(id, peer),
      disconnect: (peer) => this.disconnect(id, peer),
    };
  }

  isAlive(id: string): boolean {
    return this.hosts.get(id)?.alive === true;
  }

  connectionsCreatedBy(id: string): number {
    return this.hosts.get(id)?.connectionsCreated ?? 0;
  }

  openChannels(id: string): number {
    return this.hosts.get(id)?.channels.size ?? 0;
  }

  /** Open a channel right away, as the relay-assisted first contact of a joining node. */
  link(a: string, b: string): void {
    this.connect(a, b);
  }

  /** The node stops without a word: its channels stay open on the other side and swallow frames. */
  failSilently(id: string): void {
    const host = this.hosts.get(id);
    if (host) host.alive = false;
  }

  /** The node leaves (tab closed): every peer sees its channel close after one latency. */
  leave(id: string): void {
    const host = this.hosts.get(id);
    if (host === undefined) return;
    host.alive = false;
    for (const peer of host.channels) {
      const other = this.hosts.get(peer);
      other?.channels.delete(id);
      this.queue.setTimer(this.latency(id, peer), () => other?.handler.onChannelClose(id));
    }
    host.channels.clear();
  }

  private send(from: string, to: string, frame: Uint8Array): boolean {
    const src = this.hosts.get(from);
    if (src === undefined || !src.channels.has(to)) return false;
    this.stats.frames++;
    this.stats.bytes += frame.length;
    const type = peekType(frame) ?? 'unknown';
    this.stats.framesByType.set(type, (this.stats.framesByType.get(type) ?? 0) + 1);
    if (this.loss > 0 && this.opts.random.next() < this.loss) {
      this.stats.lost++;
      return true;
    }
    const dst = this.hosts.get(to);
    this.queue.setTimer(this.latency(from, to), () => {
      if (dst === undefined || !dst.alive || !src.alive) {
        this.stats.toDead++;
        return;
      }
      if (dst.channels.has(from)) dst.handler.onFrame(from, frame);
    });
    return true;
  }

  private connect(from: string, to: string): void {
    const src = this.hosts.get(from);
    if (src === undefined || src.channels.has(to) || from === to) return;
    src.connectionsCreated++;
    this.stats.connectionsCreated++;
    this.queue.setTimer(this.connectLatencies * this.latency(from, to), () => {
      const dst = this.hosts.get(to);
      if (!src.alive) return;
      if (dst === undefined || !dst.alive) {
        src.handler.onChannelClose(to);
        return;
      }
      if (src.channels.has(to)) return;
      src.channels.add(to);
      dst.channels.add(from);
      src.handler.onChannelOpen(to);
      dst.handler.onChannelOpen(from);
    });
  }

  private disconnect(from: string, to: string): void {
    const src = this.hosts.get(from);
    if (src === undefined || !src.channels.delete(to)) return;
    const dst = this.hosts.get(to);
    dst?.channels.delete(from);
    this.queue.setTimer(this.latency(from, to), () => {
      if (dst?.alive) dst.handler.onChannelClose(from);
    });
  }

  /** A fixed, symmetric latency per link derived from the two ids: no table to keep for 10,000 nodes. */
  private latency(a: string, b: string): number {
    const mix = (parseInt(a.slice(0, 7), 16) ^ parseInt(b.slice(0, 7), 16)) >>> 0;
    const spread = Math.imul(mix, 2654435761) >>> 0;
    return this.minLatency + (spread % (this.maxLatency - this.minLatency + 1));
  }
}
