// The explain graph against finite differences: Grad-CAM's channel weight α_k is the mean over
// positions of ∂y/∂A_k, i.e. the derivative of y along "add ε to every position of channel k"
// divided by H·W. A second copy of the model takes a per-sample, per-channel offset δ added to the
// stage's feature map (its consumers rewired to A + δ), and central differences in δ give α
// independently of autodiff; the maps are then ReLU(Σ_k α_k A_k) from those α.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { explainGraph, gradcamName } from '../../graph/export/explain.ts';
import { input, topoSort, type Value } from '../../graph/core/ir.ts';
import { buildModel, type BuiltModel } from '../../graph/models/m2fn.ts';
import { add } from '../../graph/ops/index.ts';
import { serialize } from '../../graph/core/serialize.ts';
import { modelFeeds, onnxCheck, randomizeParams, smallConfig, tmp } from './helpers.ts';

const N = 3;
const EPS = 1e-3;

/** Rewires every consumer of stage b's map to A + δ; returns the δ input [N, C, 1, 1]. */
function offsetStage(m: BuiltModel, b: number): Value {
  const A = m.stages[b];
  const consumers = topoSort([m.output]).filter((n) => n.inputs.includes(A));
  const delta = input(`delta${b + 1}`, 'float32', ['N', A.shape[1], 1, 1]);
  const shifted = add(A, delta);
  for (const n of consumers) n.inputs.forEach((v, i) => v === A && (n.inputs[i] = shifted));
  return delta;
}

for (const [label, over] of [
  ['m2fn, regression', {}],
  ['m2fn, distribution', { output: 'distribution' as const }],
  ['image-only, backbone batch norm', { model: 'image-only' as const, backboneNorm: 'batch' as const, modules: { aux: false, low: false, att: false, high: false }, auxSchema: null }],
] as const) {
  test(`Grad-CAM per stage equals finite differences (${label}); attention sums to 1`, async () => {
    const cfg = smallConfig(over.model ?? 'm2fn', over);
    const m = buildModel(cfg);
    randomizeParams(m, 5);
    const ex = explainGraph(m);
    const outputs = [...ex.spec.outputs, ...ex.stages.map((s, b) => s.features.named(`A${b + 1}`)), ...ex.stages.map((s, b) => s.weights.named(`alpha${b + 1}`))];
    const dir = tmp('explain');
    writeFileSync(join(dir, 'explain.onnx'), serialize(ex.spec));
    onnxCheck([join(dir, 'explain.onnx')]);
    const session = await ort.InferenceSession.create(serialize({ ...ex.spec, outputs }));
    const { feeds } = modelFeeds(m, N, 11);
    const out = await session.run(feeds);
    await session.release();
    if (m.attention) {
      const a = out.attention.data as Float32Array;
      const k = a.length / N;
      for (let n = 0; n < N; n++) assert.ok(Math.abs(a.subarray(n * k, (n + 1) * k).reduce((s, x) => s + x, 0) - 1) < 1e-5, `attention of image ${n} sums to 1`);
    }

    // The same model, taking an offset per stage (params copied, so the same function).
    const fd = buildModel(cfg);
    for (const [k, v] of fd.params.values) (v.data as Float32Array).set(m.params.values.get(k)!.data as Float32Array);
    const deltas = fd.stages.map((_, b) => offsetStage(fd, b));
    const fdSession = await ort.InferenceSession.create(serialize({ name: 'fd', inputs: [...(fd.aux ? [fd.image, fd.aux] : [fd.image]), ...deltas], outputs: [fd.output.named('y')] }));
    const zero = deltas.map((d) => new Float32Array(N * (d.shape[1] as number)));
    const y = async (b: number, c: number, h: number) => {
      const f: Record<string, ort.Tensor> = { ...feeds };
      deltas.forEach((d, i) => {
        const data = zero[i].slice();
        if (i === b) for (let n = 0; n < N; n++) data[n * (d.shape[1] as number) + c] = h;
        f[d.name!] = new ort.Tensor('float32', data, [N, d.shape[1] as number, 1, 1]);
      });
      const o = (await fdSession.run(f)).y.data as Float32Array;
      // The score: the CTR, or the distribution's mean bucket (1..10) as explainGraph defines it.
      if (cfg.output === 'regression') return Float64Array.from(o);
      return Float64Array.from({ length: N }, (_, n) => o.subarray(n * 10, n * 10 + 10).reduce((s, p, k) => s + p * (k + 1), 0));
    };
    let checked = 0;
    for (let b = 0; b < fd.stages.length; b++) {
      const [C, H, W] = fd.stages[b].shape.slice(1) as number[];
      const alpha = out[`alpha${b + 1}`].data as Float32Array;
      const A = out[`A${b + 1}`].data as Float32Array;
      const cam = out[gradcamName(b + 1)].data as Float32Array;
      assert.equal(out[gradcamName(b + 1)].dims, [N, H, W]);
      // Central differences at ε and ε/2: where they disagree a ReLU or max-pool kink lies within
      // ±ε (y is not differentiable there along that direction), and the element is set aside;
      // the map below then uses autodiff's weight for it.
      const fdAlpha = new Float64Array(N * C);
      const fdHalf = new Float64Array(N * C);
      for (let c = 0; c < C; c++) {
        const [yp, ym, yp2, ym2] = [await y(b, c, EPS), await y(b, c, -EPS), await y(b, c, EPS / 2), await y(b, c, -EPS / 2)];
        for (let n = 0; n < N; n++) {
          const i = n * C + c;
          fdAlpha[i] = (yp[n] - ym[n]) / (2 * EPS) / (H * W);
          fdHalf[i] = (yp2[n] - ym2[n]) / EPS / (H * W);
        }
      }
      const scale = Math.max(...fdAlpha.map(Math.abs));
      const tol = (ref: number) => 0.02 * Math.abs(ref) + 0.02 * scale;
      const kinked = new Set([...fdAlpha.keys()].filter((i) => Math.abs(fdHalf[i] - fdAlpha[i]) > tol(fdAlpha[i])));
      assert.ok(scale > 0, `stage ${b + 1}: the output depends on the stage`);
      assert.ok(kinked.size <= 0.2 * N * C, `stage ${b + 1}: ${kinked.size} of ${N * C} weights at kinks`);
      for (let i = 0; i < N * C; i++) {
        if (kinked.has(i)) fdAlpha[i] = alpha[i];
        else assert.ok(Math.abs(alpha[i] - fdAlpha[i]) <= tol(fdAlpha[i]), `stage ${b + 1} α[${i}]: autodiff ${alpha[i]}, finite differences ${fdAlpha[i]}`);
      }
      checked += N * C - kinked.size;
      // The map from the finite-difference weights.
      let camScale = 1e-12;
      let worst = 0;
      for (let n = 0; n < N; n++) {
        for (let p = 0; p < H * W; p++) {
          let s = 0;
          for (let c = 0; c < C; c++) s += fdAlpha[n * C + c] * A[(n * C + c) * H * W + p];
          const want = Math.max(0, s);
          camScale = Math.max(camScale, want);
          worst = Math.max(worst, Math.abs(cam[n * H * W + p] - want));
        }
      }
      assert.ok(worst <= 0.05 * camScale, `stage ${b + 1}: Grad-CAM map off by ${worst} (scale ${camScale})`);
    }
    await fdSession.release();
    assert.ok(checked >= 0.8 * N * fd.stages.reduce((t, st) => t + (st.shape[1] as number), 0), `${checked} weights checked`);
  });
}

test('a deliberately wrong Grad-CAM (sum instead of mean over positions) is caught by the same comparison', async () => {
  const cfg = smallConfig();
  const m = buildModel(cfg);
  randomizeParams(m, 5);
  const ex = explainGraph(m);
  const b = 1;
  const [, H, W] = m.stages[b].shape.slice(1) as number[];
  const session = await ort.InferenceSession.create(serialize({ ...ex.spec, outputs: [ex.stages[b].weights.named('alpha')] }));
  const out = await session.run(modelFeeds(m, N, 11).feeds);
  await session.release();
  const alpha = out.alpha.data as Float32Array;
  const wrong = alpha.map((a) => a * H * W);
  const scale = Math.max(...alpha.map(Math.abs));
  assert.ok(wrong.some((w, i) => Math.abs(w - alpha[i]) > 0.02 * Math.abs(alpha[i]) + 0.02 * scale));
});

test.run();
