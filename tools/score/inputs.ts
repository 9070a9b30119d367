// What `m2fn score` scores: creatives (images with their own attributes, such as title or
// category) crossed with contexts (audience, time, placement). Creatives come from image files,
// folders, a list file, or a CSV/JSONL table with an `image` column; contexts from `k=v,…` flags or
// a CSV/JSONL table. Table cells arrive as text, so values are typed by the model's schema here;
// every problem names the file and line.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import type { Attributes } from '../../runtime/attributes.ts';
import type { AuxSchema } from '../../runtime/schema.ts';
import { openDuck, queryObjects, sqlString } from '../data/duck.ts';
import { imageArgs } from '../data/image-args.ts';

export interface Creative {
  image: string;
  attributes: Attributes;
  /** Where it came from, for errors: "ads.csv:4", or the image path. */
  source: string;
}

export interface Context {
  attributes: Attributes;
  /** `k=v,…` as given, or "contexts.csv:3". */
  label: string;
}

export class ScoreInputError extends Error {
  override name = 'ScoreInputError';
}

const IMAGE = /\.(png|jpe?g|webp|gif|avif|tiff?)$/i;
type Table = { rows: Record<string, unknown>[]; where: (i: number) => string };

/** Rows of a .csv (header line; every cell text, empty cells absent) or .jsonl (one object a line). */
async function readTable(path: string): Promise<Table> {
  if (/\.jsonl$/i.test(path)) {
    const lines = readFileSync(path, 'utf8').split('\n');
    const rows: Record<string, unknown>[] = [];
    const lineOf: number[] = [];
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch (e) {
        throw new ScoreInputError(`${path}:${i + 1}: not valid JSON (${(e as Error).message})`);
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ScoreInputError(`${path}:${i + 1}: expected a JSON object, got ${line.slice(0, 60)}`);
      rows.push(v as Record<string, unknown>);
      lineOf.push(i + 1);
    });
    return { rows, where: (i) => `${path}:${lineOf[i]}` };
  }
  // DuckDB is the project's CSV reader (tools/data/ingest.ts); all_varchar keeps "01" as written.
  const duck = await openDuck({ threads: 1 });
  try {
    const raw = await queryObjects(duck.conn, `SELECT * FROM read_csv(${sqlString(path)}, header=true, all_varchar=true)`).catch((e: Error) => {
      throw new ScoreInputError(`${path}: cannot read as CSV: ${e.message.split('\n')[0]}`);
    });
    const rows = raw.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null && v !== '')));
    return { rows, where: (i) => `${path}:${i + 2}` };
  } finally {
    duck.close();
  }
}

/** Text values (table cells, flags, query strings) → the schema's types: numeric attributes become numbers; the rest stay as given. */
export function typeAttributes(schema: AuxSchema | null, rec: Record<string, unknown>, where: string): Attributes {
  // Built by fromEntries, not `out[k] = v`: assigning a key "__proto__" would set the prototype
  // and drop the key silently, where the runtime must see it (and refuse it as unknown).
  return Object.fromEntries(
    Object.entries(rec).map(([k, v]) => {
      const a = schema?.attributes.find((x) => x.name === k);
      if (a?.kind !== 'numeric' || typeof v !== 'string') return [k, v];
      const x = Number(v);
      if (v.trim() === '' || !Number.isFinite(x)) throw new ScoreInputError(`${where}: attribute "${k}" must be a number, got ${JSON.stringify(v)}`);
      return [k, x];
    }),
  );
}

/** Image files, folders (their images, sorted), list files (.txt: one path a line) and CSV/JSONL tables. */
export async function readCreatives(args: string[], schema: AuxSchema | null): Promise<Creative[]> {
  const out: Creative[] = [];
  for (const arg of args) {
    if (!existsSync(arg)) throw new ScoreInputError(`${arg}: no such file or directory`);
    const ext = extname(arg).toLowerCase();
    const rel = (p: string) => (isAbsolute(p) ? p : resolve(dirname(arg), p));
    if (statSync(arg).isDirectory() || IMAGE.test(arg)) {
      for (const image of imageArgs([arg])) out.push({ image, attributes: {}, source: image });
    } else if (ext === '.txt') {
      readFileSync(arg, 'utf8').split('\n').forEach((line, i) => {
        if (line.trim() !== '') out.push({ image: rel(line.trim()), attributes: {}, source: `${arg}:${i + 1}` });
      });
    } else if (ext === '.csv' || ext === '.jsonl') {
      const { rows, where } = await readTable(arg);
      rows.forEach((row, i) => {
        const { image, ...attrs } = row;
        if (typeof image !== 'string' || image === '') throw new ScoreInputError(`${where(i)}: no "image" (the creative's image file, relative to ${arg})`);
        out.push({ image: rel(image), attributes: typeAttributes(schema, attrs, where(i)), source: where(i) });
      });
    } else {
      throw new ScoreInputError(`${arg}: not an image, a folder, a list (.txt) or a table (.csv, .jsonl)`);
    }
  }
  for (const c of out) {
    if (!existsSync(c.image) || !statSync(c.image).isFile()) throw new ScoreInputError(`${c.source}: image file not found: ${c.image}`);
  }
  if (out.length === 0) throw new ScoreInputError(`no creatives found in ${args.join(', ')}`);
  return out;
}

/** `gender=1,age=3,hour=20` → a context. Values are text; the schema types numerics. */
export function parseContext(flag: string, schema: AuxSchema | null): Context {
  const rec: Record<string, string> = {};
  for (const part of flag.split(',')) {
    const at = part.indexOf('=');
    if (at <= 0) throw new ScoreInputError(`\`context\` ${JSON.stringify(flag)}: expected name=value pairs separated by commas, got ${JSON.stringify(part)}`);
    const key = part.slice(0, at).trim();
    if (key in rec) throw new ScoreInputError(`\`context\` ${JSON.stringify(flag)}: "${key}" given twice`);
    rec[key] = part.slice(at + 1).trim();
  }
  return { attributes: typeAttributes(schema, rec, `\`context\` ${JSON.stringify(flag)}`), label: flag };
}

export async function readContexts(path: string, schema: AuxSchema | null): Promise<Context[]> {
  if (!existsSync(path)) throw new ScoreInputError(`${path}: no such file`);
  if (!/\.(csv|jsonl)$/i.test(path)) throw new ScoreInputError(`${path}: contexts must be a .csv or .jsonl table of attributes`);
  const { rows, where } = await readTable(path);
  return rows.map((row, i) => ({ attributes: typeAttributes(schema, row, where(i)), label: where(i) }));
}

export interface ScoreRow {
  image: string;
  /** The creative's place in the input, for errors. */
  source: string;
  /** Index into the contexts. */
  context: number;
  attributes: Attributes;
}

/** Every creative with every context; an attribute set by both is an error, not a silent override. */
export function cross(creatives: Creative[], contexts: Context[]): ScoreRow[] {
  return creatives.flatMap((c) =>
    contexts.map((ctx, context) => {
      const both = Object.keys(ctx.attributes).filter((k) => k in c.attributes);
      if (both.length) throw new ScoreInputError(`${c.source} and context ${ctx.label} both set ${both.join(', ')}; set each attribute in one place`);
      return { image: c.image, source: c.source, context, attributes: { ...c.attributes, ...ctx.attributes } };
    }),
  );
}
