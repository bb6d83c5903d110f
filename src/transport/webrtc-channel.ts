// The browserified build that ships inside simple-peer carries its own Node shims (process,
// Buffer, streams), so neither this package's build nor an app's bundler needs polyfills.
import SimplePeer from 'simple-peer/simplepeer.min.js';
import type { PeerChannel } from './peer-channel.js';
import { Reassembler, toChunks } from './chunking.js';
import { diagnoseFailure, newTrace, selectedRoute } from './channel-diagnostics.js';

/**
 * The only module that touches simple-peer (docs/ARCHITECTURE.md, Platform constraints): one WebRTC data channel to
 * one peer, speaking whole frames. Frames over 16 KiB are chunked, and sends respect
 * the channel's buffer: above HIGH_WATER bytes in flight, messages wait in a bounded
 * queue that drains on `bufferedamountlow`.
 */
const HIGH_WATER = 1 << 20;
const LOW_WATER = 256 << 10;
const MAX_QUEUED_BYTES = 8 << 20;
/**
 * Node's @roamhq/wrtc updates `bufferedAmount` only between turns of the event loop and
 * never fires `bufferedamountlow`: the bytes sent in the current turn are counted here, and
 * a queue that waits is looked at again after this long (in browsers the event comes first).
 */
const DRAIN_RETRY_MS = 25;

export interface ChannelOptions {
  initiator: boolean;
  /** RTCPeerConnection configuration (ICE servers); loopback and LAN need none. */
  config?: RTCConfiguration;
  /** An RTCPeerConnection implementation for Node (@roamhq/wrtc, src/node/wrtc.ts). */
  wrtc?: unknown;
}

export interface ChannelStats {
  framesOut: number;
  framesIn: number;
  bytesOut: number;
  bytesIn: number;
  chunksOut: number;
  dropped: number;
  queuedBytes: number;
}

export function createWebRtcChannel(
  opts: ChannelOptions,
): PeerChannel & { stats: ChannelStats } & Required<Pick<PeerChannel, 'failureReason' | 'route'>> {
  const peer = new SimplePeer({
    initiator: opts.initiator,
    trickle: true,
    config: opts.config ?? { iceServers: [] },
    ...(opts.wrtc ? { wrtc: opts.wrtc as SimplePeer.Options['wrtc'] } : {}),
  });
  const stats: ChannelStats = {
    framesOut: 0,
    framesIn: 0,
    bytesOut: 0,
    bytesIn: 0,
    chunksOut: 0,
    dropped: 0,
    queuedBytes: 0,
  };
  const queue: Uint8Array[] = [];
  const reassembler = new Reassembler();
  let frameId = 0;
  let closed = false;
  /** The data channel is open (see `opened` below); simple-peer's `connected` may come later. */
  let open = false;

  const rawChannel = (): RTCDataChannel | undefined =>
    (peer as unknown as { _channel?: RTCDataChannel })._channel ?? undefined;
  const rawConnection = (): RTCPeerConnection | undefined =>
    (peer as unknown as { _pc?: RTCPeerConnection })._pc ?? undefined;
  const trace = newTrace();

  let sentThisTurn = 0;
  let turnEnd: ReturnType<typeof setTimeout> | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const drain = (): void => {
    while (queue.length > 0 && !closed && open && Math.max(peer.bufferSize, sentThisTurn) < HIGH_WATER) {
      const message = queue.shift()!;
      stats.queuedBytes -= message.length;
      sentThisTurn += message.length;
      turnEnd ??= setTimeout(() => {
        turnEnd = undefined;
        sentThisTurn = 0;
        drain();
      }, 0);
      try {
        peer.send(message);
      } catch {
        stats.dropped++;
      }
    }
    if (queue.length > 0 && !closed && retry === undefined) {
      retry = setTimeout(() => {
        retry = undefined;
        drain();
      }, DRAIN_RETRY_MS);
    }
  };
  const stopDraining = (): void => {
    clearTimeout(turnEnd);
    clearTimeout(retry);
    turnEnd = retry = undefined;
  };

  const channel: ReturnType<typeof createWebRtcChannel> = {
    stats,
    onSignal: () => undefined,
    onOpen: () => undefined,
    onData: () => undefined,
    onClose: () => undefined,
    signal(data) {
      if (closed) return;
      trace.remoteSignals++;
      try {
        peer.signal(data as SimplePeer.SignalData);
      } catch {
        stats.dropped++;
      }
    },
    send(frame) {
      if (closed || !open) return false;
      const chunks = toChunks(frame, frameId++);
      const size = chunks.reduce((n, c) => n + c.length, 0);
      if (stats.queuedBytes + size > MAX_QUEUED_BYTES) {
        stats.dropped++;
        return false;
      }
      stats.framesOut++;
      stats.bytesOut += frame.length;
      if (chunks.length > 1) stats.chunksOut += chunks.length;
      for (const c of chunks) queue.push(c);
      stats.queuedBytes += size;
      drain();
      return true;
    },
    close() {
      if (closed) return;
      closed = true;
      stopDraining();
      peer.destroy();
      clearIceCompleteTimer(peer);
    },
    failureReason() {
      // The states at the moment of giving up complete what the events said (destroy() resets neither).
      const pc = rawConnection();
      if (pc?.iceGatheringState === 'complete') trace.gatheringComplete = true;
      return diagnoseFailure(trace);
    },
    async route() {
      const pc = rawConnection();
      if (pc === undefined || closed) return null;
      try {
        return selectedRoute(await pc.getStats());
      } catch {
        return null;
      }
    },
  };

  peer.on('signal', (data: { type?: string; candidate?: { candidate?: string }; sdp?: string }) => {
    if (data.type === 'candidate' && data.candidate?.candidate) trace.localCandidates++;
    if (typeof data.sdp === 'string') trace.localCandidates += data.sdp.split('\na=candidate:').length - 1;
    channel.onSignal(data);
  });
  peer.on('_iceComplete', () => (trace.gatheringComplete = true));
  peer.on('iceStateChange', (state: string) => {
    if (state === 'connected' || state === 'completed') trace.iceConnected = true;
  });
  /**
   * Open when the data channel is: simple-peer's own 'connect' comes later, after a getStats
   * call to find the selected candidate pair (retried every 100 ms until it shows), which a
   * channel that can already carry frames need not wait for. Its open handler looks
   * `_onChannelOpen` up when the event fires, so wrapping it here sees every channel,
   * the dialler's and the answerer's; 'connect' stays as a second way in.
   */
  const opened = (): void => {
    if (open || closed) return;
    open = true;
    const raw = rawChannel();
    if (raw) {
      raw.bufferedAmountLowThreshold = LOW_WATER;
      raw.addEventListener('bufferedamountlow', drain);
    }
    channel.onOpen();
  };
  const internals = peer as unknown as { _onChannelOpen?: () => void };
  const channelOpen = internals._onChannelOpen;
  if (typeof channelOpen === 'function') {
    internals._onChannelOpen = () => {
      channelOpen.call(peer);
      if (rawChannel()?.readyState === 'open') opened();
    };
  }
  peer.on('connect', opened);
  peer.on('data', (data: Uint8Array) => {
    const message =
      data instanceof Uint8Array
        ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
        : new Uint8Array(data as ArrayBuffer);
    const result = reassembler.push(message);
    if (result.kind === 'frame') {
      stats.framesIn++;
      stats.bytesIn += result.frame.length;
      channel.onData(result.frame);
    } else if (result.kind === 'dropped') stats.dropped++;
  });
  let reported = false;
  const finish = (): void => {
    closed = true;
    queue.length = 0;
    stopDraining();
    clearIceCompleteTimer(peer);
    if (reported) return;
    reported = true;
    channel.onClose();
  };
  peer.on('close', finish);
  peer.on('error', (err: Error & { code?: string }) => {
    // A connection that fails after ICE connected failed in DTLS, not ICE.
    if (err.code === 'ERR_ICE_CONNECTION_FAILURE' || (err.code === 'ERR_CONNECTION_FAILURE' && !trace.iceConnected))
      trace.iceFailed = true;
    else trace.otherError = true;
    finish();
    peer.destroy();
  });
  return channel;
}

/**
 * simple-peer 9 arms a 5 s "ICE complete" timer at the first local candidate and its
 * destroy() leaves it armed: harmless in a page, but in Node it holds a closed peer's
 * process open for up to 5 s. Cleared by hand (a private field; absent, nothing happens).
 */
function clearIceCompleteTimer(peer: SimplePeer.Instance): void {
  const timer = (peer as unknown as { _iceCompleteTimer?: ReturnType<typeof setTimeout> })._iceCompleteTimer;
  if (timer !== undefined) clearTimeout(timer);
}
