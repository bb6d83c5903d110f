import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/environment.js';
import { Reassembler, toChunks } from './chunking.js';

const rnd = seededRandom(3);

function frameOf(size: number): Uint8Array {
  const f = new Uint8Array(size);
  const seed = Math.floor(rnd.next() * 251);
  for (let i = 0; i < size; i++) f[i] = (i * 31 + seed) & 255;
  f[0] = 1;
  return f;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

describe('chunking', () => {
  it('passes small frames through untouched', () => {
    const f = frameOf(100);
    expect(toChunks(f, 1)).toEqual([f]);
    expect(new Reassembler().push(f)).toEqual({ kind: 'frame', frame: f });
  });

  it.each([16_385, 100_000, 1_048_576])('splits and reassembles a %i-byte frame in ≤16 KiB messages', (size) => {
    const f = frameOf(size);
    const chunks = toChunks(f, 7);
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(16_384);
    const r = new Reassembler();
    const results = chunks.map((c) => r.push(c));
    expect(results.slice(0, -1).every((x) => x.kind === 'partial')).toBe(true);
    const last = results.at(-1)!;
    expect(last.kind).toBe('frame');
    if (last.kind === 'frame') expect(same(last.frame, f)).toBe(true);
  });

  it('drops out-of-sequence, malformed and oversize chunks without throwing, then recovers', () => {
    const r = new Reassembler();
    const chunks = toChunks(frameOf(50_000), 1);
    expect(r.push(chunks[1]!)).toMatchObject({ kind: 'dropped' });
    expect(r.push(Uint8Array.of(0xff, 1))).toMatchObject({ kind: 'dropped' });
    expect(r.push(new Uint8Array(0))).toMatchObject({ kind: 'dropped' });
    const bad = Uint8Array.from(chunks[0]!);
    new DataView(bad.buffer).setUint16(7, 60_000);
    expect(r.push(bad)).toMatchObject({ kind: 'dropped' });
    for (let i = 0; i < 2000; i++) r.push(rnd.bytes(1 + Math.floor(rnd.next() * 64)));
    const f = frameOf(40_000);
    const out = toChunks(f, 9)
      .map((c) => r.push(c))
      .at(-1)!;
    expect(out).toEqual({ kind: 'frame', frame: f });
  });
});
