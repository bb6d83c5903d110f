/**
 * What a channel can say about itself beyond open/closed: why one that never opened
 * failed, and whether one that opened goes directly or through a TURN relay. Both are
 * read off the RTCPeerConnection (its states, and getStats' selected candidate pair), by
 * pure functions here so they are tested without a browser.
 */

/**
 * Why a connection never opened:
 * - `noAnswer`: nothing came back from the other peer (it left, refused, or the signal was lost);
 * - `noLocalCandidates`: this side gathered no candidate it may use (TURN unreachable or refusing
 *   the credentials under a relay-only policy, or no usable interface);
 * - `iceFailed`: no pair of candidates connected (NATs without a STUN/TURN route between
 *   them, a firewall, or only host candidates on different networks);
 * - `timeout`: ICE was not the problem, but the channel did not open in time (DTLS or SCTP stalled);
 * - `error`: the WebRTC stack reported an error of its own.
 */
export type FailureReason = 'noAnswer' | 'noLocalCandidates' | 'iceFailed' | 'timeout' | 'error';
export const FAILURE_REASONS: readonly FailureReason[] = [
  'noAnswer',
  'noLocalCandidates',
  'iceFailed',
  'timeout',
  'error',
];

/** What a channel saw while it tried to open. */
export interface AttemptTrace {
  /** Signals received from the other peer (offer or answer, candidates). */
  remoteSignals: number;
  /** Local candidates gathered (end-of-candidates markers excluded). */
  localCandidates: number;
  /** The RTCPeerConnection finished gathering. */
  gatheringComplete: boolean;
  /** ICE found a working candidate pair (state 'connected' or 'completed'). */
  iceConnected: boolean;
  /** The connection's ICE or connection state reached 'failed'. */
  iceFailed: boolean;
  /** Another error ended the attempt. */
  otherError: boolean;
}

export const newTrace = (): AttemptTrace => ({
  remoteSignals: 0,
  localCandidates: 0,
  gatheringComplete: false,
  iceConnected: false,
  iceFailed: false,
  otherError: false,
});

export function diagnoseFailure(t: AttemptTrace): FailureReason {
  if (t.iceFailed) return 'iceFailed';
  if (t.localCandidates === 0 && t.gatheringComplete) return 'noLocalCandidates';
  if (t.remoteSignals === 0) return 'noAnswer';
  if (t.otherError) return 'error';
  // No pair connected by the bound: still checking, or nothing to check (remote mDNS names that
  // do not resolve across networks leave no pair at all); the agent just has not said 'failed' yet.
  if (!t.iceConnected) return t.localCandidates === 0 ? 'noLocalCandidates' : 'iceFailed';
  return 'timeout';
}

export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

/** The candidate pair an open connection uses. */
export interface ChannelRoute {
  local: CandidateType;
  remote: CandidateType;
  /** 'udp' or 'tcp' (of the local candidate). */
  protocol: string;
  /** Through a TURN server on either side. */
  relayed: boolean;
}

type StatsEntry = Record<string, unknown> & { id: string; type: string };

/** The selected candidate pair in a getStats() report (Chromium's transport link, Firefox's `selected` flag), or null. */
export function selectedRoute(report: { forEach(cb: (value: unknown) => void): void }): ChannelRoute | null {
  const byId = new Map<string, StatsEntry>();
  report.forEach((v) => {
    const e = v as StatsEntry;
    if (typeof e?.id === 'string') byId.set(e.id, e);
  });
  let pair: StatsEntry | undefined;
  for (const e of byId.values()) {
    if (e.type === 'transport' && typeof e['selectedCandidatePairId'] === 'string')
      pair = byId.get(e['selectedCandidatePairId']);
  }
  if (pair === undefined) {
    for (const e of byId.values()) {
      if (
        e.type === 'candidate-pair' &&
        (e['selected'] === true || (e['nominated'] === true && e['state'] === 'succeeded'))
      )
        pair = e;
    }
  }
  if (pair === undefined) return null;
  const local = byId.get(String(pair['localCandidateId']));
  const remote = byId.get(String(pair['remoteCandidateId']));
  const localType = candidateType(local?.['candidateType']);
  const remoteType = candidateType(remote?.['candidateType']);
  if (localType === null || remoteType === null) return null;
  const protocol = typeof local?.['protocol'] === 'string' ? local['protocol'] : 'udp';
  return { local: localType, remote: remoteType, protocol, relayed: localType === 'relay' || remoteType === 'relay' };
}

function candidateType(v: unknown): CandidateType | null {
  // Firefox spells them as in SDP ("serverreflexive" in older builds); map both.
  if (v === 'host' || v === 'srflx' || v === 'prflx' || v === 'relay') return v;
  if (v === 'serverreflexive') return 'srflx';
  if (v === 'peerreflexive') return 'prflx';
  if (v === 'relayed') return 'relay';
  return null;
}
