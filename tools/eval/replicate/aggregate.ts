// From per-seed results to what the report states: seed-averaged metrics with bootstrap
// intervals over test rows, paired differences between variants, the noise ceiling, and how our
// ordering of an ablation compares with the paper's.
import { bootstrapStat, metricOnRows, mae, mse, pearson, spearman, type BootstrapInterval } from '../../metrics/metrics.ts';
import type { DatasetKey, PaperFigure } from './paper.ts';
import type { Variant } from './protocol.ts';

export interface Targets {
  observed: Float64Array;
  truth?: Float64Array;
  /** Distribution targets' std (for the std metrics of distribution variants). */
  targetStd?: Float64Array;
}

export interface VariantStats {
  variant: Variant;
  dataset: DatasetKey;
  seeds: number[];
  /** Seed-averaged metric with a bootstrap interval over test rows (same rows for every seed). */
  sprc: BootstrapInterval;
  lcc: BootstrapInterval;
  mse: BootstrapInterval;
  mae: BootstrapInterval;
  /** Standard deviation of the metric across seeds (0 with one seed). */
  sprcSeedSd: number;
  lccSeedSd: number;
  perSeed: { seed: number; sprc: number; lcc: number }[];
  truthSprc?: number;
  truthLcc?: number;
  sprcStd?: BootstrapInterval;
  lccStd?: BootstrapInterval;
  /** Seed-averaged image sensitivity ratio (sensitivity.ts); absent for variants that see no image. */
  imageSensitivity?: number;
  seconds: number;
  paper?: PaperFigure;
}

type Metric = (x: Float64Array, y: Float64Array) => number;

const meanOver = (preds: ArrayLike<number>[], y: ArrayLike<number>, metric: Metric) => {
  const each = preds.map((p) => metricOnRows(metric, p, y));
  return (rows: Int32Array) => {
    let s = 0;
    for (const m of each) s += m(rows);
    return s / each.length;
  };
};

const sd = (xs: number[]) => {
  if (xs.length < 2) return 0;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};

export function variantStats(
  variant: Variant,
  seeds: { seed: number; predicted: ArrayLike<number>; predictedStd?: ArrayLike<number>; imageSensitivity?: number; seconds: number }[],
  t: Targets,
  resamples: number,
): VariantStats {
  const preds = seeds.map((s) => s.predicted);
  const n = t.observed.length;
  const opts = { resamples, seed: 0 };
  const ci = (metric: Metric, y: ArrayLike<number>, ps = preds) => bootstrapStat(n, meanOver(ps, y, metric), opts);
  const perSeed = seeds.map((s) => ({ seed: s.seed, sprc: spearman(Float64Array.from(s.predicted), t.observed), lcc: pearson(Float64Array.from(s.predicted), t.observed) }));
  const out: VariantStats = {
    variant,
    dataset: variant.dataset,
    seeds: seeds.map((s) => s.seed),
    sprc: ci(spearman, t.observed),
    lcc: ci(pearson, t.observed),
    mse: ci(mse, t.observed),
    mae: ci(mae, t.observed),
    sprcSeedSd: sd(perSeed.map((s) => s.sprc)),
    lccSeedSd: sd(perSeed.map((s) => s.lcc)),
    perSeed,
    seconds: seeds.reduce((a, s) => a + s.seconds, 0),
    paper: variant.paper,
  };
  if (t.truth) {
    const all = Int32Array.from({ length: n }, (_, i) => i);
    out.truthSprc = meanOver(preds, t.truth, spearman)(all);
    out.truthLcc = meanOver(preds, t.truth, pearson)(all);
  }
  const stds = seeds.map((s) => s.predictedStd).filter((x): x is ArrayLike<number> => x !== undefined);
  if (t.targetStd && stds.length === seeds.length && stds.length > 0) {
    out.sprcStd = ci(spearman, t.targetStd, stds);
    out.lccStd = ci(pearson, t.targetStd, stds);
  }
  const sens = seeds.map((s) => s.imageSensitivity).filter((x): x is number => x !== undefined);
  if (sens.length) out.imageSensitivity = sens.reduce((a, b) => a + b, 0) / sens.length;
  return out;
}

/** Paired bootstrap interval of (seed-mean metric of A) − (seed-mean metric of B) on the same test rows. */
export function pairedDifference(a: ArrayLike<number>[], b: ArrayLike<number>[], y: Float64Array, metric: Metric, resamples: number): BootstrapInterval {
  const fa = meanOver(a, y, metric);
  const fb = meanOver(b, y, metric);
  return bootstrapStat(y.length, (rows) => fa(rows) - fb(rows), { resamples, seed: 1 });
}

export function noiseCeilingCI(t: Targets, resamples: number): { sprc: BootstrapInterval; lcc: BootstrapInterval } | null {
  if (!t.truth) return null;
  const truth = t.truth;
  const n = t.observed.length;
  return {
    sprc: bootstrapStat(n, metricOnRows(spearman, truth, t.observed), { resamples, seed: 0 }),
    lcc: bootstrapStat(n, metricOnRows(pearson, truth, t.observed), { resamples, seed: 0 }),
  };
}

/**
 * Interval of M2FN's fraction of the noise ceiling: (seed-mean SPRC of `preds`) / (SPRC of the
 * ground truth), both on the same resampled rows, so the row noise the two share cancels.
 */
export function fractionOfCeilingCI(preds: ArrayLike<number>[], t: Targets, resamples: number): BootstrapInterval | null {
  if (!t.truth) return null;
  const model = meanOver(preds, t.observed, spearman);
  const ceiling = metricOnRows(spearman, t.truth, t.observed);
  return bootstrapStat(t.observed.length, (rows) => model(rows) / ceiling(rows), { resamples, seed: 0 });
}

export interface OrderComparison {
  /** Kendall's tau-a between our SPRCs and the paper's over the variants both have. */
  tau: number;
  pairs: number;
  /** Pairs ordered one way by the paper and the other way by us. */
  discordant: { higherInPaper: string; lowerInPaper: string; paper: [number, number]; ours: [number, number] }[];
}

/** Compares our SPRC ordering with the paper's over the variants that have a paper figure. */
export function compareOrder(stats: VariantStats[]): OrderComparison {
  const rows = stats.filter((s) => s.paper && Number.isFinite(s.sprc.estimate));
  let concordant = 0;
  let discordantCount = 0;
  const discordant: OrderComparison['discordant'] = [];
  let pairs = 0;
  for (let i = 0; i < rows.length; i++) {
    for (let j = i + 1; j < rows.length; j++) {
      const [a, b] = [rows[i], rows[j]];
      const dp = a.paper!.sprc - b.paper!.sprc;
      const dq = a.sprc.estimate - b.sprc.estimate;
      if (dp === 0) continue;
      pairs++;
      if (Math.sign(dp) === Math.sign(dq)) concordant++;
      else {
        discordantCount++;
        const [hi, lo] = dp > 0 ? [a, b] : [b, a];
        discordant.push({ higherInPaper: hi.variant.label, lowerInPaper: lo.variant.label, paper: [hi.paper!.sprc, lo.paper!.sprc], ours: [hi.sprc.estimate, lo.sprc.estimate] });
      }
    }
  }
  return { tau: pairs ? (concordant - discordantCount) / pairs : NaN, pairs, discordant };
}
