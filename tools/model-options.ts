// The model options of every CLI that builds a model (m2fn-build-graph, ort-train), derived from
// the config schema (graph/models/config-schema.ts), and their mapping to a ModelConfig.
import { readRegularFileSync } from '../runtime/files.ts';
import type { Argv, Options } from 'yargs';
import { validateSchema } from '../runtime/attributes.ts';
import { FieldError } from '../runtime/errors.ts';
import { SCHEMA_PRESETS, type AuxSchema } from '../runtime/schema.ts';
import { defaultConfig, presetFor, type ModelConfig, type ModelKind } from '../graph/models/config.ts';
import { CONFIG_FIELD_NAMES, CONFIG_FIELDS, type Flag } from '../graph/models/config-schema.ts';

/** Every model flag with the config field (or dotted path inside one) it sets. */
export const MODEL_FLAGS: (Flag & { field: string })[] = CONFIG_FIELD_NAMES.flatMap((k) => (CONFIG_FIELDS[k].flags ?? []).map((f) => ({ ...f, field: f.sets ?? k })));

/** A flag as yargs declares it. */
export function yargsOption(f: Flag): Options {
  return {
    // yargs shows choices in place of a type
    ...(f.choices ? { choices: f.choices } : { type: f.type }),
    ...(f.default !== undefined ? { default: f.default } : {}),
    ...(f.describe ? { describe: f.describe } : {}),
    group: f.group,
  };
}

/** The parsed model flags, as yargs names them (`cbn-placement`, `aux`). */
export type ModelArgs = Record<string, string | number | boolean | undefined> & { model: ModelKind; 'aux-schema': string };

/** Declares every model flag; argv's type names only the one the CLIs read themselves. */
export function withModelOptions<T>(y: Argv<T>): Argv<T & { 'aux-schema': string }> {
  let out = y.parserConfiguration({ 'duplicate-arguments-array': false }); // a repeated flag: the last one wins
  for (const f of MODEL_FLAGS) out = out.option(f.name, yargsOption(f));
  return out as Argv<T & { 'aux-schema': string }>;
}

/** A preset name, a schema JSON file, or FILE#key for a schema inside a JSON file (dataset.json#auxSchema). */
export function loadSchema(spec: string): AuxSchema {
  if (SCHEMA_PRESETS[spec]) return SCHEMA_PRESETS[spec];
  const [file, key] = spec.split('#');
  if (key) {
    const json = readJson(file, spec);
    const inner = (json as Record<string, unknown>)?.[key];
    if (inner === undefined) throw new FieldError('auxSchema', `${spec}: ${file} has no "${key}"`);
    return validateSchema(inner, spec);
  }
  return validateSchema(readJson(spec, spec), spec);
}

function readJson(file: string, spec: string): unknown {
  // A bounded regular file: a FIFO or /dev/zero named by mistake is refused, not waited on.
  const text = readRegularFileSync(file, 16 << 20, (what) => {
    throw new FieldError('auxSchema', `"${spec}" is neither a preset (${Object.keys(SCHEMA_PRESETS).join(', ')}) nor a readable file (${file}: ${what})`);
  }, 'a schema').toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FieldError('auxSchema', `${spec}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * The config the flags ask for: the model's defaults on the preset its schema calls for, then
 * each flag that was given (or has a default of its own). The schema is the one flag read from
 * a file; it is kept only when the model reads attributes.
 */
export function configFromArgs(a: ModelArgs): ModelConfig {
  const schema = loadSchema(a['aux-schema']);
  const cfg = defaultConfig(a.model, presetFor(schema)) as unknown as Record<string, unknown>;
  for (const f of MODEL_FLAGS) {
    const raw = a[f.name];
    if (raw === undefined || f.field === 'auxSchema') continue;
    let value: unknown = raw;
    try {
      if (f.parse) value = f.parse(String(raw));
    } catch (e) {
      throw new FieldError(f.field, (e as Error).message);
    }
    const [field, inner] = f.field.split('.');
    if (inner) cfg[field] = { ...(cfg[field] as object), [inner]: value };
    else cfg[field] = value;
  }
  const config = cfg as unknown as ModelConfig;
  return { ...config, auxSchema: config.modules.aux ? schema : null };
}
