// Attribute-only MLP baseline (paper Table 7, "Only MLP"): aux → ReLU layers → CTR, built with our
// graph builder (dense layers, autodiff, the weighted-MSE loss and the AdamW graph) and trained
// by the training engine and step loop M2FN trains with (tools/train/engine.ts, steps.ts), in
// an epoch order from the same seeded shuffle. The model has no images, no batch norm and no
// dropout, so it needs none of the run machinery around them (checkpoints, phases, image
// sensitivity). Validation and prediction run the learned weights in float64 JavaScript (the same
// affine + ReLU maps), so `predict` is synchronous like the other baselines'.
import * as ort from 'onnxruntime-node';
import { gradients } from '../../../graph/autodiff/gradients.ts';
import { input, type Value } from '../../../graph/core/ir.ts';
import type { LayerCtx } from '../../../graph/layers/context.ts';
import { defaultConfig } from '../../../graph/models/config.ts';
import { denseParams, linear } from '../../../graph/layers/dense.ts';
import { relu } from '../../../graph/ops/index.ts';
import { ParamStore } from '../../../graph/core/params.ts';
import { permutation, rng } from '../../../runtime/random.ts';
import type { GraphSpec } from '../../../graph/core/serialize.ts';
import { buildLoss } from '../../../graph/training/losses.ts';
import { buildOptimizer, DEFAULT_OPTIMIZER, type OptimizerConfig } from '../../../graph/training/optimizers.ts';
import { newName } from '../../../graph/training/graphs.ts';
import { TrainEngine, type Batch } from '../../train/engine.ts';
import { epochBatches, epochOrder, stepEpoch, type LoopState } from '../../train/steps.ts';
import { checkFitArgs, checkPredictArgs, targetScale, unitMeanWeights, type Regressor } from './types.ts';

export interface MlpOptions {
  /** Hidden layer sizes (default [256, 64]). */
  hidden?: number[];
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  /** Share of the training rows held out to pick the best epoch (0: keep the last epoch). Default 0.1. */
  valFraction?: number;
  /** Stop after this many epochs without a better validation loss (0: never). Default 10. */
  patience?: number;
  seed?: number;
  threads?: number;
  /** Called after each epoch (for logs and tests). */
  onEpoch?: (e: MlpEpoch) => void;
}

export interface MlpEpoch {
  epoch: number;
  trainLoss: number;
  valLoss: number | null;
}

export interface MlpModel extends Regressor {
  /** Per-epoch losses (on the standardised target). */
  log: MlpEpoch[];
  bestEpoch: number;
  /** The learned weights by parameter name ([out, in] matrices, PyTorch layout). */
  weights: Map<string, Float32Array>;
}

export const DEFAULT_MLP: Required<Omit<MlpOptions, 'onEpoch' | 'threads'>> = {
  hidden: [256, 64],
  epochs: 60,
  batchSize: 64,
  lr: 1e-3,
  weightDecay: 0.05,
  valFraction: 0.1,
  patience: 10,
  seed: 0,
};

interface Graphs {
  step: GraphSpec & { states: Value[] };
  params: Value[];
  layers: { w: string; b: string; in: number; out: number }[];
}

function buildGraphs(d: number, hidden: number[], opt: OptimizerConfig, seed: number): Graphs {
  const store = new ParamStore(seed);
  // No norm layers here; the context still carries the config's norm settings, not a copy of them.
  const { bnMomentum, bnEps } = defaultConfig();
  const ctx: LayerCtx = { params: store, training: true, bnMomentum, bnEps, statUpdates: new Map(), dropoutMasks: [] };
  const aux = input('aux', 'float32', ['N', d]);
  const layers: Graphs['layers'] = [];
  let h = aux;
  let width = d;
  [...hidden, 1].forEach((size, i) => {
    const name = i < hidden.length ? `mlp.fc${i + 1}` : 'mlp.out';
    const y = linear(ctx, name, h, size);
    const { weight, bias } = denseParams(store, name);
    layers.push({ w: weight.name!, b: bias.name!, in: width, out: size });
    h = i < hidden.length ? relu(y) : y;
    width = size;
  });
  const { loss, inputs } = buildLoss('wmse', h);
  loss.named('loss');
  const params = store.trainable;
  const grads = gradients(loss, params);
  const o = buildOptimizer(opt, params, grads);
  const outputs = [loss, ...[...o.updates].map(([v, u]) => u.named(newName(v.name!)))];
  const step = { name: 'mlp_train_step', inputs: [aux, ...inputs, ...o.states, o.lr, o.step], outputs, paramsAsInputs: true, paramOrder: params, states: o.states };
  return { step, params, layers };
}

/** Float64 forward pass of the learned layers: ReLU between them, none after the last. */
function forward(layers: Graphs['layers'], weights: Map<string, Float32Array>, x: ArrayLike<number>): number {
  let h: ArrayLike<number> = x;
  layers.forEach((l, k) => {
    const w = weights.get(l.w)!;
    const b = weights.get(l.b)!;
    const y = new Float64Array(l.out);
    for (let o = 0; o < l.out; o++) {
      let s = b[o];
      const row = o * l.in;
      for (let i = 0; i < l.in; i++) s += w[row + i] * h[i];
      y[o] = k < layers.length - 1 ? Math.max(0, s) : s;
    }
    h = y;
  });
  return h[0];
}

/**
 * Fits the MLP on aux rows X with targets y and optional weights w (impressions; rescaled to mean
 * 1, as the trainer does). The target is standardised for training and mapped back.
 */
export async function fitMlp(X: Float32Array[], y: ArrayLike<number>, w?: ArrayLike<number>, opts: MlpOptions = {}): Promise<MlpModel> {
  const d = checkFitArgs('MLP', X, y, w);
  const o = { ...DEFAULT_MLP, ...opts };
  if (!(Number.isInteger(o.epochs) && o.epochs > 0)) throw new RangeError(`MLP: epochs must be a positive integer, got ${o.epochs}`);
  if (!(Number.isInteger(o.batchSize) && o.batchSize > 0)) throw new RangeError(`MLP: batchSize must be a positive integer, got ${o.batchSize}`);
  if (!(o.valFraction >= 0 && o.valFraction < 1)) throw new RangeError(`MLP: valFraction must be in [0, 1), got ${o.valFraction}`);
  const n = X.length;
  const { mean, std: spread } = targetScale(y);
  const std = spread || 1;
  const weight = Float32Array.from(unitMeanWeights(n, w));

  // Seeded hold-out of rows for picking the epoch.
  const perm = permutation(n, rng(o.seed ^ 0x6d6c70));
  const nVal = o.valFraction > 0 && n >= 10 ? Math.max(1, Math.round(n * o.valFraction)) : 0;
  const valRows = perm.subarray(0, nVal);
  const trainRows = Int32Array.from(perm.subarray(nVal));

  const g = buildGraphs(d, o.hidden, { ...DEFAULT_OPTIMIZER, kind: 'adamw', weightDecay: o.weightDecay }, o.seed);
  const engine = await TrainEngine.create({ graphs: { step: g.step, trainables: g.params.map((p) => p.name!) }, mode: 'fused', ep: 'cpu', threads: o.threads ?? 1, initial: new Map() });

  const batchFeeds = (rows: ArrayLike<number>): Batch => {
    const m = rows.length;
    const aux = new Float32Array(m * d);
    const target = new Float32Array(m);
    const wt = new Float32Array(m);
    for (let i = 0; i < m; i++) {
      aux.set(X[rows[i]], i * d);
      target[i] = (y[rows[i]] - mean) / std;
      wt[i] = weight[rows[i]];
    }
    return {
      n: m,
      feeds: {
        aux: new ort.Tensor('float32', aux, [m, d]),
        target: new ort.Tensor('float32', target, [m, 1]),
        weight: new ort.Tensor('float32', wt, [m, 1]),
      },
    };
  };
  const valLoss = (values: Map<string, Float32Array>) => {
    if (!nVal) return null;
    let s = 0;
    let ws = 0;
    for (const i of valRows) {
      const p = forward(g.layers, values, X[i]);
      s += weight[i] * (p - (y[i] - mean) / std) ** 2;
      ws += weight[i];
    }
    return s / ws;
  };

  const log: MlpEpoch[] = [];
  let best = { loss: Infinity, epoch: 0, weights: new Map<string, Float32Array>() };
  // Every row is stepped on: with no batch statistics a last batch of one is harmless.
  const batches = epochBatches(trainRows.length, o.batchSize, 1);
  const state: LoopState = { step: 0, batch: 0, lossSum: 0, seen: 0 };
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const order = epochOrder(trainRows.length, o.seed, epoch).map((k) => trainRows[k]);
      Object.assign(state, { batch: 0, lossSum: 0, seen: 0 });
      await stepEpoch(engine, state, { epoch, order, batchSize: o.batchSize, batches, lr: () => o.lr, batch: batchFeeds });
      // cpu engine values are views of its buffers: read them before the next step, copy to keep.
      const values = new Map([...(await engine.values())].map(([k, v]) => [k, v.data]));
      const e: MlpEpoch = { epoch: epoch + 1, trainLoss: state.lossSum / state.seen, valLoss: valLoss(values) };
      log.push(e);
      o.onEpoch?.(e);
      const metric = e.valLoss ?? -e.epoch; // without validation: the last epoch
      if (metric < best.loss) {
        best = { loss: metric, epoch: e.epoch, weights: new Map(g.params.map((p) => [p.name!, Float32Array.from(values.get(p.name!)!)])) };
      } else if (o.patience > 0 && e.epoch - best.epoch >= o.patience) break;
    }
  } finally {
    await engine.release();
  }
  const weights = best.weights;
  return {
    log,
    bestEpoch: best.epoch,
    weights,
    predict(Xp: Float32Array[]): Float64Array {
      checkPredictArgs('MLP', Xp, d);
      return Float64Array.from(Xp, (x) => mean + std * forward(g.layers, weights, x));
    },
  };
}
