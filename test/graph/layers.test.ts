// Layer-level properties: CBN with zero deltas is plain BN; attribute crosses against a plain-TS
// reference; shape errors name the op and shapes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { input } from '../../graph/core/ir.ts';
import type { LayerCtx } from '../../graph/layers/context.ts';
import { attributeCross } from '../../graph/layers/cross.ts';
import { batchNorm, conditionalBatchNorm } from '../../graph/layers/norm.ts';
import { conv, gemm, reshape, scoped } from '../../graph/ops/index.ts';
import { ParamStore } from '../../graph/core/params.ts';
import { crossAttributes } from '../reference/m2fn.ts';
import { bnNormalize, bnStats, tensor } from '../reference/ops.ts';
import { randomArray, relErr, run } from './helpers.ts';

const ctxFor = (training: boolean): LayerCtx => ({
  params: new ParamStore(1),
  training,
  bnMomentum: 0.1,
  bnEps: 1e-5,
  statUpdates: new Map(),
  dropoutMasks: [],
});

const [N, C, H, W, D] = [3, 4, 5, 5, 6];
const xData = randomArray(N * C * H * W, 1, 2);
const auxData = randomArray(N * D, 2);
const gammaData = randomArray(C, 3).map((v) => 1 + v);
const betaData = randomArray(C, 4);
const meanData = randomArray(C, 5);
const varData = randomArray(C, 6).map((v) => 0.5 + Math.abs(v));

async function normOut(kind: 'bn' | 'cbn', training: boolean) {
  const ctx = ctxFor(training);
  const x = input('x', 'float32', ['N', C, H, W]);
  const aux = input('aux', 'float32', ['N', D]);
  const y = scoped('n', () => (kind === 'cbn' ? conditionalBatchNorm(ctx, x, aux, 7) : batchNorm(ctx, x))).named('y');
  const set = (name: string, data: Float32Array) => (ctx.params.values.get(name)!.data as Float32Array).set(data);
  set('n.gamma', gammaData);
  set('n.beta', betaData);
  set('n.running_mean', meanData);
  set('n.running_var', varData);
  const inputs = kind === 'cbn' ? [x, aux] : [x];
  const feeds: Record<string, ort.Tensor> = { x: new ort.Tensor('float32', xData, [N, C, H, W]) };
  if (kind === 'cbn') feeds.aux = new ort.Tensor('float32', auxData, [N, D]);
  const out = await run({ name: 't', inputs, outputs: [y] }, feeds);
  return out.y.data as Float32Array;
}

/** γ · (x − μ) / √(σ² + ε) + β per channel, from the float64 reference ops. */
function expectedBN(training: boolean): Float64Array {
  const x = tensor([N, C, H, W], xData);
  const stats = training ? bnStats(x) : { mean: meanData, var: varData };
  const xhat = bnNormalize(x, stats.mean, stats.var, 1e-5).data;
  return xhat.map((v, i) => {
    const c = Math.floor(i / (H * W)) % C;
    return v * gammaData[c] + betaData[c];
  });
}

for (const training of [false, true]) {
  const mode = training ? 'training (batch statistics)' : 'inference (running statistics)';
  test(`CBN with zero-initialised deltas equals plain BN, ${mode}`, async () => {
    const cbn = await normOut('cbn', training);
    const bn = await normOut('bn', training);
    assert.ok(relErr(cbn, bn) < 1e-6, `CBN vs BN ${relErr(cbn, bn)}`);
    assert.ok(relErr(bn, expectedBN(training)) < 1e-5, `BN vs formula ${relErr(bn, expectedBN(training))}`);
  });
}

test('training-mode BN reports running statistics updated with momentum and unbiased variance', async () => {
  const ctx = ctxFor(true);
  const x = input('x', 'float32', ['N', C, H, W]);
  scoped('n', () => batchNorm(ctx, x));
  const [[rm, newMean], [rv, newVar]] = [...ctx.statUpdates];
  assert.is(rm.name, 'n.running_mean');
  assert.is(rv.name, 'n.running_var');
  const out = await run(
    { name: 't', inputs: [x], outputs: [newMean.named('m'), newVar.named('v')] },
    { x: new ort.Tensor('float32', xData, [N, C, H, W]) },
  );
  const s = bnStats(tensor([N, C, H, W], xData));
  const n = N * H * W;
  for (let c = 0; c < C; c++) {
    assert.ok(Math.abs((out.m.data as Float32Array)[c] - 0.1 * s.mean[c]) < 1e-6); // running mean starts at 0
    assert.ok(Math.abs((out.v.data as Float32Array)[c] - (0.9 + 0.1 * s.var[c] * (n / (n - 1)))) < 1e-5);
  }
});

test('attribute cross layers match the float64 reference; zero-initialised they pass the attributes through', async () => {
  const cols = [0, 2, 3];
  for (const layers of [1, 2]) {
    for (const zero of [true, false]) {
      const ctx = ctxFor(true);
      const aux = input('aux', 'float32', ['N', D]);
      const y = scoped('aux', () => attributeCross(ctx, aux, layers, cols)).named('y');
      const data = (name: string) => ctx.params.values.get(name)!.data as Float32Array;
      if (!zero) [...ctx.params.values.keys()].forEach((name, k) => data(name).set(randomArray(data(name).length, 10 + k)));
      const out = await run({ name: 't', inputs: [aux], outputs: [y] }, { aux: new ort.Tensor('float32', auxData, [N, D]) });
      const got = out.y.data as Float32Array;
      const want = crossAttributes(tensor([N, D], auxData), cols, layers, (name) => tensor(ctx.params.values.get(name)!.shape as number[], data(name))).data;
      assert.ok(relErr(got, want) < 1e-5, `layers ${layers}, zero ${zero}: rel err ${relErr(got, want)}`);
      if (zero) assert.equal(Array.from(got), Array.from(auxData));
      else assert.ok(relErr(got, auxData) > 0.05, 'random weights must change the crossed columns');
      for (let r = 0; r < N; r++) for (const col of [1, 4, 5]) assert.is(got[r * D + col], auxData[r * D + col], `column ${col} is not crossed`);
    }
  }
});

test('shape errors name the op, the scope and every input shape', () => {
  const x = input('img', 'float32', ['N', 3, 8, 8]);
  const w = input('w', 'float32', [4, 5, 3, 3]);
  assert.throws(() => conv(x, w, null), (e: Error) => /Conv: input channels 3 ≠ weight in-channels 5/.test(e.message) && e.message.includes('img [N,3,8,8]') && e.message.includes('w [4,5,3,3]'));
  const a = input('a', 'float32', ['N', 6]);
  const b = input('b', 'float32', [4, 7]);
  assert.throws(() => gemm(a, b, null, { transB: true }), /Gemm: inner dims differ: 6 vs 7/);
  assert.throws(() => reshape(input('r', 'float32', [2, 6]), [5, -1]), /cannot be reshaped to \[5,-1\]/);
});

test.run();
