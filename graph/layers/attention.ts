// Spatial attention (paper §5.2): where in the image should the attributes look?
import type { Value } from '../core/ir.ts';
import { add, conv, gemm, mul, relu, reshape, softmax, unsqueeze } from '../ops/index.ts';
import { createParam, type LayerCtx } from './context.ts';

/**
 * The paper tiles aux over H×W, concatenates it to the features and runs a per-position MLP
 * (hidden → 1 logit), then a softmax over positions. The first layer over [x; aux] is split
 * into an image part (a 1×1 conv) and an aux part (one matmul per sample, broadcast over
 * positions): the same function without materialising D × H × W tiled values.
 */
export function spatialAttention(ctx: LayerCtx, x: Value, aux: Value, hidden: number): { out: Value; alpha: Value } {
  const [C, H, W] = x.shape.slice(1) as number[];
  const D = aux.shape[1] as number;
  const fanIn = C + D;
  const wImg = createParam(ctx, 'fc1.weight_img', [hidden, C, 1, 1], { kind: 'uniform', fanIn });
  const wAux = createParam(ctx, 'fc1.weight_aux', [hidden, D], { kind: 'uniform', fanIn });
  const b1 = createParam(ctx, 'fc1.bias', [hidden], { kind: 'uniform', fanIn });
  const w2 = createParam(ctx, 'fc2.weight', [1, hidden, 1, 1], { kind: 'uniform', fanIn: hidden });
  const b2 = createParam(ctx, 'fc2.bias', [1], { kind: 'uniform', fanIn: hidden });

  const auxPart = unsqueeze(gemm(aux, wAux, null, { transB: true }), [2, 3]); // [N, hidden, 1, 1]
  const h = relu(add(conv(x, wImg, b1), auxPart)); // [N, hidden, H, W]
  const logits = reshape(conv(h, w2, b2), [0, H * W]); // [N, H·W]
  const alpha = softmax(logits, 1);
  return { out: mul(x, reshape(alpha, [0, 1, H, W])), alpha };
}
