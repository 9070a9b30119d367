// Neural-network ops: convolution, pooling, normalisation, dense layers, softmax, dropout.
import { constF32, constI64, constant, type Shape, type Value } from '../core/ir.ts';
import { add, cast, div, equal, exp, mul, sqrt, sub } from './elementwise.ts';
import { unbroadcast } from './grad-util.ts';
import { concat, reduceSum, reshape, shapeOf, slice, transpose } from './tensor.ts';
import { fmt, normAxis } from '../core/shape.ts';
import { apply, apply1 } from '../core/builder.ts';
import { defineOp, type GradCtx, type InferCtx } from '../core/registry.ts';

export interface ConvOpts {
  strides?: number[];
  pads?: number[];
  dilations?: number[];
  group?: number;
}

function spatialOut(c: InferCtx, x: Value, kernel: number[], o: ConvOpts): number[] {
  const strides = o.strides ?? [1, 1];
  const pads = o.pads ?? [0, 0, 0, 0];
  const dil = o.dilations ?? [1, 1];
  return kernel.map((k, i) => {
    const n = x.shape[2 + i];
    if (typeof n !== 'number') c.fail(`spatial dim ${i} must be static`);
    const out = Math.floor((n + pads[i] + pads[i + kernel.length] - dil[i] * (k - 1) - 1) / strides[i]) + 1;
    if (out < 1) c.fail(`kernel ${fmt(kernel)} does not fit input ${fmt(x.shape)}`);
    return out;
  });
}

const convAttrs = { strides: 'ints', pads: 'ints', dilations: 'ints', group: 'int', kernel_shape: 'ints' } as const;

defineOp('Conv', {
  attrTypes: convAttrs,
  grad: (g) => [g.wants(0) ? convGradInput(g) : null, g.wants(1) ? convGradWeight(g) : null, g.x[2] && g.wants(2) ? convGradBias(g.dy[0]!) : null],
  infer: (c) => {
    const [x, w, b] = [c.in(0), c.in(1), c.inputs[2]];
    if (x.rank !== 4 || w.rank !== 4) c.fail('Conv expects NCHW input and OIHW weight');
    const group = (c.attrs.group as number) ?? 1;
    const cin = group === 1 ? w.shape[1] : (w.shape[1] as number) * group; // symbolic when dW swaps batch and channels
    if (x.shape[1] !== cin) c.fail(`input channels ${x.shape[1]} ≠ weight in-channels ${w.shape[1]} × group ${group}`);
    if (b && (b.rank !== 1 || b.shape[0] !== w.shape[0])) c.fail(`bias ${fmt(b.shape)} does not match ${w.shape[0]} out-channels`);
    const [oh, ow] = spatialOut(c, x, w.shape.slice(2) as number[], c.attrs as ConvOpts);
    return [{ dtype: x.dtype, shape: [x.shape[0], w.shape[0], oh, ow] }];
  },
});

defineOp('ConvTranspose', {
  attrTypes: { ...convAttrs, output_padding: 'ints' },
  infer: (c) => {
    const [x, w] = [c.in(0), c.in(1)];
    if (x.shape[1] !== w.shape[0]) c.fail(`input channels ${x.shape[1]} ≠ weight dim 0 ${w.shape[0]}`);
    const s = (c.attrs.strides as number[]) ?? [1, 1];
    const p = (c.attrs.pads as number[]) ?? [0, 0, 0, 0];
    const op = (c.attrs.output_padding as number[]) ?? [0, 0];
    const d = (c.attrs.dilations as number[]) ?? [1, 1];
    const hw = [0, 1].map((i) => s[i] * ((x.shape[2 + i] as number) - 1) + op[i] + d[i] * ((w.shape[2 + i] as number) - 1) + 1 - p[i] - p[i + 2]);
    return [{ dtype: x.dtype, shape: [x.shape[0], w.shape[1], hw[0], hw[1]] }];
  },
});

defineOp('MaxPool', {
  attrTypes: { kernel_shape: 'ints', strides: 'ints', pads: 'ints' },
  grad: (g) => [g.ep === 'webgpu' ? maxPoolGradByMask(g) : maxPoolGradByIndices(g)],
  infer: (c) => {
    const x = c.in(0);
    const [oh, ow] = spatialOut(c, x, c.attrs.kernel_shape as number[], c.attrs as ConvOpts);
    const shape: Shape = [x.shape[0], x.shape[1], oh, ow];
    return [{ dtype: x.dtype, shape }, { dtype: 'int64', shape }];
  },
});

defineOp('BatchNormalization', {
  attrTypes: { epsilon: 'float', momentum: 'float', training_mode: 'int' },
  // Inference mode only (training-mode BN is built from primitives, layers/norm.ts): with fixed
  // statistics it is the per-channel affine map y = (x − mean) · scale / sqrt(var + ε) + bias, so
  // dx = dy · scale / sqrt(var + ε). Its statistics and affine inputs are not trained through it.
  grad: ({ node, x, dy }) => {
    const C = x[0]!.shape[1] as number;
    const perChannel = div(x[1]!, sqrt(add(x[4]!, constF32(node.attrs.epsilon as number))));
    return [mul(dy[0]!, reshape(perChannel, [1, C, ...Array(x[0]!.rank - 2).fill(1)])), null, null, null, null];
  },
  infer: (c) => {
    const x = c.in(0);
    for (let i = 1; i < 5; i++) {
      const v = c.in(i);
      if (v.rank !== 1 || v.shape[0] !== x.shape[1]) c.fail(`input ${i} must be [${x.shape[1]}], got ${fmt(v.shape)}`);
    }
    return [{ dtype: x.dtype, shape: x.shape }];
  },
});

defineOp('Gemm', {
  attrTypes: { transA: 'int', transB: 'int', alpha: 'float', beta: 'float' },
  grad: gemmGrad,
  infer: (c) => {
    const [a, b, bias] = [c.in(0), c.in(1), c.inputs[2]];
    if (a.rank !== 2 || b.rank !== 2) c.fail('Gemm expects 2-D operands');
    const [m, k] = c.attrs.transA ? [a.shape[1], a.shape[0]] : a.shape;
    const [k2, n] = c.attrs.transB ? [b.shape[1], b.shape[0]] : b.shape;
    if (k !== k2) c.fail(`inner dims differ: ${k} vs ${k2}`);
    if (bias && bias.rank === 1 && bias.shape[0] !== n) c.fail(`bias ${fmt(bias.shape)} does not match ${n} outputs`);
    return [{ dtype: a.dtype, shape: [m, n] }];
  },
});

defineOp('MatMul', {
  // [N,K] × [K,M] (the EMD loss) is differentiable: dA = dY Bᵀ, dB = Aᵀ dY. The batched
  // [B,M,K] × [B,K,P] form appears only inside gradient graphs.
  grad: ({ x, dy, wants }) => {
    if (x[0]!.rank !== 2) throw new Error('MatMul gradient supports 2-D operands only');
    return [wants(0) ? gemm(dy[0]!, x[1]!, null, { transB: true }) : null, wants(1) ? gemm(x[0]!, dy[0]!, null, { transA: true }) : null];
  },
  infer: (c) => {
    const [a, b] = [c.in(0), c.in(1)];
    if (a.rank === 3 && b.rank === 3) {
      if (a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1]) c.fail('batched MatMul needs [B,M,K] × [B,K,P]');
      return [{ dtype: a.dtype, shape: [a.shape[0], a.shape[1], b.shape[2]] }];
    }
    if (a.rank < 2 || b.rank !== 2) c.fail('MatMul here expects [..., K] × [K, N]');
    if (a.shape[a.rank - 1] !== b.shape[0]) c.fail(`inner dims differ: ${a.shape[a.rank - 1]} vs ${b.shape[0]}`);
    return [{ dtype: a.dtype, shape: [...a.shape.slice(0, -1), b.shape[1]] }];
  },
});

defineOp('Softmax', {
  attrTypes: { axis: 'int' },
  grad: ({ node, y, dy }) => [mul(y[0], sub(dy[0]!, reduceSum(mul(dy[0]!, y[0]), [node.attrs.axis as number])))],
  infer: (c) => [{ dtype: c.in(0).dtype, shape: c.in(0).shape }],
});

defineOp('LogSoftmax', {
  attrTypes: { axis: 'int' },
  grad: ({ node, y, dy }) => [sub(dy[0]!, mul(exp(y[0]), reduceSum(dy[0]!, [node.attrs.axis as number])))],
  infer: (c) => [{ dtype: c.in(0).dtype, shape: c.in(0).shape }],
});

defineOp('Dropout', {
  attrTypes: { seed: 'int' },
  infer: (c) => [
    { dtype: c.in(0).dtype, shape: c.in(0).shape },
    { dtype: 'bool', shape: c.in(0).shape },
  ],
});

export const conv = (x: Value, w: Value, b: Value | null, o: ConvOpts = {}) =>
  apply1('Conv', [x, w, b], { strides: o.strides, pads: o.pads, dilations: o.dilations, group: o.group });

export function maxPool(x: Value, kernel: number, stride = kernel): Value {
  return apply1('MaxPool', [x], { kernel_shape: [kernel, kernel], strides: [stride, stride] });
}

/** Inference-mode batch norm with per-channel statistics. */
export const batchNorm = (x: Value, scale: Value, bias: Value, mean: Value, variance: Value, epsilon: number) =>
  apply1('BatchNormalization', [x, scale, bias, mean, variance], { epsilon });

export function gemm(a: Value, b: Value, bias: Value | null, o: { transA?: boolean; transB?: boolean } = {}): Value {
  return apply1('Gemm', [a, b, bias], { transA: o.transA ? 1 : undefined, transB: o.transB ? 1 : undefined });
}

export const matmul = (a: Value, b: Value) => apply1('MatMul', [a, b]);


export function softmax(x: Value, axis: number): Value {
  return apply1('Softmax', [x], { axis: normAxis(axis, x.rank) });
}

export function logSoftmax(x: Value, axis: number): Value {
  return apply1('LogSoftmax', [x], { axis: normAxis(axis, x.rank) });
}

/** Training-mode dropout; returns the output and the keep mask. */
export function dropout(x: Value, ratio: number, seed: number): [Value, Value] {
  const [y, mask] = apply('Dropout', [x, constF32(ratio, undefined, 'ratio'), constant('bool', [], Uint8Array.of(1), 'training_mode')], { seed });
  return [y, mask];
}

defineOp('MaxUnpool', {
  attrTypes: { kernel_shape: 'ints', strides: 'ints', pads: 'ints' },
  infer: (c) => {
    const like = c.in(2).producer;
    if (like?.op !== 'Shape') c.fail('output_shape must be Shape(x) here');
    return [{ dtype: c.in(0).dtype, shape: like!.inputs[0]!.shape }];
  },
  nondifferentiable: true,
});

defineOp('Resize', {
  attrTypes: { mode: 'string', nearest_mode: 'string', coordinate_transformation_mode: 'string' },
  infer: (c) => {
    const x = c.in(0);
    const scales = c.in(2).data as Float32Array;
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (typeof d === 'number' ? Math.floor(d * scales[i]) : d)) }];
  },
  nondifferentiable: true,
});

defineOp('Pad', {
  attrTypes: { mode: 'string' },
  infer: (c) => {
    const x = c.in(0);
    const pads = Array.from(c.in(1).data as BigInt64Array, Number);
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (typeof d === 'number' ? d + pads[i] + pads[i + x.rank] : d)) }];
  },
  nondifferentiable: true,
});

/** dX of a conv. Stride 1: a plain conv with the kernel's in/out swapped and flipped 180°, as fast
 * as the forward pass on the CPU provider; otherwise — and on WebGPU where that conv's channel
 * counts meet the provider's fault (webGpuConvFault) — ConvTranspose with output padding. */
function convGradInput({ node, x, dy, ep }: GradCtx): Value {
  const [X, W] = [x[0]!, x[1]!];
  const k = W.shape.slice(2) as number[];
  const pads = (node.attrs.pads as number[]) ?? [0, 0, 0, 0];
  const strides = (node.attrs.strides as number[]) ?? [1, 1];
  const dil = (node.attrs.dilations as number[]) ?? [1, 1];
  const [co, ci] = W.shape as number[];
  const faulty = ep === 'webgpu' && webGpuConvFault(ci, co); // the flipped conv maps co → ci channels
  if (strides.every((s) => s === 1) && dil.every((d) => d === 1) && !node.attrs.group && !faulty) {
    const flipped = slice(transpose(W, [1, 0, 2, 3]), [-1, -1], [-(k[0] + 1), -(k[1] + 1)], [2, 3], [-1, -1]);
    const p = [k[0] - 1 - pads[0], k[1] - 1 - pads[1], k[0] - 1 - pads[2], k[1] - 1 - pads[3]];
    const dx = conv(dy[0]!, flipped, null, { pads: p });
    if (dx.shape[2] !== X.shape[2] || dx.shape[3] !== X.shape[3]) throw new Error(`Conv gradient: dX ${dx.shape} does not restore ${X.shape}`);
    return dx;
  }
  const out = [0, 1].map((i) => (X.shape[2 + i] as number) - (strides[i] * ((dy[0]!.shape[2 + i] as number) - 1) + dil[i] * (k[i] - 1) + 1 - pads[i] - pads[i + 2]));
  return apply1('ConvTranspose', [dy[0]!, W, null], { strides, pads, dilations: node.attrs.dilations as number[] | undefined, output_padding: out });
}

/**
 * dW of a conv. No groups, stride 1 and no dilation (every VGG conv), on any provider: unfold X
 * into its k·k shifted copies (a depthwise conv with one-hot kernels and the forward's pads, so
 * each copy lines up with dY), then GEMMs against dY with the spatial positions as the inner
 * dimension — the shape of product the CPU GEMM is fast at. A copy holds k·k times its input, so
 * where one sample's copy would exceed `unfoldFloats` the input channels go through it in chunks
 * (224², 64 channels at batch 8: 0.9 GB at once otherwise). Otherwise: a conv with batch and
 * channels swapped, dY as the kernel and the forward stride as dilation, cropped to k×k; WebGPU
 * never takes it: the swapped conv has the batch as its input channels, and a batch of 6, 9, 15…
 * meets the provider's Conv fault (webGpuConvFault) with no way to know N when the graph is built.
 * Measured (`npm run bench:conv-grad`, docs/performance.md): on an AVX-512 Xeon the chunked unfold
 * takes a third to a half of the swapped conv's time on the 224² and 112² layers.
 */
function convGradWeight({ node, x, dy, ep, unfoldFloats }: GradCtx): Value {
  const [X, W] = [x[0]!, x[1]!];
  const [co, ci, kh, kw] = W.shape as number[];
  const pads = (node.attrs.pads as number[]) ?? [0, 0, 0, 0];
  const strides = (node.attrs.strides as number[]) ?? [1, 1];
  const dil = (node.attrs.dilations as number[]) ?? [1, 1];
  const G = dy[0]!;
  const positions = (G.shape[2] as number) * (G.shape[3] as number);
  const unfold = ep === 'webgpu' || (strides.every((s) => s === 1) && dil.every((d) => d === 1));
  if (unfold && !node.attrs.group) {
    const taps = kh * kw;
    // `per` columns per input channel: the k·k shifts, plus all-zero ones up to a multiple of 4 on
    // WebGPU, whose grouped conv is wrong otherwise (webGpuGroupedConvSafe). The extra columns'
    // products are zero and are cropped from the small [co, ci, per] result.
    const per = ep === 'webgpu' ? webGpuGroupedConvSafe(taps) : taps;
    /** [N, n·per, H·W]: channel c·per + (i·kw + j) holds Xc[c] shifted by (i, j). */
    const columns = (Xc: Value, n: number): Value => {
      if (taps === 1 && !pads.some((p) => p) && !strides.some((s) => s !== 1)) return reshape(Xc, [0, n, positions]);
      const onehot = new Float32Array(n * per * taps);
      for (let c = 0; c < n; c++) for (let k = 0; k < taps; k++) onehot[(c * per + k) * taps + k] = 1;
      const cols = apply1('Conv', [Xc, constant('float32', [n * per, 1, kh, kw], onehot, 'unfold'), null], { pads, strides: node.attrs.strides as number[] | undefined, dilations: node.attrs.dilations as number[] | undefined, group: n });
      return reshape(cols, [0, n * per, positions]);
    };
    const g3 = reshape(G, [0, co, positions]);
    let dw: Value;
    if (co < positions) {
      // Large maps: a GEMM per sample (inner dim = positions), summed over the batch, per chunk of
      // input channels, each chunk's copy freed before the next is made (224², batch 8: peak RSS
      // 5.2 GB chunked, 7.0 GB whole). Not on WebGPU, where memory is not the limit.
      const most = ep === 'webgpu' ? ci : Math.max(1, Math.floor(unfoldFloats / (per * positions)));
      const chunk = Math.ceil(ci / Math.ceil(ci / most)); // equal chunks: 64 channels under 9 a chunk go 8 × 8
      const parts: Value[] = [];
      for (let c0 = 0; c0 < ci; c0 += chunk) {
        const n = Math.min(chunk, ci - c0);
        const c3 = columns(n === ci ? X : slice(X, [c0], [c0 + n], [1]), n);
        parts.push(reduceSum(matmul(g3, transpose(c3, [0, 2, 1])), [0], false));
      }
      dw = parts.length === 1 ? parts[0] : concat(parts, 1);
    } else {
      // Small maps: per-sample products would outweigh their inputs; move the batch into the
      // inner dimension instead and do one GEMM.
      const flat = (v: Value, rows: number) => reshape(transpose(v, [1, 0, 2]), [rows, -1]);
      dw = gemm(flat(g3, co), flat(columns(X, ci), ci * per), null, { transB: true });
    }
    if (per !== taps) dw = slice(reshape(dw, [co, ci, per]), [0], [taps], [2]);
    return reshape(dw, [co, ci, kh, kw]);
  }
  const corr = conv(transpose(X, [1, 0, 2, 3]), transpose(G, [1, 0, 2, 3]), null, { pads, dilations: strides });
  const cropped = corr.shape[2] === kh && corr.shape[3] === kw ? corr : slice(corr, [0, 0], [kh, kw], [2, 3]);
  return transpose(cropped, [1, 0, 2, 3]);
}

/**
 * Whether ONNX Runtime's WebGPU provider (1.30) computes a plain k×k Conv with these channel
 * counts wrongly: out-channels a multiple of 4 and in-channels a multiple of 3 but not of 4, more
 * than 3 (6→4, 6→8, 9→4, 15→8 are wrong by ~100%; 3→4, 5→4, 10→4, 12→4 are exact). It looks like
 * its vectorised NHWC matmul conv reading 3 channels at a time; docs/training.md, "WebGPU".
 */
export function webGpuConvFault(outChannels: number, inChannels: number): boolean {
  return outChannels % 4 === 0 && inChannels % 4 !== 0 && inChannels % 3 === 0 && inChannels > 3;
}

/**
 * Output channels per group for a grouped Conv that ONNX Runtime's WebGPU provider (1.30)
 * computes correctly. Its NHWC GroupedConv packs output channels into vectors of
 * c = 4 (2) lanes when the total is a multiple of 4 (2) and a group has at least 4 outputs, then
 * takes the group — hence the input channel — of the vector's first lane for all of its lanes.
 * A group size that c does not divide puts lanes of two groups into one vector and the later
 * lanes read the wrong input (docs/training.md, "WebGPU"). A multiple of 4 is safe for any c.
 */
export function webGpuGroupedConvSafe(perGroup: number): number {
  return perGroup < 4 ? perGroup : Math.ceil(perGroup / 4) * 4;
}

/** dB = Σ dY over N, H, W — reduced over the contiguous positions first, the fast reduction. */
function convGradBias(G: Value): Value {
  const positions = (G.shape[2] as number) * (G.shape[3] as number);
  return reduceSum(reduceSum(reshape(G, [0, G.shape[1] as number, positions]), [2], false), [0], false);
}

/** CPU: route dY to the argmax through MaxPool's Indices and MaxUnpool (exact, VGG's 2×2/s2). */
function maxPoolGradByIndices({ node, x, dy }: GradCtx): Value {
  const { kernel_shape, strides, pads } = node.attrs as { kernel_shape: number[]; strides?: number[]; pads?: number[] };
  if (strides && strides.some((s, i) => s !== kernel_shape[i])) throw new Error('MaxPool gradient by MaxUnpool needs non-overlapping windows');
  return apply1('MaxUnpool', [dy[0]!, node.outputs[1], shapeOf(x[0]!)], { kernel_shape, strides, pads });
}

/** WebGPU has no MaxPool Indices: mask positions equal to their window's max (2×2/s2 only).
 * A tie inside a window passes the gradient to each tied position. */
function maxPoolGradByMask({ node, x, y, dy }: GradCtx): Value {
  const k = node.attrs.kernel_shape as number[];
  if (k[0] !== 2 || k[1] !== 2 || (node.attrs.strides as number[])?.some((s) => s !== 2)) throw new Error('MaxPool mask gradient supports 2×2/s2 only');
  const X = x[0]!;
  const up = (v: Value) => {
    const r = apply1('Resize', [v, null, constF32([1, 1, 2, 2], undefined, 'scales')], { mode: 'nearest' });
    const [dh, dw] = [(X.shape[2] as number) - (r.shape[2] as number), (X.shape[3] as number) - (r.shape[3] as number)];
    return dh || dw ? apply1('Pad', [r, constI64([0, 0, 0, 0, 0, 0, dh, dw], undefined, 'pads')], { mode: 'constant' }) : r;
  };
  return mul(cast(equal(X, up(y[0])), 'float32'), up(dy[0]!));
}

function gemmGrad({ node, x, dy, wants }: GradCtx): (Value | null)[] {
  const [A, B, C] = x;
  const G = dy[0]!;
  const tA = !!node.attrs.transA;
  const tB = !!node.attrs.transB;
  const dA = !wants(0) ? null
    : !tA ? gemm(G, B!, null, { transB: !tB })
    : gemm(B!, G, null, { transA: tB, transB: true });
  const dB = !wants(1) ? null
    : !tB ? gemm(A!, G, null, { transA: !tA })
    : gemm(G, A!, null, { transA: true, transB: tA });
  const dC = C && wants(2) ? unbroadcast(G, C) : null;
  return [dA, dB, dC];
}
