import { describe, expect, it } from 'vitest';
import { newSignalSession, type SignalStamp } from '../../signaling/protocol.js';
import { DEFAULT_FRESHNESS, SignalFreshness } from './signal-freshness.js';

const MINUTE = 60_000;
const T0 = 1_700_000_000_000;
const id = (n: number): string => n.toString(16).padStart(64, '0');
const stamp = (session: string, seq: number, ts = T0): SignalStamp => ({ ts, session, seq });

describe('signal freshness', () => {
  it('takes each (sender, session, seq) once, within 10 minutes of its clock either way', () => {
    const fresh = new SignalFreshness();
    const s = newSignalSession();
    expect(fresh.check(id(1), stamp(s, 0), T0)).toBe('fresh');
    expect(fresh.check(id(1), stamp(s, 0), T0 + MINUTE)).toBe('duplicate');
    // The time is not part of what makes a signal the same one: a copy stamped otherwise is still a copy.
    expect(fresh.check(id(1), stamp(s, 0, T0 + 1), T0 + MINUTE)).toBe('duplicate');
    expect(fresh.check(id(1), stamp(s, 1), T0)).toBe('fresh');
    expect(fresh.check(id(2), stamp(s, 0), T0)).toBe('fresh');
    expect(fresh.check(id(1), stamp(s, 1023), T0)).toBe('fresh');
    expect(fresh.check(id(1), stamp(s, 1023), T0)).toBe('duplicate');
    expect(fresh.check(id(3), stamp(s, 0, T0 - 10 * MINUTE - 1), T0)).toBe('stale');
    expect(fresh.check(id(3), stamp(s, 0, T0 + 10 * MINUTE + 1), T0)).toBe('stale');
    expect(fresh.check(id(3), stamp(s, 0, T0 + 10 * MINUTE), T0)).toBe('fresh');
  });

  it('forgets a session only once its signals are stale anyway: a copy is refused at every moment', () => {
    const fresh = new SignalFreshness();
    const s = newSignalSession();
    // Signed 10 minutes ahead of our clock (a fast clock elsewhere): fresh for 20 minutes here.
    const ahead = stamp(s, 0, T0 + 10 * MINUTE);
    expect(fresh.check(id(1), ahead, T0)).toBe('fresh');
    for (let t = T0; t <= T0 + 25 * MINUTE; t += 30_000) expect(fresh.check(id(1), ahead, t)).not.toBe('fresh');
    // The sender's next fresh signal finds the old session gone: memory goes down again.
    expect(fresh.check(id(1), stamp(newSignalSession(), 0, T0 + 25 * MINUTE), T0 + 25 * MINUTE)).toBe('fresh');
    expect(fresh.size).toBe(1);
  });

  it('bounds its memory: a sender flooding sessions pushes out only its own, and past maxSenders the one heard from longest ago goes', () => {
    const fresh = new SignalFreshness({ ...DEFAULT_FRESHNESS, maxSenders: 4, maxSessionsPerSender: 3 });
    const honest = newSignalSession();
    expect(fresh.check(id(1), stamp(honest, 0), T0)).toBe('fresh');
    const flood = Array.from({ length: 1_000 }, () => newSignalSession());
    for (const s of flood) expect(fresh.check(id(2), stamp(s, 0), T0)).toBe('fresh');
    expect(fresh.size).toBe(1 + 3);
    expect(fresh.check(id(2), stamp(flood.at(-1)!, 0), T0)).toBe('duplicate');
    expect(fresh.check(id(1), stamp(honest, 0), T0)).toBe('duplicate');
    // Three more senders make five: sender 2, heard from longest ago, is forgotten; sender 1 is not.
    for (let n = 3; n <= 5; n++) fresh.check(id(n), stamp(newSignalSession(), 0), T0);
    expect(fresh.check(id(1), stamp(honest, 0), T0)).toBe('duplicate');
    expect(fresh.check(id(2), stamp(flood.at(-1)!, 0), T0)).toBe('fresh');
    expect(fresh.size).toBeLessThanOrEqual(4 * 3);
  });
});
