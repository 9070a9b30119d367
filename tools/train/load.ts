// The data side of a training run: manifests read and split, targets fitted, attributes encoded,
// images decoded once into the cache; and validation over it.
import { join, resolve } from 'node:path';
import { preprocessingFor } from '../../graph/export/inference.ts';
import { HashingTextEncoder } from '../../runtime/hashing-text-encoder.ts';
import { loadManifest, loadManifestFile, type LoadedSplit } from '../data/manifest.ts';
import { pearson, spearman } from '../eval/metrics.ts';
import { imageIds, imageSensitivity, type ImageSensitivity } from '../eval/sensitivity.ts';
import { Batcher, buildExamples, fitTargets, holdOutByImage, imageList, predictedScores, type Examples, type TargetSpec } from './data.ts';
import type { TrainEngine } from './engine.ts';
import { openImageCache } from './image-cache.ts';
import { createProgress } from '../progress.ts';
import type { TrainOptions } from './train.ts';

export interface Data {
  train: Examples;
  val: Examples | null;
  spec: TargetSpec;
  readImages: (indices: ArrayLike<number>, out: Float32Array) => void;
  close: () => void;
}

export async function loadData(o: TrainOptions, log: (s: string) => void): Promise<Data> {
  const trainSplit = await loadManifest(o.data, 'train');
  let trainRows = trainSplit.rows;
  let valSplit: LoadedSplit | null = null;
  let valRows: LoadedSplit['rows'] = [];
  if (o.validation.kind === 'holdout') {
    ({ train: trainRows, val: valRows } = holdOutByImage(trainSplit.rows, o.validation.fraction, o.seed));
    valSplit = trainSplit;
  } else if (o.validation.kind === 'test') {
    valSplit = await loadManifest(o.data, 'test');
    valRows = valSplit.rows;
  } else if (o.validation.kind === 'file') {
    valSplit = await loadManifestFile(resolve(o.validation.file), trainSplit.dataset);
    valRows = valSplit.rows;
    const trainImages = new Set(trainRows.map((r) => resolve(trainSplit.dir, r.image)));
    const shared = new Set(valRows.map((r) => resolve(valSplit!.dir, r.image)).filter((p) => trainImages.has(p))).size;
    // Allowed (a time-based split may reuse images), but it flatters the validation metrics.
    if (shared) log(`note: ${shared} validation image${shared === 1 ? '' : 's'} of ${o.validation.file} also appear in training`);
  }
  if (trainRows.length < 2) throw new Error(`${o.data}: ${trainRows.length} training rows — need at least 2`);
  const cfg = o.config;
  if (cfg.modules.aux && JSON.stringify(trainSplit.dataset.auxSchema) !== JSON.stringify(cfg.auxSchema)) {
    throw new Error(`${o.data}: the dataset's aux schema "${trainSplit.dataset.auxSchema.name}" differs from the model's "${cfg.auxSchema?.name}" — omit --aux-schema to train on the dataset's`);
  }
  const spec = fitTargets(cfg, { ...trainSplit, rows: trainRows }, o.standardizeTargets);
  const images = imageList([trainSplit, ...(valSplit ? [valSplit] : [])]);
  const encoder = o.textEncoder ?? new HashingTextEncoder();
  log(`data: ${trainRows.length} training and ${valRows.length} validation rows, ${images.paths.length} images`);
  const cache = await openImageCache({
    dir: join(o.out, 'cache'),
    images: images.paths,
    preprocessing: preprocessingFor(cfg),
    onProgress: o.quiet ? undefined : progressPrinter('decoding images', images.paths.length),
  });
  const train = await buildExamples(cfg, trainSplit, trainRows, spec, encoder, images.index);
  const val = valSplit && valRows.length ? await buildExamples(cfg, valSplit, valRows, spec, encoder, images.index) : null;
  return { train, val, spec, readImages: (i, out) => cache.readBatch(i, out), close: () => cache.close() };
}

function progressPrinter(label: string, total: number) {
  const p = createProgress({ total, label });
  let last = 0;
  return (done: number) => {
    p.tick(done - last);
    last = done;
    if (done === total) p.done();
  };
}

export async function evaluate(engine: TrainEngine, batcher: Batcher, ex: Examples, spec: TargetSpec, batchSize: number) {
  const n = ex.rows.length;
  const predicted = new Float64Array(n);
  let lossSum = 0;
  for (let at = 0; at < n; at += batchSize) {
    const rows = Int32Array.from({ length: Math.min(batchSize, n - at) }, (_, i) => at + i);
    const { loss, prediction } = await engine.evaluate(batcher.fill(rows, null));
    lossSum += loss * rows.length;
    predicted.set(predictedScores(spec, prediction, rows.length), at);
  }
  return { loss: lossSum / n, sprc: spearman(predicted, ex.score), lcc: pearson(predicted, ex.score), predicted };
}

/**
 * Image sensitivity (eval/sensitivity.ts) of the model being trained on examples `ex`: each
 * round scores every row with another row's image through `batcherFor` a view of `ex`.
 */
export async function validationSensitivity(engine: TrainEngine, ex: Examples, spec: TargetSpec, batchSize: number, batcherFor: (ex: Examples) => Batcher, o: { rounds: number; seed: number }): Promise<ImageSensitivity> {
  const { imageOf, distinct } = imageIds(Array.from(ex.imageIndex));
  return imageSensitivity({
    imageOf,
    observed: ex.score,
    ...o,
    predict: async (images) => {
      const view: Examples = { ...ex, imageIndex: Int32Array.from(images, (j) => distinct[j]) };
      return (await evaluate(engine, batcherFor(view), view, spec, batchSize)).predicted;
    },
  });
}
