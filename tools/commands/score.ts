// m2fn score: predicted CTRs for creatives × contexts with a trained model, without writing code.
// The flags → scoreCreatives (tools/score/score.ts: inputs, extraction, scoring, the output file)
// → progress bars on stderr and the creatives ranked by their mean predicted CTR on stdout.
import type { ExecutionProvider } from '../../runtime/execution.ts';
import { EXECUTION_PROVIDERS } from '../../runtime/execution.ts';
import { scoreValue, type Score } from '../../runtime/results.ts';
import type { Context, ScoreRow } from '../score/inputs.ts';
import { scoreCreatives } from '../score/score.ts';
import { createProgress, type Progress } from '../progress.ts';
import { defineCommand } from './command.ts';

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

export const scoreCommand = defineCommand({
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
    const bars = new Map<string, { bar: Progress; done: number }>();
    const onProgress = (stage: 'extract' | 'score', done: number, total: number) => {
      let b = bars.get(stage);
      if (!b) bars.set(stage, (b = { bar: createProgress({ total, label: stage === 'extract' ? 'image attributes' : 'scoring', unit: stage === 'extract' ? 'img' : 'row' }), done: 0 }));
      b.bar.tick(done - b.done);
      b.done = done;
      if (done === total) b.bar.done();
    };
    const r = await scoreCreatives({
      model: a.model, creatives: a.creatives, context: a.context, contexts: a.contexts, out: a.out,
      extract: a.extract, batchSize: a['batch-size'], ep: a.ep, onProgress: a.quiet ? undefined : onProgress,
    });
    const got = Object.entries(r.extracted?.images ?? {}).filter(([, n]) => n > 0);
    if (got.length && !a.quiet) console.error(`extracted ${got.map(([k, n]) => `${k} from ${n} images`).join(', ')} (${r.extracted!.rows} rows)`);
    if (a.out !== undefined && !a.quiet) console.error(`wrote ${r.rows.length} scores (${r.creatives} creatives × ${r.contexts.length} contexts) to ${a.out}`);
    console.log(rankedTable(r.rows, r.contexts, r.scores, a.top));
  },
});
