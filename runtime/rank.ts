// Ranking creatives for one context: which of several images to run for this audience, time and
// placement. A single model gives point predictions only; ties and near-ties are reported as
// such, and an interval is claimed only where the caller has several models (an ensemble or
// seeds) whose spread gives one.
import type { Attributes } from './attributes.ts';
import { M2fnInputError } from './errors.ts';
import { scoreValue } from './results.ts';
import type { WhatIfScorer } from './whatif.ts';

export interface RankedCreative<I> {
  /** Position among the images given. */
  index: number;
  image: I;
  /** Mean prediction over the models. */
  score: number;
  /** Lowest and highest prediction over the models; null with one model (no interval exists). */
  range: [number, number] | null;
  /** True when this creative's range overlaps the next one's (never with one model: no interval). */
  overlapsNext: boolean;
}

export interface Ranking<I> {
  ranked: RankedCreative<I>[];
  models: number;
  /** What the ordering can and cannot say. */
  note: string;
}

/** Orders `images` by predicted score under `attributes`, best first; `scorers` share one card schema. */
export async function rankCreatives<I>(scorers: WhatIfScorer<I>[], images: I[], attributes: Attributes): Promise<Ranking<I>> {
  if (!scorers.length) throw new M2fnInputError('rankCreatives: give at least one scorer');
  if (images.length < 2) throw new M2fnInputError(`rankCreatives: give at least 2 images to order, got ${images.length}`);
  const perModel = await Promise.all(scorers.map(async (s) => (await s.scoreMany(images.map((image) => ({ image, attributes })), { batchSize: 32 })).map(scoreValue)));
  const rows = images.map((image, index) => {
    const v = perModel.map((m) => m[index]);
    return { index, image, score: v.reduce((a, b) => a + b, 0) / v.length, range: scorers.length > 1 ? ([Math.min(...v), Math.max(...v)] as [number, number]) : null, overlapsNext: false };
  });
  rows.sort((a, b) => b.score - a.score || a.index - b.index);
  rows.forEach((r, i) => {
    const next = rows[i + 1];
    r.overlapsNext = !!(next && r.range && next.range && next.range[1] >= r.range[0]);
  });
  const note = scorers.length > 1
    ? `ranges are the lowest and highest prediction of ${scorers.length} models; where a range overlaps the next one's the two are not distinguishable`
    : 'one model: point predictions only, no interval exists, so the order does not say how sure it is (load several seeds or an ensemble for ranges)';
  return { ranked: rows, models: scorers.length, note };
}
