// Stage 3 of a training run (train.ts): manifests read and split, targets fitted, attributes
// encoded, images decoded once into the cache, and the batchers that feed the graphs from them.
import { join, resolve } from 'node:path';
import { preprocessingFor } from '../../graph/export/inference.ts';
import { FieldError } from '../../runtime/errors.ts';
import { HashingTextEncoder } from '../../runtime/hashing-text-encoder.ts';
import { loadManifest, loadManifestFile, type LoadedSplit } from '../data/manifest.ts';
import { NO_AUGMENT } from './augment.ts';
import { Batcher, buildExamples, fitTargets, holdOutByImage, imageList, type Examples, type TargetSpec } from './data.ts';
import type { TrainGraphs } from './graphs.ts';
import { openImageCache } from './image-cache.ts';
import type { TrainOptions } from './options.ts';
import { createProgress } from '../progress.ts';

export interface PreparedData {
  train: Examples;
  val: Examples | null;
  spec: TargetSpec;
  /** Training batches: dropout masks and augmentation drawn per step. */
  trainBatcher: Batcher;
  /** Validation batches, as evaluation sees them (no dropout, no augmentation). */
  valBatcher: Batcher | null;
  /** An evaluation batcher over other examples on the same images (a view of `val`). */
  batcherFor: (ex: Examples) => Batcher;
  readImages: (indices: ArrayLike<number>, out: Float32Array) => void;
  close: () => void;
}

export async function prepareData(o: TrainOptions, graphs: TrainGraphs, log: (s: string) => void): Promise<PreparedData> {
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
  if (trainRows.length < 2) throw new FieldError('data', `${o.data}: ${trainRows.length} training rows — need at least 2`);
  const cfg = o.config;
  if (cfg.modules.aux && JSON.stringify(trainSplit.dataset.auxSchema) !== JSON.stringify(cfg.auxSchema)) {
    throw new FieldError('auxSchema', `${o.data}: the dataset's aux schema "${trainSplit.dataset.auxSchema.name}" differs from the model's "${cfg.auxSchema?.name}" — leave it out to train on the dataset's`);
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
  const readImages = (i: ArrayLike<number>, out: Float32Array) => cache.readBatch(i, out);
  const batcherFor = (ex: Examples) => new Batcher(cfg, ex, readImages, graphs.lossInputs, []);
  return {
    train,
    val,
    spec,
    trainBatcher: new Batcher(cfg, train, readImages, graphs.lossInputs, graphs.masks, o.augment ?? NO_AUGMENT),
    valBatcher: val ? batcherFor(val) : null,
    batcherFor,
    readImages,
    close: () => cache.close(),
  };
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
