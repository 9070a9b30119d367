// Model configurations: the M2FN family and its baselines, with the paper's defaults.
import { attributeOffsets } from '../../runtime/attributes.ts';
import { attributeDim, auxDim, REAL_AD_SCHEMA, type AuxSchema } from '../../runtime/schema.ts';

export type ModelKind = 'm2fn' | 'image-only' | 'concat' | 'nima';
export type Backbone = 'vgg19' | 'vgg16' | 'vgg11';
/** `batch`: batch norm after every conv that has no CBN (torchvision's vgg19_bn layout). */
export type BackboneNorm = 'none' | 'batch';
export type Link = 'identity' | 'logit';

export interface Modules {
  /** Input step: attributes enter the model at all (concatenated before the last FC unless `high`). */
  aux: boolean;
  /** Low-level fusion: conditional batch norm. */
  low: boolean;
  /** Spatial attention on the last feature map. */
  att: boolean;
  /** High-level fusion: tanh-product of image and aux embeddings. */
  high: boolean;
}

export interface ModelConfig {
  model: ModelKind;
  backbone: Backbone;
  backboneNorm: BackboneNorm;
  size: number;
  width: number;
  modules: Modules;
  cbnPlacement: number[];
  cbnHidden: number;
  attHidden: number;
  fuseDim: number;
  headHidden: number[];
  /** Cross layers on the attributes before they enter any fusion step (0: the paper's model; layers/cross.ts). */
  auxCross: number;
  /** The attributes the cross layers see; null: all of them. */
  auxCrossAttributes: string[] | null;
  output: 'regression' | 'distribution';
  /**
   * Regression only. `logit`: the head predicts the CTR's log-odds, on which every effect of an
   * ad's context adds up, and the model outputs sigmoid(head), still a CTR. `identity`: the head
   * predicts the CTR itself (the paper).
   */
  link: Link;
  dropout: number;
  bnEps: number;
  auxSchema: AuxSchema | null;
  seed: number;
}

/** Convolutions per VGG block. */
export const VGG_BLOCKS: Record<Backbone, number[]> = {
  vgg19: [2, 2, 4, 4, 4],
  vgg16: [2, 2, 3, 3, 3],
  vgg11: [1, 1, 2, 2, 2],
};
export const VGG_CHANNELS = [64, 128, 256, 512, 512];

export const PRESET_MODULES: Record<ModelKind, Modules> = {
  m2fn: { aux: true, low: true, att: true, high: true },
  'image-only': { aux: false, low: false, att: false, high: false },
  concat: { aux: true, low: false, att: false, high: false },
  nima: { aux: false, low: false, att: false, high: false },
};

export function defaultConfig(model: ModelKind = 'm2fn'): ModelConfig {
  return {
    model,
    backbone: 'vgg19',
    backboneNorm: 'none',
    size: 224,
    width: 1,
    modules: { ...PRESET_MODULES[model] },
    cbnPlacement: [1, 0, 0, 0, 0],
    cbnHidden: 256,
    attHidden: 512,
    fuseDim: 512,
    headHidden: [4096, 4096],
    auxCross: 0,
    auxCrossAttributes: null,
    output: model === 'nima' ? 'distribution' : 'regression',
    link: 'identity',
    dropout: model === 'nima' ? 0.75 : 0,
    bnEps: 1e-5,
    auxSchema: PRESET_MODULES[model].aux ? REAL_AD_SCHEMA : null,
    seed: 0,
  };
}

export const stageChannels = (cfg: ModelConfig) => VGG_CHANNELS.map((c) => Math.max(8, Math.floor(c * cfg.width)));

export function configAuxDim(cfg: ModelConfig): number {
  return cfg.modules.aux && cfg.auxSchema ? auxDim(cfg.auxSchema) : 0;
}

/** The aux columns the cross layers see: those of `auxCrossAttributes` (all when null), in schema order. */
export function crossedColumns(cfg: ModelConfig): number[] {
  const schema = cfg.auxSchema!;
  const offsets = attributeOffsets(schema);
  const crossed = (name: string) => !cfg.auxCrossAttributes || cfg.auxCrossAttributes.includes(name);
  return schema.attributes.flatMap((a, i) => (crossed(a.name) ? Array.from({ length: attributeDim(a) }, (_, j) => offsets[i] + j) : []));
}

/** Rejects combinations that cannot be built, naming the field. */
export function validateConfig(config: ModelConfig): ModelConfig {
  // Configs saved before backboneNorm existed (model cards, checkpoints) mean the plain VGG, those
  // saved before auxCross existed the paper's uncrossed attributes, and before link its CTR head.
  const cfg: ModelConfig = { ...config, backboneNorm: config.backboneNorm ?? 'none', auxCross: config.auxCross ?? 0, auxCrossAttributes: config.auxCrossAttributes ?? null, link: config.link ?? 'identity' };
  const bad = (msg: string): never => {
    throw new Error(`model config: ${msg}`);
  };
  if (!VGG_BLOCKS[cfg.backbone]) bad(`unknown backbone "${cfg.backbone}" (vgg19, vgg16, vgg11)`);
  if (cfg.backboneNorm !== 'none' && cfg.backboneNorm !== 'batch') bad(`backboneNorm "${cfg.backboneNorm}" must be none or batch`);
  if (!PRESET_MODULES[cfg.model]) bad(`unknown model "${cfg.model}" (m2fn, image-only, concat, nima)`);
  // Five 2×2 pools floor the map: 112 → 3×3 (as PyTorch's MaxPool2d does).
  if (!Number.isInteger(cfg.size) || cfg.size < 32) bad(`size ${cfg.size} must be an integer of at least 32`);
  if (!(cfg.width > 0)) bad(`width ${cfg.width} must be positive`);
  if (cfg.cbnPlacement.length !== 5 || cfg.cbnPlacement.some((b) => b !== 0 && b !== 1)) bad(`cbnPlacement [${cfg.cbnPlacement}] must be five 0/1 flags`);
  const m = cfg.modules;
  if ((m.low || m.att || m.high) && !m.aux) bad('low, att and high fusion need the aux input step (modules.aux)');
  if (m.aux && !cfg.auxSchema) bad('modules.aux is on but there is no aux schema');
  if (m.aux && configAuxDim(cfg) < 1) bad('the aux schema has no attributes');
  if (m.low && !cfg.cbnPlacement.includes(1)) bad('low-level fusion is on but cbnPlacement has no block');
  for (const [k, v] of [['cbnHidden', cfg.cbnHidden], ['attHidden', cfg.attHidden], ['fuseDim', cfg.fuseDim]] as const) {
    if (!Number.isInteger(v) || v < 1) bad(`${k} ${v} must be a positive integer`);
  }
  if (cfg.headHidden.some((h) => !Number.isInteger(h) || h < 1)) bad(`headHidden [${cfg.headHidden}] must be positive integers`);
  if (!Number.isInteger(cfg.auxCross) || cfg.auxCross < 0) bad(`auxCross ${cfg.auxCross} must be a non-negative integer`);
  if (cfg.auxCross > 0 && !m.aux) bad('auxCross needs the aux input step (modules.aux)');
  if (cfg.auxCross > 0 && cfg.auxCrossAttributes) {
    const names = cfg.auxSchema!.attributes.map((a) => a.name);
    const unknown = cfg.auxCrossAttributes.filter((n) => !names.includes(n));
    if (unknown.length) bad(`auxCrossAttributes: ${unknown.map((n) => `"${n}"`).join(', ')} not in schema "${cfg.auxSchema!.name}" (${names.join(', ')})`);
    if (!cfg.auxCrossAttributes.length) bad('auxCrossAttributes is empty (null crosses every attribute)');
  }
  if (cfg.output !== 'regression' && cfg.output !== 'distribution') bad(`output "${cfg.output}" must be regression or distribution`);
  if (cfg.link !== 'identity' && cfg.link !== 'logit') bad(`link "${cfg.link}" must be identity or logit`);
  if (cfg.link === 'logit' && cfg.output !== 'regression') bad('link logit needs the regression output (a distribution output is already a softmax)');
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) bad(`dropout ${cfg.dropout} must be in [0, 1)`);
  return cfg;
}
