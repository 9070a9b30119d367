import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WeightAverage } from '../../tools/train/ema.ts';

const tensors = (o: Record<string, number[]>) => new Map(Object.entries(o).map(([k, v]) => [k, { data: Float32Array.from(v) }]));

test('the average follows a = d·a + (1 − d)·w with d = min(decay, (1 + step)/(10 + step))', () => {
  const avg = new WeightAverage(0.5, tensors({ w: [1, -2], other: [9] }), ['w']);
  assert.equal([...avg.values.keys()], ['w'], 'only the named tensors are averaged');
  // step 1: d = min(0.5, 2/11) = 2/11; step 5: d = min(0.5, 6/15) = 0.4; step 20: d = 0.5.
  let expect = [1, -2];
  for (const [step, w] of [[1, [3, 0]], [5, [0, 4]], [20, [2, 2]]] as const) {
    avg.update(tensors({ w: [...w] }), step);
    const d = Math.min(0.5, (1 + step) / (10 + step));
    expect = expect.map((a, i) => d * a + (1 - d) * w[i]);
    Array.from(avg.values.get('w')!).forEach((v, i) => assert.ok(Math.abs(v - expect[i]) < 1e-6, `step ${step}: ${v} vs ${expect[i]}`));
  }
});

test('the average starts from a copy, not a view, of the initial weights', () => {
  const init = tensors({ w: [1] });
  const avg = new WeightAverage(0.9, init, ['w']);
  init.get('w')!.data[0] = 100;
  assert.is(avg.values.get('w')![0], 1);
});

test('a decay outside (0, 1) or a missing tensor is refused', () => {
  assert.throws(() => new WeightAverage(1, tensors({ w: [1] }), ['w']), /decay must be in \(0, 1\), got 1/);
  assert.throws(() => new WeightAverage(0.9, tensors({ w: [1] }), ['v']), /no tensor "v"/);
});

test.run();
