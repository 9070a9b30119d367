// Model configurations: the M2FN family and its baselines, with the paper's defaults. The fields
// themselves (defaults, checks, flags, docs) are in config-schema.ts; this module derives the
// default and the validation from them and names the presets.
import { attributeOffsets } from '../../runtime/attributes.ts';
import { FieldError } from '../../runtime/errors.ts';
import { attributeDim, auxDim, AVA_SCHEMA, REAL_AD_SCHEMA, type AuxSchema } from '../../runtime/schema.ts';
import { upgradeConfig, type SavedConfig } from './config-compat.ts';
import { CONFIG_FIELD_NAMES, CONFIG_FIELDS, type FieldSpec, type ModelConfig, type ModelKind } from './config-schema.ts';

export { PRESET_MODULES, VGG_BLOCKS } from './config-schema.ts';
export type { Backbone, BackboneNorm, Link, ModelConfig, ModelKind, Modules } from './config-schema.ts';

export const VGG_CHANNELS = [64, 128, 256, 512, 512];

/** A named starting point: the attribute schema a model reads and the fields that differ for it. */
export interface Preset {
  describe: string;
  auxSchema: AuxSchema;
  overrides: Partial<ModelConfig>;
}

export const PRESETS = {
  realAd: { describe: "the paper's Real-Ad model: its ad attributes, CBN hidden 256", auxSchema: REAL_AD_SCHEMA, overrides: {} },
  ava: { describe: "the paper's AVA model: tags as text, CBN hidden 64", auxSchema: AVA_SCHEMA, overrides: { cbnHidden: 64 } },
} satisfies Record<string, Preset>;
export type PresetName = keyof typeof PRESETS;

/** The preset a model reading `schema` starts from: AVA's for a schema named ava (the AVA dataset's own included), the Real-Ad one otherwise. */
export function presetFor(schema: AuxSchema): PresetName {
  return schema.name === 'ava' ? 'ava' : 'realAd';
}

/** A family member's config as the paper sets it up on the preset's data. */
export function defaultConfig(model: ModelKind = 'm2fn', preset: PresetName = 'realAd'): ModelConfig {
  const fields = Object.fromEntries(CONFIG_FIELD_NAMES.map((k) => [k, CONFIG_FIELDS[k].default(model)])) as unknown as ModelConfig;
  const p: Preset = PRESETS[preset];
  return { ...fields, ...p.overrides, auxSchema: fields.modules.aux ? p.auxSchema : null };
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

/**
 * The config, upgraded if an older version saved it (config-compat.ts), after every field's
 * check; a combination that cannot be built throws a FieldError naming the field.
 */
export function validateConfig(config: ModelConfig | SavedConfig): ModelConfig {
  const cfg = upgradeConfig(config);
  for (const k of CONFIG_FIELD_NAMES) {
    const spec = CONFIG_FIELDS[k] as FieldSpec<unknown>;
    const problem = spec.check?.(cfg[k], cfg);
    if (problem === undefined) continue;
    throw typeof problem === 'string' ? new FieldError(k, problem) : new FieldError(problem.at, problem.problem);
  }
  return cfg;
}
