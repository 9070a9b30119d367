// The training loop behind `ort-train`: epochs over a dataset manifest with per-epoch validation,
// early stopping, best and last checkpoints, resume, a JSONL log, a learning curve, and a trained
// inference.onnx with its card. Every output is written atomically.
import { existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeInference } from '../../graph/export/inference.ts';
import { writeExplain } from '../../graph/export/explain.ts';
import type { ModelConfig } from '../../graph/models/config.ts';
import { configIdentity } from '../../graph/models/config-compat.ts';
import { buildModel } from '../../graph/models/m2fn.ts';
import { isBackboneParam } from '../../graph/models/modules.ts';
import { importPretrained } from '../../graph/export/pretrained.ts';
import { writeFileAtomic } from '../../runtime/atomic-write.ts';
import { trainStep, type TrainingSetup } from '../../graph/training/graphs.ts';
import type { LossKind } from '../../graph/training/losses.ts';
import type { OptimizerConfig } from '../../graph/training/optimizers.ts';
import type { ExecutionProvider } from '../../runtime/execution.ts';
import { HashingTextEncoder } from '../../runtime/hashing-text-encoder.ts';
import type { TextEncoder } from '../../runtime/text.ts';
import { assertCompatible, configHash, readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.ts';
import { datasetIdentity } from '../data/manifest.ts';
import { assertDisjoint } from '../data/paths.ts';
import { lockRunDir } from './run-lock.ts';
import { renderLearningCurve } from './curve.ts';
import { augmenting, NO_AUGMENT, type Augment } from './augment.ts';
import { WeightAverage } from './ema.ts';
import { Batcher, epochOrder, foldTargetScaling } from './data.ts';
import { TrainEngine, type StepMode } from './engine.ts';
import { assertProviderUsable } from './probe-provider.ts';
import { evaluate, loadData, validationSensitivity } from './load.ts';
import { diagnoseImagePath } from './image-path.ts';
import { describeSensitivity, IMAGE_BLIND_RATIO } from '../eval/sensitivity.ts';
import { createProgress } from '../progress.ts';
import { learningRate, type Schedule } from './schedule.ts';

export type Validation = { kind: 'holdout'; fraction: number } | { kind: 'test' } | { kind: 'file'; file: string } | { kind: 'none' };

export interface TrainOptions {
  data: string;
  out: string;
  config: ModelConfig;
  loss: LossKind;
  optimizer: OptimizerConfig;
  lr: number;
  schedule: Schedule;
  epochs: number;
  batchSize: number;
  seed: number;
  ep: ExecutionProvider;
  threads?: number;
  mode: StepMode;
  validation: Validation;
  /** Epochs without improvement before stopping (0: never stop early). */
  patience: number;
  selectBy: 'sprc' | 'loss';
  resume: boolean;
  /** Overwrite an existing run in `out` (otherwise refused). */
  force: boolean;
  /** Also checkpoint every this many steps inside an epoch (0: only at epoch ends). */
  checkpointEvery: number;
  /** Train with the VGG backbone frozen for this many epochs first. */
  freezeBackboneEpochs: number;
  pretrained?: string;
  /** Random flips and shifts of the training images (none by default). */
  augment?: Augment;
  /** Export an exponential moving average of the weights with this decay per step (0 or absent: off). */
  ema?: number;
  /** Train regression heads on z-scored targets (folded back into the exported model). */
  standardizeTargets: boolean;
  /** Stop after this many steps in total (for smoke runs). */
  maxSteps?: number;
  /** Image sensitivity on the validation rows each epoch: swap rounds (sensitivity.ts; default 4, 0: off). */
  sensitivityRounds?: number;
  textEncoder?: TextEncoder;
  quiet?: boolean;
}

export interface EpochLog {
  epoch: number;
  step: number;
  trainLoss: number;
  valLoss?: number;
  valSprc?: number;
  valLcc?: number;
  /** Validation image sensitivity (ratio) and the SPRC lost when validation images are permuted. */
  imageSensitivity?: number;
  imageSprcLoss?: number;
  lr: number;
  imgPerS: number;
  seconds: number;
}

export interface TrainResult {
  log: EpochLog[];
  bestEpoch: number | null;
  bestMetric: number | null;
  stoppedEarly: boolean;
  steps: number;
  inferencePath: string;
}

const CHECKPOINTS = 'checkpoints';
/** Checkpoint tensor-name prefix of the weight average (`--ema`). */
const AVERAGE = 'average/';

/**
 * What must match for a checkpoint to be resumed bit-for-bit. Options added after the format
 * appear only when in use, so runs started before they existed still resume (for model fields,
 * configIdentity decides). `data` (the dataset's content hashes) is always there: a checkpoint
 * from before it resumes no more.
 */
function runIdentity(o: TrainOptions) {
  const model = configIdentity(o.config);
  const data = datasetIdentity(o.data, o.validation.kind === 'file' ? [resolve(o.validation.file)] : []);
  return { data, model, loss: o.loss, optimizer: o.optimizer, lr: o.lr, schedule: o.schedule, epochs: o.epochs, batchSize: o.batchSize, seed: o.seed, bnMomentum: o.config.bnMomentum, freezeBackboneEpochs: o.freezeBackboneEpochs, validation: o.validation, mode: o.mode, standardizeTargets: o.standardizeTargets, ...(o.augment && augmenting(o.augment) ? { augment: o.augment } : {}), ...(o.ema ? { ema: o.ema } : {}) };
}

/** One run at a time per run directory (run-lock.ts); a directory this call created and left empty is removed. */
export async function train(o: TrainOptions): Promise<TrainResult> {
  // A run writes only in `out`, which must not overlap what it reads.
  const inputs = [{ name: '--data', path: o.data }, ...(o.validation.kind === 'file' ? [{ name: '--validation file', path: o.validation.file }] : []), ...(o.pretrained ? [{ name: '--pretrained', path: o.pretrained }] : [])];
  assertDisjoint('ort-train', o.out, inputs, (m) => new Error(m));
  const existed = existsSync(o.out);
  const lock = lockRunDir(o.out);
  try {
    return await trainLocked(o);
  } finally {
    lock.release();
    if (!existed && readdirSync(o.out).length === 0) rmdirSync(o.out);
  }
}

async function trainLocked(o: TrainOptions): Promise<TrainResult> {
  const say = (s: string) => {
    if (!o.quiet) process.stderr.write(`${s}\n`);
  };
  const ckptDir = join(o.out, CHECKPOINTS);
  const lastPath = join(ckptDir, 'last.ckpt');
  const bestPath = join(ckptDir, 'best.ckpt');
  const identity = runIdentity(o);
  const hash = configHash(identity);

  // Everything that can be refused is checked before anything is written.
  assertProviderUsable(o.ep);
  let resumed: Checkpoint | null = null;
  if (o.resume) {
    if (!existsSync(lastPath)) throw new Error(`--resume: no checkpoint at ${lastPath}`);
    resumed = readCheckpoint(lastPath);
  } else if (!o.force && existsSync(ckptDir) && readdirSync(ckptDir).length) {
    throw new Error(`${o.out} already holds a training run (${ckptDir}); use --resume to continue it or --force to start over`);
  }
  const setupFor = (frozenBackbone: boolean): TrainingSetup => ({
    config: o.config,
    loss: o.loss,
    optimizer: o.optimizer,
    ep: o.ep === 'webgpu' ? 'webgpu' : 'cpu',
    frozen: frozenBackbone ? isBackboneParam : undefined,
  });
  const stepSpec = trainStep(setupFor(false));
  if (resumed) {
    // A checkpoint from the frozen-backbone phase has no optimizer state for the backbone.
    const phase = resumed.meta.epoch < o.freezeBackboneEpochs ? trainStep(setupFor(true)) : stepSpec;
    const expected = new Map([...phase.paramOrder!, ...phase.states].map((v) => [v.name!, v.shape as number[]]));
    assertCompatible(resumed, hash, expected, lastPath, identity);
  }

  const data = await loadData(o, say);
  mkdirSync(ckptDir, { recursive: true });
  // SIGINT/SIGTERM end the run after the current step with a checkpoint to resume from; the
  // engine is released on every way out (a WebGPU session alive at exit aborts the process).
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => (interrupted = signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let releaseEngine: (() => Promise<void>) | null = null;
  try {
    const initial = new Map<string, Float32Array>();
    if (resumed) for (const [k, t] of resumed.tensors) initial.set(k, t.data);
    else {
      const fresh = stepSpec.model;
      if (o.pretrained) say(`pretrained: ${importPretrained(fresh, o.pretrained).mapped.length} convs from ${o.pretrained}`);
      for (const [k, v] of fresh.params.values) initial.set(k, v.data as Float32Array);
    }
    const lossInputs = stepSpec.inputs.map((v) => v.name!);
    const masks = stepSpec.model.ctx.dropoutMasks.map((m) => ({ name: m.name!, size: m.shape[1] as number, p: o.config.dropout }));
    const trainBatcher = new Batcher(o.config, data.train, data.readImages, lossInputs, masks, o.augment ?? NO_AUGMENT);
    const valBatcher = data.val ? new Batcher(o.config, data.val, data.readImages, lossInputs, []) : null;

    const n = data.train.rows.length;
    // A last batch of one would make batch statistics degenerate; it joins the next epoch's shuffle.
    const batchesPerEpoch = Math.floor(n / o.batchSize) + (n % o.batchSize >= 2 ? 1 : 0);
    const totalSteps = batchesPerEpoch * o.epochs;
    learningRate(o.lr, o.schedule, 0, totalSteps); // refuses a schedule that does not fit the run, before any step
    const meta = resumed?.meta;
    let step = meta?.step ?? 0;
    let epoch = meta?.epoch ?? 0;
    let batchInEpoch = meta?.batchInEpoch ?? 0;
    const extra = (meta?.extra ?? {}) as { log?: EpochLog[]; bestEpoch?: number | null; sinceBest?: number; lossSum?: number; seen?: number };
    const log: EpochLog[] = extra.log ?? [];
    let bestMetric = meta?.bestMetric ?? null;
    let bestEpoch = extra.bestEpoch ?? null;
    let sinceBest = extra.sinceBest ?? 0;
    let lossSum = extra.lossSum ?? 0;
    let seen = extra.seen ?? 0;
    if (resumed) say(`resuming at epoch ${epoch + 1}, batch ${batchInEpoch}, step ${step}`);

    const makeEngine = (frozen: boolean, init: Map<string, Float32Array>) =>
      TrainEngine.create({ setup: setupFor(frozen), mode: o.mode, ep: o.ep, threads: o.threads, initial: init });
    let frozen = epoch < o.freezeBackboneEpochs;
    let engine = await makeEngine(frozen, initial);
    releaseEngine = () => engine.release();
    // The average travels in the checkpoints next to the weights, so a resumed run continues it.
    const averaged = (tensors: Map<string, { data: Float32Array }>) =>
      new Map([...tensors].filter(([k]) => k.startsWith(AVERAGE)).map(([k, v]) => [k.slice(AVERAGE.length), v]));
    const average = o.ema ? new WeightAverage(o.ema, resumed ? averaged(resumed.tensors) : await engine.values(), stepSpec.model.params.values.keys()) : null;
    const snapshot = async () => {
      const t = await engine.values();
      for (const [k, v] of average?.values ?? []) t.set(AVERAGE + k, { shape: t.get(k)!.shape, data: v });
      return t;
    };

    const save = async (path: string) =>
      writeCheckpoint(path, {
        meta: {
          format: 'm2fn-checkpoint/1', configHash: hash, config: identity, step, epoch, batchInEpoch, rngState: [o.seed], bestMetric,
          extra: { log, bestEpoch, sinceBest, lossSum, seen, targets: data.spec },
        },
        tensors: await snapshot(),
      });

    let stoppedEarly = false;
    let stopped = false;
    const t0 = performance.now();
    while (epoch < o.epochs && !stopped) {
      if (frozen && epoch >= o.freezeBackboneEpochs) {
        const current = new Map([...(await engine.values())].map(([k, v]) => [k, Float32Array.from(v.data)]));
        await engine.release();
        engine = await makeEngine(false, current);
        frozen = false;
        say(`epoch ${epoch + 1}: backbone unfrozen`);
      }
      const order = epochOrder(n, o.seed, epoch);
      const progress = o.quiet ? null : createProgress({ total: batchesPerEpoch, label: `epoch ${epoch + 1}/${o.epochs}`, unit: 'batch', start: batchInEpoch });
      const epochStart = performance.now();
      let epochImages = 0;
      for (; batchInEpoch < batchesPerEpoch; batchInEpoch++) {
        if (o.maxSteps !== undefined && step >= o.maxSteps) {
          stopped = true;
          break;
        }
        const rows = order.subarray(batchInEpoch * o.batchSize, Math.min(n, (batchInEpoch + 1) * o.batchSize));
        const batch = trainBatcher.fill(rows, (o.seed * 2654435761 + step) >>> 0);
        const lr = learningRate(o.lr, o.schedule, step, totalSteps);
        const loss = await engine.step(batch, lr, step + 1);
        if (!Number.isFinite(loss)) throw new Error(`training diverged: loss ${loss} at step ${step + 1} (epoch ${epoch + 1}); try a lower --lr`);
        step++;
        if (average) average.update(await engine.values(), step);
        lossSum += loss * rows.length;
        seen += rows.length;
        epochImages += rows.length;
        const rate = epochImages / ((performance.now() - epochStart) / 1000);
        progress?.tick(1, { loss: lossSum / seen, 'img/s': rate.toFixed(1) });
        if (interrupted) {
          batchInEpoch++;
          await save(lastPath);
          throw new Interrupted(interrupted, lastPath);
        }
        if (o.checkpointEvery > 0 && step % o.checkpointEvery === 0 && batchInEpoch + 1 < batchesPerEpoch) {
          batchInEpoch++;
          await save(lastPath);
          batchInEpoch--;
        }
      }
      if (stopped) break;
      progress?.done();
      const entry: EpochLog = {
        epoch: epoch + 1, step, trainLoss: lossSum / Math.max(1, seen), lr: learningRate(o.lr, o.schedule, Math.max(0, step - 1), totalSteps),
        imgPerS: epochImages / ((performance.now() - epochStart) / 1000), seconds: (performance.now() - t0) / 1000,
      };
      let improved = true;
      if (data.val && valBatcher) {
        const v = await evaluate(engine, valBatcher, data.val, data.spec, o.batchSize);
        Object.assign(entry, { valLoss: v.loss, valSprc: v.sprc, valLcc: v.lcc });
        const metric = o.selectBy === 'sprc' ? v.sprc : -v.loss;
        improved = bestMetric === null || metric > bestMetric;
        if (improved) {
          bestMetric = metric;
          bestEpoch = epoch + 1;
          sinceBest = 0;
        } else sinceBest++;
        say(`epoch ${epoch + 1}: train loss ${entry.trainLoss.toPrecision(4)}, val loss ${v.loss.toPrecision(4)}, SPRC ${v.sprc.toFixed(3)}, LCC ${v.lcc.toFixed(3)}${improved ? ' (best)' : ''}`);
        const rounds = o.sensitivityRounds ?? 4;
        if (rounds > 0) {
          const s = await validationSensitivity(engine, data.val, data.spec, o.batchSize, (ex) => new Batcher(o.config, ex, data.readImages, lossInputs, []), { rounds, seed: o.seed });
          Object.assign(entry, { imageSensitivity: s.ratio, imageSprcLoss: s.sprcLoss });
          say(`epoch ${epoch + 1}: ${describeSensitivity(s)}`);
          if (s.images > 1 && s.ratio < IMAGE_BLIND_RATIO) {
            const rows = Int32Array.from({ length: Math.min(64, data.val.rows.length) }, (_, i) => i);
            const found = await diagnoseImagePath(o.config, await engine.values(), valBatcher.fill(rows, null).feeds, rows.length);
            // Printed even with --quiet: a run that stopped seeing its images must not pass unnoticed.
            process.stderr.write(`warning: epoch ${epoch + 1}: the model is image-blind (image sensitivity ${s.ratio.toFixed(3)} < ${IMAGE_BLIND_RATIO}): ${found.findings.join('; ') || 'no dead units or saturated branch found on a validation batch'}\n`);
          }
        }
      } else {
        bestEpoch = epoch + 1;
        say(`epoch ${epoch + 1}: train loss ${entry.trainLoss.toPrecision(4)}`);
      }
      log.push(entry);
      lossSum = 0;
      seen = 0;
      batchInEpoch = 0;
      epoch++; // checkpoints from here on say "start the next epoch"
      if (improved) await save(bestPath);
      await save(lastPath);
      writeFileAtomic(join(o.out, 'train-log.jsonl'), log.map((e) => JSON.stringify(e)).join('\n') + '\n');
      // Only a stop before the last epoch is early: a run that has done all its epochs just ends.
      if (o.patience > 0 && sinceBest >= o.patience && epoch < o.epochs) {
        stoppedEarly = true;
        say(`early stop: no improvement in ${o.patience} epochs`);
        break;
      }
    }

    // The exported model carries the best epoch's weights (or the last, without validation).
    // With --ema, the average as it was at that epoch.
    const chosen = existsSync(bestPath) && data.val ? readCheckpoint(bestPath).tensors : await snapshot();
    const finalTensors = average ? averaged(chosen) : chosen;
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
    if (log.length) await renderLearningCurve(log, join(o.out, 'learning-curve.png'), `${o.config.model} · ${o.loss} · lr ${o.lr}`);
    const result: TrainResult = { log, bestEpoch, bestMetric, stoppedEarly, steps: step, inferencePath: written.onnxPath };
    writeFileAtomic(join(o.out, 'summary.json'), JSON.stringify({ ...result, selectBy: o.selectBy }, null, 2) + '\n');
    return result;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await releaseEngine?.();
    data.close();
  }
}

/** A run stopped by a signal after checkpointing; `ort-train --resume` continues it. */
export class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals, checkpoint: string) {
    super(`interrupted by ${signal}; checkpoint written to ${checkpoint}, continue with --resume`);
  }
}
