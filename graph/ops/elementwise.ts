// Elementwise ops: numpy broadcasting for binary ops, shape-preserving unary ops.
import { ONNX_DTYPE, type DType } from '../core/dtype.ts';
import { constF32, type Value } from '../core/ir.ts';
import { unbroadcast } from './grad-util.ts';
import { broadcast, fmt } from '../core/shape.ts';
import { apply1 } from '../core/builder.ts';
import { defineOp, type GradRule, type InferCtx } from '../core/registry.ts';

function binaryInfer(outDtype?: DType) {
  return (c: InferCtx) => {
    const [a, b] = [c.in(0), c.in(1)];
    if (a.dtype !== b.dtype) c.fail(`dtypes differ: ${a.dtype} vs ${b.dtype}`);
    const shape = broadcast(a.shape, b.shape) ?? c.fail(`shapes ${fmt(a.shape)} and ${fmt(b.shape)} do not broadcast`);
    return [{ dtype: outDtype ?? a.dtype, shape }];
  };
}
const unaryInfer = (c: InferCtx) => [{ dtype: c.in(0).dtype, shape: c.in(0).shape }];

// Gradient rules, one per op (I = inputs x, O = outputs y, GO = dy).
const binaryGrads: Record<string, GradRule> = {
  Add: ({ x, dy }) => [unbroadcast(dy[0]!, x[0]!), unbroadcast(dy[0]!, x[1]!)],
  Sub: ({ x, dy }) => [unbroadcast(dy[0]!, x[0]!), unbroadcast(neg(dy[0]!), x[1]!)],
  Mul: ({ x, dy, wants }) => [
    wants(0) ? unbroadcast(mul(dy[0]!, x[1]!), x[0]!) : null,
    wants(1) ? unbroadcast(mul(dy[0]!, x[0]!), x[1]!) : null,
  ],
  Div: ({ x, y, dy, wants }) => [
    wants(0) ? unbroadcast(div(dy[0]!, x[1]!), x[0]!) : null,
    wants(1) ? unbroadcast(neg(div(mul(dy[0]!, y[0]), x[1]!)), x[1]!) : null,
  ],
  // Only constant exponents are differentiated (x^p); the exponent gets no gradient.
  Pow: ({ x, dy }) => [unbroadcast(mul(dy[0]!, mul(x[1]!, pow(x[0]!, sub(x[1]!, constF32(1))))), x[0]!), null],
  Max: ({ x, dy }) => {
    const first = greater(x[0]!, x[1]!);
    return [unbroadcast(where(first, dy[0]!, zero()), x[0]!), unbroadcast(where(first, zero(), dy[0]!), x[1]!)];
  },
  Min: ({ x, dy }) => {
    const first = less(x[0]!, x[1]!);
    return [unbroadcast(where(first, dy[0]!, zero()), x[0]!), unbroadcast(where(first, zero(), dy[0]!), x[1]!)];
  },
};
const zero = () => constF32(0);

const unaryGrads: Record<string, GradRule> = {
  Relu: ({ y, dy }) => [where(greater(y[0], zero()), dy[0]!, zero())],
  Tanh: ({ y, dy }) => [mul(dy[0]!, sub(constF32(1), mul(y[0], y[0])))],
  Sigmoid: ({ y, dy }) => [mul(dy[0]!, mul(y[0], sub(constF32(1), y[0])))],
  Exp: ({ y, dy }) => [mul(dy[0]!, y[0])],
  Log: ({ x, dy }) => [div(dy[0]!, x[0]!)],
  Neg: ({ dy }) => [neg(dy[0]!)],
  Sqrt: ({ y, dy }) => [div(mul(dy[0]!, constF32(0.5)), y[0])],
  Abs: ({ x, dy }) => [mul(dy[0]!, sign(x[0]!))],
  Identity: ({ dy }) => [dy[0]!],
  Reciprocal: ({ y, dy }) => [neg(mul(dy[0]!, mul(y[0], y[0])))],
};

for (const [op, grad] of Object.entries(binaryGrads)) defineOp(op, { infer: binaryInfer(), grad });
for (const op of ['Equal', 'Greater', 'Less']) defineOp(op, { infer: binaryInfer('bool'), nondifferentiable: true });
for (const [op, grad] of Object.entries(unaryGrads)) defineOp(op, { infer: unaryInfer, grad });
defineOp('Sign', { infer: unaryInfer, nondifferentiable: true });
defineOp('Not', { infer: unaryInfer, nondifferentiable: true });

defineOp('Where', {
  infer: (c) => {
    const [cond, a, b] = [c.in(0), c.in(1), c.in(2)];
    if (cond.dtype !== 'bool') c.fail(`condition must be bool, got ${cond.dtype}`);
    if (a.dtype !== b.dtype) c.fail(`branch dtypes differ: ${a.dtype} vs ${b.dtype}`);
    const ab = broadcast(a.shape, b.shape);
    const shape = (ab && broadcast(cond.shape, ab)) ?? c.fail('condition and branches do not broadcast');
    return [{ dtype: a.dtype, shape }];
  },
  grad: ({ x, dy }) => [null, unbroadcast(where(x[0]!, dy[0]!, zero()), x[1]!), unbroadcast(where(x[0]!, zero(), dy[0]!), x[2]!)],
});

defineOp('Cast', {
  attrTypes: { to: 'int' },
  infer: (c) => {
    const to = Object.entries(ONNX_DTYPE).find(([, code]) => code === c.attrs.to)?.[0] as DType | undefined;
    return [{ dtype: to ?? c.fail(`unsupported cast target ${String(c.attrs.to)}`), shape: c.in(0).shape }];
  },
  nondifferentiable: true,
});

export const add = (a: Value, b: Value) => apply1('Add', [a, b]);
export const sub = (a: Value, b: Value) => apply1('Sub', [a, b]);
export const mul = (a: Value, b: Value) => apply1('Mul', [a, b]);
export const div = (a: Value, b: Value) => apply1('Div', [a, b]);
export const pow = (a: Value, b: Value) => apply1('Pow', [a, b]);
export const max = (a: Value, b: Value) => apply1('Max', [a, b]);
export const min = (a: Value, b: Value) => apply1('Min', [a, b]);
export const equal = (a: Value, b: Value) => apply1('Equal', [a, b]);
export const greater = (a: Value, b: Value) => apply1('Greater', [a, b]);
export const less = (a: Value, b: Value) => apply1('Less', [a, b]);
export const where = (cond: Value, a: Value, b: Value) => apply1('Where', [cond, a, b]);
export const relu = (x: Value) => apply1('Relu', [x]);
export const tanh = (x: Value) => apply1('Tanh', [x]);
export const sigmoid = (x: Value) => apply1('Sigmoid', [x]);
export const exp = (x: Value) => apply1('Exp', [x]);
export const log = (x: Value) => apply1('Log', [x]);
export const neg = (x: Value) => apply1('Neg', [x]);
export const sqrt = (x: Value) => apply1('Sqrt', [x]);
export const abs = (x: Value) => apply1('Abs', [x]);
export const sign = (x: Value) => apply1('Sign', [x]);
export const reciprocal = (x: Value) => apply1('Reciprocal', [x]);
export const identity = (x: Value) => apply1('Identity', [x]);
export const cast = (x: Value, to: DType) => apply1('Cast', [x], { to: ONNX_DTYPE[to] });
