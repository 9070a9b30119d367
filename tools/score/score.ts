// Scoring creatives × contexts with a trained model (what `m2fn score` runs): the inputs read
// (inputs.ts), the image-derived attributes the model needs and the input lacks filled in
// (extract.ts), batches scored with the Node runtime, and the scores written to a CSV or JSONL
// file atomically.
import { resolve } from 'node:path';
import { writeFileAtomic } from '../../runtime/atomic-write.ts';
import { FieldError, M2fnInputError } from '../../runtime/errors.ts';
import type { ExecutionProvider } from '../../runtime/execution.ts';
import { createOcr } from '../../runtime/extract/ocr.ts';
import { load } from '../../runtime/node.ts';
import type { Score } from '../../runtime/results.ts';
import type { AuxSchema } from '../../runtime/schema.ts';
import { fillFromImages, type ExtractionCounts } from './extract.ts';
import { cross, parseContext, readContexts, readCreatives, ScoreInputError, type Context, type ScoreRow } from './inputs.ts';

export interface ScoreOptions {
  model: string;
  /** Image files, folders, .txt lists or .csv/.jsonl tables (inputs.ts). */
  creatives: string[];
  /** Contexts as name=value pairs, and/or a table of them. */
  context?: string[];
  contexts?: string;
  /** Where every score is written: .csv or .jsonl. */
  out?: string;
  /** Read domcol and ocr off the images where the model needs them and the input lacks them. */
  extract: boolean;
  batchSize: number;
  ep: ExecutionProvider;
  /** Progress: `done` of `total` images read for attributes, then rows scored. */
  onProgress?: (stage: 'extract' | 'score', done: number, total: number) => void;
}

export interface Scored {
  schema: AuxSchema | null;
  creatives: number;
  contexts: Context[];
  rows: ScoreRow[];
  scores: Score[];
  /** Attributes read off images: attribute → images, and the rows that got them (null without extraction). */
  extracted: ExtractionCounts | null;
}

/** Checks what can be refused before the model is loaded. */
function checkOptions(o: ScoreOptions): void {
  if (!(Number.isInteger(o.batchSize) && o.batchSize > 0)) throw new FieldError('batchSize', `must be a positive integer, got ${o.batchSize}`);
  if (o.out === undefined) return;
  if (!/\.(csv|jsonl)$/i.test(o.out)) throw new FieldError('out', `the file must end in .csv or .jsonl, got ${o.out}`);
  const inputs = [...o.creatives, ...(o.contexts ? [o.contexts] : [])].map((p) => resolve(p));
  if (inputs.includes(resolve(o.out))) throw new FieldError('out', `${o.out} is one of the inputs; it would be overwritten`);
}

export async function scoreCreatives(o: ScoreOptions): Promise<Scored> {
  checkOptions(o);
  const scorer = await load(o.model, { ep: o.ep });
  try {
    const schema = scorer.card.auxSchema;
    const creatives = await readCreatives(o.creatives, schema);
    const contexts = [...(o.context ?? []).map((c) => parseContext(c, schema)), ...(o.contexts ? await readContexts(o.contexts, schema) : [])];
    if (contexts.length === 0) contexts.push({ attributes: {}, label: "(the creatives' own attributes)" });
    const rows = cross(creatives, contexts);
    const extracted = o.extract && schema ? await fillFromImages(schema, rows, createOcr, (done, total) => o.onProgress?.('extract', done, total)) : null;

    const scores: Score[] = [];
    for (let start = 0; start < rows.length; start += o.batchSize) {
      const chunk = rows.slice(start, start + o.batchSize);
      const got = await scorer.scoreMany(chunk.map((r) => ({ image: r.image, attributes: r.attributes })), { batchSize: o.batchSize }).catch((e: unknown) => {
        // The runtime names the item by its place in this chunk; say which creative and context it is.
        const m = e instanceof M2fnInputError ? e.message.match(/^item #(\d+): ([\s\S]*)$/) : null;
        if (!m) throw e;
        const row = chunk[Number(m[1])];
        throw new ScoreInputError(`${row.source} × context ${contexts[row.context].label}: ${m[2]}`);
      });
      scores.push(...got);
      o.onProgress?.('score', scores.length, rows.length);
    }
    if (o.out !== undefined) writeFileAtomic(o.out, formatScores(o.out, schema, rows, contexts, scores));
    return { schema, creatives: creatives.length, contexts, rows, scores, extracted };
  } finally {
    await scorer.close();
  }
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
export function csvField(v: unknown): string {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

const scoreColumns = (s: Score): Record<string, number> => ('ctr' in s ? { ctr: s.ctr } : { mean: s.mean, std: s.std });

/** The output file: CSV (image, context, the schema's attributes, the score) or JSONL. */
export function formatScores(path: string, schema: AuxSchema | null, rows: ScoreRow[], contexts: Context[], scores: Score[]): string {
  if (/\.jsonl$/i.test(path)) {
    return rows.map((r, i) => JSON.stringify({ image: r.image, context: contexts[r.context].label, attributes: r.attributes, ...scores[i] })).join('\n') + '\n';
  }
  const names = schema?.attributes.map((a) => a.name) ?? [];
  const valueNames = Object.keys(scoreColumns(scores[0]));
  const lines = [['image', 'context', ...names, ...valueNames].map(csvField).join(',')];
  rows.forEach((r, i) => {
    const values = scoreColumns(scores[i]);
    lines.push([r.image, contexts[r.context].label, ...names.map((n) => r.attributes[n]), ...valueNames.map((n) => values[n])].map(csvField).join(','));
  });
  return lines.join('\n') + '\n';
}
