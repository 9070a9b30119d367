// Evaluation metrics: LCC (Pearson), SPRC (Spearman), MSE, MAE, moments of 10-bucket
// distributions, bootstrap confidence intervals and the noise ceiling. All arithmetic is float64.
//
// Degenerate input, one rule for every function here:
//   - vectors of different lengths throw a RangeError (that is a bug in the caller);
//   - otherwise an undefined value is NaN, never an exception, so a per-epoch validation of a
//     collapsed or diverged model logs NaN instead of killing the run. Correlations are NaN for
//     length < 2, a constant vector, or any non-finite value; MSE/MAE are NaN for empty input
//     and NaN whenever an input is NaN.
import { weylUniform } from '../../runtime/random.ts';

export type Vec = ArrayLike<number>;

function sameLength(name: string, x: Vec, y: Vec): void {
  if (x.length !== y.length) throw new RangeError(`${name}: lengths differ (${x.length} vs ${y.length})`);
}

function allFinite(x: Vec): boolean {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) return false;
  return true;
}

function mean(x: Vec): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

/** Pearson linear correlation coefficient (LCC). */
export function pearson(x: Vec, y: Vec): number {
  sameLength('pearson', x, y);
  const n = x.length;
  if (n < 2 || !allFinite(x) || !allFinite(y)) return NaN;
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  // Rounding can push |r| a hair past 1.
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** 1-based ranks of finite values; tied values share the average of the ranks they span. */
export function ranks(x: Vec): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const r = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && x[order[j + 1]] === x[order[i]]) j++;
    const avg = (i + j) / 2 + 1; // positions i..j hold ranks i+1..j+1
    for (let k = i; k <= j; k++) r[order[k]] = avg;
    i = j + 1;
  }
  return r;
}

/** Spearman rank correlation (SPRC): Pearson of the average ranks, which stays exact with ties. */
export function spearman(x: Vec, y: Vec): number {
  sameLength('spearman', x, y);
  if (x.length < 2 || !allFinite(x) || !allFinite(y)) return NaN;
  return pearson(ranks(x), ranks(y));
}

/** Mean squared error. */
export function mse(pred: Vec, target: Vec): number {
  sameLength('mse', pred, target);
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += (pred[i] - target[i]) ** 2;
  return s / pred.length; // 0/0 = NaN for empty input
}

/** Mean absolute error. */
export function mae(pred: Vec, target: Vec): number {
  sameLength('mae', pred, target);
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += Math.abs(pred[i] - target[i]);
  return s / pred.length;
}

function bucketValues(k: number, values?: Vec): Vec {
  if (values === undefined) return Array.from({ length: k }, (_, i) => i + 1);
  if (values.length !== k) throw new RangeError(`distribution has ${k} buckets but ${values.length} bucket values`);
  return values;
}

/**
 * Mean and (population) standard deviation of one bucket distribution. `p` may be probabilities
 * or raw counts (AVA vote histograms): it is normalised by its sum. Bucket values default to
 * 1..k. A negative entry throws; a zero or non-finite sum gives NaN.
 */
export function distributionMoments(p: Vec, values?: Vec): { mean: number; std: number } {
  const v = bucketValues(p.length, values);
  let total = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] < 0) throw new RangeError(`distribution entry ${i} is negative (${p[i]})`);
    total += p[i];
  }
  if (!(total > 0) || !Number.isFinite(total)) return { mean: NaN, std: NaN };
  let m = 0;
  for (let i = 0; i < p.length; i++) m += (p[i] / total) * v[i];
  let q = 0;
  for (let i = 0; i < p.length; i++) q += (p[i] / total) * (v[i] - m) ** 2;
  return { mean: m, std: Math.sqrt(q) };
}

export function distributionMean(p: Vec, values?: Vec): number {
  return distributionMoments(p, values).mean;
}

export function distributionStd(p: Vec, values?: Vec): number {
  return distributionMoments(p, values).std;
}

/** Moments of each row of a flat row-major [N, k] batch of distributions (a model's `dist` output). */
export function batchDistributionMoments(dists: Vec, k = 10, values?: Vec): { mean: Float64Array; std: Float64Array } {
  if (dists.length % k !== 0) throw new RangeError(`${dists.length} values are not rows of ${k} buckets`);
  const n = dists.length / k;
  const meanOut = new Float64Array(n);
  const stdOut = new Float64Array(n);
  const row = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) row[j] = dists[i * k + j];
    const m = distributionMoments(row, values);
    meanOut[i] = m.mean;
    stdOut[i] = m.std;
  }
  return { mean: meanOut, std: stdOut };
}

/** Quantile of ascending-sorted values by linear interpolation between order statistics (R type 7, numpy's default). */
export function quantile(sorted: Vec, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export interface BootstrapOptions {
  /** Number of bootstrap resamples (default 1000). */
  resamples?: number;
  /** Seed of the resampling generator (default 0). */
  seed?: number;
  /** Coverage of the interval (default 0.95). */
  level?: number;
}

export interface BootstrapInterval {
  /** The metric on the full data. */
  estimate: number;
  lo: number;
  hi: number;
  level: number;
  resamples: number;
  /** Resamples whose metric was finite; the others (e.g. a constant resample under Pearson) are dropped. */
  valid: number;
}

/**
 * Percentile-bootstrap confidence interval of `metric(x, y)`: resample the n (x_i, y_i) pairs
 * with replacement, recompute the metric, and take the (1-level)/2 and (1+level)/2 quantiles of
 * the finite replicates. lo/hi are NaN when no replicate is finite.
 */
export function bootstrapCI(
  metric: (x: Float64Array, y: Float64Array) => number,
  x: Vec,
  y: Vec,
  opts: BootstrapOptions = {},
): BootstrapInterval {
  sameLength('bootstrapCI', x, y);
  return bootstrapStat(x.length, metricOnRows(metric, x, y), opts);
}

/**
 * Noise ceiling of the synthetic ad world: how well the ground-truth CTR itself correlates with
 * the CTR observed from finite impressions. No model can be expected to beat these on the
 * observed targets.
 */
export function noiseCeiling(truth: Vec, observed: Vec): { lcc: number; sprc: number } {
  return { lcc: pearson(truth, observed), sprc: spearman(truth, observed) };
}

/**
 * Paired percentile-bootstrap interval of `metric(a, y) − metric(b, y)`: two predictions of the
 * same targets, resampled with the same row indices, so the interval accounts for their
 * correlation (much narrower than comparing two separate intervals). An interval that excludes 0
 * means the difference is beyond resampling noise at that level.
 */
export function pairedBootstrapDiff(
  metric: (x: Float64Array, y: Float64Array) => number,
  a: Vec,
  b: Vec,
  y: Vec,
  opts: BootstrapOptions = {},
): BootstrapInterval {
  sameLength('pairedBootstrapDiff', a, y);
  sameLength('pairedBootstrapDiff', b, y);
  const ma = metricOnRows(metric, a, y);
  const mb = metricOnRows(metric, b, y);
  return bootstrapStat(y.length, (rows) => ma(rows) - mb(rows), opts);
}

/**
 * Percentile-bootstrap interval of any statistic of n rows: `stat(indices)` is evaluated on the
 * identity and on `resamples` draws of n row indices with replacement. The building block for
 * intervals of seed-averaged metrics and of paired differences between models.
 */
export function bootstrapStat(n: number, stat: (rows: Int32Array) => number, opts: BootstrapOptions = {}): BootstrapInterval {
  const resamples = opts.resamples ?? 1000;
  const level = opts.level ?? 0.95;
  if (!(Number.isInteger(resamples) && resamples > 0)) throw new RangeError(`resamples must be a positive integer, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be in (0, 1), got ${level}`);
  const estimate = stat(Int32Array.from({ length: n }, (_, i) => i));
  const uniform = weylUniform(opts.seed ?? 0);
  const rows = new Int32Array(n);
  const stats: number[] = [];
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) rows[i] = Math.floor(uniform() * n);
    const s = stat(rows);
    if (Number.isFinite(s)) stats.push(s);
  }
  stats.sort((p, q) => p - q);
  const tail = (1 - level) / 2;
  return { estimate, lo: quantile(stats, tail), hi: quantile(stats, 1 - tail), level, resamples, valid: stats.length };
}

/**
 * `metric` of x and y restricted to `rows` (indices, repeats allowed), as a function of the rows:
 * what every bootstrap evaluates a thousand times. Spearman's correlation gets its own path
 * (`spearmanOnRows`): sorting each resample dominated the report's time. Any other metric sees
 * the rows gathered into buffers that are reused between calls.
 */
export function metricOnRows(metric: (x: Float64Array, y: Float64Array) => number, x: Vec, y: Vec): (rows: Int32Array) => number {
  sameLength('metricOnRows', x, y);
  if (metric === spearman && allFinite(x) && allFinite(y)) return spearmanOnRows(x, y);
  let gx = new Float64Array(0);
  let gy = new Float64Array(0);
  return (rows) => {
    if (gx.length !== rows.length) [gx, gy] = [new Float64Array(rows.length), new Float64Array(rows.length)];
    for (let i = 0; i < rows.length; i++) {
      gx[i] = x[rows[i]];
      gy[i] = y[rows[i]];
    }
    return metric(gx, gy);
  };
}

/** Indices of x in ascending order of value, and where each run of equal values starts (plus n at the end). */
function tieGroups(x: Vec): { order: Int32Array; starts: Int32Array } {
  const n = x.length;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const starts: number[] = [];
  for (let i = 0; i < n; i++) if (i === 0 || x[order[i]] !== x[order[i - 1]]) starts.push(i);
  starts.push(n);
  return { order, starts: Int32Array.from(starts) };
}

/**
 * Spearman's correlation of finite x and y on resampled rows in O(n) per call, without sorting:
 * x and y are sorted once, and a resample only changes how many copies of each row there are.
 * Walking the sorted order, a run of equal values holding c copies in all spans the ranks
 * after the copies before it, so each copy gets the run's average rank. Equal to
 * `spearman` on the gathered rows up to rounding.
 */
export function spearmanOnRows(x: Vec, y: Vec): (rows: Int32Array) => number {
  sameLength('spearmanOnRows', x, y);
  if (!allFinite(x) || !allFinite(y)) throw new RangeError('spearmanOnRows: x and y must be finite');
  const n = x.length;
  const gx = tieGroups(x);
  const gy = tieGroups(y);
  const copies = new Int32Array(n);
  const rx = new Float64Array(n);
  const ry = new Float64Array(n);
  const rankCopies = (g: { order: Int32Array; starts: Int32Array }, r: Float64Array) => {
    let before = 0;
    for (let k = 0; k + 1 < g.starts.length; k++) {
      let c = 0;
      for (let j = g.starts[k]; j < g.starts[k + 1]; j++) c += copies[g.order[j]];
      const avg = before + (c + 1) / 2;
      for (let j = g.starts[k]; j < g.starts[k + 1]; j++) r[g.order[j]] = avg;
      before += c;
    }
  };
  return (rows) => {
    const m = rows.length;
    if (m < 2) return NaN;
    copies.fill(0);
    for (let i = 0; i < m; i++) copies[rows[i]]++;
    rankCopies(gx, rx);
    rankCopies(gy, ry);
    // The average of m ranks is (m + 1) / 2 whatever the ties.
    const mid = (m + 1) / 2;
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    for (let i = 0; i < n; i++) {
      const c = copies[i];
      if (c === 0) continue;
      const dx = rx[i] - mid;
      const dy = ry[i] - mid;
      sxy += c * dx * dy;
      sxx += c * dx * dx;
      syy += c * dy * dy;
    }
    if (sxx === 0 || syy === 0) return NaN;
    return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
  };
}
