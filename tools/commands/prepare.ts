// m2fn prepare: impression log → dataset directory (manifest, rows, images, reports).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { prepare, DEFAULT_PREPARE } from '../data/prepare.ts';
import { stderrProgress } from '../progress.ts';
import { defineCommand } from './command.ts';

/** The log and its images, given directly or as a synth output directory (prepare and insights). */
export const withLogInputs = <T>(y: Argv<T>) =>
  y
    .option('world', { type: 'string', describe: 'a synth output directory, in place of --log and --images (prepare also takes its truth.parquet)' })
    .option('log', { type: 'string', array: true, describe: 'impression log(s), .parquet or .csv' })
    .option('images', { type: 'string', describe: 'directory of the images the log names' });

/** Fill log/images/truth from a synth output directory when --world is given. */
export function worldInputs(a: { world?: string; log?: string[]; images?: string; truth?: string }): { logs: string[]; images: string; truth?: string } {
  const logs = a.log ?? (a.world ? [join(a.world, 'impressions.parquet')] : []);
  const images = a.images ?? (a.world ? join(a.world, 'images') : '');
  const truth = a.truth ?? (a.world && existsSync(join(a.world, 'truth.parquet')) ? join(a.world, 'truth.parquet') : undefined);
  if (!logs.length) throw new Error('give --log FILE (CSV or Parquet) or --world DIR (a synth output)');
  if (!images) throw new Error('give --images DIR (the images the log names) or --world DIR');
  return { logs, images, truth };
}

export const prepareCommand = defineCommand({
  command: 'prepare',
  describe: 'validate, aggregate and split an impression log into a dataset for ort-train',
  builder: (y) =>
    withLogInputs(y)
      .option('truth', { type: 'string', describe: 'synthetic truth.parquet to attach ground-truth CTR' })
      .option('out', { type: 'string', demandOption: true, describe: 'dataset directory to write' })
      .option('min-impressions', { type: 'number', default: DEFAULT_PREPARE.minImpressions, describe: 'keep instances with at least this many impressions (paper: 100 or 500)' })
      .option('merge-below', { type: 'number', default: DEFAULT_PREPARE.mergeBelow, describe: 'merge attribute levels with fewer impressions into the closest level (0: off)' })
      .option('test-fraction', { type: 'number', default: DEFAULT_PREPARE.testFraction, describe: 'share of images held out for test' })
      .option('seed', { type: 'number', default: DEFAULT_PREPARE.seed })
      .option('size', { type: 'number', default: DEFAULT_PREPARE.imageSize, describe: 'image side length in the dataset' })
      .option('bot-min-impressions', { type: 'number', default: DEFAULT_PREPARE.botMinImpressions })
      .option('bot-min-ctr', { type: 'number', default: DEFAULT_PREPARE.botMinCtr })
      .option('alpha', { type: 'number', default: DEFAULT_PREPARE.selectionAlpha, describe: 'significance level for attribute selection' })
      .option('csv-delimiter', { type: 'string', describe: 'CSV field separator (default: comma, tab for .tsv)' })
      .option('csv-quote', { type: 'string', default: '"', describe: 'CSV quote character (RFC 4180)' })
      .option('csv-escape', { type: 'string', default: '"', describe: 'CSV escape character inside quotes (RFC 4180: the quote doubled)' })
      .option('threads', { type: 'number', describe: 'DuckDB threads (default: one per core)' })
      .option('quiet', { type: 'boolean', default: false })
      .example('$0 prepare --world out/world --out out/dataset --merge-below 5000', 'the small synthetic world'),
  handler: async (a) => {
    const inputs = worldInputs(a);
    const r = await prepare(
      {
        ...DEFAULT_PREPARE, ...inputs, out: a.out, minImpressions: a['min-impressions'], mergeBelow: a['merge-below'], testFraction: a['test-fraction'],
        seed: a.seed, imageSize: a.size, botMinImpressions: a['bot-min-impressions'], botMinCtr: a['bot-min-ctr'], selectionAlpha: a.alpha,
        threads: a.threads,
        csv: { quote: a['csv-quote'], escape: a['csv-escape'], ...(a['csv-delimiter'] === undefined ? {} : { delimiter: a['csv-delimiter'] }) },
      },
      stderrProgress(!a.quiet),
    );
    const { selection, ...summary } = r.report;
    console.log(JSON.stringify({ ...summary, selected: selection.filter((s) => s.selected).map((s) => s.attribute), files: r.files.length }, null, 1));
  },
});
