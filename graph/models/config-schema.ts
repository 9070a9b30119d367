// The model config's fields, each described once: its default, its check, its CLI flag and help,
// its line in docs/model.md, and what a config saved before the field existed meant. config.ts
// derives defaultConfig and validateConfig from this table, tools/model-options.ts the yargs
// options and the flags → config mapping, tools/config-doc.ts the docs table; a drift test
// (test/graph/config-schema.test.ts) holds them together.
import { auxDim, REAL_AD_SCHEMA, type AuxSchema } from '../../runtime/schema.ts';

export const MODEL_KINDS = ['m2fn', 'image-only', 'concat', 'nima'] as const;
export const BACKBONES = ['vgg19', 'vgg16', 'vgg11'] as const;
/** `batch`: batch norm after every conv that has no CBN (torchvision's vgg19_bn layout). */
export const BACKBONE_NORMS = ['none', 'batch'] as const;
export const OUTPUTS = ['regression', 'distribution'] as const;
export const LINKS = ['identity', 'logit'] as const;

export type ModelKind = (typeof MODEL_KINDS)[number];
export type Backbone = (typeof BACKBONES)[number];
export type BackboneNorm = (typeof BACKBONE_NORMS)[number];
export type Link = (typeof LINKS)[number];

/** The fusion steps that are on; meanings in CONFIG_FIELDS.modules. */
export interface Modules {
  aux: boolean;
  low: boolean;
  att: boolean;
  high: boolean;
}

/** One M2FN-family model; each field's meaning, default and check are its row of CONFIG_FIELDS. */
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
  auxCross: number;
  auxCrossAttributes: string[] | null;
  output: (typeof OUTPUTS)[number];
  link: Link;
  dropout: number;
  bnEps: number;
  bnMomentum: number;
  auxSchema: AuxSchema | null;
  seed: number;
}

/** Convolutions per VGG block. */
export const VGG_BLOCKS: Record<Backbone, number[]> = {
  vgg19: [2, 2, 4, 4, 4],
  vgg16: [2, 2, 3, 3, 3],
  vgg11: [1, 1, 2, 2, 2],
};

/** The fusion steps each family member has unless told otherwise. */
export const PRESET_MODULES: Record<ModelKind, Modules> = {
  m2fn: { aux: true, low: true, att: true, high: true },
  'image-only': { aux: false, low: false, att: false, high: false },
  concat: { aux: true, low: false, att: false, high: false },
  nima: { aux: false, low: false, att: false, high: false },
};

export type FlagGroup = 'Model:' | 'Fusion steps:' | 'Sizes:';

/** One command-line flag that sets (part of) a field. */
export interface Flag {
  /** The flag without its dashes. */
  name: string;
  /** The dotted path it sets (`modules.aux`); absent: the whole field. */
  sets?: string;
  type: 'string' | 'number' | 'boolean';
  choices?: readonly string[];
  describe?: string;
  group: FlagGroup;
  /**
   * What yargs fills in when the flag is not given, as the flag is spelt. Absent: the default
   * depends on the model or the preset, so the flag stays unset and the preset's value holds.
   */
  default?: string | number | boolean;
  /** The flag's text to the field's value (absent: the value as yargs parsed it). */
  parse?: (raw: string) => unknown;
}

/** A problem with a field's value: its text, or a narrower path and its text. */
export type Problem = string | { at: string; problem: string };

export interface FieldSpec<V> {
  /** The meaning column of docs/model.md's config table. */
  doc: string;
  /** The default for a family member on the Real-Ad preset (config.ts PRESETS may change it). */
  default: (model: ModelKind) => V;
  /** The default column of the docs table where the value itself would not say it. */
  docDefault?: string;
  /** What is wrong with the value (undefined: nothing), seeing the whole config for rules that span fields. */
  check?: (value: V, cfg: ModelConfig) => Problem | undefined;
  flags?: Flag[];
  /**
   * The field came after cards and checkpoints were first written: a saved config without it
   * means `absent` (config-compat.ts). `identityOmits`: the resume identity leaves the field out
   * then, so checkpoints written before the field existed still resume.
   */
  legacy?: { absent: V; identityOmits?: (cfg: ModelConfig) => boolean };
}

const oneOf = (choices: readonly string[]) => (v: string) => (choices.includes(v) ? undefined : `"${v}" must be one of ${choices.join(', ')}`);
const positiveInteger = (v: number) => (Number.isInteger(v) && v >= 1 ? undefined : `${v} must be a positive integer`);

/** A comma-separated list of integers ("" for none). */
export function parseIntegers(raw: string): number[] {
  if (raw.trim() === '') return [];
  return raw.split(',').map((t) => {
    const n = Number(t.trim());
    if (!Number.isInteger(n)) throw new Error(`"${t}" is not an integer (got "${raw}")`);
    return n;
  });
}

const moduleFlag = (name: keyof Modules, describe: string): Flag => ({ name, sets: `modules.${name}`, type: 'boolean', describe: `${describe} (default: per model)`, group: 'Fusion steps:' });

/** Every field of ModelConfig, in the order of the docs table and the help text. */
export const CONFIG_FIELDS: { [K in keyof ModelConfig]: FieldSpec<ModelConfig[K]> } = {
  model: {
    doc: '`m2fn`, `image-only` (vanilla VGG, no aux), `concat` (M1FN: aux concatenated before the last FC), `nima` (image-only + dropout + 10-way softmax)',
    default: (model) => model,
    docDefault: '`m2fn`',
    check: oneOf(MODEL_KINDS),
    flags: [{ name: 'model', type: 'string', choices: MODEL_KINDS, default: 'm2fn', describe: 'model family member', group: 'Model:' }],
  },
  backbone: {
    doc: '`vgg19`, `vgg16`, `vgg11`',
    default: () => 'vgg19',
    check: oneOf(BACKBONES),
    flags: [{ name: 'backbone', type: 'string', choices: BACKBONES, default: 'vgg19', group: 'Model:' }],
  },
  backboneNorm: {
    doc: "`none` (the paper's plain VGG) or `batch`: batch norm after every conv that has no CBN, as torchvision's `vgg19_bn`; beyond the paper, for training from scratch (see below)",
    default: () => 'none',
    check: oneOf(BACKBONE_NORMS),
    flags: [{ name: 'backbone-norm', type: 'string', choices: BACKBONE_NORMS, default: 'none', describe: 'batch: batch norm after every conv without CBN (VGG19-BN; trains more reliably from scratch)', group: 'Model:' }],
    legacy: { absent: 'none' },
  },
  size: {
    doc: 'input height = width, at least 32; each 2×2 pool floors (112 → 3×3 final map)',
    default: () => 224,
    // Five 2×2 pools floor the map: 112 → 3×3 (as PyTorch's MaxPool2d does).
    check: (v) => (Number.isInteger(v) && v >= 32 ? undefined : `${v} must be an integer of at least 32`),
    flags: [{ name: 'size', type: 'number', default: 224, describe: 'input height = width (at least 32; 224 in the paper)', group: 'Model:' }],
  },
  width: {
    doc: 'channel multiplier: a VGG stage of `c` channels gets `max(8, floor(c * width))`',
    default: () => 1,
    check: (v) => (v > 0 ? undefined : `${v} must be positive`),
    flags: [{ name: 'width', type: 'number', default: 1, describe: 'channel-width multiplier (e.g. 0.25 for CPU experiments)', group: 'Model:' }],
  },
  modules: {
    doc: '`aux` (the input step: attributes enter the model, concatenated before the last FC unless `high`), `low` (CBN), `att` (spatial attention on the last feature map), `high` (tanh-product fusion of image and aux embeddings)',
    default: (model) => ({ ...PRESET_MODULES[model] }),
    docDefault: 'all on for `m2fn`',
    check: (m) => ((m.low || m.att || m.high) && !m.aux ? { at: 'modules.aux', problem: 'low, att and high fusion need the aux input step' } : undefined),
    flags: [
      moduleFlag('aux', 'input step: use auxiliary attributes'),
      moduleFlag('low', 'low-level fusion: conditional batch norm'),
      moduleFlag('att', 'spatial attention'),
      moduleFlag('high', 'high-level tanh-product fusion'),
    ],
  },
  cbnPlacement: {
    doc: "per VGG block: 1 = CBN after that block's first conv (paper Table 5)",
    default: () => [1, 0, 0, 0, 0],
    check: (v, cfg) => {
      if (v.length !== 5 || v.some((b) => b !== 0 && b !== 1)) return `[${v}] must be five 0/1 flags`;
      if (cfg.modules.low && !v.includes(1)) return `[${v}] has no block, but low-level fusion is on`;
    },
    flags: [{ name: 'cbn-placement', type: 'string', default: '1,0,0,0,0', parse: parseIntegers, describe: 'CBN after the first conv of these VGG blocks (paper Table 5)', group: 'Fusion steps:' }],
  },
  cbnHidden: {
    doc: 'hidden size of the CBN delta MLPs',
    default: () => 256,
    check: positiveInteger,
    flags: [{ name: 'cbn-hidden', type: 'number', describe: 'CBN delta-MLP hidden size (default 256; 64 with the AVA schema)', group: 'Sizes:' }],
  },
  attHidden: {
    doc: 'hidden size of the attention MLP',
    default: () => 512,
    check: positiveInteger,
    flags: [{ name: 'att-hidden', type: 'number', default: 512, group: 'Sizes:' }],
  },
  fuseDim: {
    doc: 'size of the high-level fusion embedding',
    default: () => 512,
    check: positiveInteger,
    flags: [{ name: 'fuse-dim', type: 'number', default: 512, group: 'Sizes:' }],
  },
  headHidden: {
    doc: 'hidden sizes of the MLP head',
    default: () => [4096, 4096],
    check: (v) => (v.every((h) => Number.isInteger(h) && h >= 1) ? undefined : `[${v}] must be positive integers`),
    flags: [{ name: 'head-hidden', type: 'string', default: '4096,4096', parse: parseIntegers, describe: 'hidden sizes of the MLP head, comma-separated ("" for none)', group: 'Sizes:' }],
  },
  auxCross: {
    doc: 'cross layers on the attributes before anything reads them; beyond the paper (see below)',
    default: () => 0,
    check: (v, cfg) => {
      if (!Number.isInteger(v) || v < 0) return `${v} must be a non-negative integer`;
      if (v > 0 && !cfg.modules.aux) return 'needs the aux input step (modules.aux)';
    },
    flags: [{ name: 'aux-cross', type: 'number', default: 0, describe: 'cross layers on the attributes before any fusion (0: the paper; 1 weighs every pair of attribute levels)', group: 'Fusion steps:' }],
    legacy: { absent: 0, identityOmits: (cfg) => !cfg.auxCross },
  },
  auxCrossAttributes: {
    doc: 'the attributes the cross layers see (`null`: all)',
    default: () => null,
    check: (v, cfg) => {
      if (!(cfg.auxCross > 0) || !v || !cfg.auxSchema) return undefined;
      const names = cfg.auxSchema.attributes.map((a) => a.name);
      const unknown = v.filter((n) => !names.includes(n));
      if (unknown.length) return `${unknown.map((n) => `"${n}"`).join(', ')} not in schema "${cfg.auxSchema.name}" (${names.join(', ')})`;
      if (!v.length) return 'is empty (null crosses every attribute)';
    },
    flags: [{ name: 'aux-cross-attributes', type: 'string', parse: (raw) => raw.split(',').map((t) => t.trim()), describe: 'the attributes the cross layers see, comma-separated (default: all)', group: 'Fusion steps:' }],
    legacy: { absent: null, identityOmits: (cfg) => !cfg.auxCross },
  },
  output: {
    doc: '`regression` (1 output, `ctr`) or `distribution` (10-way softmax, `dist`)',
    default: (model) => (model === 'nima' ? 'distribution' : 'regression'),
    check: oneOf(OUTPUTS),
    flags: [{ name: 'output', type: 'string', choices: OUTPUTS, describe: 'regression (1 output) or 10-way distribution (default: per model)', group: 'Model:' }],
  },
  link: {
    doc: "regression only: `logit` trains the head on the CTR's log-odds and outputs `sigmoid(head)`, still a CTR; `identity` predicts the CTR itself (the paper); beyond the paper (see below)",
    default: () => 'identity',
    check: (v, cfg) => oneOf(LINKS)(v) ?? (v === 'logit' && cfg.output !== 'regression' ? 'logit needs the regression output (a distribution output is already a softmax)' : undefined),
    flags: [{ name: 'link', type: 'string', choices: LINKS, default: 'identity', describe: "regression: logit trains on the CTR's log-odds (needs impressions) and outputs sigmoid(head), still a CTR", group: 'Model:' }],
    legacy: { absent: 'identity', identityOmits: (cfg) => cfg.link !== 'logit' },
  },
  dropout: {
    doc: 'dropout before the output layer, training graphs only',
    default: (model) => (model === 'nima' ? 0.75 : 0),
    check: (v) => (v >= 0 && v < 1 ? undefined : `${v} must be in [0, 1)`),
    flags: [{ name: 'dropout', type: 'number', describe: 'dropout before the output layer (default 0; nima 0.75)', group: 'Model:' }],
  },
  bnEps: {
    doc: 'batch-norm epsilon',
    default: () => 1e-5,
  },
  bnMomentum: {
    doc: "how far a training step moves the (C)BN running statistics toward the batch's (PyTorch's convention), training graphs only",
    default: () => 0.1,
    check: (v) => (v >= 0 && v <= 1 ? undefined : `${v} must be in [0, 1]`),
    flags: [{ name: 'bn-momentum', type: 'number', default: 0.1, describe: 'running-statistics momentum (PyTorch convention)', group: 'Model:' }],
    // Runs record it beside the model in their identity, as they did while it was a training option.
    legacy: { absent: 0.1, identityOmits: () => true },
  },
  auxSchema: {
    doc: 'the attributes and their encoding (`runtime/schema.ts`); `null` when `modules.aux` is off',
    default: (model) => (PRESET_MODULES[model].aux ? REAL_AD_SCHEMA : null),
    docDefault: 'the preset\'s (`real-ad`)',
    check: (v, cfg) => {
      if (cfg.modules.aux && !v) return 'is missing, but modules.aux is on';
      if (cfg.modules.aux && v && auxDim(v) < 1) return `"${v.name}" has no attributes`;
    },
    // A preset name or a file: tools/model-options.ts reads it (the graph builder reads no files for its config).
    flags: [{ name: 'aux-schema', type: 'string', default: 'real-ad', describe: 'attribute schema: real-ad, ava, a JSON file, or FILE#key (ort-train: the dataset’s)', group: 'Model:' }],
  },
  seed: {
    doc: 'weight-initialisation seed',
    default: () => 0,
    flags: [{ name: 'seed', type: 'number', default: 0, describe: 'weight-initialisation seed', group: 'Model:' }],
  },
};

export const CONFIG_FIELD_NAMES = Object.keys(CONFIG_FIELDS) as (keyof ModelConfig)[];
