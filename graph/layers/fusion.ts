// High-level fusion (paper §5.3): abstract visual features meet the attributes multiplicatively.
import type { Value } from '../core/ir.ts';
import { mul, tanh } from '../ops/index.ts';
import type { LayerCtx } from './context.ts';
import { linear } from './dense.ts';

/** tanh(W_img f + b) ⊙ tanh(W_aux aux + b). */
export function highLevelFusion(ctx: LayerCtx, features: Value, aux: Value, dim: number): Value {
  return mul(tanh(linear(ctx, 'img', features, dim)), tanh(linear(ctx, 'aux', aux, dim)));
}
