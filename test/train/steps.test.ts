// The shared step loop (tools/train/steps.ts): which rows each step sees, what it records and when
// it stops; and the engine it drives, opened over ready-built graphs (as the MLP baseline opens
// it), against SGD with momentum written out by hand.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { gradients } from '../../graph/autodiff/gradients.ts';
import { input } from '../../graph/core/ir.ts';
import { ParamStore } from '../../graph/core/params.ts';
import type { LayerCtx } from '../../graph/layers/context.ts';
import { linear } from '../../graph/layers/dense.ts';
import { defaultConfig } from '../../graph/models/config.ts';
import { newName } from '../../graph/training/graphs.ts';
import { buildLoss } from '../../graph/training/losses.ts';
import { buildOptimizer, DEFAULT_OPTIMIZER } from '../../graph/training/optimizers.ts';
import { FieldError } from '../../runtime/errors.ts';
import { rng } from '../../runtime/random.ts';
import { TrainEngine, type Batch } from '../../tools/train/engine.ts';
import { epochBatches, epochOrder, stepEpoch, type LoopState, type Stepper } from '../../tools/train/steps.ts';

/** Records what the loop hands an engine; its loss is the step number, or `loss(step)`. */
function recorder(loss: (step: number) => number = (s) => s) {
  const calls: { rows: number[]; lr: number; step: number }[] = [];
  const engine: Stepper = {
    step: async (batch, lr, step) => {
      calls.push({ rows: [...(batch.feeds.rows.data as Int32Array)], lr, step });
      return loss(step);
    },
  };
  return { calls, engine };
}
const rowsBatch = (rows: Int32Array): Batch => ({ n: rows.length, feeds: { rows: new ort.Tensor('int32', Int32Array.from(rows), [rows.length]) } });

test('epochBatches: a last batch below minLast is left out', () => {
  assert.is(epochBatches(10, 4, 2), 3); // 4 + 4 + 2
  assert.is(epochBatches(9, 4, 2), 2); // the ninth row alone would be a batch of one
  assert.is(epochBatches(9, 4, 1), 3);
  assert.is(epochBatches(8, 4, 2), 2);
});

test('stepEpoch visits the order batch by batch, resumes at state.batch, and sums loss × rows', async () => {
  const order = Int32Array.from([7, 3, 9, 0, 5, 1, 8, 2, 6, 4]);
  const { calls, engine } = recorder();
  const state: LoopState = { step: 4, batch: 1, lossSum: 0.5, seen: 2 };
  const seen: number[][] = [];
  const done = await stepEpoch(engine, state, {
    epoch: 0, order, batchSize: 4, batches: 3, lr: (s) => 0.1 * s, batch: rowsBatch,
    after: (rows) => void seen.push([rows, state.step, state.batch]),
  });
  assert.ok(done);
  assert.equal(calls.map((c) => c.rows), [[5, 1, 8, 2], [6, 4]]);
  assert.equal(calls.map((c) => c.step), [5, 6], 'engine steps count from 1');
  assert.equal(calls.map((c) => c.lr), [0.4, 0.5], 'lr of the 0-based step');
  assert.equal(seen, [[4, 5, 2], [2, 6, 3]], '`after` sees the state moved past its step');
  assert.equal(state, { step: 6, batch: 3, lossSum: 0.5 + 5 * 4 + 6 * 2, seen: 8 });
});

test('stepEpoch stops at maxSteps and refuses a diverged loss as an lr problem', async () => {
  const order = epochOrder(12, 3, 0);
  const { calls, engine } = recorder();
  const state: LoopState = { step: 0, batch: 0, lossSum: 0, seen: 0 };
  assert.not.ok(await stepEpoch(engine, state, { epoch: 0, order, batchSize: 4, batches: 3, maxSteps: 2, lr: () => 1, batch: rowsBatch }));
  assert.is(calls.length, 2);
  assert.is(state.batch, 2);
  const nan = recorder((s) => (s === 2 ? NaN : 1));
  const err = await stepEpoch(nan.engine, { step: 0, batch: 0, lossSum: 0, seen: 0 }, { epoch: 4, order, batchSize: 4, batches: 3, lr: () => 1, batch: rowsBatch }).catch((e) => e);
  assert.instance(err, FieldError);
  assert.is(err.field, 'lr');
  assert.match(err.detail, /loss NaN at step 2 \(epoch 5\)/);
});

test('epochOrder is a permutation fixed by (seed, epoch)', () => {
  const a = epochOrder(50, 9, 2);
  assert.equal([...a].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  assert.equal([...a], [...epochOrder(50, 9, 2)]);
  assert.not.equal([...a], [...epochOrder(50, 9, 3)]);
});

test('TrainEngine over ready-built graphs, stepped by stepEpoch, does SGD with momentum as written by hand', async () => {
  // y = w·x + b on 3 features, MSE, SGD (momentum 0.5, no decay or clipping).
  const d = 3;
  const store = new ParamStore(5);
  const { bnMomentum, bnEps } = defaultConfig();
  const ctx: LayerCtx = { params: store, training: true, bnMomentum, bnEps, statUpdates: new Map(), dropoutMasks: [] };
  const x = input('aux', 'float32', ['N', d]);
  const { loss, inputs } = buildLoss('mse', linear(ctx, 'fit', x, 1));
  loss.named('loss');
  const params = store.trainable;
  const opt = buildOptimizer({ ...DEFAULT_OPTIMIZER, kind: 'sgd', momentum: 0.5, weightDecay: 0, clipNorm: 0 }, params, gradients(loss, params));
  const step = {
    name: 'fit_step', inputs: [x, ...inputs, ...opt.states, opt.lr, opt.step], paramsAsInputs: true, paramOrder: params, states: opt.states,
    outputs: [loss, ...[...opt.updates].map(([v, u]) => u.named(newName(v.name!)))],
  };
  const engine = await TrainEngine.create({ graphs: { step, trainables: params.map((p) => p.name!) }, mode: 'fused', ep: 'cpu', threads: 1, initial: new Map() });
  try {
    const r = rng(11);
    const X = Array.from({ length: 6 }, () => Float64Array.from({ length: d }, () => r() - 0.5));
    const t = X.map((v) => 0.3 * v[0] - 0.7 * v[2] + 0.1);
    const start = await engine.values();
    const w = Float64Array.from(start.get('fit.weight')!.data);
    let b = start.get('fit.bias')!.data[0];
    const vw = new Float64Array(d);
    let vb = 0;
    const batch = (rows: Int32Array): Batch => ({
      n: rows.length,
      feeds: {
        aux: new ort.Tensor('float32', Float32Array.from([...rows].flatMap((i) => [...X[i]])), [rows.length, d]),
        target: new ort.Tensor('float32', Float32Array.from(rows, (i) => t[i]), [rows.length, 1]),
      },
    });
    const order = epochOrder(6, 1, 0);
    const lr = 0.2;
    const state: LoopState = { step: 0, batch: 0, lossSum: 0, seen: 0 };
    await stepEpoch(engine, state, { epoch: 0, order, batchSize: 4, batches: epochBatches(6, 4, 1), lr: () => lr, batch });
    // The same two steps by hand, in float64.
    let lossSum = 0;
    for (const rows of [order.subarray(0, 4), order.subarray(4)]) {
      const gw = new Float64Array(d);
      let gb = 0;
      let l = 0;
      for (const i of rows) {
        const e = w.reduce((s, wj, j) => s + wj * X[i][j], b) - t[i];
        l += (e * e) / rows.length;
        for (let j = 0; j < d; j++) gw[j] += (2 * e * X[i][j]) / rows.length;
        gb += (2 * e) / rows.length;
      }
      lossSum += l * rows.length;
      for (let j = 0; j < d; j++) {
        vw[j] = 0.5 * vw[j] + gw[j];
        w[j] -= lr * vw[j];
      }
      vb = 0.5 * vb + gb;
      b -= lr * vb;
    }
    const after = await engine.values();
    const got = after.get('fit.weight')!.data;
    for (let j = 0; j < d; j++) assert.ok(Math.abs(got[j] - w[j]) < 1e-5, `w${j}: ${got[j]} vs ${w[j]}`);
    assert.ok(Math.abs(after.get('fit.bias')!.data[0] - b) < 1e-5);
    assert.ok(Math.abs(state.lossSum - lossSum) < 1e-5 * Math.max(1, lossSum), `loss sum ${state.lossSum} vs ${lossSum}`);
    assert.is(state.step, 2);
    // Opened without an eval graph, the engine says so rather than failing inside ORT.
    const err = await engine.evaluate(batch(order.subarray(0, 2))).then(() => '', (e: Error) => e.message);
    assert.match(err, /without an eval graph/);
  } finally {
    await engine.release();
  }
});

test.run();
