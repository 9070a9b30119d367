// The dataset manifest contract between the data pipeline and `ort-train`: a directory holding
// dataset.json and one JSONL (or Parquet) file per split. `readManifest` checks every row and reports each
// problem with file, line and reason; it never drops a row quietly.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { dirname, join } from 'node:path';
import type { AuxAttribute, AuxSchema } from '../../runtime/schema.ts';
import { writeFileAtomic } from '../../runtime/atomic-write.ts';
import { escapesDir } from './paths.ts';
import { readRegularFileSync } from '../../runtime/files.ts';

/** Bounds on what is read whole: dataset.json is small; a JSONL split must fit one JS string. */
const MAX_DATASET_JSON_BYTES = 16 << 20;
const MAX_JSONL_BYTES = 512 << 20;

/** A manifest file's text, refused (as a ManifestError naming it) unless a regular file within `maxBytes`. */
function readManifestText(file: string, maxBytes: number, missing: string): string {
  return readRegularFileSync(file, maxBytes, (what) => {
    throw new ManifestError([`${file}: ${what === 'not found' ? missing : what}`]);
  }, 'a manifest file (large splits: use Parquet)').toString('utf8');
}

export const DATASET_FORMAT = 'm2fn-dataset/1';
export const HISTOGRAM_BINS = 10;

export type DatasetTarget = 'ctr' | 'histogram';
export type SplitName = 'train' | 'test';

export interface DatasetJson {
  format: typeof DATASET_FORMAT;
  auxSchema: AuxSchema;
  target: DatasetTarget;
  splits: Record<SplitName, string>;
  source: Record<string, unknown>;
}

export interface DatasetRow {
  id: string;
  /** Relative to the dataset directory. */
  image: string;
  attributes: Record<string, string | number>;
  ctr?: number;
  histogram?: number[];
  impressions?: number;
  clicks?: number;
  /** Synthetic ground-truth CTR (known only for generated worlds). */
  truth?: number;
}

export interface LoadedSplit {
  dir: string;
  dataset: DatasetJson;
  split: SplitName;
  rows: DatasetRow[];
}

export class ManifestError extends Error {
  constructor(readonly problems: string[]) {
    const shown = problems.slice(0, 20).join('\n  ');
    super(`invalid dataset (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${shown}${problems.length > 20 ? `\n  … and ${problems.length - 20} more` : ''}`);
    this.name = 'ManifestError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validate the parsed dataset.json; returns the problems found (empty = valid). */
export function checkDatasetJson(file: string, v: unknown): string[] {
  const p: string[] = [];
  if (!isObject(v)) return [`${file}: not a JSON object`];
  if (v.format !== DATASET_FORMAT) p.push(`${file}: format must be "${DATASET_FORMAT}" (got ${JSON.stringify(v.format)})`);
  if (v.target !== 'ctr' && v.target !== 'histogram') p.push(`${file}: target must be "ctr" or "histogram" (got ${JSON.stringify(v.target)})`);
  if (!isObject(v.splits) || typeof v.splits.train !== 'string' || typeof v.splits.test !== 'string') p.push(`${file}: splits must name "train" and "test" files`);
  else
    for (const split of ['train', 'test'] as const) {
      const why = escapesDir(v.splits[split] as string);
      if (why) p.push(`${file}: split "${split}" path ${JSON.stringify(v.splits[split])} ${why}; it must stay inside the dataset directory`);
    }
  if (!isObject(v.source)) p.push(`${file}: source must be an object`);
  const s = v.auxSchema;
  if (!isObject(s) || typeof s.name !== 'string' || !Array.isArray(s.attributes)) p.push(`${file}: auxSchema must have a name and an attributes array`);
  else
    s.attributes.forEach((a: unknown, i: number) => {
      if (!isObject(a) || typeof a.name !== 'string') return p.push(`${file}: auxSchema.attributes[${i}] has no name`);
      if (a.kind === 'categorical' && !(Array.isArray(a.levels) && a.levels.length > 0 && a.levels.every((l) => typeof l === 'string')))
        p.push(`${file}: categorical attribute "${a.name}" needs a non-empty string array of levels`);
      else if (a.kind === 'text' && !(Number.isInteger(a.dim) && (a.dim as number) > 0)) p.push(`${file}: text attribute "${a.name}" needs a positive integer dim`);
      else if (a.kind !== 'categorical' && a.kind !== 'text' && a.kind !== 'numeric') p.push(`${file}: attribute "${a.name}" has unknown kind ${JSON.stringify(a.kind)}`);
    });
  return p;
}

function checkAttribute(where: string, a: AuxAttribute, value: unknown): string | null {
  switch (a.kind) {
    case 'categorical':
      if (typeof value !== 'string') return `${where}: attribute "${a.name}" must be a string level (got ${JSON.stringify(value)})`;
      if (!a.levels.includes(value) && a.unknown === undefined) return `${where}: attribute "${a.name}" has unknown level ${JSON.stringify(value)} (levels: ${a.levels.join(', ')})`;
      return null;
    case 'text':
      return typeof value === 'string' ? null : `${where}: text attribute "${a.name}" must be a string (got ${JSON.stringify(value)})`;
    case 'numeric':
      return typeof value === 'number' && Number.isFinite(value) ? null : `${where}: numeric attribute "${a.name}" must be a finite number (got ${JSON.stringify(value)})`;
  }
}

/** Check one parsed row; returns its problems. `imageExists` is memoised by the caller. */
export function checkRow(where: string, row: unknown, dataset: DatasetJson, imageExists: (rel: string) => boolean): string[] {
  const p: string[] = [];
  if (!isObject(row)) return [`${where}: row is not a JSON object`];
  if (typeof row.id !== 'string' || row.id === '') p.push(`${where}: id must be a non-empty string`);
  if (typeof row.image !== 'string' || row.image === '') p.push(`${where}: image must be a path string`);
  else if (escapesDir(row.image)) p.push(`${where}: image path "${row.image}" ${escapesDir(row.image)}; it must stay inside the dataset directory`);
  else if (!imageExists(row.image)) p.push(`${where}: image file "${row.image}" does not exist`);
  if (!isObject(row.attributes)) p.push(`${where}: attributes must be an object`);
  else {
    const known = new Map(dataset.auxSchema.attributes.map((a) => [a.name, a]));
    for (const name of Object.keys(row.attributes)) if (!known.has(name)) p.push(`${where}: unknown attribute "${name}" (schema "${dataset.auxSchema.name}" has ${[...known.keys()].join(', ')})`);
    for (const a of dataset.auxSchema.attributes) {
      if (!(a.name in row.attributes)) p.push(`${where}: attribute "${a.name}" is missing`);
      else {
        const e = checkAttribute(where, a, row.attributes[a.name]);
        if (e) p.push(e);
      }
    }
  }
  const nonNegative = (k: string, integer: boolean) => {
    const v = row[k];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) p.push(`${where}: ${k} must be a non-negative ${integer ? 'integer' : 'finite number'} (got ${JSON.stringify(v)})`);
  };
  nonNegative('impressions', true);
  nonNegative('clicks', true);
  // A CTR over no impressions is undefined, and a zero weight for every row makes training NaN.
  if (row.impressions === 0) p.push(`${where}: impressions must be a positive integer (got 0): a row's CTR needs at least one impression`);
  if (typeof row.clicks === 'number' && typeof row.impressions === 'number' && row.clicks > row.impressions) p.push(`${where}: clicks (${row.clicks}) exceed impressions (${row.impressions})`);
  if (row.truth !== undefined && !(typeof row.truth === 'number' && row.truth >= 0 && row.truth <= 1)) p.push(`${where}: truth must be a number in [0, 1] (got ${JSON.stringify(row.truth)})`);
  if (dataset.target === 'ctr') {
    if (typeof row.ctr !== 'number' || !Number.isFinite(row.ctr) || row.ctr < 0 || row.ctr > 1) p.push(`${where}: ctr target must be a number in [0, 1] (got ${JSON.stringify(row.ctr)})`);
  } else {
    const h = row.histogram;
    if (!Array.isArray(h) || h.length !== HISTOGRAM_BINS) p.push(`${where}: histogram target must be an array of ${HISTOGRAM_BINS} numbers`);
    else if (!h.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0)) p.push(`${where}: histogram has a NaN, infinite or negative bin: ${JSON.stringify(h)}`);
    else if (!(h.reduce((a: number, b: number) => a + b, 0) > 0)) p.push(`${where}: histogram sums to zero`);
  }
  return p;
}

export function readDatasetJson(dir: string): DatasetJson {
  const file = join(dir, 'dataset.json');
  const text = readManifestText(file, MAX_DATASET_JSON_BYTES, `not found (is "${dir}" a dataset directory?)`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ManifestError([`${file}: not valid JSON: ${(e as Error).message}`]);
  }
  const problems = checkDatasetJson(file, v);
  if (problems.length) throw new ManifestError(problems);
  return v as DatasetJson;
}

/** Read and check one JSONL split. Throws ManifestError listing every problem (file:line: reason). */
export function readManifest(dir: string, split: SplitName): LoadedSplit {
  const { dataset, file } = splitFile(dir, split);
  if (file.endsWith('.parquet')) throw new ManifestError([`${file}: a Parquet split — read it with loadManifest()`]);
  return checkRows(dir, dataset, split, jsonlEntries(file));
}

/**
 * Read and check one split, JSONL or Parquet (by the split file's extension). Parquet rows have
 * the JSONL rows' fields as columns, with `attributes` a struct column; int64 values become
 * numbers. Problems name the file and the row number (1-based).
 */
export async function loadManifest(dir: string, split: SplitName): Promise<LoadedSplit> {
  const { dataset, file } = splitFile(dir, split);
  return checkRows(dir, dataset, split, await fileEntries(file));
}

/**
 * A manifest file outside a dataset directory (e.g. `ort-train --validation file:PATH`), JSONL or
 * Parquet, checked against `dataset`'s schema and target; image paths are relative to the file's
 * folder. Loaded as a test split.
 */
export async function loadManifestFile(file: string, dataset: DatasetJson): Promise<LoadedSplit> {
  if (!existsSync(file) || !statSync(file).isFile()) throw new ManifestError([`${file}: manifest file not found`]);
  return checkRows(dirname(file), dataset, 'test', await fileEntries(file));
}

type Entry = { where: string; row?: unknown; error?: string };

async function fileEntries(file: string): Promise<Entry[]> {
  return file.endsWith('.parquet') ? parquetEntries(file) : jsonlEntries(file);
}

function jsonlEntries(file: string): Entry[] {
  return readManifestText(file, MAX_JSONL_BYTES, 'file not found')
    .split('\n')
    .map((line, i) => ({ line, where: `${file}:${i + 1}` }))
    .filter((e) => e.line.trim() !== '')
    .map(({ line, where }) => {
      try {
        return { where, row: JSON.parse(line) as unknown };
      } catch (e) {
        return { where, error: `not valid JSON: ${(e as Error).message}` };
      }
    });
}

async function parquetEntries(file: string): Promise<Entry[]> {
  let objects: Record<string, unknown>[];
  try {
    objects = (await parquetReadObjects({ file: await asyncBufferFromFile(file) })) as Record<string, unknown>[];
  } catch (e) {
    throw new ManifestError([`${file}: not a readable Parquet file: ${(e as Error).message}`]);
  }
  const plain = (v: unknown): unknown =>
    typeof v === 'bigint' ? Number(v) : Array.isArray(v) ? v.map(plain) : isObject(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) : v;
  return objects.map((o, i) => {
    // Absent optional fields come back as null columns; JSONL rows would simply lack them.
    const row = Object.fromEntries(Object.entries(plain(o) as Record<string, unknown>).filter(([, v]) => v !== null));
    return { where: `${file}: row ${i + 1}`, row: row as unknown };
  });
}

function splitFile(dir: string, split: SplitName) {
  const dataset = readDatasetJson(dir); // refuses split paths that leave `dir`
  const file = join(dir, dataset.splits[split]);
  if (!existsSync(file) || !statSync(file).isFile()) throw new ManifestError([`${file}: split "${split}" file not found`]);
  return { dataset, file };
}

/**
 * What identifies a dataset's content for resuming a run: sha256 of dataset.json and of each split
 * file (and of an outside validation manifest), so a checkpoint is never resumed on other data.
 * Images are named by the rows; their bytes are not hashed.
 */
export function datasetIdentity(dir: string, extraFiles: string[] = []): Record<string, string> {
  const hash = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
  const id: Record<string, string> = { dataset: hash(join(dir, 'dataset.json')) };
  for (const split of ['train', 'test'] as const) {
    const { file } = splitFile(dir, split);
    id[split] = hash(file);
  }
  // A missing extra file is reported by its own reader, with its own message.
  extraFiles.forEach((f, i) => (id[`extra${i}`] = existsSync(f) ? hash(f) : 'missing'));
  return id;
}

function checkRows(dir: string, dataset: DatasetJson, split: SplitName, entries: Entry[]): LoadedSplit {
  const seen = new Map<string, boolean>();
  const imageExists = (rel: string) => {
    let ok = seen.get(rel);
    if (ok === undefined) {
      const abs = join(dir, rel);
      ok = existsSync(abs) && statSync(abs).isFile();
      seen.set(rel, ok);
    }
    return ok;
  };
  const problems: string[] = [];
  const rows: DatasetRow[] = [];
  const ids = new Set<string>();
  for (const { where, row, error } of entries) {
    if (error) {
      problems.push(`${where}: ${error}`);
      continue;
    }
    const p = checkRow(where, row, dataset, imageExists);
    const id = isObject(row) ? row.id : undefined;
    if (typeof id === 'string') {
      if (ids.has(id)) p.push(`${where}: duplicate id "${id}"`);
      ids.add(id);
    }
    if (p.length) problems.push(...p);
    else rows.push(row as unknown as DatasetRow);
  }
  if (problems.length) throw new ManifestError(problems);
  return { dir, dataset, split, rows };
}

/** Write dataset.json (atomically). Split files are written by their producers. */
export function writeDatasetJson(dir: string, d: Omit<DatasetJson, 'format'>): void {
  const full: DatasetJson = { format: DATASET_FORMAT, ...d };
  const problems = checkDatasetJson(join(dir, 'dataset.json'), full);
  if (problems.length) throw new ManifestError(problems);
  writeFileAtomic(join(dir, 'dataset.json'), JSON.stringify(full, null, 2) + '\n');
}

/** JSONL text of rows (one JSON object per line). */
export function toJsonl(rows: DatasetRow[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
}
