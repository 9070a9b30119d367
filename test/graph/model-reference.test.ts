// The ONNX graphs compute the model of docs/model.md: ORT output vs the float64 reference.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inferenceSpec } from '../../graph/export/inference.ts';
import { buildModel } from '../../graph/models/m2fn.ts';
import { referenceForward } from '../reference/m2fn.ts';
import { modelFeeds, paramMap, randomizeParams, referenceConfig, relErr, run, smallConfig } from './helpers.ts';

const cases = [
  ['m2fn, all steps', smallConfig('m2fn')],
  ['m2fn, CBN in blocks 1,3,5', smallConfig('m2fn', { cbnPlacement: [1, 0, 1, 0, 1] })],
  ['m2fn, vgg11, 64², distribution', smallConfig('m2fn', { backbone: 'vgg11', size: 64, output: 'distribution' })],
  ['m2fn, no high (aux before last FC)', smallConfig('m2fn', { modules: { aux: true, low: true, att: true, high: false } })],
  ['m2fn on VGG19-BN (batch norm after every conv without CBN)', smallConfig('m2fn', { backboneNorm: 'batch', cbnPlacement: [1, 0, 1, 0, 0] })],
  ['image-only', smallConfig('image-only')],
  ['image-only on VGG11-BN, 64²', smallConfig('image-only', { backboneNorm: 'batch', backbone: 'vgg11', size: 64 })],
  ['m2fn, attributes crossed twice (age, month, domcol)', smallConfig('m2fn', { auxCross: 2, auxCrossAttributes: ['age', 'month', 'domcol'] })],
  ['concat (M1FN)', smallConfig('concat')],
  ['concat, every attribute crossed once', smallConfig('concat', { auxCross: 1 })],
  ['nima', smallConfig('nima')],
  ['m2fn, 112² (pools floor to 3×3)', smallConfig('m2fn', { size: 112, backbone: 'vgg11' })],
] as const;

for (const [label, cfg] of cases) {
  test(`ORT output equals the float64 reference: ${label}`, async () => {
    const m = buildModel(cfg);
    randomizeParams(m, 11);
    const N = 3;
    const { image, aux, feeds } = modelFeeds(m, N, 5);
    const out = await run(inferenceSpec(m, { attention: true }), feeds);
    const ref = referenceForward(referenceConfig(m.config), paramMap(m), image, aux, N, { training: false });
    const name = cfg.output === 'regression' ? 'ctr' : 'dist';
    const err = relErr(out[name].data as Float32Array, ref.output);
    assert.ok(err < 1e-4, `relative error ${err}`);
    if (m.attention) {
      assert.ok(relErr(out.attention.data as Float32Array, ref.attention!) < 1e-4);
    }
  });
}

test('attention weights sum to 1 per sample and are not uniform', async () => {
  const m = buildModel(smallConfig('m2fn', { size: 64, width: 0.25, seed: 3 })); // the builder's own init
  const N = 4;
  const out = await run(inferenceSpec(m, { attention: true }), modelFeeds(m, N, 9).feeds);
  const a = out.attention.data as Float32Array;
  const P = a.length / N;
  assert.is(P, 4); // 64² → 2×2 positions
  for (let n = 0; n < N; n++) {
    const row = a.subarray(n * P, (n + 1) * P);
    assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-6);
    assert.ok(Math.max(...row) - Math.min(...row) > 1e-4, 'weights depend on the position');
  }
});

test.run();
