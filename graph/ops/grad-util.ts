// Helpers the gradient rules share: undoing broadcasting, and sizes of symbolic dims at run time.
// They sit below the op families (elementwise.ts, tensor.ts, nn.ts), whose rules all use them, so
// they emit the few ops they need through the builder by name rather than importing the
// families' builders — which would make elementwise ↔ tensor an import cycle.
import { ONNX_DTYPE } from '../core/dtype.ts';
import { constF32, constI64, type Value } from '../core/ir.ts';
import { apply1 } from '../core/builder.ts';

const reshape = (v: Value, shape: number[]) => apply1('Reshape', [v, constI64(shape, undefined, 'shape')]);
const shapeOf = (v: Value) => apply1('Shape', [v]);
const mul = (a: Value, b: Value) => apply1('Mul', [a, b]);

/** Sums a broadcast gradient back down to `target`'s shape. */
export function unbroadcast(grad: Value, target: Value): Value {
  const lead = grad.rank - target.rank;
  const axes: number[] = [];
  for (let i = 0; i < grad.rank; i++) {
    const t = i < lead ? undefined : target.shape[i - lead];
    if (t === undefined || (t === 1 && grad.shape[i] !== 1)) axes.push(i);
  }
  if (!axes.length) return grad;
  const summed = apply1('ReduceSum', [grad, constI64(axes, undefined, 'axes')], { keepdims: 1 });
  return lead > 0 || summed.rank !== target.rank ? reshapeLike(summed, target) : summed;
}

/** Reshape to `target`'s shape, copying symbolic dims from the same position (0 in ONNX terms). */
export function reshapeLike(v: Value, target: Value): Value {
  const spec = target.shape.map((d, i) => (typeof d === 'number' ? d : v.shape[i] === d ? 0 : -1));
  return reshape(v, spec);
}

/** Broadcasts `v` up to `like`'s run-time shape (Expand with a Shape input). */
export function expandLike(v: Value, like: Value): Value {
  return apply1('Expand', [v, shapeOf(like)]);
}

/** Product of x's dims on `axes` as a float scalar, reading symbolic dims at run time. */
export function countOf(x: Value, axes: number[]): Value {
  let staticPart = 1;
  let dynamic: Value | null = null;
  for (const a of axes) {
    const d = x.shape[a];
    if (typeof d === 'number') staticPart *= d;
    else {
      const size = apply1('Gather', [shapeOf(x), constI64([a], [])], { axis: 0 });
      const dim = apply1('Cast', [size], { to: ONNX_DTYPE.float32 });
      dynamic = dynamic ? mul(dynamic, dim) : dim;
    }
  }
  return dynamic ? mul(dynamic, constF32(staticPart)) : constF32(staticPart);
}
