// Parameterised building blocks: 3×3 convolution and fully connected layers (PyTorch layouts).
import type { Value } from '../ir.ts';
import { conv, gemm } from '../ops/index.ts';
import type { LayerCtx } from './context.ts';

export function conv2d(ctx: LayerCtx, name: string, x: Value, cout: number, kernel = 3): Value {
  const cin = x.shape[1] as number;
  const fanIn = cin * kernel * kernel;
  const w = ctx.params.create(`${name}.weight`, [cout, cin, kernel, kernel], { kind: 'he', fanIn });
  const b = ctx.params.create(`${name}.bias`, [cout], { kind: 'zeros' });
  const p = (kernel - 1) / 2;
  return conv(x, w, b, { pads: [p, p, p, p] });
}

export function linear(ctx: LayerCtx, name: string, x: Value, out: number, opts: { zeroInit?: boolean } = {}): Value {
  const fanIn = x.shape[1] as number;
  const init = opts.zeroInit ? ({ kind: 'zeros' } as const) : ({ kind: 'uniform', fanIn } as const);
  const w = ctx.params.create(`${name}.weight`, [out, fanIn], init);
  const b = ctx.params.create(`${name}.bias`, [out], opts.zeroInit ? { kind: 'zeros' } : { kind: 'uniform', fanIn });
  return gemm(x, w, b, { transB: true });
}
