import type { Random } from '../core/environment.js';

/**
 * Session lengths for churn: Weibull with a given shape and median. Shape < 1 is heavy
 * tailed — most sessions are short, a few very long (shape 0.5: a quarter of sessions
 * end within a sixth of the median, the mean is 4.2 medians) — as measured for P2P networks.
 *
 * A running swarm is not a set of fresh sessions: a node seen at a random instant is more
 * likely to be in a long session (length bias). `residual()` draws the time such a node
 * has left, so a swarm started with it is in its steady state from the first second.
 */
export class Weibull {
  /** Scale λ: median = λ (ln 2)^(1/shape). */
  readonly scaleMs: number;
  readonly meanMs: number;

  constructor(
    readonly shape: number,
    readonly medianMs: number,
  ) {
    const inverse = 1 / shape;
    if (!(shape > 0) || !Number.isInteger(inverse) || inverse > 20) {
      throw new RangeError(`shape: expected 1/shape to be an integer in [1, 20] (0.5, 0.25, 1...), got ${shape}`);
    }
    if (!(medianMs > 0)) throw new RangeError(`medianMs: expected a positive duration, got ${medianMs}`);
    this.scaleMs = medianMs / Math.log(2) ** inverse;
    // mean = λ Γ(1 + 1/shape) = λ (1/shape)! for the shapes allowed.
    this.meanMs = this.scaleMs * factorial(inverse);
  }

  /** A fresh session length: λ (−ln U)^(1/shape). */
  session(random: Random): number {
    return this.scaleMs * exponential(random) ** (1 / this.shape);
  }

  /**
   * What is left of the session of a node observed at a random instant. With y = (L/λ)^shape,
   * fresh sessions have y ~ Exp(1); weighting by length L ∝ y^(1/shape) makes y ~ Gamma(1 + 1/shape, 1),
   * a sum of 1 + 1/shape exponentials. The observer lands uniformly inside that session.
   */
  residual(random: Random): number {
    let y = 0;
    for (let i = 0; i < 1 + 1 / this.shape; i++) y += exponential(random);
    return random.next() * this.scaleMs * y ** (1 / this.shape);
  }
}

/** Exp(1), never infinite. */
export const exponential = (random: Random): number => -Math.log(1 - random.next());

function factorial(n: number): number {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return f;
}
