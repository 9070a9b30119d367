// Image sensitivity against closed forms: predictors built from an image part u[j] and an
// attribute part v[i], whose spreads can be written down.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { imageIds, imageSensitivity } from '../../tools/metrics/sensitivity.ts';
import { spearman } from '../../tools/metrics/metrics.ts';

const near = (a: number, b: number, tol: number, what: string) => {
  if (!(Math.abs(a - b) <= tol)) assert.unreachable(`${what}: got ${a}, expected ${b} (tol ${tol})`);
};
const popSd = (x: number[]) => {
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  return Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length);
};

// 12 rows over 5 images (row i shows image i mod 5).
const u = [0.3, -0.1, 0.8, 0.0, -0.5];
const v = [0.2, 1.1, -0.4, 0.9, 0.0, -1.3, 0.5, 0.7, -0.2, 1.5, -0.8, 0.1];
const imageOf = Int32Array.from(v, (_, i) => i % 5);
const predictor = (f: (j: number, i: number) => number) => async (images: Int32Array) => Float64Array.from(images, (j, i) => f(j, i));

test('additive model, every image swapped in: swapSpread = sd(u), overall = sd(u[img] + v)', async () => {
  const s = await imageSensitivity({ imageOf, predict: predictor((j, i) => u[j] + v[i]), rounds: 99 });
  assert.is(s.rounds, 5);
  near(s.swapSpread, popSd(u), 1e-12, 'swapSpread');
  const own = v.map((vi, i) => u[i % 5] + vi);
  near(s.overallSpread, popSd(own), 1e-12, 'overallSpread');
  near(s.ratio, popSd(u) / popSd(own), 1e-12, 'ratio');
});

test('multiplicative model: swapSpread = sd(u) · mean |v|', async () => {
  const s = await imageSensitivity({ imageOf, predict: predictor((j, i) => u[j] * v[i]), rounds: 5 });
  near(s.swapSpread, popSd(u) * (v.reduce((a, b) => a + Math.abs(b), 0) / v.length), 1e-12, 'swapSpread');
});

test('image-blind model: ratio 0, no SPRC lost; fewer rounds than images still sees distinct images', async () => {
  const observed = v.map((x) => x + 0.01 * Math.sin(x * 17));
  const s = await imageSensitivity({ imageOf, predict: predictor((_, i) => v[i]), observed, rounds: 3 });
  assert.is(s.rounds, 3);
  near(s.swapSpread, 0, 1e-15, 'swapSpread');
  near(s.ratio, 0, 1e-15, 'ratio');
  near(s.sprc!, spearman(v, observed), 1e-15, 'sprc');
  assert.is(s.sprcLoss, 0);
});

test('image-only model that ranks perfectly loses SPRC when images are permuted', async () => {
  const observed = Array.from(imageOf, (j) => u[j]);
  const s = await imageSensitivity({ imageOf, predict: predictor((j) => u[j]), observed, seed: 3 });
  near(s.sprc!, 1, 1e-12, 'sprc');
  assert.ok(s.sprcLoss! > 0.3, `sprcLoss ${s.sprcLoss}`);
  // With fewer rounds than images, each round shows every row another image (offset ≠ 0).
  const seen: number[][] = [];
  await imageSensitivity({ imageOf, rounds: 3, predict: async (images) => (seen.push([...images]), new Float64Array(images.length)) });
  assert.equal(seen[0], [...imageOf]);
  for (const r of seen.slice(1)) r.forEach((j, i) => assert.ok(j !== imageOf[i], `round shows row ${i} its own image`));
});

const rejects = async (p: Promise<unknown>, re: RegExp) => {
  try {
    await p;
  } catch (e) {
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected a rejection matching ${re}`);
};

test('one image for every row (the blank-image variant): one round, ratio 0 by construction', async () => {
  const s = await imageSensitivity({ imageOf: new Int32Array(6), predict: predictor((_, i) => v[i]), observed: v.slice(0, 6) });
  assert.is(s.images, 1);
  assert.is(s.rounds, 1);
  assert.is(s.ratio, 0);
  assert.is(s.sprcLoss, 0);
});

test('bad input is refused, naming the problem', async () => {
  await rejects(imageSensitivity({ imageOf: Int32Array.of(0), predict: async () => new Float64Array(1) }), /at least 2 rows/);
  await rejects(imageSensitivity({ imageOf, observed: [1, 2], predict: predictor(() => 0) }), /12 rows but 2 observed/);
});

test('imageIds numbers keys by first appearance', () => {
  const { imageOf: ids, distinct } = imageIds(['b.png', 'a.png', 'b.png', 'c.png']);
  assert.equal([...ids], [0, 1, 0, 2]);
  assert.equal(distinct, ['b.png', 'a.png', 'c.png']);
});

test.run();
