// Ops that move, reshape and reduce data without arithmetic on neighbours.
import { constI64, type Dim, type Node, type Shape, type Value } from '../core/ir.ts';
import { fmt, normAxis, product } from '../core/shape.ts';
import { div } from './elementwise.ts';
import { countOf, expandLike, reshapeLike, unbroadcast } from './grad-util.ts';
import { apply1 } from '../core/builder.ts';
import { defineOp, type InferCtx } from '../core/registry.ts';

/** The reduced gradient with the reduced axes back as size-1 dims, ready to broadcast. */
function keepReduced(dy: Value, node: Node, axes: number[], x: Value): Value {
  if (((node.attrs.keepdims as number) ?? 1) === 1) return dy;
  const ax = axes.map((a) => normAxis(a, x.rank)).sort((a, b) => a - b);
  return unsqueeze(dy, ax);
}

/** The constant integer values of a shape-like input (shapes here are always constants). */
export function constInts(v: Value | null, c: InferCtx | null, what: string): number[] {
  if (!v?.data || !(v.data instanceof BigInt64Array)) {
    if (c) return c.fail(`${what} must be a constant int64 tensor`);
    throw new Error(`${what} must be a constant int64 tensor`);
  }
  return Array.from(v.data, Number);
}

defineOp('Reshape', {
  grad: ({ x, dy }) => [reshapeLike(dy[0]!, x[0]!), null],
  infer: (c) => {
    const x = c.in(0);
    const spec = constInts(c.in(1), c, 'shape');
    const out: Shape = spec.map((d, i) => (d === 0 ? x.shape[i] : d));
    const copied = new Set(spec.flatMap((d, i) => (d === 0 ? [i] : [])));
    const rest = x.shape.filter((_, i) => !copied.has(i));
    const known = product(out.filter((d, i) => d !== -1 && !copied.has(i)));
    const total = product(rest);
    const holes = out.filter((d) => d === -1).length;
    if (holes > 1) c.fail('at most one -1 in a reshape');
    const symbols = rest.filter((d) => typeof d === 'string');
    if (holes === 1 && symbols.length === 1 && Number.isFinite(known) && !out.some((d) => typeof d === 'string')) {
      // One symbolic dim folded into the hole, e.g. [co, N, 49] → [co, -1] gives [co, "N*49"].
      const staticPart = product(rest.filter((d) => typeof d === 'number'));
      if (staticPart % known === 0 || known === 1) {
        out[out.indexOf(-1)] = `${symbols[0]}*${staticPart / known}`;
        return [{ dtype: x.dtype, shape: out }];
      }
    }
    if (holes === 1) {
      if (!Number.isFinite(total) || !Number.isFinite(known)) c.fail(`cannot infer -1 from symbolic dims, ${fmt(x.shape)} → ${fmt(spec)}`);
      if (total % known) c.fail(`${fmt(x.shape)} cannot be reshaped to ${fmt(spec)}`);
      out[out.indexOf(-1)] = total / known;
    } else if (Number.isFinite(total) && Number.isFinite(known) && total !== known) {
      c.fail(`${fmt(x.shape)} (${total} elements) cannot be reshaped to ${fmt(spec)} (${known})`);
    }
    return [{ dtype: x.dtype, shape: out }];
  },
});

defineOp('Flatten', {
  grad: ({ x, dy }) => [reshapeLike(dy[0]!, x[0]!)],
  attrTypes: { axis: 'int' },
  infer: (c) => {
    const x = c.in(0);
    const axis = normAxis((c.attrs.axis as number) ?? 1, x.rank);
    const left = x.shape.slice(0, axis);
    const right = x.shape.slice(axis);
    const fold = (dims: Shape): Dim => (dims.length === 1 ? dims[0] : product(dims) || c.fail(`cannot flatten symbolic dims ${fmt(dims)}`));
    return [{ dtype: x.dtype, shape: [left.length ? fold(left) : 1, right.length ? fold(right) : 1] }];
  },
});

defineOp('Concat', {
  grad: ({ node, x, dy }) => {
    const axis = normAxis(node.attrs.axis as number, x[0]!.rank);
    let at = 0;
    return x.map((xi) => {
      const n = xi!.shape[axis] as number;
      at += n;
      return slice(dy[0]!, [at - n], [at], [axis]);
    });
  },
  attrTypes: { axis: 'int' },
  infer: (c) => {
    const xs = c.inputs.map((_, i) => c.in(i));
    const axis = normAxis(c.attrs.axis as number, xs[0].rank);
    let along = 0;
    for (const x of xs) {
      if (x.rank !== xs[0].rank || x.shape.some((d, i) => i !== axis && d !== xs[0].shape[i])) {
        c.fail(`shapes must agree except on axis ${axis}`);
      }
      const d = x.shape[axis];
      if (typeof d !== 'number') return c.fail('cannot concatenate along a symbolic axis');
      along += d;
    }
    const shape = [...xs[0].shape];
    shape[axis] = along;
    return [{ dtype: xs[0].dtype, shape }];
  },
});

defineOp('Transpose', {
  grad: ({ node, dy }) => {
    const perm = node.attrs.perm as number[];
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [transpose(dy[0]!, inverse)];
  },
  attrTypes: { perm: 'ints' },
  infer: (c) => {
    const x = c.in(0);
    const perm = c.attrs.perm as number[];
    if (perm.length !== x.rank) c.fail(`perm ${fmt(perm)} does not match rank ${x.rank}`);
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }];
  },
});

defineOp('Unsqueeze', {
  grad: ({ x, dy }) => [reshapeLike(dy[0]!, x[0]!), null],
  infer: (c) => {
    const x = c.in(0);
    const rank = x.rank + constInts(c.in(1), c, 'axes').length;
    const axes = constInts(c.in(1), c, 'axes').map((a) => normAxis(a, rank));
    const out: Shape = [];
    let j = 0;
    for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : x.shape[j++]);
    return [{ dtype: x.dtype, shape: out }];
  },
});

defineOp('Squeeze', {
  grad: ({ x, dy }) => [reshapeLike(dy[0]!, x[0]!), null],
  infer: (c) => {
    const x = c.in(0);
    const axes = constInts(c.in(1), c, 'axes').map((a) => normAxis(a, x.rank));
    for (const a of axes) if (x.shape[a] !== 1) c.fail(`axis ${a} has size ${x.shape[a]}, not 1`);
    return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !axes.includes(i)) }];
  },
});

defineOp('Slice', {
  infer: (c) => {
    const x = c.in(0);
    const [starts, ends] = [constInts(c.in(1), c, 'starts'), constInts(c.in(2), c, 'ends')];
    const axes = c.inputs[3] ? constInts(c.inputs[3], c, 'axes') : starts.map((_, i) => i);
    const steps = c.inputs[4] ? constInts(c.inputs[4], c, 'steps') : starts.map(() => 1);
    const shape = [...x.shape];
    axes.forEach((a0, k) => {
      const a = normAxis(a0, x.rank);
      const n = x.shape[a];
      if (typeof n !== 'number') return c.fail(`cannot slice symbolic axis ${a}`);
      const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
      const step = steps[k];
      const [s, e] = step > 0 ? [clamp(starts[k], 0, n), clamp(ends[k], 0, n)] : [clamp(starts[k], -1, n - 1), clamp(ends[k], -1, n - 1)];
      shape[a] = Math.max(0, Math.ceil((e - s) / step));
    });
    return [{ dtype: x.dtype, shape }];
  },
});

defineOp('Expand', {
  grad: ({ x, dy }) => [unbroadcast(dy[0]!, x[0]!), null],
  infer: (c) => {
    const x = c.in(0);
    // Expand(v, Shape(like)) — the gradient rules' "broadcast to like's shape" — has like's shape.
    const from = c.in(1).producer;
    const target: Shape = from?.op === 'Shape' ? from.inputs[0]!.shape : constInts(c.in(1), c, 'shape');
    const n = Math.max(x.rank, target.length);
    const out: Shape = [];
    for (let i = 0; i < n; i++) {
      const a = x.shape[x.rank - n + i] ?? 1;
      const b = target[target.length - n + i] ?? 1;
      if (a !== b && a !== 1 && b !== 1) c.fail(`cannot expand ${fmt(x.shape)} to ${fmt(target)}`);
      out.push(a === 1 ? b : a);
    }
    return [{ dtype: x.dtype, shape: out }];
  },
});

function reduceInfer(c: InferCtx, axes: number[]) {
  const x = c.in(0);
  const keep = ((c.attrs.keepdims as number) ?? 1) === 1;
  const ax = axes.map((a) => normAxis(a, x.rank));
  if (ax.some((a) => a < 0 || a >= x.rank)) c.fail(`axes ${fmt(axes)} out of range for rank ${x.rank}`);
  const shape = keep ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !ax.includes(i));
  return [{ dtype: x.dtype, shape }];
}
// Opset 17: ReduceSum takes axes as an input, ReduceMean and ReduceMax as an attribute.
defineOp('ReduceSum', {
  grad: ({ node, x, dy }) => [expandLike(keepReduced(dy[0]!, node, constInts(node.inputs[1], null, 'axes'), x[0]!), x[0]!), null], attrTypes: { keepdims: 'int' }, infer: (c) => reduceInfer(c, constInts(c.in(1), c, 'axes')) });
defineOp('ReduceMean', {
  grad: ({ node, x, dy }) => {
    const axes = (node.attrs.axes as number[]).map((a) => normAxis(a, x[0]!.rank));
    return [expandLike(div(keepReduced(dy[0]!, node, axes, x[0]!), countOf(x[0]!, axes)), x[0]!)];
  }, attrTypes: { axes: 'ints', keepdims: 'int' }, infer: (c) => reduceInfer(c, c.attrs.axes as number[]) });
defineOp('ReduceMax', { attrTypes: { axes: 'ints', keepdims: 'int' }, infer: (c) => reduceInfer(c, c.attrs.axes as number[]) });

export const reshape = (x: Value, shape: number[]) => apply1('Reshape', [x, constI64(shape, undefined, 'shape')]);
export const flatten = (x: Value, axis = 1) => apply1('Flatten', [x], { axis });
export const concat = (xs: Value[], axis: number) => apply1('Concat', xs, { axis });
export const transpose = (x: Value, perm: number[]) => apply1('Transpose', [x], { perm });
export const unsqueeze = (x: Value, axes: number[]) => apply1('Unsqueeze', [x, constI64(axes, undefined, 'axes')]);
export const squeeze = (x: Value, axes: number[]) => apply1('Squeeze', [x, constI64(axes, undefined, 'axes')]);
export const expand = (x: Value, shape: number[]) => apply1('Expand', [x, constI64(shape, undefined, 'shape')]);
export const slice = (x: Value, starts: number[], ends: number[], axes: number[], steps?: number[]) =>
  apply1('Slice', [x, constI64(starts, undefined, 'starts'), constI64(ends, undefined, 'ends'), constI64(axes, undefined, 'axes'), steps ? constI64(steps, undefined, 'steps') : null]);
export const reduceSum = (x: Value, axes: number[], keepdims = true) =>
  apply1('ReduceSum', [x, constI64(axes, undefined, 'axes')], { keepdims: keepdims ? 1 : 0 });
export const reduceMean = (x: Value, axes: number[], keepdims = true) =>
  apply1('ReduceMean', [x], { axes, keepdims: keepdims ? 1 : 0 });
export const reduceMax = (x: Value, axes: number[], keepdims = true) =>
  apply1('ReduceMax', [x], { axes, keepdims: keepdims ? 1 : 0 });

defineOp('Shape', {
  infer: (c) => [{ dtype: 'int64', shape: [c.in(0).rank] }],
  nondifferentiable: true,
});

// Gathers here read shapes and indices; they carry no gradient.
defineOp('Gather', {
  nondifferentiable: true,
  attrTypes: { axis: 'int' },
  infer: (c) => {
    const [x, idx] = [c.in(0), c.in(1)];
    const axis = normAxis((c.attrs.axis as number) ?? 0, x.rank);
    return [{ dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)] }];
  },
});

export const shapeOf = (x: Value) => apply1('Shape', [x]);
export const gather = (x: Value, indices: Value, axis = 0) => apply1('Gather', [x, indices], { axis });
