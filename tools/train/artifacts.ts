// The on-device-training artifact set in one directory, as ONNX Runtime's training API lays it
// out: training_model, eval_model, optimizer_model, plus our fused train_step, inference.onnx
// with its card, an initial checkpoint and artifacts.json naming every graph's inputs and outputs.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeInference, writeModel, type Written } from '../../graph/export/inference.ts';
import type { BuiltModel } from '../../graph/models/m2fn.ts';
import type { GraphSpec } from '../../graph/core/serialize.ts';
import { writeFileAtomic } from '../../runtime/atomic-write.ts';
import { evalModel, optimizerModel, trainingModel, trainStep, type TrainingSetup } from '../../graph/training/graphs.ts';
import { stateNames } from '../../graph/training/optimizers.ts';
import { configHash, writeCheckpoint } from './checkpoint.ts';

export interface ArtifactSet {
  files: Record<string, Written>;
  checkpoint: string;
  manifest: string;
}

const describe = (spec: GraphSpec) => ({
  inputs: [...spec.inputs, ...(spec.paramsAsInputs ? (spec.paramOrder ?? []) : [])].map((v) => ({ name: v.name, shape: v.shape })),
  outputs: spec.outputs.map((v) => ({ name: v.name, shape: v.shape })),
});

/** `model` supplies the initial weights (e.g. after a pretrained import); the graphs use its names. */
export async function writeArtifacts(dir: string, setup: TrainingSetup, model: BuiltModel): Promise<ArtifactSet> {
  const inference = await writeInference(dir, model);
  const specs: Record<string, GraphSpec> = {
    training_model: trainingModel(setup),
    eval_model: evalModel(setup),
    optimizer_model: optimizerModel(setup),
    train_step: trainStep(setup),
  };
  const files: Record<string, Written> = { inference };
  for (const [name, spec] of Object.entries(specs)) {
    // Training graphs take parameters as inputs; the card describes the same model, with their own hash.
    files[name] = await writeModel(dir, name, spec, (bytes) => ({ ...inference.card, sha256: createHash('sha256').update(bytes).digest('hex') }));
  }

  const trainable = model.params.trainable.filter((p) => !setup.frozen?.(p.name!));
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, v] of model.params.values) tensors.set(name, { shape: v.shape as number[], data: v.data as Float32Array });
  for (const p of trainable) {
    for (const s of stateNames(setup.optimizer.kind, p.name!)) tensors.set(s, { shape: p.shape as number[], data: new Float32Array(p.size) });
  }
  const checkpoint = join(dir, 'checkpoint.ckpt');
  const config = { model: setup.config, loss: setup.loss, optimizer: setup.optimizer };
  await writeCheckpoint(checkpoint, {
    meta: {
      format: 'm2fn-checkpoint/1', configHash: configHash(config), config,
      step: 0, epoch: 0, batchInEpoch: 0, rngState: [setup.config.seed], bestMetric: null, extra: {},
    },
    tensors,
  });
  const manifest = join(dir, 'artifacts.json');
  const summary = {
    format: 'm2fn-artifacts/1',
    ep: setup.ep,
    loss: setup.loss,
    optimizer: setup.optimizer,
    trainable: trainable.map((p) => p.name),
    frozen: model.params.trainable.filter((p) => setup.frozen?.(p.name!)).map((p) => p.name),
    statistics: model.params.statistics.map((p) => p.name),
    graphs: Object.fromEntries(Object.entries(specs).map(([k, s]) => [`${k}.onnx`, describe(s)])),
  };
  writeFileAtomic(manifest, JSON.stringify(summary, null, 2) + '\n');
  return { files, checkpoint, manifest };
}
