import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/environment.js';
import { Weibull } from './weibull.js';

const MINUTE = 60_000;

describe('Weibull session lengths (shape 0.5, median 10 min)', () => {
  const w = new Weibull(0.5, 10 * MINUTE);
  const draws = (f: (r: ReturnType<typeof seededRandom>) => number, n = 200_000): number[] => {
    const r = seededRandom(9);
    return Array.from({ length: n }, () => f(r)).sort((a, b) => a - b);
  };

  it('has the median asked for and the heavy tail of shape 0.5 (mean = 2λ)', () => {
    const s = draws((r) => w.session(r));
    expect(s[s.length / 2]! / MINUTE).toBeCloseTo(10, 0);
    expect(w.meanMs / MINUTE).toBeCloseTo(41.6, 1);
    expect(s.reduce((a, b) => a + b, 0) / s.length / w.meanMs).toBeCloseTo(1, 1);
    // CDF 1 − exp(−√(x/λ)): a quarter of sessions end before 0.172 medians, 5% outlast 18.6 medians.
    expect(s[s.length / 4]! / MINUTE).toBeCloseTo(1.72, 1);
    expect(s[Math.floor(s.length * 0.95)]! / (10 * MINUTE)).toBeGreaterThan(17);
  });

  it('residual lives have the mean of the stationary excess distribution, E[L²] / 2E[L] = 6λ', () => {
    const r = draws((x) => w.residual(x));
    expect(r.reduce((a, b) => a + b, 0) / r.length / (6 * w.scaleMs)).toBeCloseTo(1, 1);
  });

  it('refuses shapes it cannot sample residuals for', () => {
    expect(() => new Weibull(0.3, MINUTE)).toThrow(RangeError);
    expect(() => new Weibull(0.5, 0)).toThrow(RangeError);
  });
});
