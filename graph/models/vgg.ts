// The VGG backbone, with conditional batch norm after the first conv of the chosen blocks.
import type { Value } from '../core/ir.ts';
import { maxPool, relu, scoped } from '../ops/index.ts';
import type { LayerCtx } from '../layers/context.ts';
import { conv2d } from '../layers/dense.ts';
import { batchNorm, conditionalBatchNorm } from '../layers/norm.ts';
import { stageChannels, VGG_BLOCKS, type ModelConfig } from './config.ts';
import { bnScope, cbnScope, convScope } from './modules.ts';

/**
 * image [N,3,S,S] → features [N,C,S/32,S/32], and each block's last activation before its pool
 * (`stages`, what Grad-CAM explains and what the image-path diagnosis inspects). `aux` is null
 * when low-level fusion is off.
 * `backboneNorm: 'batch'` adds batch norm to each conv without CBN: a plain VGG19 trained from scratch
 * (no pretrained weights) can stall: some seeds never learn the image.
 */
export function vggBackbone(ctx: LayerCtx, cfg: ModelConfig, image: Value, aux: Value | null): { out: Value; stages: Value[] } {
  const channels = stageChannels(cfg);
  let x = image;
  const stages: Value[] = [];
  VGG_BLOCKS[cfg.backbone].forEach((convs, b) => {
    for (let j = 0; j < convs; j++) {
      x = scoped(convScope(b + 1, j + 1), () => conv2d(ctx, x, channels[b]));
      if (aux && cfg.cbnPlacement[b] === 1 && j === 0) {
        x = scoped(cbnScope(b + 1), () => conditionalBatchNorm(ctx, x, aux, cfg.cbnHidden));
      } else if (cfg.backboneNorm === 'batch') {
        x = scoped(bnScope(b + 1, j + 1), () => batchNorm(ctx, x));
      }
      x = relu(x);
    }
    stages.push(x);
    x = maxPool(x, 2);
  });
  return { out: x, stages };
}
