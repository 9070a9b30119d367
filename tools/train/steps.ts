// The step loop every trainer here shares (the M2FN epochs in epochs.ts, the MLP baseline): an
// epoch's batches in the order given, one optimizer step each, the loss summed and a diverged
// loss refused. What surrounds a step (weight averaging, progress, checkpoints, signals) is the
// caller's, through `after`; the loop's position is `LoopState`, which a checkpoint records.
import { FieldError } from '../../runtime/errors.ts';
import { permutation, rng } from '../../runtime/random.ts';
import type { Batch } from './engine.ts';

/** The order of `n` rows in epoch `epoch` (0-based): a permutation that depends only on (seed, epoch). */
export function epochOrder(n: number, seed: number, epoch: number): Int32Array {
  return permutation(n, rng((seed * 1_000_003 + epoch * 7919) >>> 0));
}

/**
 * Batches in an epoch of `n` rows. A last batch smaller than `minLast` is left out (batch
 * statistics of a batch of one are degenerate; its rows come in the next epoch's order).
 */
export const epochBatches = (n: number, batchSize: number, minLast: number) => Math.floor(n / batchSize) + (n % batchSize >= minLast ? 1 : 0);

/** Where the loop stands: optimizer steps taken, the next batch of the epoch, the epoch's loss so far. */
export interface LoopState {
  step: number;
  batch: number;
  /** Sum of batch loss × batch rows, and the rows, since the epoch began. */
  lossSum: number;
  seen: number;
}

export interface EpochSteps {
  /** 0-based, for the divergence message. */
  epoch: number;
  /** The epoch's rows in visiting order; batch k is rows [k·batchSize, (k+1)·batchSize). */
  order: Int32Array;
  batchSize: number;
  batches: number;
  /** Learning rate of optimizer step `step` (0-based). */
  lr: (step: number) => number;
  /** The batch of these rows for step `step` (0-based). */
  batch: (rows: Int32Array, step: number) => Batch;
  /** Stop once this many steps are taken in all. */
  maxSteps?: number;
  /** After each step, with `state` already moved on past it. */
  after?: (rows: number, loss: number) => Promise<void> | void;
}

/** What the loop needs of an engine (TrainEngine, RunEngine). `step` counts from 1. */
export interface Stepper {
  step(batch: Batch, lr: number, step: number): Promise<number>;
}

/** Steps from `state.batch` to the epoch's end, moving `state`; false when `maxSteps` stopped it first. */
export async function stepEpoch(engine: Stepper, state: LoopState, e: EpochSteps): Promise<boolean> {
  while (state.batch < e.batches) {
    if (e.maxSteps !== undefined && state.step >= e.maxSteps) return false;
    const rows = e.order.subarray(state.batch * e.batchSize, Math.min(e.order.length, (state.batch + 1) * e.batchSize));
    const loss = await engine.step(e.batch(rows, state.step), e.lr(state.step), state.step + 1);
    if (!Number.isFinite(loss)) throw new FieldError('lr', `training diverged: loss ${loss} at step ${state.step + 1} (epoch ${e.epoch + 1}); try a lower learning rate`);
    state.step++;
    state.batch++;
    state.lossSum += loss * rows.length;
    state.seen += rows.length;
    await e.after?.(rows.length, loss);
  }
  return true;
}
