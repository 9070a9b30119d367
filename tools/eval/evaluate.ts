// Evaluation of predictions against a dataset split: overall SPRC/LCC/MSE/MAE with bootstrap
// intervals, SPRC/LCC of the predicted std for distribution outputs, metrics against the
// synthetic ground truth and the noise ceiling when rows carry `truth`, and a breakdown per level
// of every categorical attribute. `summarize` is pure (tests compare it with hand computations);
// `evaluateModel` scores a trained model directory through the Node runtime first.
import { isAbsolute, join, resolve } from 'node:path';
import type { AuxSchema } from '../../runtime/schema.ts';
import type { DatasetRow, LoadedSplit, SplitName } from '../data/manifest.ts';
import type { ImageSensitivity } from '../metrics/sensitivity.ts';
import { bootstrapCI, distributionMoments, mae, mse, pearson, spearman, type BootstrapInterval, type BootstrapOptions, type Vec } from '../metrics/metrics.ts';

export const EVAL_FORMAT = 'm2fn-eval/1';

export interface MetricSet {
  n: number;
  sprc: BootstrapInterval;
  lcc: BootstrapInterval;
  mse: BootstrapInterval;
  mae: BootstrapInterval;
}

export interface LevelMetrics {
  level: string;
  n: number;
  sprc: number;
  lcc: number;
  mse: number;
  mae: number;
  /** Plain means over the level's rows. */
  meanPredicted: number;
  meanObserved: number;
}

export interface AttributeBreakdown {
  attribute: string;
  levels: LevelMetrics[];
}

/** Everything `summarize` needs, one entry per row. */
export interface EvalInput {
  attributes: Record<string, string | number>[];
  /** The observed score: CTR, or a histogram's mean rating. */
  observed: Float64Array;
  /** The predicted score on the same scale (a distribution output's mean). */
  predicted: Float64Array;
  /** Distribution outputs: the predicted std and the target distribution's std. */
  predictedStd?: Float64Array;
  targetStd?: Float64Array;
  /** Synthetic worlds: the ground-truth CTR. */
  truth?: Float64Array;
}

export interface EvalSummary {
  n: number;
  overall: MetricSet;
  /** SPRC/LCC of the predicted std against the target std (distribution outputs). */
  std?: { sprc: BootstrapInterval; lcc: BootstrapInterval };
  /** Predictions against the ground truth instead of the observed CTR. */
  truth?: MetricSet;
  /** SPRC/LCC of the ground truth against the observed CTR: what a perfect model would score. */
  noiseCeiling?: { sprc: BootstrapInterval; lcc: BootstrapInterval };
  /** overall / noiseCeiling, point estimates. */
  fractionOfCeiling?: { sprc: number; lcc: number };
  byAttribute: AttributeBreakdown[];
}

const f64 = (x: Vec) => Float64Array.from(x);

export function metricSet(pred: Vec, target: Vec, opts: BootstrapOptions = {}): MetricSet {
  const p = f64(pred);
  const t = f64(target);
  return {
    n: p.length,
    sprc: bootstrapCI(spearman, p, t, opts),
    lcc: bootstrapCI(pearson, p, t, opts),
    mse: bootstrapCI(mse, p, t, opts),
    mae: bootstrapCI(mae, p, t, opts),
  };
}

function meanOf(x: Vec): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

/** Metrics within each level of each categorical attribute (levels in schema order; empty levels left out). */
export function levelBreakdown(attributes: Record<string, string | number>[], schema: AuxSchema, pred: Vec, observed: Vec): AttributeBreakdown[] {
  if (attributes.length !== pred.length || pred.length !== observed.length) {
    throw new RangeError(`levelBreakdown: ${attributes.length} rows, ${pred.length} predictions, ${observed.length} targets`);
  }
  const out: AttributeBreakdown[] = [];
  for (const a of schema.attributes) {
    if (a.kind !== 'categorical') continue;
    const levels: LevelMetrics[] = [];
    const known = new Set(a.levels);
    const extra = [...new Set(attributes.map((r) => String(r[a.name])))].filter((l) => !known.has(l)).sort();
    for (const level of [...a.levels, ...extra]) {
      const idx: number[] = [];
      attributes.forEach((r, i) => {
        if (String(r[a.name]) === level) idx.push(i);
      });
      if (!idx.length) continue;
      const p = Float64Array.from(idx, (i) => pred[i]);
      const o = Float64Array.from(idx, (i) => observed[i]);
      levels.push({ level, n: idx.length, sprc: spearman(p, o), lcc: pearson(p, o), mse: mse(p, o), mae: mae(p, o), meanPredicted: meanOf(p), meanObserved: meanOf(o) });
    }
    out.push({ attribute: a.name, levels });
  }
  return out;
}

/** The full metric summary of one set of predictions. `schema` drives the per-level breakdown. */
export function summarize(input: EvalInput, schema: AuxSchema | null, opts: BootstrapOptions = {}): EvalSummary {
  const n = input.observed.length;
  if (input.predicted.length !== n || input.attributes.length !== n) throw new RangeError(`summarize: ${n} targets, ${input.predicted.length} predictions, ${input.attributes.length} rows`);
  const s: EvalSummary = { n, overall: metricSet(input.predicted, input.observed, opts), byAttribute: schema ? levelBreakdown(input.attributes, schema, input.predicted, input.observed) : [] };
  if (input.predictedStd && input.targetStd) {
    s.std = { sprc: bootstrapCI(spearman, input.predictedStd, input.targetStd, opts), lcc: bootstrapCI(pearson, input.predictedStd, input.targetStd, opts) };
  }
  if (input.truth) {
    s.truth = metricSet(input.predicted, input.truth, opts);
    s.noiseCeiling = { sprc: bootstrapCI(spearman, input.truth, input.observed, opts), lcc: bootstrapCI(pearson, input.truth, input.observed, opts) };
    s.fractionOfCeiling = { sprc: s.overall.sprc.estimate / s.noiseCeiling.sprc.estimate, lcc: s.overall.lcc.estimate / s.noiseCeiling.lcc.estimate };
  }
  return s;
}

/** Observed scores, target stds (given bucket values for CTR data) and truth of manifest rows. */
export function targetsOf(split: LoadedSplit, stdOf?: (row: DatasetRow) => number): Pick<EvalInput, 'observed' | 'targetStd' | 'truth' | 'attributes'> {
  const rows = split.rows;
  const observed = Float64Array.from(rows, (r) => (split.dataset.target === 'ctr' ? r.ctr! : distributionMoments(r.histogram!).mean));
  const hasTruth = rows.length > 0 && rows.every((r) => typeof r.truth === 'number');
  return {
    attributes: rows.map((r) => r.attributes),
    observed,
    truth: hasTruth ? Float64Array.from(rows, (r) => r.truth!) : undefined,
    targetStd: stdOf ? Float64Array.from(rows, stdOf) : undefined,
  };
}

export interface EvalReport extends EvalSummary {
  format: typeof EVAL_FORMAT;
  model: { dir: string; name: string; output: 'regression' | 'distribution'; config: Record<string, unknown> };
  data: { dir: string; split: SplitName; target: 'ctr' | 'histogram' };
  bootstrap: { resamples: number; seed: number; level: number };
  /** How much the predictions depend on the image with the attributes fixed (sensitivity.ts). */
  imageSensitivity?: ImageSensitivity;
  seconds: number;
  notes: string[];
}

export const absImage = (split: LoadedSplit, r: DatasetRow) => (isAbsolute(r.image) ? r.image : resolve(join(split.dir, r.image)));
