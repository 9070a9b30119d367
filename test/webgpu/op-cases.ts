// The op and attribute combinations the WebGPU-lowered training graphs use, each as a tiny graph
// to run on the WebGPU provider and the CPU provider (test/webgpu/ops.test.ts). Raw cases pin
// one op form; rule cases take the gradient rules themselves (ep 'webgpu') on a one-op forward.
// Two cases are known provider faults: they must keep being caught, and say when ORT fixes them.
import { gradients } from '../../graph/autodiff/gradients.ts';
import { constF32, constI64, input, type Value } from '../../graph/core/ir.ts';
import { abs, add, cast, equal, min, mul, neg, pow, reciprocal, relu, sigmoid, sqrt, tanh } from '../../graph/ops/elementwise.ts';
import { conv, gemm, logSoftmax, matmul, maxPool, softmax, type ConvOpts } from '../../graph/ops/nn.ts';
import { apply1 } from '../../graph/core/builder.ts';
import { concat, flatten, gather, reduceMean, reduceSum, shapeOf, slice, transpose } from '../../graph/ops/tensor.ts';
import type { GraphSpec } from '../../graph/core/serialize.ts';

export interface OpCase {
  name: string;
  build(): GraphSpec;
  /** `fault`: the WebGPU provider is known to be wrong here; the test requires that it still is. */
  expect: 'match' | 'fault';
}

const x = (name: string, shape: number[]) => input(name, 'float32', shape);
const spec = (name: string, inputs: Value[], outputs: Value[]): GraphSpec => ({ name, inputs, outputs: outputs.map((o, i) => o.named(`out${i}`)) });

function rawConv(name: string, xs: number[], ws: number[], o: ConvOpts & { bias?: boolean }): OpCase {
  return {
    name,
    expect: 'match',
    build: () => {
      const [X, W] = [x('x', xs), x('w', ws)];
      const B = o.bias ? x('b', [ws[0]]) : null;
      return spec(name, [X, W, ...(B ? [B] : [])], [conv(X, W, B, o)]);
    },
  };
}

/** The one-hot unfold of a conv weight gradient: a depthwise-style Conv with `per` outputs per group. */
function groupedUnfold(name: string, ci: number, per: number, expect: OpCase['expect']): OpCase {
  return {
    name,
    expect,
    build: () => {
      const X = x('x', [2, ci, 10, 10]);
      const W = x('w', [ci * per, 1, 3, 3]);
      return spec(name, [X, W], [apply1('Conv', [X, W, null], { pads: [1, 1, 1, 1], group: ci })]);
    },
  };
}

/** Gradients (ep 'webgpu') of Σ r ⊙ f(inputs) with respect to every input: the lowered rules. */
function ruleCase(name: string, shapes: Record<string, number[]>, f: (v: Record<string, Value>) => Value): OpCase {
  return {
    name,
    expect: 'match',
    build: () => {
      const vs = Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, x(k, s)]));
      const y = f(vs);
      const r = x('r', y.shape as number[]);
      const loss = reduceSum(mul(y, r), [...Array(y.rank).keys()], false);
      const wrt = Object.values(vs);
      const g = gradients(loss, wrt, { ep: 'webgpu' });
      return spec(name, [...wrt, r], [y, ...wrt.map((v) => g.get(v)!)]);
    },
  };
}

export const OP_CASES: OpCase[] = [
  rawConv('Conv 3×3 pad 1 + bias', [2, 8, 12, 12], [12, 8, 3, 3], { pads: [1, 1, 1, 1], bias: true }),
  rawConv('Conv 3×3 stride 2', [2, 6, 13, 13], [5, 6, 3, 3], { pads: [1, 1, 1, 1], strides: [2, 2] }),
  rawConv('Conv 3×3 dilation 2', [2, 4, 12, 12], [8, 4, 3, 3], { pads: [2, 2, 2, 2], dilations: [2, 2] }),
  // The plain-Conv provider fault (webGpuConvFault): in-channels 3k but not 4k, out-channels 4k.
  { ...rawConv('Conv 3×3, 6 → 8 channels (ORT WebGPU fault)', [2, 6, 10, 10], [8, 6, 3, 3], { pads: [1, 1, 1, 1] }), expect: 'fault' },
  rawConv('Conv 3×3, 12 → 4 channels', [2, 12, 10, 10], [4, 12, 3, 3], { pads: [1, 1, 1, 1] }),
  rawConv('Conv 3×3, 3 → 8 channels (the first VGG conv)', [2, 3, 10, 10], [8, 3, 3, 3], { pads: [1, 1, 1, 1] }),
  // dW as a conv (CPU graphs): batch and channels swapped, dY (a whole feature map) as the kernel.
  rawConv('Conv batch-swapped, 12×12 kernel', [8, 2, 12, 12], [16, 2, 12, 12], { pads: [1, 1, 1, 1] }),
  rawConv('Conv batch-swapped, dilation 2 (stride-2 dW)', [6, 2, 13, 13], [5, 2, 7, 7], { pads: [1, 1, 1, 1], dilations: [2, 2] }),
  {
    name: 'ConvTranspose stride 2 + output_padding, 6→5 channels',
    expect: 'match',
    build: () => {
      const [G, W] = [x('g', [2, 5, 7, 7]), x('w', [5, 6, 3, 3])];
      return spec('convT', [G, W], [apply1('ConvTranspose', [G, W, null], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [0, 0] })]);
    },
  },
  {
    name: 'Slice step −1 + Transpose (the flipped kernel of dX)',
    expect: 'match',
    build: () => {
      const W = x('w', [6, 5, 3, 3]);
      return spec('flip', [W], [slice(transpose(W, [1, 0, 2, 3]), [-1, -1], [-4, -4], [2, 3], [-1, -1])]);
    },
  },
  // The provider fault (docs/training.md, "WebGPU"): 9 outputs per group, 36 in all.
  groupedUnfold('grouped Conv, 9 outputs per group × 4 groups (ORT WebGPU fault)', 4, 9, 'fault'),
  groupedUnfold('grouped Conv, 12 outputs per group × 4 groups (the lowering)', 4, 12, 'match'),
  groupedUnfold('grouped Conv, 12 outputs per group × 6 groups (the lowering)', 6, 12, 'match'),
  {
    name: 'batched MatMul [N,M,K]×[N,K,P] + ReduceSum over the batch',
    expect: 'match',
    build: () => {
      const [A, B] = [x('a', [3, 10, 144]), x('b', [3, 144, 27])];
      return spec('bmm', [A, B], [reduceSum(matmul(A, B), [0], false)]);
    },
  },
  // A binding over WebGPU's default 128 MiB storage-buffer limit: the image-only model's first FC
  // at 224² (25088 → 4096, 411 MB), forward and both gradients. ORT asks the adapter for its own
  // maxStorageBufferBindingSize, so no split is needed where the adapter allows it (docs/training.md).
  ruleCase('Gemm transB, a 4096×25088 weight (411 MB, over the 128 MiB default binding limit)', { x: [2, 25088], w: [4096, 25088] }, (v) => gemm(v.x, v.w, null, { transB: true })),
  {
    name: 'Gemm transA / transB',
    expect: 'match',
    build: () => {
      const [A, B] = [x('a', [33, 7]), x('b', [9, 33])];
      return spec('gemm', [A, B], [gemm(A, B, null, { transA: true, transB: true }), gemm(transpose(B, [1, 0]), A, null, { transA: true })]);
    },
  },
  {
    name: 'MaxPool gradient mask route (Resize nearest + Equal + Cast + Mul)',
    expect: 'match',
    build: () => {
      const X = x('x', [2, 3, 8, 8]);
      const Y = maxPool(X, 2);
      const up = apply1('Resize', [Y, null, constF32([1, 1, 2, 2])], { mode: 'nearest' });
      return spec('mask', [X], [mul(cast(equal(X, up), 'float32'), up)]);
    },
  },
  {
    name: 'Pad (odd-size mask route)',
    expect: 'match',
    build: () => {
      const X = x('x', [2, 3, 4, 4]);
      return spec('pad', [X], [apply1('Pad', [X, constI64([0, 0, 0, 0, 0, 0, 1, 1])], { mode: 'constant' })]);
    },
  },
  {
    name: 'the optimizer\'s and batch norm\'s elementwise ops, Flatten, Concat, Gather of a Shape',
    expect: 'match',
    build: () => {
      const [A, B] = [x('a', [2, 3, 4, 4]), x('b', [2, 3, 4, 4])];
      const pos = add(abs(A), constF32(0.5));
      const flat = concat([flatten(reciprocal(sqrt(pos))), flatten(neg(min(A, B)))], 1);
      return spec('misc', [A, B], [flat, pow(pos, constF32(0.9)), cast(gather(shapeOf(A), constI64([1], [])), 'float32')]);
    },
  },
  ruleCase('rules: Conv 3×3 (dX by flipped conv, dW by the unfold)', { x: [2, 4, 10, 10], w: [8, 4, 3, 3], b: [8] }, (v) => conv(v.x, v.w, v.b, { pads: [1, 1, 1, 1] })),
  ruleCase('rules: Conv 3×3, 4 → 6 channels (dX by ConvTranspose: the flipped conv 6 → 4 would meet the fault)', { x: [2, 4, 10, 10], w: [6, 4, 3, 3] }, (v) => conv(v.x, v.w, null, { pads: [1, 1, 1, 1] })),
  ruleCase('rules: Conv 3×3 stride 2 (dX by ConvTranspose, dW by a strided unfold)', { x: [2, 4, 11, 11], w: [6, 4, 3, 3] }, (v) => conv(v.x, v.w, null, { pads: [1, 1, 1, 1], strides: [2, 2] })),
  ruleCase('rules: MaxPool 2×2 on an odd map (mask route)', { x: [2, 3, 9, 9] }, (v) => maxPool(v.x, 2)),
  ruleCase('rules: Gemm + bias', { a: [5, 7], b: [7, 4], c: [4] }, (v) => gemm(v.a, v.b, v.c)),
  ruleCase('rules: Softmax, LogSoftmax', { a: [4, 10] }, (v) => mul(softmax(v.a, 1), logSoftmax(v.a, 1))),
  ruleCase('rules: ReduceMean, Relu, Tanh, Sigmoid', { a: [2, 5, 4, 4] }, (v) => tanh(mul(relu(v.a), sigmoid(reduceMean(v.a, [0, 2, 3]))))),
];
