// Attribute crossing: the cross layer of Wang et al., "Deep & Cross Network for Ad Click
// Predictions" (2017), c ← c₀ ⊙ (W c + b) + c, on a chosen subset of the aux columns. One layer
// gives every pair of attribute levels its own weight (colour × month, catchphrase × age, …); in
// the paper's model attributes meet each other only through one tanh projection. Zero-initialised,
// so an untrained cross passes the attributes through unchanged.
import { constant, type Value } from '../core/ir.ts';
import { add, matmul, mul, sub } from '../ops/index.ts';
import type { LayerCtx } from './context.ts';
import { linear } from './dense.ts';

/** `aux` [N, D] with its `columns` crossed `layers` times; the other columns pass through. */
export function attributeCross(ctx: LayerCtx, aux: Value, layers: number, columns: number[]): Value {
  const D = aux.shape[1] as number;
  const d = columns.length;
  // Constant 0/1 matrices pick the columns out and put them back (Gather has no scatter twin here).
  const pick = new Float32Array(D * d);
  const put = new Float32Array(d * D);
  columns.forEach((col, j) => {
    pick[col * d + j] = 1;
    put[j * D + col] = 1;
  });
  const c0 = matmul(aux, constant('float32', [D, d], pick, 'pick'));
  let c = c0;
  for (let k = 0; k < layers; k++) c = add(mul(c0, linear(ctx, `cross${k + 1}`, c, d, { zeroInit: true })), c);
  return add(aux, matmul(sub(c, c0), constant('float32', [d, D], put, 'put')));
}
