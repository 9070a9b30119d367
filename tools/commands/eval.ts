// m2fn eval: scores a trained model on a dataset split; writes eval-<split>.json and .md.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../runtime/atomic-write.ts';
import { evaluateModel } from '../eval/score-model.ts';
import { evalMarkdown, ci } from '../eval/eval-markdown.ts';
import { describeSensitivity } from '../metrics/sensitivity.ts';
import { defineCommand } from './command.ts';

export const evalCommand = defineCommand({
  command: 'eval',
  describe: 'evaluate a trained model on a dataset split: SPRC/LCC/MSE/MAE with bootstrap intervals, overall and per attribute level',
  builder: (y) =>
    y
      .option('model', { type: 'string', demandOption: true, describe: 'run directory (inference.onnx + inference.card.json)' })
      .option('data', { type: 'string', demandOption: true, describe: 'dataset directory (dataset.json + splits)' })
      .option('split', { choices: ['train', 'test'] as const, default: 'test' as const })
      .option('out', { type: 'string', describe: 'directory for eval-<split>.json/.md (default: the model directory)' })
      .option('resamples', { type: 'number', default: 1000, describe: 'bootstrap resamples' })
      .option('seed', { type: 'number', default: 0, describe: 'bootstrap seed' })
      .option('level', { type: 'number', default: 0.95, describe: 'interval coverage' })
      .option('batch-size', { type: 'number', default: 64 })
      .option('sensitivity-rounds', { type: 'number', default: 8, describe: 'image sensitivity: each row scored with this many images (its own + others), attributes fixed; 0: skip' })
      .option('quiet', { type: 'boolean', default: false })
      .example('$0 eval --model out/run --data out/dataset', 'test-split metrics of a trained run'),
  handler: async (a) => {
    const { report } = await evaluateModel(a.model, a.data, { split: a.split, resamples: a.resamples, seed: a.seed, level: a.level, batchSize: a['batch-size'], sensitivityRounds: a['sensitivity-rounds'] });
    const out = a.out ?? a.model;
    mkdirSync(out, { recursive: true });
    const json = join(out, `eval-${a.split}.json`);
    const md = join(out, `eval-${a.split}.md`);
    writeFileAtomic(json, JSON.stringify(report, null, 1) + '\n');
    writeFileAtomic(md, evalMarkdown(report));
    const s = report.overall;
    const line = [`SPRC ${ci(s.sprc)}`, `LCC ${ci(s.lcc)}`];
    if (report.std) line.push(`SPRC(std) ${ci(report.std.sprc)}`, `LCC(std) ${ci(report.std.lcc)}`);
    if (report.noiseCeiling) line.push(`ceiling SPRC ${report.noiseCeiling.sprc.estimate.toFixed(3)} (fraction ${report.fractionOfCeiling!.sprc.toFixed(2)})`);
    if (report.imageSensitivity) line.push(describeSensitivity(report.imageSensitivity));
    if (!a.quiet) console.error(`${report.n} rows: ${line.join(', ')}`);
    console.log(JSON.stringify({ json, markdown: md, n: report.n, sprc: s.sprc.estimate, lcc: s.lcc.estimate, mse: s.mse.estimate, mae: s.mae.estimate, imageSensitivity: report.imageSensitivity?.ratio }));
  },
});
