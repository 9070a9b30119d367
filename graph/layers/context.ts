// What every layer needs besides its inputs: where parameters come from and which mode it is in.
import type { Value } from '../core/ir.ts';
import { currentScope } from '../core/builder.ts';
import type { Init, ParamRole, ParamStore } from '../core/params.ts';

export interface LayerCtx {
  params: ParamStore;
  /** Training graphs use batch statistics and dropout; eval and inference graphs do not. */
  training: boolean;
  /** Running-statistic momentum, PyTorch convention: new = (1 - m) · running + m · batch. */
  bnMomentum: number;
  bnEps: number;
  /** Filled by training-mode norm layers: statistic parameter → its updated value. */
  statUpdates: Map<Value, Value>;
  /** Filled by dropout layers in training mode: mask inputs the trainer must feed. */
  dropoutMasks: Value[];
}

/**
 * A parameter named after the scope it is created in, so a layer's name is written once, where
 * the model opens its scope: `createParam(ctx, 'weight', …)` in scope "vgg.conv1_1" is
 * "vgg.conv1_1.weight" (nested scopes join with "."). Outside any scope the name is `local`.
 */
export function createParam(ctx: LayerCtx, local: string, shape: number[], init: Init, role?: ParamRole): Value {
  const scope = currentScope().replaceAll('/', '.');
  return ctx.params.create(scope ? `${scope}.${local}` : local, shape, init, role);
}
