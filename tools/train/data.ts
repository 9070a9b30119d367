// Training data in memory: one row per instance with its encoded aux vector, training target,
// loss weight and the score metrics are computed on; images live in the decode-once cache.
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { configAuxDim, type Link, type ModelConfig } from '../../graph/models/config.ts';
import type { BuiltModel } from '../../graph/models/m2fn.ts';
import { headOutput } from '../../graph/models/modules.ts';
import { encodeAttributesBatch } from '../../runtime/attributes.ts';
import type { TextEncoder } from '../../runtime/text.ts';
import type { DatasetRow, LoadedSplit } from '../data/manifest.ts';
import { rng, shuffle } from '../../runtime/random.ts';
import { augmentImages, augmenting, NO_AUGMENT, type Augment } from './augment.ts';
import type { Batch } from './engine.ts';
import { linkTarget, linkToCtr } from './log-odds.ts';
import { ctrToDistribution, distributionToCtr, fitBuckets, type Buckets } from './targets.ts';

export interface Examples {
  rows: DatasetRow[];
  /** Index of each row's image in the image list handed to the cache. */
  imageIndex: Int32Array;
  /** [rows, D] encoded attributes, or null for image-only models. */
  aux: Float32Array | null;
  /** [rows, 1] or [rows, 10]. */
  target: Float32Array;
  /** [rows]: impressions / mean impressions of the training rows (1 where unknown). */
  weight: Float32Array;
  /** [rows]: the quantity SPRC/LCC compare with (CTR, or a histogram's mean rating). */
  score: Float64Array;
}

/** How targets are formed for this model and dataset; fitted on the training rows only. */
export interface TargetSpec {
  output: 'regression' | 'distribution';
  dataset: 'ctr' | 'histogram';
  /** `logit`: regression targets are the rows' empirical log-odds (log-odds.ts), not their CTRs. */
  link: Link;
  /** For distribution models on CTR data: the log-normal buckets (paper §7.2). */
  buckets: Buckets | null;
  meanImpressions: number;
  /**
   * Regression targets are trained as (y − shift) / scale: raw CTRs (≈ 0.05 ± 0.02) make tiny
   * losses and gradients. The exported model folds the two back into its last layer.
   */
  shift: number;
  scale: number;
}

const histogramMean = (h: ArrayLike<number>) => {
  let s = 0;
  let m = 0;
  for (let k = 0; k < h.length; k++) {
    s += h[k];
    m += (k + 1) * h[k];
  }
  return m / s;
};

/** The regression target of a row before standardisation: its CTR, log-odds or mean rating. */
function regressionValue(dataset: TargetSpec['dataset'], link: Link, r: DatasetRow, where: string): number {
  if (dataset === 'histogram') return histogramMean(r.histogram!);
  if (r.ctr === undefined) throw new Error(`${where}: no ctr target`);
  return linkTarget(link, { ctr: r.ctr, impressions: r.impressions }, where);
}

export function fitTargets(cfg: ModelConfig, split: LoadedSplit, standardize: boolean): TargetSpec {
  const dataset = split.dataset.target;
  const link = cfg.output === 'regression' ? (cfg.link ?? 'identity') : 'identity';
  if (link === 'logit' && dataset !== 'ctr') throw new Error(`${split.dir}: link logit needs a CTR dataset; this one has ${dataset} targets`);
  const rows = split.rows;
  const impressions = rows.map((r) => r.impressions ?? 1);
  const values = rows.map((r) => regressionValue(dataset, link, r, `${split.dir} row ${r.id}`));
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / Math.max(1, values.length));
  const standardized = standardize && cfg.output === 'regression' && std > 0;
  return {
    output: cfg.output,
    dataset,
    link,
    buckets: cfg.output === 'distribution' && dataset === 'ctr' ? fitBuckets(rows.map((r) => r.ctr!)) : null,
    meanImpressions: impressions.reduce((a, b) => a + b, 0) / Math.max(1, rows.length),
    shift: standardized ? mean : 0,
    scale: standardized ? std : 1,
  };
}

/** Predicted score per row from the model's output, on the scale of `Examples.score`. */
export function predictedScores(spec: TargetSpec, prediction: Float32Array, n: number): Float64Array {
  if (spec.output === 'regression') {
    return Float64Array.from(prediction.subarray(0, n), (p) => linkToCtr(spec.link, p * spec.scale + spec.shift));
  }
  return Float64Array.from({ length: n }, (_, i) => {
    const p = prediction.subarray(i * 10, i * 10 + 10);
    return spec.buckets ? distributionToCtr(p, spec.buckets) : histogramMean(p);
  });
}

export function imageList(splits: LoadedSplit[]): { paths: string[]; index: Map<string, number> } {
  const index = new Map<string, number>();
  const paths: string[] = [];
  for (const s of splits) {
    for (const r of s.rows) {
      const abs = resolve(s.dir, r.image);
      if (!index.has(abs)) {
        index.set(abs, paths.length);
        paths.push(abs);
      }
    }
  }
  return { paths, index };
}

export async function buildExamples(
  cfg: ModelConfig,
  split: LoadedSplit,
  rows: DatasetRow[],
  spec: TargetSpec,
  encoder: TextEncoder,
  images: Map<string, number>,
): Promise<Examples> {
  const n = rows.length;
  const outputs = cfg.output === 'regression' ? 1 : 10;
  const target = new Float32Array(n * outputs);
  const score = new Float64Array(n);
  const weight = new Float32Array(n);
  rows.forEach((r, i) => {
    const where = `${split.dir} row ${r.id}`;
    if (outputs === 1) target[i] = (regressionValue(spec.dataset, spec.link, r, where) - spec.shift) / spec.scale;
    if (spec.dataset === 'ctr') {
      if (r.ctr === undefined) throw new Error(`${where}: no ctr target`);
      score[i] = r.ctr;
      if (outputs === 10) target.set(ctrToDistribution(r.ctr, r.impressions ?? 1, spec.buckets!), i * 10);
    } else {
      const h = r.histogram!;
      score[i] = histogramMean(h);
      if (outputs === 10) {
        const total = h.reduce((a, b) => a + b, 0);
        h.forEach((v, k) => (target[i * 10 + k] = v / total));
      }
    }
    weight[i] = (r.impressions ?? spec.meanImpressions) / spec.meanImpressions;
  });
  let aux: Float32Array | null = null;
  if (cfg.modules.aux && cfg.auxSchema) {
    aux = new Float32Array(n * configAuxDim(cfg));
    const chunk = 512; // bounded memory for the text encoder's batch
    for (let at = 0; at < n; at += chunk) {
      const part = rows.slice(at, at + chunk);
      aux.set(await encodeAttributesBatch(cfg.auxSchema, part.map((r) => r.attributes), encoder, { firstIndex: at }), at * configAuxDim(cfg));
    }
  }
  const imageIndex = Int32Array.from(rows, (r) => images.get(resolve(split.dir, r.image))!);
  return { rows, imageIndex, aux, target, weight, score };
}

/** Rows split by image, so validation images are unseen in training (seeded). */
export function holdOutByImage(rows: DatasetRow[], fraction: number, seed: number): { train: DatasetRow[]; val: DatasetRow[] } {
  const images = [...new Set(rows.map((r) => r.image))].sort();
  shuffle(images, rng(seed ^ 0x5eed));
  const held = new Set(images.slice(0, Math.max(1, Math.round(images.length * fraction))));
  return { train: rows.filter((x) => !held.has(x.image)), val: rows.filter((x) => held.has(x.image)) };
}

/** Fills reusable batch buffers; one set per batch size, so no per-step allocation. */
export class Batcher {
  private readonly buffers = new Map<number, Record<string, Float32Array>>();
  private scratch: Float32Array | null = null;
  constructor(
    private readonly cfg: ModelConfig,
    private readonly ex: Examples,
    private readonly readImages: (indices: ArrayLike<number>, out: Float32Array) => void,
    private readonly lossInputs: string[],
    /** Shapes (after the batch dim) of the dropout masks the training graph takes. */
    private readonly masks: { name: string; size: number; p: number }[],
    private readonly augment: Augment = NO_AUGMENT,
  ) {}

  private bufs(n: number) {
    let b = this.buffers.get(n);
    if (!b) {
      const S = this.cfg.size;
      const D = configAuxDim(this.cfg);
      const outs = this.ex.target.length / this.ex.rows.length;
      b = { image: new Float32Array(n * 3 * S * S), aux: new Float32Array(n * D), target: new Float32Array(n * outs), weight: new Float32Array(n) };
      for (const m of this.masks) b[m.name] = new Float32Array(n * m.size);
      this.buffers.set(n, b);
    }
    return b;
  }

  /**
   * `rows` are example indices; `stepSeed` makes dropout masks and augmentation a function of the
   * step (null: no dropout, no augmentation, as for evaluation).
   */
  fill(rows: ArrayLike<number>, stepSeed: number | null): Batch {
    const n = rows.length;
    const b = this.bufs(n);
    const S = this.cfg.size;
    const imgs = Int32Array.from({ length: n }, (_, i) => this.ex.imageIndex[rows[i]]);
    this.readImages(imgs, b.image);
    if (stepSeed !== null && augmenting(this.augment)) {
      this.scratch ??= new Float32Array(3 * S * S);
      augmentImages(b.image, n, S, this.augment, (stepSeed ^ 0x5bd1e995) >>> 0, this.scratch);
    }
    const D = configAuxDim(this.cfg);
    const outs = b.target.length / n;
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      if (this.ex.aux) b.aux.set(this.ex.aux.subarray(r * D, (r + 1) * D), i * D);
      b.target.set(this.ex.target.subarray(r * outs, (r + 1) * outs), i * outs);
      b.weight[i] = this.ex.weight[r];
    }
    const t = (data: Float32Array, shape: number[]) => new ort.Tensor('float32', data, shape);
    const feeds: Record<string, ort.Tensor> = { image: t(b.image, [n, 3, S, S]) };
    if (this.ex.aux) feeds.aux = t(b.aux, [n, D]);
    if (this.lossInputs.includes('target')) feeds.target = t(b.target, [n, outs]);
    if (this.lossInputs.includes('weight')) feeds.weight = t(b.weight, [n, 1]);
    for (const m of this.masks) {
      const data = b[m.name];
      if (stepSeed !== null) {
        const r = rng(stepSeed);
        const keep = 1 / (1 - m.p);
        for (let i = 0; i < data.length; i++) data[i] = r() < m.p ? 0 : keep;
      } else data.fill(1);
      feeds[m.name] = t(data, [n, m.size]);
    }
    return { n, feeds };
  }
}

/** ŷ = scale · (W v + b) + shift = (scale · W) v + (scale · b + shift): the exported head outputs the target's units. */
export function foldTargetScaling(model: BuiltModel, spec: Pick<TargetSpec, 'shift' | 'scale'>): void {
  if (spec.scale === 1 && spec.shift === 0) return;
  const out = headOutput(model.params);
  const w = out.weight.data as Float32Array;
  const b = out.bias.data as Float32Array;
  w.forEach((v, i) => (w[i] = v * spec.scale));
  b.forEach((v, i) => (b[i] = v * spec.scale + spec.shift));
}
