// The model's output tensor → what apps read. Pure, so the browser runtime shares it.
import type { ModelCard } from './card.ts';
import { bucketValues } from './card-validate.ts';

export interface RegressionScore {
  /** The predicted click-through rate (in whatever scale the model was trained on). */
  ctr: number;
}

export interface DistributionScore {
  /** Probability of each bucket, in bucket order. */
  distribution: number[];
  /** Mean and standard deviation of the bucket values under `distribution`. */
  mean: number;
  std: number;
}

export type Score = RegressionScore | DistributionScore;

/**
 * The CTR in a score of a regression model, typed as a number: `scoreMany(...).map(ctrOf)`. A
 * distribution model's score (AVA-style ratings) carries no CTR, so it is an error, not a NaN.
 */
export function ctrOf(score: Score): number {
  if ('ctr' in score) return score.ctr;
  throw new Error(`this score is a distribution over ${score.distribution.length} buckets (mean ${score.mean}), not a CTR: read its mean and std`);
}

/** The number to rank creatives by: the CTR, or a distribution's mean. */
export function scoreValue(score: Score): number {
  return 'ctr' in score ? score.ctr : score.mean;
}

/** Splits an [n, output.size] output into one score per item. */
export function readScores(card: Pick<ModelCard, 'output'>, data: ArrayLike<number>, n: number): Score[] {
  const k = card.output.size;
  if (data.length !== n * k) {
    throw new Error(`output "${card.output.name}" has ${data.length} values, expected ${n} × ${k}`);
  }
  if (card.output.kind === 'regression') return Array.from({ length: n }, (_, i) => ({ ctr: data[i] }));
  const values = bucketValues(card);
  return Array.from({ length: n }, (_, i) => {
    const p = Array.from({ length: k }, (_, j) => data[i * k + j]);
    // Renormalise: float32 softmax outputs sum to 1 only within rounding.
    const total = p.reduce((s, x) => s + x, 0);
    const q = p.map((x) => x / total);
    const mean = q.reduce((s, x, j) => s + x * values[j], 0);
    const variance = q.reduce((s, x, j) => s + x * (values[j] - mean) ** 2, 0);
    return { distribution: p, mean, std: Math.sqrt(variance) };
  });
}
