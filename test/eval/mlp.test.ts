// The attribute-only MLP baseline (our graph builder + autodiff + AdamW graph, run by ORT) learns a
// known linear + nonlinear function of the aux vector.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fitMlp } from '../../tools/eval/baselines/mlp.ts';
import { fitLinear } from '../../tools/eval/baselines/linear.ts';
import { pearson } from '../../tools/eval/metrics.ts';
import { weylUniform } from '../../runtime/random.ts';

// y = 0.5 x0 − 0.3 x1 + 0.8 x2 x3 + 0.6 max(0, x4 − 0.5), x uniform in [0, 1)^6 (x5 unused)
const f = (x: Float32Array) => 0.5 * x[0] - 0.3 * x[1] + 0.8 * x[2] * x[3] + 0.6 * Math.max(0, x[4] - 0.5);

function data(n: number, seed: number) {
  const u = weylUniform(seed);
  const X = Array.from({ length: n }, () => Float32Array.from({ length: 6 }, () => u()));
  const y = X.map((x) => f(x) + 0.01 * (u() - 0.5));
  return { X, y };
}

test('MLP learns a linear + nonlinear function: loss falls, held-out predictions correlate', async () => {
  const train = data(600, 1);
  const test_ = data(200, 2);
  const w = train.y.map((_, i) => 1 + (i % 3)); // weights are accepted and used
  const epochs: number[] = [];
  const m = await fitMlp(train.X, train.y, w, { hidden: [32, 16], epochs: 80, batchSize: 32, lr: 3e-3, weightDecay: 0, patience: 0, seed: 3, onEpoch: (e) => epochs.push(e.trainLoss) });
  assert.is(m.log.length, 80);
  assert.ok(epochs[epochs.length - 1] < epochs[0] / 5, `training loss falls: ${epochs[0]} → ${epochs[epochs.length - 1]}`);
  assert.ok(m.log.every((e) => e.valLoss !== null && Number.isFinite(e.valLoss)));
  const truth = test_.X.map(f);
  const p = m.predict(test_.X);
  const r = pearson(p, truth);
  assert.ok(r > 0.97, `held-out correlation ${r}`);
  // The nonlinear terms are what a linear model cannot fit: the MLP must do better.
  const lin = pearson(fitLinear(train.X, train.y).predict(test_.X), truth);
  assert.ok(r > lin + 0.01, `MLP ${r} vs linear ${lin}`);
  // Predictions come back on the target's scale (standardisation undone).
  const meanP = p.reduce((a, b) => a + b) / p.length;
  const meanT = truth.reduce((a, b) => a + b) / truth.length;
  assert.ok(Math.abs(meanP - meanT) < 0.05, `means ${meanP} vs ${meanT}`);
  assert.is(m.weights.get('mlp.fc1.weight')!.length, 32 * 6);
});

test('MLP: bad arguments are refused', async () => {
  const { X, y } = data(20, 4);
  const message = async (p: Promise<unknown>) => p.then(() => '', (e: Error) => e.message);
  assert.match(await message(fitMlp(X, y, undefined, { epochs: 0 })), /epochs/);
  assert.match(await message(fitMlp(X, y.slice(1))), /targets/);
});

test.run();
