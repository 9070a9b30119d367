// Parameterised building blocks: 3×3 convolution and fully connected layers (PyTorch layouts).
import type { Value } from '../core/ir.ts';
import { conv, gemm } from '../ops/index.ts';
import type { ParamStore } from '../core/params.ts';
import { createParam, type LayerCtx } from './context.ts';

/** A 3×3 (or k×k) conv whose `weight` and `bias` are named after the current scope. */
export function conv2d(ctx: LayerCtx, x: Value, cout: number, kernel = 3): Value {
  const cin = x.shape[1] as number;
  const fanIn = cin * kernel * kernel;
  const w = createParam(ctx, 'weight', [cout, cin, kernel, kernel], { kind: 'he', fanIn });
  const b = createParam(ctx, 'bias', [cout], { kind: 'zeros' });
  const p = (kernel - 1) / 2;
  return conv(x, w, b, { pads: [p, p, p, p] });
}

/** A fully connected layer; `name` is its part within the current scope ("fc1" in "head"). */
export function linear(ctx: LayerCtx, name: string, x: Value, out: number, opts: { zeroInit?: boolean } = {}): Value {
  const fanIn = x.shape[1] as number;
  const init = opts.zeroInit ? ({ kind: 'zeros' } as const) : ({ kind: 'uniform', fanIn } as const);
  const w = createParam(ctx, `${name}.weight`, [out, fanIn], init);
  const b = createParam(ctx, `${name}.bias`, [out], opts.zeroInit ? { kind: 'zeros' } : { kind: 'uniform', fanIn });
  return gemm(x, w, b, { transB: true });
}

/** The weight and bias of the conv2d or linear layer whose full name is `layer`. */
export function denseParams(params: ParamStore, layer: string): { weight: Value; bias: Value } {
  const get = (part: string) => {
    const v = params.values.get(`${layer}.${part}`);
    if (!v) throw new Error(`the model has no parameter ${layer}.${part}`);
    return v;
  };
  return { weight: get('weight'), bias: get('bias') };
}
