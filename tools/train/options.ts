// What a training run is asked to do (TrainOptions) and what it reports (EpochLog, TrainResult):
// one typed object handed to every stage of the loop (train.ts), read where it is used.
import type { ModelConfig } from '../../graph/models/config.ts';
import type { LossKind } from '../../graph/training/losses.ts';
import type { OptimizerConfig } from '../../graph/training/optimizers.ts';
import type { ExecutionProvider } from '../../runtime/execution.ts';
import type { TextEncoder } from '../../runtime/text.ts';
import type { Augment } from './augment.ts';
import type { StepMode } from './engine.ts';
import type { Schedule } from './schedule.ts';

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
  /** No progress lines (warnings still go out). */
  quiet?: boolean;
  /** Where the run's lines and warnings go (default: stderr). Fields they name read `like this`. */
  report?: (line: string) => void;
}

/** The sink of a run's lines: `o.report`, or stderr. */
export const reportLine = (o: TrainOptions) => o.report ?? ((line: string) => void process.stderr.write(`${line}\n`));

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
