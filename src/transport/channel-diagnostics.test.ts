import { describe, expect, it } from 'vitest';
import { diagnoseFailure, newTrace, selectedRoute, type AttemptTrace } from './channel-diagnostics.js';

const trace = (t: Partial<AttemptTrace>): AttemptTrace => ({ ...newTrace(), ...t });

describe('why a connection never opened', () => {
  it('tells the cases apart', () => {
    expect(diagnoseFailure(trace({ localCandidates: 2, gatheringComplete: true }))).toBe('noAnswer');
    // Relay-only with TURN refusing the credentials: gathering ends with nothing, whatever the other side sent.
    expect(diagnoseFailure(trace({ remoteSignals: 1, gatheringComplete: true }))).toBe('noLocalCandidates');
    expect(diagnoseFailure(trace({ remoteSignals: 1 }))).toBe('noLocalCandidates');
    // Candidates on both sides but no pair connected by the bound, whether the agent said 'failed' yet or not.
    expect(diagnoseFailure(trace({ remoteSignals: 3, localCandidates: 2 }))).toBe('iceFailed');
    expect(diagnoseFailure(trace({ remoteSignals: 3, localCandidates: 2, iceFailed: true, iceConnected: true }))).toBe(
      'iceFailed',
    );
    expect(diagnoseFailure(trace({ remoteSignals: 3, localCandidates: 2, otherError: true }))).toBe('error');
    // ICE connected, but the channel never opened (DTLS or SCTP stalled).
    expect(diagnoseFailure(trace({ remoteSignals: 3, localCandidates: 2, iceConnected: true }))).toBe('timeout');
  });
});

describe('the selected candidate pair', () => {
  const report = (entries: Array<Record<string, unknown>>) => new Map(entries.map((e) => [e['id'] as string, e]));

  it("follows Chromium's transport link to the pair and its candidates", () => {
    const r = report([
      { id: 'T1', type: 'transport', selectedCandidatePairId: 'CP2' },
      { id: 'CP1', type: 'candidate-pair', localCandidateId: 'L1', remoteCandidateId: 'R1', state: 'failed' },
      {
        id: 'CP2',
        type: 'candidate-pair',
        localCandidateId: 'L2',
        remoteCandidateId: 'R1',
        state: 'succeeded',
        nominated: true,
      },
      { id: 'L1', type: 'local-candidate', candidateType: 'host', protocol: 'udp' },
      { id: 'L2', type: 'local-candidate', candidateType: 'relay', protocol: 'udp' },
      { id: 'R1', type: 'remote-candidate', candidateType: 'prflx', protocol: 'udp' },
    ]);
    expect(selectedRoute(r)).toEqual({ local: 'relay', remote: 'prflx', protocol: 'udp', relayed: true });
  });

  it("uses Firefox's `selected` flag when there is no transport link; direct pairs are not relayed", () => {
    const r = report([
      {
        id: 'CP1',
        type: 'candidate-pair',
        localCandidateId: 'L1',
        remoteCandidateId: 'R1',
        state: 'succeeded',
        selected: true,
      },
      { id: 'L1', type: 'local-candidate', candidateType: 'serverreflexive', protocol: 'udp' },
      { id: 'R1', type: 'remote-candidate', candidateType: 'srflx' },
    ]);
    expect(selectedRoute(r)).toEqual({ local: 'srflx', remote: 'srflx', protocol: 'udp', relayed: false });
  });

  it('is null while nothing is selected or the candidates are missing', () => {
    expect(selectedRoute(report([{ id: 'CP1', type: 'candidate-pair', state: 'in-progress' }]))).toBeNull();
    expect(selectedRoute(report([{ id: 'T', type: 'transport', selectedCandidatePairId: 'CP9' }]))).toBeNull();
    expect(
      selectedRoute(
        report([{ id: 'CP1', type: 'candidate-pair', selected: true, localCandidateId: 'x', remoteCandidateId: 'y' }]),
      ),
    ).toBeNull();
    expect(selectedRoute(report([]))).toBeNull();
  });
});
