// Whole-model gradients of training_model.onnx against central differences of its own loss, for
// M2FN with CBN (batch statistics), attention and fusion all on, and for each baseline.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import type { ModelConfig } from '../../graph/models/config.ts';
import { serialize } from '../../graph/core/serialize.ts';
import { gradName, trainingModel } from '../../graph/training/graphs.ts';
import type { LossKind } from '../../graph/training/losses.ts';
import { DEFAULT_OPTIMIZER } from '../../graph/training/optimizers.ts';
import { rng } from '../../runtime/random.ts';
import { batchFeeds, randomizeParams, smallConfig } from './helpers.ts';

const N = 3;


const close = (analytic: number, numeric: number, scale: number) =>
  Math.abs(analytic - numeric) <= 0.05 * Math.abs(numeric) + 0.005 * scale;

interface Sample {
  param: string;
  analytic: number;
  numeric: number;
}

/** Analytic gradient vs central difference of the graph's own loss at `samples` elements per parameter. */
export async function modelGradSamples(cfg: ModelConfig, loss: LossKind, samples = 2, eps = 3e-3): Promise<Sample[]> {
  const spec = trainingModel({ config: cfg, loss, optimizer: DEFAULT_OPTIMIZER, ep: 'cpu' });
  randomizeParams(spec.model, 21);
  const session = await ort.InferenceSession.create(serialize(spec));
  const feeds = batchFeeds(spec.inputs, N, 3);
  for (const p of spec.paramOrder!) feeds[p.name!] = new ort.Tensor('float32', p.data as Float32Array, p.shape as number[]);
  const out = await session.run(feeds);
  const lossAt = async () => ((await session.run(feeds, ['loss'])).loss.data as Float32Array)[0];
  const result: Sample[] = [];
  const kinks = { count: 0 };
  const gradScale = Math.max(...spec.model.params.trainable.map((p) => Math.max(...(out[gradName(p.name!)].data as Float32Array).map(Math.abs))));
  for (const p of spec.model.params.trainable) {
    const g = out[gradName(p.name!)].data as Float32Array;
    const data = p.data as Float32Array;
    const r = rng(data.length);
    const central = async (j: number, h: number) => {
      const x0 = data[j];
      data[j] = x0 + h;
      const lp = await lossAt();
      data[j] = x0 - h;
      const lm = await lossAt();
      data[j] = x0;
      return (lp - lm) / (2 * h);
    };
    // The element with the largest gradient first, so every tensor is checked where it matters.
    let j = g.reduce((best, v, i) => (Math.abs(v) > Math.abs(g[best]) ? i : best), 0);
    for (let taken = 0, tries = 0; taken < samples && tries < 3 * samples; tries++) {
      const numeric = await central(j, eps);
      // A ReLU or max-pool kink within ±eps makes the difference depend on the step: such a
      // point is not differentiable there, so it is counted and another element is drawn.
      if (Math.abs(numeric - (await central(j, eps / 2))) > 0.02 * Math.abs(numeric) + 0.002 * gradScale) kinks.count++;
      else {
        result.push({ param: p.name!, analytic: g[j], numeric });
        taken++;
      }
      j = Math.floor(r() * data.length);
    }
  }
  await session.release();
  assert.ok(kinks.count <= result.length / 5, `${kinks.count} of ${result.length + kinks.count} sampled elements sit on kinks`);
  return result;
}

/**
 * Float32 differences through a deep ReLU net carry noise near 1e-4 and the odd kink crossing,
 * so: the sampled gradient vector must match to 2% in norm, and each element to 5% of itself
 * plus 0.5% of the model's largest gradient (step 3e-3, away from kinks).
 * A wrong rule misses by O(1).
 */
function assertGradientsMatch(samples: Sample[]): void {
  const scale = Math.max(...samples.map((s) => Math.abs(s.numeric)));
  let diff2 = 0;
  let norm2 = 0;
  for (const s of samples) {
    const d = Math.abs(s.analytic - s.numeric);
    diff2 += d * d;
    norm2 += s.numeric * s.numeric;
    assert.ok(close(s.analytic, s.numeric, scale), `${s.param}: analytic ${s.analytic} vs numeric ${s.numeric}`);
  }
  const rel = Math.sqrt(diff2 / norm2);
  assert.ok(rel < 0.02, `relative norm error ${rel.toExponential(2)}`);
}

// 64²: the last feature map is 2×2, so attention has positions to choose between.
const small = { size: 64, backbone: 'vgg11' as const, headHidden: [6], cbnHidden: 4, attHidden: 4, fuseDim: 5 };
export const cases: [string, ModelConfig, LossKind][] = [
  ['M2FN (CBN, attention, fusion) with weighted MSE', smallConfig('m2fn', small), 'wmse'],
  ['M2FN with CBN in two blocks, distribution, KLD', smallConfig('m2fn', { ...small, cbnPlacement: [1, 0, 1, 0, 0], output: 'distribution' }), 'kld'],
  ['M2FN with two attribute-cross layers on three attributes', smallConfig('m2fn', { ...small, auxCross: 2, auxCrossAttributes: ['age', 'month', 'domcol'] }), 'mse'],
  ['image-only with MSE', smallConfig('image-only', small), 'mse'],
  ['concat (M1FN) with weighted MSE', smallConfig('concat', small), 'wmse'],
  ['NIMA with EMD and dropout', smallConfig('nima', small), 'emd'],
];
if (!process.env.GRAD_NO_RUN) for (const [label, cfg, loss] of cases) {
  test(`whole-model gradient check: ${label}`, async () => {
    const samples = await modelGradSamples(cfg, loss);
    assert.ok(samples.some((x) => x.param.startsWith('vgg.conv1_1')) && samples.length > 20);
    assertGradientsMatch(samples);
  });
}

if (!process.env.GRAD_NO_RUN) test.run();
