// The VGG backbone, with conditional batch norm after the first conv of the chosen blocks.
import type { Value } from '../ir.ts';
import { maxPool, relu, scoped } from '../ops/index.ts';
import type { LayerCtx } from '../layers/context.ts';
import { conv2d } from '../layers/dense.ts';
import { batchNorm, conditionalBatchNorm } from '../layers/norm.ts';
import { stageChannels, VGG_BLOCKS, type ModelConfig } from './config.ts';

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
      const name = `vgg.conv${b + 1}_${j + 1}`;
      x = scoped(name, () => conv2d(ctx, name, x, channels[b]));
      if (aux && cfg.cbnPlacement[b] === 1 && j === 0) {
        const cbn = `cbn${b + 1}`;
        x = scoped(cbn, () => conditionalBatchNorm(ctx, cbn, x, aux, cfg.cbnHidden));
      } else if (cfg.backboneNorm === 'batch') {
        const bn = `vgg.bn${b + 1}_${j + 1}`;
        x = scoped(bn, () => batchNorm(ctx, bn, x));
      }
      x = relu(x);
    }
    stages.push(x);
    x = maxPool(x, 2);
  });
  return { out: x, stages };
}
