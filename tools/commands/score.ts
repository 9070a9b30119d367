// m2fn score: predicted CTRs for creatives × contexts with a trained model, without writing code.
// Reads the inputs (tools/score/inputs.ts), fills the image-derived attributes the model needs
// and the input lacks (tools/score/extract.ts), scores in batches with the Node runtime, writes a
// CSV or JSONL file atomically and prints the creatives ranked by their mean predicted CTR.
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { M2fnInputError } from '../../runtime/errors.ts';
import type { ExecutionProvider } from '../../runtime/execution.ts';
import { EXECUTION_PROVIDERS } from '../../runtime/execution.ts';
import { createOcr } from '../../runtime/extract/ocr.ts';
import { load } from '../../runtime/node.ts';
import { scoreValue, type Score } from '../../runtime/results.ts';
import type { AuxSchema } from '../../runtime/schema.ts';
import { writeFileAtomic } from '../../runtime/atomic-write.ts';
import { fillFromImages } from '../score/extract.ts';
import { cross, parseContext, readContexts, readCreatives, ScoreInputError, type Context, type ScoreRow } from '../score/inputs.ts';
import { createProgress } from '../progress.ts';

interface Args {
  model: string;
  creatives: string[];
  context?: string[];
  contexts?: string;
  out?: string;
  extract: boolean;
  'batch-size': number;
  top: number;
  ep: ExecutionProvider;
  quiet: boolean;
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

/** Creatives ranked by their mean predicted value over the contexts, one column per context (up to 6). */
export function rankedTable(rows: ScoreRow[], contexts: Context[], scores: Score[], top: number): string {
  const byImage = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const v = byImage.get(r.image) ?? new Array<number>(contexts.length).fill(NaN);
    v[r.context] = scoreValue(scores[i]);
    byImage.set(r.image, v);
  });
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const ranked = [...byImage].sort((a, b) => mean(b[1]) - mean(a[1])).slice(0, top);
  const pct = (x: number) => `${(100 * x).toFixed(3)}%`.padStart(9);
  const perContext = contexts.length > 1 && contexts.length <= 6;
  const head = ['rank', '     mean', ...(perContext ? contexts.map((_, c) => `    ctx ${c + 1}`) : []), 'image'];
  const lines = [head.join('  ')];
  ranked.forEach(([image, v], k) => lines.push([String(k + 1).padStart(4), pct(mean(v)), ...(perContext ? v.map(pct) : []), image].join('  ')));
  if (perContext) contexts.forEach((c, i) => lines.push(`ctx ${i + 1}: ${c.label}`));
  return lines.join('\n');
}

export const scoreCommand: CommandModule<object, Args> = {
  command: 'score <creatives..>',
  describe: 'predicted CTR of creatives (images, folders, .txt lists, .csv/.jsonl tables) × contexts, to CSV or JSONL and a ranked table',
  builder: (y) =>
    y
      .positional('creatives', { type: 'string', array: true, demandOption: true, describe: 'image files, folders, .txt lists of paths, or .csv/.jsonl tables with an "image" column and attribute columns' })
      .option('model', { type: 'string', demandOption: true, describe: 'model directory (inference.onnx + inference.card.json)' })
      .option('context', { type: 'string', array: true, describe: 'a context as name=value pairs, e.g. gender=1,age=3,month=11,weekday=5,hour=20,position=2 (repeatable)' })
      .option('contexts', { type: 'string', describe: 'a .csv or .jsonl table of contexts, one per row' })
      .option('out', { type: 'string', describe: 'write every score here: .csv or .jsonl (atomic)' })
      .option('extract', { type: 'boolean', default: true, describe: 'read domcol (dominant colour) and ocr (tesseract.js) off the image where the model needs them and the input lacks them' })
      .option('batch-size', { type: 'number', default: 32 })
      .option('top', { type: 'number', default: 10, describe: 'creatives in the ranked table' })
      .option('ep', { choices: EXECUTION_PROVIDERS, default: 'cpu' as ExecutionProvider })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress bar' })
      .example('$0 score out/demo/world/images --model out/demo/run --context gender=1,age=3,month=11,weekday=5,hour=20,position=2,cate2=1,cate3=9 --out scores.csv', 'every image of a folder in one context')
      .example('$0 score ads.csv --model out/run --contexts contexts.csv --out scores.jsonl', 'a table of creatives × a table of contexts'),
  handler: async (a) => {
    if (!(Number.isInteger(a['batch-size']) && a['batch-size'] > 0)) throw new Error(`--batch-size must be a positive integer, got ${a['batch-size']}`);
    if (a.out !== undefined && !/\.(csv|jsonl)$/i.test(a.out)) throw new Error(`--out ${a.out}: the file must end in .csv or .jsonl`);
    const inputs = [...a.creatives, ...(a.contexts ? [a.contexts] : [])].map((p) => resolve(p));
    if (a.out !== undefined && inputs.includes(resolve(a.out))) throw new Error(`--out ${a.out} is one of the inputs; it would be overwritten`);

    const scorer = await load(a.model, { ep: a.ep });
    try {
      const schema = scorer.card.auxSchema;
      const creatives = await readCreatives(a.creatives, schema);
      const contexts = [...(a.context ?? []).map((c) => parseContext(c, schema)), ...(a.contexts ? await readContexts(a.contexts, schema) : [])];
      if (contexts.length === 0) contexts.push({ attributes: {}, label: '(the creatives\' own attributes)' });
      const rows = cross(creatives, contexts);

      if (a.extract && schema) {
        let bar: ReturnType<typeof createProgress> | null = null;
        const counts = await fillFromImages(schema, rows, createOcr, (done, total) => {
          if (a.quiet) return;
          (bar ??= createProgress({ total, label: 'image attributes', unit: 'img' })).tick(1);
          if (done === total) bar.done();
        });
        const got = Object.entries(counts.images).filter(([, n]) => n > 0);
        if (got.length && !a.quiet) console.error(`extracted ${got.map(([k, n]) => `${k} from ${n} images`).join(', ')} (${counts.rows} rows)`);
      }

      const bar = a.quiet ? null : createProgress({ total: rows.length, label: 'scoring', unit: 'row' });
      const scores: Score[] = [];
      for (let start = 0; start < rows.length; start += a['batch-size']) {
        const chunk = rows.slice(start, start + a['batch-size']);
        const got = await scorer.scoreMany(chunk.map((r) => ({ image: r.image, attributes: r.attributes })), { batchSize: a['batch-size'] }).catch((e: unknown) => {
          // The runtime names the item by its place in this chunk; say which creative and context it is.
          const m = e instanceof M2fnInputError ? e.message.match(/^item #(\d+): ([\s\S]*)$/) : null;
          if (!m) throw e;
          const row = chunk[Number(m[1])];
          throw new ScoreInputError(`${row.source} × context ${contexts[row.context].label}: ${m[2]}`);
        });
        scores.push(...got);
        bar?.tick(chunk.length);
      }
      bar?.done();
      if (a.out !== undefined) {
        writeFileAtomic(a.out, formatScores(a.out, schema, rows, contexts, scores));
        if (!a.quiet) console.error(`wrote ${rows.length} scores (${creatives.length} creatives × ${contexts.length} contexts) to ${a.out}`);
      }
      console.log(rankedTable(rows, contexts, scores, a.top));
    } finally {
      await scorer.close();
    }
  },
};
