// Stage 1 of a training run (train.ts): the run directory's files, the run's identity, and the
// checkpoint to resume from. Everything that can be refused without building a graph is refused
// here, before anything is written.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { configIdentity } from '../../graph/models/config-compat.ts';
import { FieldError } from '../../runtime/errors.ts';
import { datasetIdentity } from '../data/manifest.ts';
import { augmenting } from './augment.ts';
import { configHash, readCheckpoint, type Checkpoint } from './checkpoint.ts';
import type { TrainOptions } from './options.ts';
import { assertProviderUsable } from './probe-provider.ts';

export interface RunFiles {
  checkpoints: string;
  last: string;
  best: string;
  log: string;
  curve: string;
  summary: string;
}

export interface OpenedRun {
  files: RunFiles;
  /** What a checkpoint must match to be resumed (runIdentity) and its hash. */
  identity: ReturnType<typeof runIdentity>;
  hash: string;
  resumed: Checkpoint | null;
}

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

export function openRun(o: TrainOptions): OpenedRun {
  const checkpoints = join(o.out, 'checkpoints');
  const files: RunFiles = {
    checkpoints,
    last: join(checkpoints, 'last.ckpt'),
    best: join(checkpoints, 'best.ckpt'),
    log: join(o.out, 'train-log.jsonl'),
    curve: join(o.out, 'learning-curve.png'),
    summary: join(o.out, 'summary.json'),
  };
  const identity = runIdentity(o);
  const hash = configHash(identity);
  assertProviderUsable(o.ep);
  let resumed: Checkpoint | null = null;
  if (o.resume) {
    if (!existsSync(files.last)) throw new FieldError('resume', `no checkpoint at ${files.last}`);
    resumed = readCheckpoint(files.last);
  } else if (!o.force && existsSync(checkpoints) && readdirSync(checkpoints).length) {
    throw new FieldError('out', `${o.out} already holds a training run (${checkpoints}); use \`resume\` to continue it or \`force\` to start over`);
  }
  return { files, identity, hash, resumed };
}
