// Neural-network ops: convolution, pooling, normalisation, dense layers, softmax, dropout.
import { constF32, constant, type Shape, type Value } from '../ir.ts';
import { fmt, normAxis } from '../shape.ts';
import { apply, apply1, defineOp, type InferCtx } from './registry.ts';

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
  infer: (c) => {
    const [x, w, b] = [c.in(0), c.in(1), c.inputs[2]];
    if (x.rank !== 4 || w.rank !== 4) c.fail('Conv expects NCHW input and OIHW weight');
    const group = (c.attrs.group as number) ?? 1;
    if (x.shape[1] !== (w.shape[1] as number) * group) c.fail(`input channels ${x.shape[1]} ≠ weight in-channels ${w.shape[1]} × group ${group}`);
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
  infer: (c) => {
    const x = c.in(0);
    const [oh, ow] = spatialOut(c, x, c.attrs.kernel_shape as number[], c.attrs as ConvOpts);
    const shape: Shape = [x.shape[0], x.shape[1], oh, ow];
    return [{ dtype: x.dtype, shape }, { dtype: 'int64', shape }];
  },
});

defineOp('BatchNormalization', {
  attrTypes: { epsilon: 'float', momentum: 'float', training_mode: 'int' },
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
  infer: (c) => {
    const [a, b] = [c.in(0), c.in(1)];
    if (a.rank < 2 || b.rank !== 2) c.fail('MatMul here expects [..., K] × [K, N]');
    if (a.shape[a.rank - 1] !== b.shape[0]) c.fail(`inner dims differ: ${a.shape[a.rank - 1]} vs ${b.shape[0]}`);
    return [{ dtype: a.dtype, shape: [...a.shape.slice(0, -1), b.shape[1]] }];
  },
});

defineOp('Softmax', {
  attrTypes: { axis: 'int' },
  infer: (c) => [{ dtype: c.in(0).dtype, shape: c.in(0).shape }],
});

defineOp('LogSoftmax', {
  attrTypes: { axis: 'int' },
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
  const [y, mask] = apply('Dropout', [x, constF32(ratio), constant('bool', [], Uint8Array.of(1))], { seed });
  return [y, mask];
}
