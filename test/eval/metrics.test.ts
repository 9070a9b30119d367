// Metrics against values worked out by hand (in the comments).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  batchDistributionMoments, bootstrapCI, distributionMean, distributionMoments, distributionStd, mae, mse,
  metricOnRows, noiseCeiling, pearson, quantile, ranks, spearman, spearmanOnRows,
} from '../../tools/metrics/metrics.ts';
import { weylUniform } from '../../runtime/random.ts';
import { difference } from '../../tools/metrics/difference.ts';

function near(actual: number, expected: number, tol: number, what = ''): void {
  if (!(Math.abs(actual - expected) <= tol)) assert.unreachable(`${what} got ${actual}, expected ${expected} (tol ${tol})`);
}

test('pearson by hand', () => {
  // dx = [-1.5,-0.5,0.5,1.5], dy = [-3,-1,0,4]: sxy = 11, sxx = 5, syy = 26 → 11 / sqrt(130)
  near(pearson([1, 2, 3, 4], [2, 4, 5, 9]), 11 / Math.sqrt(130), 1e-15);
  near(pearson([1, 2, 3], [6, 4, 2]), -1, 1e-15);
  near(pearson(Float32Array.from([0.1, 0.2, 0.3]), [1, 2, 3]), 1, 1e-7);
});

test('ranks average ties', () => {
  assert.equal(Array.from(ranks([10, 30, 20, 20, 10])), [1.5, 5, 3.5, 3.5, 1.5]);
  assert.equal(Array.from(ranks([3, 1, 2])), [3, 1, 2]);
});

test('spearman with ties: [1,2,2,3] vs [1,3,2,4] = sqrt(0.9)', () => {
  // ranks x = [1, 2.5, 2.5, 4], y = [1, 3, 2, 4]; centred: [-1.5,0,0,1.5] and [-1.5,0.5,-0.5,1.5]
  // sxy = 4.5, sxx = 4.5, syy = 5 → 4.5 / sqrt(22.5) = sqrt(0.9). (The no-ties shortcut
  // 1 - 6 Σd² / (n(n²-1)) would give 0.95 here, which is wrong with ties.)
  near(spearman([1, 2, 2, 3], [1, 3, 2, 4]), Math.sqrt(0.9), 1e-15);
  near(spearman([1, 2, 3, 4, 5], [1, 8, 27, 64, 125]), 1, 1e-15);
  near(spearman([1, 2, 3, 4, 5], [5, 1e-3, -2, -7, -100]), -1, 1e-15);
});

test('mse and mae by hand', () => {
  // errors [-1, 0, -2]: squared mean 5/3, absolute mean 1
  near(mse([1, 2, 3], [2, 2, 5]), 5 / 3, 1e-15);
  near(mae([1, 2, 3], [2, 2, 5]), 1, 1e-15);
});

test('degenerate input: mismatched lengths throw, undefined values are NaN', () => {
  assert.throws(() => pearson([1, 2], [1, 2, 3]), /lengths differ/);
  assert.throws(() => spearman([1, 2], [1]), /lengths differ/);
  assert.throws(() => mse([1], []), /lengths differ/);
  assert.throws(() => bootstrapCI(pearson, [1, 2], [1]), /lengths differ/);
  assert.ok(Number.isNaN(pearson([1], [2])));
  assert.ok(Number.isNaN(pearson([], [])));
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
  assert.ok(Number.isNaN(spearman([1, 2, 3], [4, 4, 4])));
  assert.ok(Number.isNaN(pearson([1, NaN, 3], [1, 2, 3])));
  assert.ok(Number.isNaN(spearman([1, 2, 3], [1, Infinity, 3])));
  assert.ok(Number.isNaN(mse([], [])));
  assert.ok(Number.isNaN(mae([1, NaN], [1, 2])));
});

test('distribution moments: probabilities or counts, default buckets 1..10', () => {
  // half the mass on bucket 2, half on bucket 4: mean 3, std 1
  const p = [0, 0.5, 0, 0.5, 0, 0, 0, 0, 0, 0];
  near(distributionMean(p), 3, 1e-15);
  near(distributionStd(p), 1, 1e-15);
  const counts = [0, 7, 0, 7, 0, 0, 0, 0, 0, 0];
  assert.equal(distributionMoments(counts), { mean: 3, std: 1 });
  // uniform over 1..10: mean 5.5, variance (10² - 1) / 12 = 8.25
  const u = new Array(10).fill(0.1);
  near(distributionMean(u), 5.5, 1e-14);
  near(distributionStd(u), Math.sqrt(8.25), 1e-14);
  // custom bucket values: mass 0.25 / 0.75 on values 0 and 4 → mean 3, var 0.25*9 + 0.75*1 = 3
  near(distributionMean([0.25, 0.75], [0, 4]), 3, 1e-15);
  near(distributionStd([0.25, 0.75], [0, 4]), Math.sqrt(3), 1e-15);
  assert.throws(() => distributionMean([0.5, 0.5], [1, 2, 3]), /bucket values/);
  assert.throws(() => distributionMean([0.5, -0.5, 1]), /negative/);
  assert.ok(Number.isNaN(distributionMean(new Array(10).fill(0))));
  const b = batchDistributionMoments(Float32Array.from([...p, ...u]));
  near(b.mean[0], 3, 1e-7);
  near(b.std[0], 1, 1e-7);
  near(b.mean[1], 5.5, 1e-6);
  assert.throws(() => batchDistributionMoments(new Float32Array(15)), /rows of 10/);
});

test('quantile interpolates between order statistics', () => {
  // h = (4 - 1) * 0.025 = 0.075 → 1 + 0.075 * (2 - 1)
  near(quantile([1, 2, 3, 4], 0.025), 1.075, 1e-15);
  near(quantile([1, 2, 3, 4], 0.5), 2.5, 1e-15);
  near(quantile([1, 2, 3, 4], 1), 4, 1e-15);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

function correlatedSample(n: number, rho: number, seed: number): { x: number[]; y: number[] } {
  const u = weylUniform(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = gauss();
    x.push(a);
    y.push(rho * a + Math.sqrt(1 - rho * rho) * gauss());
  }
  return { x, y };
}

test('bootstrapCI: seeded, contains the estimate, matches the Fisher-z interval for a normal sample', () => {
  const { x, y } = correlatedSample(400, 0.5, 7);
  const a = bootstrapCI(pearson, x, y, { seed: 1 });
  const b = bootstrapCI(pearson, x, y, { seed: 1 });
  const c = bootstrapCI(pearson, x, y, { seed: 2 });
  assert.equal(a, b);
  assert.is.not(a.lo, c.lo);
  assert.is(a.resamples, 1000);
  assert.is(a.valid, 1000);
  assert.is(a.estimate, pearson(x, y));
  assert.ok(a.lo < a.estimate && a.estimate < a.hi);
  // For bivariate normal data the percentile bootstrap should agree with atanh(r) ± 1.96/sqrt(n-3)
  // to within Monte Carlo noise (observed differences <= 0.005 for three seeds).
  const z = Math.atanh(a.estimate);
  const se = 1 / Math.sqrt(400 - 3);
  near(a.lo, Math.tanh(z - 1.959964 * se), 0.015, 'lo');
  near(a.hi, Math.tanh(z + 1.959964 * se), 0.015, 'hi');
  const narrow = bootstrapCI(pearson, x, y, { seed: 1, level: 0.5, resamples: 200 });
  assert.ok(narrow.hi - narrow.lo < a.hi - a.lo);
  assert.is(narrow.resamples, 200);
});

test('bootstrapCI: a constant metric has a zero-width interval; NaN replicates are dropped', () => {
  const first = (x: Float64Array) => x[0] * 0 + 3;
  assert.equal(bootstrapCI(first, [1, 2, 3], [1, 2, 3], { resamples: 50 }), {
    estimate: 3, lo: 3, hi: 3, level: 0.95, resamples: 50, valid: 50,
  });
  // With 3 points, a resample is constant (all one index) with probability 3/27 = 1/9.
  const r = bootstrapCI(pearson, [1, 2, 3], [1, 2, 4], { resamples: 900 });
  assert.ok(r.valid < 900 && r.valid > 700, `valid ${r.valid}`);
  assert.ok(r.lo >= -1 && r.hi <= 1);
  assert.throws(() => bootstrapCI(pearson, [1, 2], [1, 2], { level: 1 }), /level/);
});

test('spearmanOnRows: a resample with repeated rows by hand, and equal to spearman on gathered rows', () => {
  // rows [0, 0, 2, 3] of x = [1, 5, 2, 2], y = [3, 9, 1, 2] gather to x' = [1, 1, 2, 2], y' = [3, 3, 1, 2]:
  // ranks x' = [1.5, 1.5, 3.5, 3.5], y' = [3.5, 3.5, 1, 2]; centred (mean 2.5): [-1, -1, 1, 1] and
  // [1, 1, -1.5, -0.5]; sxy = -4, sxx = 4, syy = 4.5 → -4 / sqrt(18) = -(2/3)·sqrt(2).
  const rows = Int32Array.from([0, 0, 2, 3]);
  near(spearmanOnRows([1, 5, 2, 2], [3, 9, 1, 2])(rows), -(2 / 3) * Math.SQRT2, 1e-15);
  // Heavy ties (values from 5 levels) and bootstrap-style resamples with many repeats.
  const u = weylUniform(3);
  const n = 300;
  const x = Array.from({ length: n }, () => Math.floor(u() * 5));
  const y = x.map((v) => v + Math.floor(u() * 4));
  const fast = spearmanOnRows(x, y);
  const gathered = metricOnRows((a, b) => spearman(a, b) + 0, x, y); // a wrapper, so the gathering path
  for (let r = 0; r < 50; r++) {
    const idx = Int32Array.from({ length: r < 25 ? n : 40 }, () => Math.floor(u() * n));
    near(fast(idx), gathered(idx), 1e-12, `resample ${r}`);
    near(fast(idx), spearman(Array.from(idx, (i) => x[i]), Array.from(idx, (i) => y[i])), 1e-12);
  }
  assert.ok(Number.isNaN(fast(Int32Array.from([4]))), 'one row');
  assert.ok(Number.isNaN(fast(Int32Array.from([7, 7, 7]))), 'one row repeated: constant ranks');
  assert.throws(() => spearmanOnRows([1, NaN], [1, 2]), /finite/);
  // Through bootstrapCI, non-finite input keeps spearman's NaN rule: resamples holding the NaN are dropped.
  const withNaN = bootstrapCI(spearman, [1, 2, 3, NaN, 5, 6], [2, 1, 4, 3, 6, 5], { resamples: 200 });
  assert.ok(Number.isNaN(withNaN.estimate) && withNaN.valid > 0 && withNaN.valid < 200, `valid ${withNaN.valid}`);
});

test('noiseCeiling correlates truth with observed CTR', () => {
  assert.equal(noiseCeiling([0.01, 0.02, 0.03], [0.01, 0.02, 0.03]), { lcc: 1, sprc: 1 });
  const nc = noiseCeiling([1, 2, 3, 4], [2, 4, 5, 9]);
  near(nc.lcc, 11 / Math.sqrt(130), 1e-15);
  near(nc.sprc, 1, 1e-15);
});

test('difference: relative L2 against the reference, the worst element against its largest value', () => {
  // ref (3, 4): ‖ref‖ = 5; x − ref = (0, −1): ‖·‖ = 1, worst element 1 of largest 4.
  const d = difference(Float32Array.of(3, 4), Float32Array.of(3, 3));
  near(d.rel, 0.2, 1e-15);
  near(d.norm, 5, 1e-15);
  near(d.abs, 1, 1e-15);
  near(d.element, 0.25, 1e-15);
  assert.equal(difference(Float32Array.of(0, 0), Float32Array.of(0, 0)).rel, 0);
  assert.equal(difference(Float32Array.of(0, 0), Float32Array.of(0, 1e-9)).rel, Infinity);
  assert.throws(() => difference(Float32Array.of(1), Float32Array.of(1, 2)), /length 1 vs 2/);
});

test.run();
