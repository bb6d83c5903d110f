import { describe, expect, it } from 'vitest';
import { LIAR_MEMORY_MS, Liars } from './liars.js';

describe('Liars', () => {
  it('convicts on the second accusation, or at once for a made-up id', () => {
    const liars = new Liars();
    expect(liars.accuse('a', ['x'], false, 0)).toBe(false);
    expect(liars.has('a', 0)).toBe(false);
    expect(liars.accuse('a', ['y'], false, 10)).toBe(true);
    expect(liars.has('a', 10)).toBe(true);
    // Already convicted: a further accusation is not a new conviction.
    expect(liars.accuse('a', ['z'], true, 20)).toBe(false);
    expect(liars.accuse('b', ['w'], true, 0)).toBe(true);
    expect(liars.has('b', 0)).toBe(true);
  });

  it('forgets a conviction LIAR_MEMORY_MS after the last offence', () => {
    const liars = new Liars();
    liars.accuse('a', ['x'], true, 0);
    liars.accuse('a', ['y'], false, 1_000);
    expect(liars.has('a', LIAR_MEMORY_MS + 999)).toBe(true);
    expect(liars.has('a', LIAR_MEMORY_MS + 1_000)).toBe(false);
    expect(liars.size).toBe(0);
  });

  it('withdraws every accusation resting on an id that turns out to exist', () => {
    const liars = new Liars();
    liars.accuse('a', ['x', 'y'], true, 0);
    liars.accuse('b', ['x'], false, 0);
    liars.accuse('c', ['z'], true, 0);
    expect(liars.exonerate('x')).toEqual(['a']);
    expect(liars.has('a', 1)).toBe(false);
    // b was only accused once: cleared too, so a later accusation starts from scratch.
    expect(liars.accuse('b', ['q'], false, 2)).toBe(false);
    expect(liars.has('c', 1)).toBe(true);
    expect(liars.exonerate('x')).toEqual([]);
  });

  it('stays bounded, dropping the oldest offenders first', () => {
    const liars = new Liars();
    for (let i = 0; i < 5_000; i++) liars.accuse(`n${i}`, [`id${i}`], true, i);
    expect(liars.size).toBe(4_096);
    expect(liars.has('n0', 5_000)).toBe(false);
    expect(liars.has('n4999', 5_000)).toBe(true);
    expect(liars.exonerate('id0')).toEqual([]);
  });
});
