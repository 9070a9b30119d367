// npm run bench:eval — the cost of the bootstrap intervals every report is made of: a 95% SPRC
// interval (1,000 resamples) on a 500+-sized test set, by sorting every resample (`spearman` on
// the gathered rows) and by `spearmanOnRows` (one sort per vector). Prints JSON with both times
// and their ratio; the two intervals must agree.
import { bootstrapStat, spearman, spearmanOnRows } from '../tools/eval/metrics.ts';
import { weylUniform } from '../runtime/random.ts';

const n = Number(process.argv[2] ?? 2506);
const u = weylUniform(1);
const truth = Array.from({ length: n }, () => u());
// Observed CTRs are ratios of small counts, so ties are common: round to 1/500.
const observed = truth.map((t) => Math.round((t + 0.3 * u()) * 500) / 500);
const predicted = truth.map((t) => t + 0.5 * u());

function timed(stat: (rows: Int32Array) => number) {
  const t = performance.now();
  const ci = bootstrapStat(n, stat, { resamples: 1000, seed: 0 });
  return { seconds: (performance.now() - t) / 1000, ci: [ci.estimate, ci.lo, ci.hi] };
}

const gx = new Float64Array(n);
const gy = new Float64Array(n);
const sorting = timed((rows) => {
  rows.forEach((r, i) => ((gx[i] = predicted[r]), (gy[i] = observed[r])));
  return spearman(gx, gy);
});
const counting = timed(spearmanOnRows(predicted, observed));
const agree = sorting.ci.every((v, i) => Math.abs(v - counting.ci[i]) < 1e-12);
console.log(JSON.stringify({ rows: n, resamples: 1000, sortEachResampleSeconds: sorting.seconds, spearmanOnRowsSeconds: counting.seconds, speedup: sorting.seconds / counting.seconds, intervalsAgree: agree, ci: counting.ci }));
if (!agree) process.exit(1);
