// Backward compatibility of saved model configs, in one place. Model cards and checkpoints keep
// the config they were written with; a field added since (its `legacy` entry in CONFIG_FIELDS)
// is missing there and means what the model did before the field existed.
import { CONFIG_FIELDS, CONFIG_FIELD_NAMES, type ModelConfig } from './config-schema.ts';

/** A config as an older version saved it: every field that came later may be missing. */
export type SavedConfig = Omit<ModelConfig, keyof typeof LEGACY> & Partial<Pick<ModelConfig, keyof typeof LEGACY>>;

const LEGACY = Object.fromEntries(CONFIG_FIELD_NAMES.filter((k) => CONFIG_FIELDS[k].legacy).map((k) => [k, CONFIG_FIELDS[k].legacy!])) as {
  [K in keyof ModelConfig]?: NonNullable<(typeof CONFIG_FIELDS)[K]['legacy']>;
};

/** The current config a saved one means: each later field that is missing gets the value its absence meant. */
export function upgradeConfig(saved: SavedConfig): ModelConfig {
  const cfg = { ...saved } as Record<string, unknown>;
  for (const [k, legacy] of Object.entries(LEGACY)) if (cfg[k] === undefined) cfg[k] = legacy.absent;
  return cfg as unknown as ModelConfig;
}

/**
 * The config as a checkpoint's resume identity records it: a field added since checkpoints
 * carried an identity is left out while it has the value the older runs had, so their
 * checkpoints hash the same and still resume; a run that uses the field is another model.
 */
export function configIdentity(cfg: ModelConfig): Partial<ModelConfig> {
  const id: Record<string, unknown> = { ...cfg };
  for (const [k, legacy] of Object.entries(LEGACY)) if (legacy.identityOmits?.(cfg)) delete id[k];
  return id as Partial<ModelConfig>;
}
