// Every gradient rule against central finite differences in float32 (step 1e-2, relative
// tolerance 2e-3 of the largest gradient; inputs kept ≥ 0.2 from kinks at 0).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { gradients } from '../../graph/autodiff/gradients.ts';
import { constant, constF32, input, topoSort, type Value } from '../../graph/core/ir.ts';
import * as op from '../../graph/ops/index.ts';
import { randomArray, relErr, run } from './helpers.ts';
import { gradError, type GradCase } from './grad-check.ts';

const TOL = 2e-3;
const positive = (i: number, n: number) => randomArray(n, 7 + i).map((v) => 0.5 + Math.abs(v));
/** A shuffled grid with spacing 0.05, so no ±1e-2 step changes which element is a window's max. */
const distinct = (i: number, n: number) => {
  const order = randomArray(n, 31 + i);
  const rank = Array.from(order.keys()).sort((a, b) => order[a] - order[b]);
  const out = new Float32Array(n);
  rank.forEach((j, r) => (out[j] = 0.05 * r - 0.025 * n));
  return out;
};

const cases: Record<string, GradCase> = {
  Add_broadcast: { shapes: [[2, 3, 4], [3, 1]], build: ([a, b]) => op.add(a, b) },
  Sub_broadcast: { shapes: [[4], [2, 4]], build: ([a, b]) => op.sub(a, b) },
  Mul_broadcast: { shapes: [[2, 3, 2, 2], [2, 3, 1, 1]], build: ([a, b]) => op.mul(a, b) },
  Div: { shapes: [[3, 4], [3, 4]], build: ([a, b]) => op.div(a, b), init: positive },
  Pow_const: { shapes: [[5]], build: ([a]) => op.pow(a, constF32(3)) },
  Max: { shapes: [[6], [6]], build: ([a, b]) => op.max(a, b), init: distinct },
  Min: { shapes: [[6], [6]], build: ([a, b]) => op.min(a, b), init: distinct },
  Relu: { shapes: [[3, 4]], build: ([a]) => op.relu(a) },
  Tanh: { shapes: [[3, 4]], build: ([a]) => op.tanh(a) },
  Sigmoid: { shapes: [[3, 4]], build: ([a]) => op.sigmoid(a) },
  Exp: { shapes: [[3, 4]], build: ([a]) => op.exp(a) },
  Log: { shapes: [[3, 4]], build: ([a]) => op.log(a), init: positive },
  Neg: { shapes: [[3]], build: ([a]) => op.neg(a) },
  Sqrt: { shapes: [[3, 4]], build: ([a]) => op.sqrt(a), init: positive },
  Abs: { shapes: [[3, 4]], build: ([a]) => op.abs(a) },
  Reciprocal: { shapes: [[3, 4]], build: ([a]) => op.reciprocal(a), init: positive },
  Identity: { shapes: [[3]], build: ([a]) => op.identity(a) },
  Where: { shapes: [[4], [4]], build: ([a, b]) => op.where(op.greater(a, constF32(0)), a, op.mul(b, b)) },
  Reshape_symbolic: { shapes: [[-1, 2, 3]], feedShapes: [[4, 2, 3]], build: ([a]) => op.reshape(a, [0, -1]) },
  Flatten: { shapes: [[2, 3, 2, 2]], build: ([a]) => op.flatten(a) },
  Concat: { shapes: [[2, 3], [2, 1], [2, 2]], build: (xs) => op.concat(xs, 1) },
  Transpose: { shapes: [[2, 3, 4]], build: ([a]) => op.transpose(a, [2, 0, 1]) },
  Unsqueeze: { shapes: [[2, 3]], build: ([a]) => op.unsqueeze(a, [0, 3]) },
  Squeeze: { shapes: [[2, 1, 3]], build: ([a]) => op.squeeze(a, [1]) },
  Expand: { shapes: [[3, 1]], build: ([a]) => op.expand(a, [2, 3, 4]) },
  ReduceSum_keep: { shapes: [[2, 3, 4]], build: ([a]) => op.reduceSum(a, [0, 2]) },
  ReduceSum_drop: { shapes: [[2, 3, 4]], build: ([a]) => op.reduceSum(a, [1], false) },
  ReduceMean_symbolic_batch: { shapes: [[-1, 3, 2, 2]], feedShapes: [[5, 3, 2, 2]], build: ([a]) => op.reduceMean(a, [0, 2, 3]) },
  ReduceMean_drop: { shapes: [[2, 3, 4]], build: ([a]) => op.reduceMean(a, [2], false) },
  Conv_3x3_pad1: { shapes: [[2, 3, 5, 5], [4, 3, 3, 3], [4]], build: ([x, w, b]) => op.conv(x, w, b, { pads: [1, 1, 1, 1] }) },
  Conv_3x3_small_map: { shapes: [[2, 3, 3, 3], [10, 3, 3, 3], [10]], build: ([x, w, b]) => op.conv(x, w, b, { pads: [1, 1, 1, 1] }) },
  // 3·9·25 = 675 floats a sample unfolded; a limit of 500 takes the channels 2 + 1.
  Conv_3x3_unfold_chunked: { shapes: [[2, 3, 5, 5], [4, 3, 3, 3], [4]], build: ([x, w, b]) => op.conv(x, w, b, { pads: [1, 1, 1, 1] }), unfoldFloats: 500 },
  Conv_3x3_unfold_per_channel: { shapes: [[2, 3, 5, 5], [4, 3, 3, 3]], build: ([x, w]) => op.conv(x, w, null, { pads: [1, 1, 1, 1] }), unfoldFloats: 1 },
  Conv_1x1: { shapes: [[2, 3, 4, 4], [2, 3, 1, 1], [2]], build: ([x, w, b]) => op.conv(x, w, b) },
  Conv_stride2_pad1: { shapes: [[1, 2, 6, 6], [3, 2, 3, 3]], build: ([x, w]) => op.conv(x, w, null, { pads: [1, 1, 1, 1], strides: [2, 2] }) },
  Conv_stride2_odd: { shapes: [[1, 2, 7, 7], [2, 2, 3, 3]], build: ([x, w]) => op.conv(x, w, null, { strides: [2, 2] }) },
  MaxPool_indices_cpu: { shapes: [[2, 2, 4, 4]], build: ([x]) => op.maxPool(x, 2), init: distinct },
  MaxPool_indices_odd: { shapes: [[1, 2, 5, 5]], build: ([x]) => op.maxPool(x, 2), init: distinct },
  MaxPool_mask_webgpu: { shapes: [[2, 2, 4, 4]], build: ([x]) => op.maxPool(x, 2), init: distinct, ep: 'webgpu' },
  MaxPool_mask_odd: { shapes: [[1, 2, 5, 5]], build: ([x]) => op.maxPool(x, 2), init: distinct, ep: 'webgpu' },
  Gemm_transB_bias: { shapes: [[3, 4], [5, 4], [5]], build: ([a, b, c]) => op.gemm(a, b, c, { transB: true }) },
  Gemm_plain: { shapes: [[3, 4], [4, 5]], build: ([a, b]) => op.gemm(a, b, null) },
  Gemm_transA: { shapes: [[4, 3], [4, 5]], build: ([a, b]) => op.gemm(a, b, null, { transA: true }) },
  Gemm_transA_transB: { shapes: [[4, 3], [5, 4], [1, 5]], build: ([a, b, c]) => op.gemm(a, b, c, { transA: true, transB: true }) },
  MatMul: { shapes: [[3, 4], [4, 2]], build: ([a, b]) => op.matmul(a, b) },
  BatchNormalization_inference: {
    shapes: [[2, 3, 2, 2]],
    build: ([x]) => op.batchNorm(x, constF32([0.5, -1.2, 2]), constF32([0.1, 0, -0.3]), constF32([0.2, -0.4, 1]), constF32([0.3, 1.5, 0.8]), 1e-5),
  },
  Softmax: { shapes: [[3, 5]], build: ([a]) => op.softmax(a, 1) },
  LogSoftmax: { shapes: [[3, 5]], build: ([a]) => op.logSoftmax(a, 1) },
  fan_out_sums: { shapes: [[4]], build: ([a]) => op.add(op.mul(a, a), op.tanh(a)) as Value },
};

for (const [name, c] of Object.entries(cases)) {
  test(`gradient of ${name} matches central differences`, async () => {
    const err = await gradError(c);
    assert.ok(err < TOL, `relative error ${err.toExponential(2)}`);
  });
}

test('conv dW on a big many-channel map (unfolded in channel chunks) equals the direct sum Σ dY · X-shifted', async () => {
  const [N, Ci, Co, H] = [2, 32, 2, 100]; // 32·9·10⁴ floats a sample unfolded: 11, 11 and 10 channels under 10⁶
  const x = input('x', 'float32', [N, Ci, H, H]);
  const w = input('w', 'float32', [Co, Ci, 3, 3]);
  const y = op.conv(x, w, null, { pads: [1, 1, 1, 1] });
  const R = constant('float32', [N, Co, H, H], randomArray(N * Co * H * H, 5));
  const loss = op.reduceSum(op.mul(y, R), [0, 1, 2, 3], false).named('loss');
  const dw = gradients(loss, [w], { unfoldFloats: 1e6 }).get(w)!.named('dw');
  const unfolds = topoSort([dw]).filter((n) => n.op === 'Conv' && n.attrs.group);
  assert.equal(unfolds.map((n) => n.attrs.group), [11, 11, 10]);
  const xData = randomArray(N * Ci * H * H, 6);
  const out = await run({ name: 'dw', inputs: [x, w], outputs: [dw] }, {
    x: new ort.Tensor('float32', xData, [N, Ci, H, H]),
    w: new ort.Tensor('float32', randomArray(Co * Ci * 9, 7), [Co, Ci, 3, 3]),
  });
  const r = R.data as Float32Array;
  const want = new Float64Array(Co * Ci * 9);
  for (let n = 0; n < N; n++)
    for (let co = 0; co < Co; co++)
      for (let ci = 0; ci < Ci; ci++)
        for (let i = 0; i < 3; i++)
          for (let j = 0; j < 3; j++) {
            let s = 0;
            for (let h = 0; h < H; h++) {
              const hx = h + i - 1;
              if (hx < 0 || hx >= H) continue;
              for (let v = 0; v < H; v++) {
                const vx = v + j - 1;
                if (vx >= 0 && vx < H) s += r[((n * Co + co) * H + h) * H + v] * xData[((n * Ci + ci) * H + hx) * H + vx];
              }
            }
            want[((co * Ci + ci) * 3 + i) * 3 + j] += s;
          }
  assert.ok(relErr(out.dw.data as Float32Array, want) < 1e-4, `relative error ${relErr(out.dw.data as Float32Array, want)}`);
});

test('the checker can fail: a deliberately wrong rule is caught', async () => {
  const err = await gradError({
    shapes: [[3, 4]],
    build: ([a]) => op.tanh(a),
    gradRules: { Tanh: ({ y, dy }) => [op.mul(dy[0]!, op.sub(constF32(1), y[0]))] }, // 1 − y instead of 1 − y²
  });
  assert.ok(err > 0.05, `error ${err} should be large`);
  assert.ok((await gradError(cases.Tanh)) < TOL, 'the registered rule is untouched by the override');
});

test.run();
