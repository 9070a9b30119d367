// Stage 5 of a training run (train.ts): the epochs. Each one steps through a seeded shuffle of
// the training rows (the shared step loop, steps.ts), validates (validate.ts), keeps the best epoch, checkpoints, appends to the
// JSONL log and may stop early; a signal ends the run after the current step with a checkpoint
// to resume from. The loop state lives in every checkpoint, so a resumed run continues exactly.
import { writeFileAtomic } from '../../runtime/atomic-write.ts';
import { FieldError } from '../../runtime/errors.ts';
import { createProgress } from '../progress.ts';
import { writeCheckpoint } from './checkpoint.ts';
import type { RunEngine } from './open-engine.ts';
import type { OpenedRun } from './open-run.ts';
import type { EpochLog, TrainOptions } from './options.ts';
import type { PreparedData } from './prepare-data.ts';
import { learningRate } from './schedule.ts';
import { epochBatches, epochOrder, stepEpoch, type LoopState } from './steps.ts';
import { checkImageSensitivity, evaluate } from './validate.ts';

export interface EpochPlan {
  /** Training rows. */
  n: number;
  batchesPerEpoch: number;
  totalSteps: number;
}

/** The run's length in steps; refuses a learning-rate schedule that does not fit it, before any step. */
export function planEpochs(o: TrainOptions, n: number): EpochPlan {
  // A last batch of one would make batch statistics degenerate; it joins the next epoch's shuffle.
  const batchesPerEpoch = epochBatches(n, o.batchSize, 2);
  const totalSteps = batchesPerEpoch * o.epochs;
  learningRate(o.lr, o.schedule, 0, totalSteps);
  return { n, batchesPerEpoch, totalSteps };
}

export interface EpochsOutcome {
  log: EpochLog[];
  bestEpoch: number | null;
  bestMetric: number | null;
  stoppedEarly: boolean;
  steps: number;
}

/** The epoch a run starts at: 0, or the one its resumed checkpoint says to start next. */
export const startEpoch = (run: OpenedRun) => run.resumed?.meta.epoch ?? 0;

export async function runEpochs(o: TrainOptions, run: OpenedRun, data: PreparedData, engine: RunEngine, plan: EpochPlan, interrupted: () => NodeJS.Signals | null, say: (s: string) => void): Promise<EpochsOutcome> {
  const { n, batchesPerEpoch, totalSteps } = plan;
  const meta = run.resumed?.meta;
  let epoch = startEpoch(run);
  const extra = (meta?.extra ?? {}) as { log?: EpochLog[]; bestEpoch?: number | null; sinceBest?: number; lossSum?: number; seen?: number };
  const state: LoopState = { step: meta?.step ?? 0, batch: meta?.batchInEpoch ?? 0, lossSum: extra.lossSum ?? 0, seen: extra.seen ?? 0 };
  const log: EpochLog[] = extra.log ?? [];
  let bestMetric = meta?.bestMetric ?? null;
  let bestEpoch = extra.bestEpoch ?? null;
  let sinceBest = extra.sinceBest ?? 0;
  if (run.resumed) say(`resuming at epoch ${epoch + 1}, batch ${state.batch}, step ${state.step}`);

  const save = async (path: string) =>
    writeCheckpoint(path, {
      meta: {
        format: 'm2fn-checkpoint/1', configHash: run.hash, config: run.identity, step: state.step, epoch, batchInEpoch: state.batch, rngState: [o.seed], bestMetric,
        extra: { log, bestEpoch, sinceBest, lossSum: state.lossSum, seen: state.seen, targets: data.spec },
      },
      tensors: await engine.snapshot(),
    });

  let stoppedEarly = false;
  const t0 = performance.now();
  while (epoch < o.epochs) {
    await engine.enterEpoch(epoch, say);
    const progress = o.quiet ? null : createProgress({ total: batchesPerEpoch, label: `epoch ${epoch + 1}/${o.epochs}`, unit: 'batch', start: state.batch });
    const epochStart = performance.now();
    let epochImages = 0;
    const finished = await stepEpoch(engine, state, {
      epoch,
      order: epochOrder(n, o.seed, epoch),
      batchSize: o.batchSize,
      batches: batchesPerEpoch,
      maxSteps: o.maxSteps,
      lr: (step) => learningRate(o.lr, o.schedule, step, totalSteps),
      batch: (rows, step) => data.trainBatcher.fill(rows, (o.seed * 2654435761 + step) >>> 0),
      after: async (rows) => {
        await engine.updateAverage(state.step);
        epochImages += rows;
        const rate = epochImages / ((performance.now() - epochStart) / 1000);
        progress?.tick(1, { loss: state.lossSum / state.seen, 'img/s': rate.toFixed(1) });
        const signal = interrupted();
        if (signal) {
          await save(run.files.last);
          throw new Interrupted(signal, run.files.last);
        }
        if (o.checkpointEvery > 0 && state.step % o.checkpointEvery === 0 && state.batch < batchesPerEpoch) await save(run.files.last);
      },
    });
    if (!finished) break;
    progress?.done();
    const entry: EpochLog = {
      epoch: epoch + 1, step: state.step, trainLoss: state.lossSum / Math.max(1, state.seen), lr: learningRate(o.lr, o.schedule, Math.max(0, state.step - 1), totalSteps),
      imgPerS: epochImages / ((performance.now() - epochStart) / 1000), seconds: (performance.now() - t0) / 1000,
    };
    let improved = true;
    if (data.val && data.valBatcher) {
      const v = await evaluate(engine, data.valBatcher, data.val, data.spec, o.batchSize);
      Object.assign(entry, { valLoss: v.loss, valSprc: v.sprc, valLcc: v.lcc });
      const metric = o.selectBy === 'sprc' ? v.sprc : -v.loss;
      improved = bestMetric === null || metric > bestMetric;
      if (improved) {
        bestMetric = metric;
        bestEpoch = epoch + 1;
        sinceBest = 0;
      } else sinceBest++;
      say(`epoch ${epoch + 1}: train loss ${entry.trainLoss.toPrecision(4)}, val loss ${v.loss.toPrecision(4)}, SPRC ${v.sprc.toFixed(3)}, LCC ${v.lcc.toFixed(3)}${improved ? ' (best)' : ''}`);
      Object.assign(entry, await checkImageSensitivity(o, engine, data, epoch, say));
    } else {
      bestEpoch = epoch + 1;
      say(`epoch ${epoch + 1}: train loss ${entry.trainLoss.toPrecision(4)}`);
    }
    log.push(entry);
    state.lossSum = 0;
    state.seen = 0;
    state.batch = 0;
    epoch++; // checkpoints from here on say "start the next epoch"
    if (improved) await save(run.files.best);
    await save(run.files.last);
    writeFileAtomic(run.files.log, log.map((e) => JSON.stringify(e)).join('\n') + '\n');
    // Only a stop before the last epoch is early: a run that has done all its epochs just ends.
    if (o.patience > 0 && sinceBest >= o.patience && epoch < o.epochs) {
      stoppedEarly = true;
      say(`early stop: no improvement in ${o.patience} epochs`);
      break;
    }
  }
  return { log, bestEpoch, bestMetric, stoppedEarly, steps: state.step };
}

/** A run stopped by a signal after checkpointing; the same options with `resume` continue it. */
export class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals, checkpoint: string) {
    super(`interrupted by ${signal}; checkpoint written to ${checkpoint}, continue with \`resume\``);
  }
}
