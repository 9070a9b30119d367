// Scores every row of a dataset split with a trained model through the Node runtime: `load()` for
// the session and card, the runtime's image decoding (each distinct image decoded once) and its
// attribute encoding, then `scoreTensors` in batches. Also works out the targets' std for
// distribution models (CTR data: the log-normal bucket targets the trainer uses).
import { readManifest, type LoadedSplit, type SplitName } from '../data/manifest.ts';
import { load, type LoadOptions, type Scorer } from '../../runtime/node.ts';
import { imageToTensor } from '../../runtime/image-node.ts';
import { encodeAttributesBatch } from '../../runtime/attributes.ts';
import { HashingTextEncoder, HASHING_TEXT_ENCODER_ID } from '../../runtime/hashing-text-encoder.ts';
import { auxDim } from '../../runtime/schema.ts';
import type { TextEncoder } from '../../runtime/text.ts';
import type { ModelCard } from '../../runtime/card.ts';
import { ctrToDistribution, fitBuckets, type Buckets } from '../train/targets.ts';
import { distributionMoments } from '../metrics/metrics.ts';
import { absImage, summarize, targetsOf, EVAL_FORMAT, type EvalReport } from './evaluate.ts';
import type { BootstrapOptions } from '../metrics/metrics.ts';
import { imageIds, imageSensitivity, type ImageSensitivity } from '../metrics/sensitivity.ts';

export interface ModelPredictions {
  predicted: Float64Array;
  /** Distribution outputs only. */
  predictedStd?: Float64Array;
}

function textEncoderFor(card: ModelCard, given?: TextEncoder): TextEncoder {
  if (given) return given;
  const texts = card.auxSchema?.attributes.filter((a) => a.kind === 'text') ?? [];
  if (!texts.length) return { id: 'none', dim: 0, encode: async () => [] };
  if (card.textEncoder !== HASHING_TEXT_ENCODER_ID) throw new Error(`the model's text encoder is "${card.textEncoder}"; only "${HASHING_TEXT_ENCODER_ID}" is built in`);
  return new HashingTextEncoder({ dim: texts[0].kind === 'text' ? texts[0].dim : 768 });
}

/** A split as model inputs: every distinct image decoded once, every row's attributes encoded once. */
interface SplitInputs {
  n: number;
  /** Image id of each row (0..images−1, first appearance order). */
  imageOf: Int32Array;
  /** Rows `at` .. `at + m - 1` as model inputs, row i shown image `images[i]`. */
  batch(at: number, m: number, images?: Int32Array): { image: Float32Array; aux: Float32Array | null };
}

async function splitInputs(card: ModelCard, split: LoadedSplit, o: { batchSize?: number; textEncoder?: TextEncoder }): Promise<SplitInputs> {
  const rows = split.rows;
  const n = rows.length;
  const per = 3 * card.preprocessing.size ** 2;
  const { imageOf, distinct } = imageIds(rows.map((r) => absImage(split, r)));
  const tensors: Float32Array[] = [];
  for (const p of distinct) tensors.push(await imageToTensor(p, card.preprocessing, { label: p }));
  const schema = card.auxSchema;
  const D = schema ? auxDim(schema) : 0;
  const encoder = textEncoderFor(card, o.textEncoder);
  const step = o.batchSize ?? 64;
  const aux = schema ? new Float32Array(n * D) : null;
  for (let at = 0; aux && at < n; at += step) {
    const part = rows.slice(at, at + step);
    const enc = await encodeAttributesBatch(schema!, part.map((r) => r.attributes), encoder, { firstIndex: at });
    if (enc.length !== part.length * D) throw new Error(`aux encoding gave ${enc.length} floats for ${part.length} rows of ${D}`);
    aux.set(enc, at * D);
  }
  return {
    n,
    imageOf,
    batch(at, m, images = imageOf) {
      const image = new Float32Array(m * per);
      for (let i = 0; i < m; i++) image.set(tensors[images[at + i]], i * per);
      return { image, aux: aux ? aux.subarray(at * D, (at + m) * D) : null };
    },
  };
}

/** One batch of a split as the model's inputs: rows `at` .. `at + n - 1`. */
export interface SplitBatch {
  at: number;
  n: number;
  /** [n, 3, size, size], normalised as the card says. */
  image: Float32Array;
  /** [n, auxDim], or null for image-only models. */
  aux: Float32Array | null;
}

/** The rows of `split` as model inputs, in batches, in row order. */
export async function* splitBatches(card: ModelCard, split: LoadedSplit, o: { batchSize?: number; textEncoder?: TextEncoder } = {}): AsyncGenerator<SplitBatch> {
  const inputs = await splitInputs(card, split, o);
  const step = o.batchSize ?? 64;
  for (let at = 0; at < inputs.n; at += step) {
    const n = Math.min(step, inputs.n - at);
    yield { at, n, ...inputs.batch(at, n) };
  }
}

/** A split made ready to score: every distinct image decoded once, every row's attributes encoded once. */
export interface PreparedSplit {
  /** Image id of each row (0..images−1, first appearance order). */
  imageOf: Int32Array;
  /** Predictions for every row, row i shown image `images[i]` (default: its own). */
  predict(images?: Int32Array): Promise<ModelPredictions>;
}

export async function prepareSplit(scorer: Scorer, split: LoadedSplit, o: { batchSize?: number; textEncoder?: TextEncoder } = {}): Promise<PreparedSplit> {
  const inputs = await splitInputs(scorer.card, split, o);
  const { n, imageOf } = inputs;
  const step = o.batchSize ?? 64;
  const distribution = scorer.card.output.kind === 'distribution';
  const predict = async (images: Int32Array = imageOf): Promise<ModelPredictions> => {
    const predicted = new Float64Array(n);
    const predictedStd = distribution ? new Float64Array(n) : undefined;
    for (let at = 0; at < n; at += step) {
      const m = Math.min(step, n - at);
      const { image, aux } = inputs.batch(at, m, images);
      const scores = await scorer.scoreTensors(image, aux, m);
      scores.forEach((s, i) => {
        if ('ctr' in s) predicted[at + i] = s.ctr;
        else {
          predicted[at + i] = s.mean;
          predictedStd![at + i] = s.std;
        }
      });
    }
    return { predicted, predictedStd };
  };
  return { imageOf, predict };
}

/** Predictions for every row of `split`, in row order. */
export async function scoreSplit(scorer: Scorer, split: LoadedSplit, o: { batchSize?: number; textEncoder?: TextEncoder } = {}): Promise<ModelPredictions> {
  return (await prepareSplit(scorer, split, o)).predict();
}

/** Image sensitivity (sensitivity.ts) of a model on a split, against the split's observed scores. */
export async function splitSensitivity(prepared: PreparedSplit, observed: ArrayLike<number>, o: { rounds?: number; seed?: number } = {}): Promise<ImageSensitivity> {
  return imageSensitivity({ imageOf: prepared.imageOf, observed, predict: async (images) => (await prepared.predict(images)).predicted, ...o });
}

/**
 * The std of each row's target distribution, for distribution models: histograms directly;
 * CTR rows through the trainer's log-normal bucket targets, with buckets refitted on the
 * training split (deterministic, so they equal the ones the model was trained with; checked
 * against the card's bucket values).
 */
export function targetStdFn(dataDir: string, split: LoadedSplit, cardBucketValues?: number[]): { fn: (r: LoadedSplit['rows'][number]) => number; notes: string[] } {
  const notes: string[] = [];
  if (split.dataset.target === 'histogram') return { fn: (r) => distributionMoments(r.histogram!).std, notes };
  const train = split.split === 'train' ? split : readManifest(dataDir, 'train');
  const buckets: Buckets = fitBuckets(train.rows.map((r) => r.ctr!));
  if (cardBucketValues) {
    const off = Math.max(...buckets.values.map((v, i) => Math.abs(v - cardBucketValues[i]) / v));
    if (!(off < 1e-4)) notes.push(`the card's bucket values differ from buckets refitted on ${dataDir}'s train split (max relative difference ${off.toExponential(2)}): was the model trained on another dataset?`);
  }
  const values = cardBucketValues ?? buckets.values;
  return { fn: (r) => distributionMoments(ctrToDistribution(r.ctr!, r.impressions ?? 1, buckets), values).std, notes };
}

export interface EvaluateOptions extends BootstrapOptions {
  split?: SplitName;
  batchSize?: number;
  load?: LoadOptions;
  /** Image-sensitivity swap rounds (sensitivity.ts; default 8, 0: not measured). */
  sensitivityRounds?: number;
}

/** Loads the model in `modelDir`, scores `dataDir`'s split and summarises. */
export async function evaluateModel(modelDir: string, dataDir: string, o: EvaluateOptions = {}): Promise<{ report: EvalReport; predictions: ModelPredictions }> {
  const t0 = performance.now();
  const splitName = o.split ?? 'test';
  const split = readManifest(dataDir, splitName);
  if (!split.rows.length) throw new Error(`${dataDir}: split "${splitName}" has no rows`);
  const scorer = await load(modelDir, { ep: 'cpu', ...o.load });
  try {
    const prepared = await prepareSplit(scorer, split, { batchSize: o.batchSize, textEncoder: o.load?.textEncoder });
    const predictions = await prepared.predict();
    const notes: string[] = [];
    let stdFn: ((r: LoadedSplit['rows'][number]) => number) | undefined;
    if (predictions.predictedStd) {
      const t = targetStdFn(dataDir, split, scorer.card.output.bucketValues);
      stdFn = t.fn;
      notes.push(...t.notes);
    }
    const targets = targetsOf(split, stdFn);
    const summary = summarize({ ...targets, ...predictions }, split.dataset.auxSchema, o);
    const rounds = o.sensitivityRounds ?? 8;
    const imageSensitivity = rounds > 0 ? await splitSensitivity(prepared, targets.observed, { rounds, seed: o.seed }) : undefined;
    const report: EvalReport = {
      format: EVAL_FORMAT,
      model: { dir: modelDir, name: scorer.card.model, output: scorer.card.output.kind, config: scorer.card.config },
      data: { dir: dataDir, split: splitName, target: split.dataset.target },
      bootstrap: { resamples: o.resamples ?? 1000, seed: o.seed ?? 0, level: o.level ?? 0.95 },
      ...summary,
      ...(imageSensitivity ? { imageSensitivity } : {}),
      seconds: (performance.now() - t0) / 1000,
      notes,
    };
    return { report, predictions };
  } finally {
    await scorer.close();
  }
}
