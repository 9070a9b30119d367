// The MLP head, with dropout and the input-step fusion (aux concatenated before the last FC).
import { input, type Value } from '../core/ir.ts';
import { concat, mul, relu } from '../ops/index.ts';
import type { LayerCtx } from './context.ts';
import { linear } from './dense.ts';

/** Inverted dropout whose keep-mask (0 or 1/(1−p)) is fed per step, so masks follow the trainer's seeded RNG. */
export function dropout(ctx: LayerCtx, x: Value, p: number): Value {
  if (!ctx.training || p <= 0) return x;
  const mask = input(`dropout_mask_${ctx.dropoutMasks.length}`, 'float32', x.shape);
  ctx.dropoutMasks.push(mask);
  return mul(x, mask);
}

export interface HeadOpts {
  hidden: number[];
  outputs: number;
  dropout: number;
  /** Concatenated to the last hidden layer when given (input-step fusion). */
  auxBeforeLast: Value | null;
}

/** The head's last layer, the one that gives the logits. */
export const HEAD_OUT = 'out';

/** Returns the logits (regression value, or the 10 pre-softmax scores). */
export function mlpHead(ctx: LayerCtx, v: Value, o: HeadOpts): Value {
  o.hidden.forEach((h, k) => {
    v = relu(linear(ctx, `fc${k + 1}`, v, h));
  });
  v = dropout(ctx, v, o.dropout);
  if (o.auxBeforeLast) v = concat([v, o.auxBeforeLast], 1);
  return linear(ctx, HEAD_OUT, v, o.outputs);
}
