// The model options shared by m2fn-build-graph and ort-train, and their mapping to a ModelConfig.
import { readRegularFileSync } from '../runtime/files.ts';
import type { Argv } from 'yargs';
import { validateSchema } from '../runtime/attributes.ts';
import { SCHEMA_PRESETS, type AuxSchema } from '../runtime/schema.ts';
import { defaultConfig, PRESET_MODULES, type Backbone, type BackboneNorm, type Link, type ModelConfig, type ModelKind } from '../graph/models/config.ts';

export function withModelOptions<T>(y: Argv<T>) {
  return y
    .parserConfiguration({ 'duplicate-arguments-array': false }) // a repeated flag: the last one wins
    .option('model', { choices: ['m2fn', 'image-only', 'concat', 'nima'] as const, default: 'm2fn' as const, describe: 'model family member', group: 'Model:' })
    .option('backbone', { choices: ['vgg19', 'vgg16', 'vgg11'] as const, default: 'vgg19' as const, group: 'Model:' })
    .option('backbone-norm', { choices: ['none', 'batch'] as const, default: 'none' as const, describe: 'batch: batch norm after every conv without CBN (VGG19-BN; trains more reliably from scratch)', group: 'Model:' })
    .option('size', { type: 'number', default: 224, describe: 'input height = width (at least 32; 224 in the paper)', group: 'Model:' })
    .option('width', { type: 'number', default: 1, describe: 'channel-width multiplier (e.g. 0.25 for CPU experiments)', group: 'Model:' })
    .option('aux', { type: 'boolean', describe: 'input step: use auxiliary attributes (default: per model)', group: 'Fusion steps:' })
    .option('low', { type: 'boolean', describe: 'low-level fusion: conditional batch norm (default: per model)', group: 'Fusion steps:' })
    .option('att', { type: 'boolean', describe: 'spatial attention (default: per model)', group: 'Fusion steps:' })
    .option('high', { type: 'boolean', describe: 'high-level tanh-product fusion (default: per model)', group: 'Fusion steps:' })
    .option('cbn-placement', { type: 'string', default: '1,0,0,0,0', describe: 'CBN after the first conv of these VGG blocks (paper Table 5)', group: 'Fusion steps:' })
    .option('aux-cross', { type: 'number', default: 0, describe: 'cross layers on the attributes before any fusion (0: the paper; 1 weighs every pair of attribute levels)', group: 'Fusion steps:' })
    .option('aux-cross-attributes', { type: 'string', describe: 'the attributes the cross layers see, comma-separated (default: all)', group: 'Fusion steps:' })
    .option('cbn-hidden', { type: 'number', describe: 'CBN delta-MLP hidden size (default 256; 64 with the AVA schema)', group: 'Sizes:' })
    .option('att-hidden', { type: 'number', default: 512, group: 'Sizes:' })
    .option('fuse-dim', { type: 'number', default: 512, group: 'Sizes:' })
    .option('head-hidden', { type: 'string', default: '4096,4096', describe: 'hidden sizes of the MLP head, comma-separated ("" for none)', group: 'Sizes:' })
    .option('output', { choices: ['regression', 'distribution'] as const, describe: 'regression (1 output) or 10-way distribution (default: per model)', group: 'Model:' })
    .option('link', { choices: ['identity', 'logit'] as const, default: 'identity' as const, describe: "regression: logit trains on the CTR's log-odds (needs impressions) and outputs sigmoid(head), still a CTR", group: 'Model:' })
    .option('dropout', { type: 'number', describe: 'dropout before the output layer (default 0; nima 0.75)', group: 'Model:' })
    .option('aux-schema', { type: 'string', default: 'real-ad', describe: 'attribute schema: real-ad, ava, a JSON file, or FILE#key (ort-train: the dataset’s)', group: 'Model:' })
    .option('seed', { type: 'number', default: 0, describe: 'weight-initialisation seed', group: 'Model:' });
}

export interface ModelArgs {
  model: ModelKind;
  backbone: Backbone;
  'backbone-norm': BackboneNorm;
  size: number;
  width: number;
  aux?: boolean;
  low?: boolean;
  att?: boolean;
  high?: boolean;
  'cbn-placement': string;
  'aux-cross': number;
  'aux-cross-attributes'?: string;
  'cbn-hidden'?: number;
  'att-hidden': number;
  'fuse-dim': number;
  'head-hidden': string;
  output?: 'regression' | 'distribution';
  link: Link;
  dropout?: number;
  'aux-schema': string;
  seed: number;
}

function ints(flag: string, s: string): number[] {
  if (s.trim() === '') return [];
  return s.split(',').map((t) => {
    const n = Number(t.trim());
    if (!Number.isInteger(n)) throw new Error(`--${flag}: "${t}" is not an integer (got "${s}")`);
    return n;
  });
}

/** A preset name, a schema JSON file, or FILE#key for a schema inside a JSON file (dataset.json#auxSchema). */
export function loadSchema(spec: string): AuxSchema {
  if (SCHEMA_PRESETS[spec]) return SCHEMA_PRESETS[spec];
  const [file, key] = spec.split('#');
  if (key) {
    const json = readJson(file, spec);
    const inner = (json as Record<string, unknown>)?.[key];
    if (inner === undefined) throw new Error(`--aux-schema ${spec}: ${file} has no "${key}"`);
    return validateSchema(inner, spec);
  }
  return validateSchema(readJson(spec, spec), spec);
}

function readJson(file: string, spec: string): unknown {
  // A bounded regular file: a FIFO or /dev/zero named by mistake is refused, not waited on.
  const text = readRegularFileSync(file, 16 << 20, (what) => {
    throw new Error(`--aux-schema: "${spec}" is neither a preset (${Object.keys(SCHEMA_PRESETS).join(', ')}) nor a readable file (${file}: ${what})`);
  }, 'a schema').toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`--aux-schema ${spec}: not valid JSON (${(e as Error).message})`);
  }
}

export function configFromArgs(a: ModelArgs): ModelConfig {
  const base = defaultConfig(a.model);
  const preset = PRESET_MODULES[a.model];
  const schema = loadSchema(a['aux-schema']);
  const modules = { aux: a.aux ?? preset.aux, low: a.low ?? preset.low, att: a.att ?? preset.att, high: a.high ?? preset.high };
  return {
    ...base,
    backbone: a.backbone,
    backboneNorm: a['backbone-norm'],
    size: a.size,
    width: a.width,
    modules,
    cbnPlacement: ints('cbn-placement', a['cbn-placement']),
    auxCross: a['aux-cross'],
    auxCrossAttributes: a['aux-cross-attributes'] === undefined ? null : a['aux-cross-attributes'].split(',').map((t) => t.trim()),
    cbnHidden: a['cbn-hidden'] ?? (schema.name === 'ava' ? 64 : 256),
    attHidden: a['att-hidden'],
    fuseDim: a['fuse-dim'],
    headHidden: ints('head-hidden', a['head-hidden']),
    output: a.output ?? base.output,
    link: a.link,
    dropout: a.dropout ?? base.dropout,
    auxSchema: modules.aux ? schema : null,
    seed: a.seed,
  };
}
