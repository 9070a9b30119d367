// Stage 2 of a training run (train.ts): the training graphs for both phases of the run (backbone
// frozen for the first `freezeBackboneEpochs`, then all trainable), what a batch must feed them,
// and the check that a checkpoint being resumed fits the phase it was written in — before any
// data is decoded.
import { isBackboneParam } from '../../graph/models/modules.ts';
import { trainStep, type TrainingSetup } from '../../graph/training/graphs.ts';
import { assertCompatible } from './checkpoint.ts';
import type { OpenedRun } from './open-run.ts';
import type { TrainOptions } from './options.ts';

export interface TrainGraphs {
  /** The training setup of a phase: with the backbone frozen or not. */
  setupFor: (frozenBackbone: boolean) => TrainingSetup;
  /** The fused step of the unfrozen phase; its model holds the freshly initialised parameters. */
  step: ReturnType<typeof trainStep>;
  /** Inputs of the loss (target, weight) the batches must feed. */
  lossInputs: string[];
  /** Dropout masks the step takes, with their width and drop probability. */
  masks: { name: string; size: number; p: number }[];
}

export function buildGraphs(o: TrainOptions, run: OpenedRun): TrainGraphs {
  const setupFor = (frozenBackbone: boolean): TrainingSetup => ({
    config: o.config,
    loss: o.loss,
    optimizer: o.optimizer,
    ep: o.ep === 'webgpu' ? 'webgpu' : 'cpu',
    frozen: frozenBackbone ? isBackboneParam : undefined,
    batchSize: o.batchSize,
  });
  const step = trainStep(setupFor(false));
  if (run.resumed) {
    // A checkpoint from the frozen-backbone phase has no optimizer state for the backbone.
    const phase = run.resumed.meta.epoch < o.freezeBackboneEpochs ? trainStep(setupFor(true)) : step;
    const expected = new Map([...phase.paramOrder!, ...phase.states].map((v) => [v.name!, v.shape as number[]]));
    assertCompatible(run.resumed, run.hash, expected, run.files.last, run.identity);
  }
  const lossInputs = step.inputs.map((v) => v.name!);
  const masks = step.model.ctx.dropoutMasks.map((m) => ({ name: m.name!, size: m.shape[1] as number, p: o.config.dropout }));
  return { setupFor, step, lossInputs, masks };
}
