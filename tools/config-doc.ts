// The config table of docs/model.md, generated from the config schema, and the check that the
// schema, the CLIs' model options and the docs still say the same.
//   npx tsx tools/config-doc.ts --write   rewrites the table in docs/model.md
//   npx tsx tools/config-doc.ts --check   exits 1, naming each disagreement, when anything drifted
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { isDeepStrictEqual } from 'node:util';
import { writeFileAtomic } from '../runtime/atomic-write.ts';
import { PRESETS } from '../graph/models/config.ts';
import { CONFIG_FIELDS, MODEL_KINDS, type FieldSpec, type ModelConfig } from '../graph/models/config-schema.ts';
import { loadSchema, withModelOptions } from './model-options.ts';

export type ConfigFields = { [K in keyof ModelConfig]: FieldSpec<ModelConfig[K]> };

export const DOC_PATH = fileURLToPath(new URL('../docs/model.md', import.meta.url));
const START = '<!-- config-table: generated from graph/models/config-schema.ts by `npx tsx tools/config-doc.ts --write` -->';
const END = '<!-- /config-table -->';

const shown = (v: unknown) => (typeof v === 'number' ? String(v) : `\`${JSON.stringify(v)?.replace(/^"|"$/g, '') ?? 'undefined'}\``);

/** The default column: the m2fn value, then the family members and presets that differ. */
function defaultText(k: keyof ModelConfig, spec: FieldSpec<unknown>): string {
  if (spec.docDefault) return spec.docDefault;
  const base = spec.default('m2fn');
  const others = MODEL_KINDS.filter((m) => m !== 'm2fn' && !isDeepStrictEqual(spec.default(m), base)).map((m) => `\`${m}\`: ${shown(spec.default(m))}`);
  const presets = Object.entries(PRESETS)
    .filter(([, p]) => k in p.overrides)
    .map(([name, p]) => `\`${name}\` preset: ${shown((p.overrides as Record<string, unknown>)[k])}`);
  const differs = [...others, ...presets];
  return `${shown(base)}${differs.length ? ` (${differs.join('; ')})` : ''}`;
}

/** The markdown table, one row per field in schema order. */
export function configTable(fields: ConfigFields): string {
  const rows = (Object.keys(fields) as (keyof ModelConfig)[]).map((k) => {
    const spec = fields[k] as FieldSpec<unknown>;
    const flags = spec.flags?.length ? spec.flags.map((f) => `\`--${f.name}\``).join(', ') : '—';
    return `| \`${k}\` | ${defaultText(k, spec)} | ${flags} | ${spec.doc} |`;
  });
  return ['| field | default | flag | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/** The doc with its table replaced by `table`; a doc without both markers is refused. */
export function spliceConfigTable(doc: string, table: string): string {
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${DOC_PATH}: the config table's markers are missing (${START} … ${END})`);
  return `${doc.slice(0, a + START.length)}\n${table}\n${doc.slice(b)}`;
}

/** The yargs options a CLI declares, as yargs reports them. */
interface DeclaredOptions {
  keys: string[];
  defaults: Record<string, unknown>;
  choices: Record<string, unknown>;
  types: Record<string, string>;
}

/** The model options withModelOptions declares on a fresh parser. */
export function declaredModelOptions(): DeclaredOptions {
  // getOptions() is yargs's own record of what was declared (not in its type definitions).
  type Declared = { key: Record<string, unknown>; default: Record<string, unknown>; choices: Record<string, unknown>; string: string[]; number: string[]; boolean: string[] };
  const o = (withModelOptions(yargs([])) as unknown as { getOptions(): Declared }).getOptions();
  const types: Record<string, string> = {};
  for (const t of ['string', 'number', 'boolean'] as const) for (const k of o[t]) types[k] = t;
  const keys = Object.keys(o.key).filter((k) => k !== 'help' && k !== 'version');
  return { keys, defaults: o.default, choices: o.choices, types };
}

/**
 * Every disagreement between a schema and what is derived from it: the options a CLI declares
 * (names, types, choices, defaults), the default a flag's own default stands for versus the
 * field's default, and the docs table. Empty: nothing drifted.
 */
export function configDrift(fields: ConfigFields, declared: DeclaredOptions, doc: string): string[] {
  const out: string[] = [];
  const flags = (Object.keys(fields) as (keyof ModelConfig)[]).flatMap((k) => (fields[k].flags ?? []).map((f) => ({ f, k })));
  const names = new Set(flags.map(({ f }) => f.name));
  for (const key of declared.keys) if (!names.has(key)) out.push(`--${key} is a model option the schema does not have`);
  for (const { f, k } of flags) {
    const at = `--${f.name} (${f.sets ?? k})`;
    if (!declared.keys.includes(f.name)) {
      out.push(`${at} is in the schema but not a model option`);
      continue;
    }
    if (!isDeepStrictEqual(declared.defaults[f.name], f.default)) out.push(`${at}: the option's default ${JSON.stringify(declared.defaults[f.name])} is not the schema's ${JSON.stringify(f.default)}`);
    if (!isDeepStrictEqual(declared.choices[f.name], f.choices)) out.push(`${at}: the option's choices ${JSON.stringify(declared.choices[f.name])} are not the schema's ${JSON.stringify(f.choices)}`);
    if (!f.choices && declared.types[f.name] !== f.type) out.push(`${at}: the option is a ${declared.types[f.name]}, the schema's flag a ${f.type}`);
    // A flag's own default must mean the field's default, or a CLI user gets another model than a library caller.
    if (f.default !== undefined) {
      const meant = k === 'auxSchema' ? loadSchema(String(f.default)) : f.parse ? f.parse(String(f.default)) : f.default;
      const field = fields[k].default('m2fn') as unknown;
      const want = f.sets ? (field as Record<string, unknown>)[f.sets.split('.')[1]] : field;
      if (!isDeepStrictEqual(meant, want)) out.push(`${at}: the flag's default ${JSON.stringify(f.default)} means ${JSON.stringify(meant)}, but the field's default is ${JSON.stringify(want)}`);
    }
  }
  let documented: string | undefined;
  try {
    documented = spliceConfigTable(doc, configTable(fields));
  } catch (e) {
    out.push((e as Error).message);
  }
  if (documented !== undefined && documented !== doc) out.push(`${DOC_PATH}: the config table is not the schema's (run npx tsx tools/config-doc.ts --write)`);
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const doc = readFileSync(DOC_PATH, 'utf8');
  if (process.argv.includes('--write')) {
    writeFileAtomic(DOC_PATH, spliceConfigTable(doc, configTable(CONFIG_FIELDS)));
    console.log(`wrote the config table of ${DOC_PATH}`);
  } else {
    const drift = configDrift(CONFIG_FIELDS, declaredModelOptions(), doc);
    for (const d of drift) console.error(d);
    process.exit(drift.length ? 1 : 0);
  }
}
