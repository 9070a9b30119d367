// Validation during training (epochs.ts): loss, SPRC and LCC of the model being trained on the
// validation rows, its image sensitivity, and the image-blind warning.
import { pearson, spearman } from '../metrics/metrics.ts';
import { describeSensitivity, IMAGE_BLIND_RATIO, imageIds, imageSensitivity, type ImageSensitivity } from '../metrics/sensitivity.ts';
import { predictedScores, type Batcher, type Examples, type TargetSpec } from './data.ts';
import type { TrainEngine } from './engine.ts';
import { diagnoseImagePath } from './image-path.ts';
import { reportLine, type EpochLog, type TrainOptions } from './options.ts';
import type { PreparedData } from './prepare-data.ts';

/** What validation needs of an engine. */
type Evaluator = Pick<TrainEngine, 'evaluate' | 'values'>;

export async function evaluate(engine: Evaluator, batcher: Batcher, ex: Examples, spec: TargetSpec, batchSize: number) {
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
 * Image sensitivity (tools/metrics/sensitivity.ts) of the model being trained on examples `ex`: each
 * round scores every row with another row's image through `batcherFor` a view of `ex`.
 */
async function validationSensitivity(engine: Evaluator, ex: Examples, spec: TargetSpec, batchSize: number, batcherFor: (ex: Examples) => Batcher, o: { rounds: number; seed: number }): Promise<ImageSensitivity> {
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

/**
 * Image sensitivity on the validation rows after epoch `epoch` (0-based; `o.sensitivityRounds`
 * swap rounds, none at 0), logged, with a warning when the model has stopped seeing its images.
 */
export async function checkImageSensitivity(o: TrainOptions, engine: Evaluator, data: PreparedData, epoch: number, say: (s: string) => void): Promise<Pick<EpochLog, 'imageSensitivity' | 'imageSprcLoss'>> {
  const rounds = o.sensitivityRounds ?? 4;
  if (!(rounds > 0) || !data.val || !data.valBatcher) return {};
  const s = await validationSensitivity(engine, data.val, data.spec, o.batchSize, data.batcherFor, { rounds, seed: o.seed });
  say(`epoch ${epoch + 1}: ${describeSensitivity(s)}`);
  if (s.images > 1 && s.ratio < IMAGE_BLIND_RATIO) {
    const rows = Int32Array.from({ length: Math.min(64, data.val.rows.length) }, (_, i) => i);
    const found = await diagnoseImagePath(o.config, await engine.values(), data.valBatcher.fill(rows, null).feeds, rows.length);
    // Printed even with --quiet: a run that stopped seeing its images must not pass unnoticed.
    reportLine(o)(`warning: epoch ${epoch + 1}: the model is image-blind (image sensitivity ${s.ratio.toFixed(3)} < ${IMAGE_BLIND_RATIO}): ${found.findings.join('; ') || 'no dead units or saturated branch found on a validation batch'}`);
  }
  return { imageSensitivity: s.ratio, imageSprcLoss: s.sprcLoss };
}
