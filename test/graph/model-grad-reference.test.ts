// Whole-model gradients of training_model.onnx against float64 central differences of the
// independent reference forward pass (test/reference/m2fn.ts, training mode). With batch norm
// after every conv, float32 differences of the graph's own loss are too noisy for a tight check
// (each normalisation divides by a small-batch deviation); float64 differences are not.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import type { ModelConfig } from '../../graph/models/config.ts';
import { rng } from '../../runtime/random.ts';
import { serialize } from '../../graph/core/serialize.ts';
import { gradName, trainingModel } from '../../graph/training/graphs.ts';
import { DEFAULT_OPTIMIZER } from '../../graph/training/optimizers.ts';
import { referenceForward } from '../reference/m2fn.ts';
import { batchFeeds, randomizeParams, referenceConfig, smallConfig } from './helpers.ts';

const N = 3;
const small = { size: 64, backbone: 'vgg11' as const, headHidden: [6], cbnHidden: 4, attHidden: 4, fuseDim: 5 };
const cases: [string, ModelConfig][] = [
  ['M2FN on VGG11-BN, CBN in blocks 1 and 3', smallConfig('m2fn', { ...small, backboneNorm: 'batch', cbnPlacement: [1, 0, 1, 0, 0] })],
  ['image-only on VGG11-BN, 32²', smallConfig('image-only', { ...small, size: 32, backboneNorm: 'batch' })],
];

for (const [label, cfg] of cases) {
  test(`gradients equal float64 differences of the reference loss: ${label}`, async () => {
    const spec = trainingModel({ config: cfg, loss: 'wmse', optimizer: DEFAULT_OPTIMIZER, ep: 'cpu' });
    randomizeParams(spec.model, 21);
    const feeds = batchFeeds(spec.inputs, N, 3);
    for (const p of spec.paramOrder!) feeds[p.name!] = new ort.Tensor('float32', p.data as Float32Array, p.shape as number[]);
    const session = await ort.InferenceSession.create(serialize(spec));
    const out = await session.run(feeds);
    await session.release();

    const params = new Map([...spec.model.params.values].map(([k, v]) => [k, Float64Array.from(v.data as Float32Array)]));
    const [image, target, weight] = ['image', 'target', 'weight'].map((k) => feeds[k].data as Float32Array);
    const aux = cfg.modules.aux ? (feeds.aux.data as Float32Array) : null;
    const loss = () => {
      const y = referenceForward(referenceConfig(cfg), params, image, aux, N, { training: true }).output;
      return y.reduce((s, v, i) => s + weight[i] * (v - target[i]) ** 2, 0) / N; // impression-weighted MSE
    };
    assert.ok(Math.abs((out.loss.data as Float32Array)[0] - loss()) < 1e-5 * loss(), 'same loss');

    // A conv bias feeding a batch norm has gradient 0 exactly; float32 leaves ~1e-7 there, so
    // absolute slack is relative to the model's largest gradient.
    const scale = Math.max(...spec.model.params.trainable.map((p) => Math.max(...(out[gradName(p.name!)].data as Float32Array).map(Math.abs))));
    const h = 1e-6;
    let checked = 0;
    for (const p of spec.model.params.trainable) {
      const g = out[gradName(p.name!)].data as Float32Array;
      const data = params.get(p.name!)!;
      const r = rng(data.length);
      const largest = g.reduce((best, v, i) => (Math.abs(v) > Math.abs(g[best]) ? i : best), 0);
      for (const j of [largest, Math.floor(r() * data.length)]) {
        const x0 = data[j];
        data[j] = x0 + h;
        const up = loss();
        data[j] = x0 - h;
        const down = loss();
        data[j] = x0;
        const numeric = (up - down) / (2 * h);
        assert.ok(Math.abs(g[j] - numeric) <= 1e-3 * Math.abs(numeric) + 1e-5 * scale, `${p.name}[${j}]: analytic ${g[j]} vs float64 ${numeric}`);
        checked++;
      }
    }
    assert.ok(checked >= 2 * 20, `${checked} elements checked`);
  });
}

test.run();
