// M2FN (paper Fig. 2): VGG with low-level fusion → spatial attention → high-level fusion → head.
// The baselines are the same graph with steps switched off (see config.ts PRESET_MODULES).
import type { Value } from '../core/ir.ts';
import { input } from '../core/ir.ts';
import { build, flatten, scoped, sigmoid, softmax } from '../ops/index.ts';
import { spatialAttention } from '../layers/attention.ts';
import type { LayerCtx } from '../layers/context.ts';
import { attributeCross } from '../layers/cross.ts';
import { highLevelFusion } from '../layers/fusion.ts';
import { mlpHead } from '../layers/head.ts';
import { ParamStore } from '../core/params.ts';
import { configAuxDim, crossedColumns, validateConfig, type ModelConfig } from './config.ts';
import { MODULE } from './modules.ts';
import { vggBackbone } from './vgg.ts';

export interface BuiltModel {
  config: ModelConfig;
  image: Value;
  aux: Value | null;
  /** Regression value [N,1] (the CTR's log-odds under link logit), or pre-softmax scores [N,10]. */
  logits: Value;
  /** What inference returns: `ctr` [N,1] or `dist` [N,10]. */
  output: Value;
  /** Attention weights [N, s·s] when attention is on. */
  attention: Value | null;
  /** Each VGG block's last activation before its pool, [N, C_b, S/2^b, S/2^b] (b = 0..4). */
  stages: Value[];
  /** The high-level fusion's image branch tanh(W_img f + b) [N, fuseDim], when that step is on. */
  fuseImage: Value | null;
  params: ParamStore;
  ctx: LayerCtx;
}

export interface BuildOptions {
  training?: boolean;
  /** Take the weight arrays of this build of the same config (ParamStore) instead of new ones. */
  paramsFrom?: ParamStore;
}

/** Builds into the graph being built, if any, else into a new builder of its own. */
export function buildModel(config: ModelConfig, opts: BuildOptions = {}): BuiltModel {
  return build(() => buildInto(config, opts));
}

function buildInto(config: ModelConfig, opts: BuildOptions): BuiltModel {
  const cfg = validateConfig(config);
  const ctx: LayerCtx = {
    params: new ParamStore(cfg.seed, opts.paramsFrom),
    training: opts.training ?? false,
    bnMomentum: cfg.bnMomentum,
    bnEps: cfg.bnEps,
    statUpdates: new Map(),
    dropoutMasks: [],
  };
  const m = cfg.modules;
  const image = input('image', 'float32', ['N', 3, cfg.size, cfg.size]);
  const auxIn = m.aux ? input('aux', 'float32', ['N', configAuxDim(cfg)]) : null;
  const aux = auxIn && cfg.auxCross > 0 ? scoped(MODULE.aux, () => attributeCross(ctx, auxIn, cfg.auxCross, crossedColumns(cfg))) : auxIn;

  const backbone = vggBackbone(ctx, cfg, image, m.low ? aux : null); //      low-level fusion inside
  let x = backbone.out;
  let attention: Value | null = null;
  if (m.att && aux) {
    ({ out: x, alpha: attention } = scoped(MODULE.att, () => spatialAttention(ctx, x, aux, cfg.attHidden)));
  }
  let v = flatten(x);
  let fuseImage: Value | null = null;
  if (m.high && aux) {
    v = scoped(MODULE.fuse, () => highLevelFusion(ctx, v, aux, cfg.fuseDim));
    fuseImage = v.producer!.inputs[0]; // the product's first factor (fusion.ts)
  }
  const logits = scoped(MODULE.head, () =>
    mlpHead(ctx, v, {
      hidden: cfg.headHidden,
      outputs: cfg.output === 'regression' ? 1 : 10,
      dropout: cfg.dropout,
      auxBeforeLast: m.aux && !m.high ? aux : null, //             input-step fusion
    }),
  );
  const output = cfg.output === 'distribution' ? softmax(logits, 1) : cfg.link === 'logit' ? sigmoid(logits) : logits;
  return { config: cfg, image, aux: auxIn, logits, output, attention, stages: backbone.stages, fuseImage, params: ctx.params, ctx };
}
