import { describe, expect, it } from 'vitest';
import { COUNTER_NAMES } from '../counters.js';
import { Counts } from './counts.js';

describe('Counts: a node counts by name, in slots given at first use', () => {
  it('adds by name, reads zero for a counter never counted, and keeps each node apart', () => {
    const a = new Counts();
    const b = new Counts();
    a.add('messages.in', 1);
    a.add('messages.in', 2);
    b.add('messages.out', 5);
    expect(a.get('messages.in')).toBe(3);
    expect(a.get('messages.out')).toBe(0);
    expect(b.get('messages.out')).toBe(5);
    expect(b.get('messages.in')).toBe(0);
  });

  it('keeps every count as it grows, in any order of first use, up to every counter', () => {
    const counts = new Counts();
    const names = [...COUNTER_NAMES].reverse();
    names.forEach((name, i) => counts.add(name, i + 1));
    names.forEach((name, i) => expect(counts.get(name)).toBe(i + 1));
    COUNTER_NAMES.forEach((name, i) => expect(counts.at(i)).toBe(counts.get(name)));
    // A node made after the others had slots given reads zeros and grows as it counts.
    const later = new Counts();
    expect(later.get(COUNTER_NAMES[0]!)).toBe(0);
    later.add(COUNTER_NAMES[COUNTER_NAMES.length - 1]!, 7);
    expect(later.at(COUNTER_NAMES.length - 1)).toBe(7);
  });
});
