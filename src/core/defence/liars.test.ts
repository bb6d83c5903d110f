import { describe, expect, it } from 'vitest';
import { LIAR_MEMORY_MS, Liars } from './liars.js';

describe('Liars', () => {
  it('remembers a convict until LIAR_MEMORY_MS after its last offence', () => {
    const liars = new Liars();
    expect(liars.convict('a', 0)).toBe(true);
    expect(liars.convict('a', 1_000)).toBe(false);
    expect(liars.has('a', LIAR_MEMORY_MS + 999)).toBe(true);
    expect(liars.has('a', LIAR_MEMORY_MS + 1_000)).toBe(false);
    expect(liars.has('b', 0)).toBe(false);
    expect(liars.size).toBe(0);
  });

  it('stays bounded, dropping the oldest offenders first', () => {
    const liars = new Liars();
    for (let i = 0; i < 5_000; i++) liars.convict(`n${i}`, i);
    expect(liars.size).toBe(4_096);
    expect(liars.has('n0', 5_000)).toBe(false);
    expect(liars.has('n903', 5_000)).toBe(false);
    expect(liars.has('n904', 5_000)).toBe(true);
    expect(liars.has('n4999', 5_000)).toBe(true);
  });
});
