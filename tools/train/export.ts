// Stage 6 of a training run (train.ts): the trained inference.onnx with its card and explain
// graph, the learning curve and summary.json. The exported model carries the best epoch's weights
// (the last epoch's without validation) — with `ema`, the weight average as it was then — with
// the target scaling folded into its last layer.
import { existsSync } from 'node:fs';
import { writeExplain } from '../../graph/export/explain.ts';
import { writeInference } from '../../graph/export/inference.ts';
import { buildModel } from '../../graph/models/m2fn.ts';
import { writeFileAtomic } from '../../runtime/atomic-write.ts';
import { HashingTextEncoder } from '../../runtime/hashing-text-encoder.ts';
import { readCheckpoint } from './checkpoint.ts';
import { renderLearningCurve } from './curve.ts';
import { foldTargetScaling } from './data.ts';
import type { EpochsOutcome } from './epochs.ts';
import { averaged, type RunEngine } from './open-engine.ts';
import type { OpenedRun } from './open-run.ts';
import type { TrainOptions, TrainResult } from './options.ts';
import type { PreparedData } from './prepare-data.ts';

/** Writes the run's outputs; releases the engine once the weights are read from it. */
export async function exportRun(o: TrainOptions, run: OpenedRun, data: PreparedData, engine: RunEngine, outcome: EpochsOutcome): Promise<TrainResult> {
  const { log, bestEpoch } = outcome;
  const chosen = existsSync(run.files.best) && data.val ? readCheckpoint(run.files.best).tensors : await engine.snapshot();
  const finalTensors = engine.average ? averaged(chosen) : chosen;
  await engine.release();
  const model = buildModel(o.config);
  for (const [k, v] of model.params.values) (v.data as Float32Array).set(finalTensors.get(k)!.data);
  foldTargetScaling(model, data.spec);
  // The card records the image sensitivity measured at the exported epoch.
  const exported = log.find((e) => e.epoch === bestEpoch) ?? log[log.length - 1];
  const sensitivity = exported?.imageSensitivity !== undefined ? { ratio: exported.imageSensitivity, sprcLoss: exported.imageSprcLoss, rows: data.val!.rows.length, images: new Set(data.val!.imageIndex).size, rounds: o.sensitivityRounds ?? 4, split: 'validation', epoch: exported.epoch } : undefined;
  const extras = {
    textEncoder: (o.textEncoder ?? new HashingTextEncoder()).id,
    bucketValues: data.spec.buckets?.values,
    ...(sensitivity ? { diagnostics: { imageSensitivity: sensitivity } } : {}),
  };
  const written = await writeInference(o.out, model, extras);
  await writeExplain(o.out, model, extras);
  if (log.length) await renderLearningCurve(log, run.files.curve, `${o.config.model} · ${o.loss} · lr ${o.lr}`);
  const result: TrainResult = { ...outcome, inferencePath: written.onnxPath };
  writeFileAtomic(run.files.summary, JSON.stringify({ ...result, selectBy: o.selectBy }, null, 2) + '\n');
  return result;
}
