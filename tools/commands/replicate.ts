// m2fn replicate: trains and evaluates the paper's variants (Tables 4, 5, 7, 8) and writes a
// Markdown report with PNG charts, the paper's figures beside ours, and the noise ceiling.
import { join } from 'node:path';
import { PROTOCOLS, restrictProtocol } from '../eval/replicate/protocol.ts';
import { replicate } from '../eval/replicate/run.ts';
import { minutes, percent, writeReport } from '../eval/replicate/report.ts';
import type { DatasetKey } from '../eval/replicate/paper.ts';
import { defineCommand } from './command.ts';

export const replicateCommand = defineCommand({
  command: 'replicate',
  describe: "train and evaluate the paper's variants (module toggles, CBN placement, attribute drops, NIMA, baselines) and write a report",
  builder: (y) =>
    y
      .option('out', { type: 'string', demandOption: true, describe: 'report directory (REPORT.md, PNG charts, results.json)' })
      .option('protocol', { choices: Object.keys(PROTOCOLS), default: 'cpu', describe: 'cpu: under an hour on 2 cores; gpu: paper-sized' })
      .option('data-100', { type: 'string', describe: 'prepared 100+ dataset (default: synthesize the protocol world and prepare it)' })
      .option('data-500', { type: 'string', describe: 'prepared 500+ dataset (default: as above)' })
      .option('work', { type: 'string', describe: 'work directory for datasets, runs and per-seed results (default OUT/work); rerunning resumes' })
      .option('only', { type: 'string', array: true, describe: 'run only these variants: ids (m2fn, mods-OOxx, drop-age…), DATASET/id, or tables (headline, table4, table5, table7, table8)' })
      .option('seeds', { type: 'number', array: true, describe: 'seeds of the headline variants (others use the first)' })
      .option('epochs', { type: 'number', describe: 'override the epochs of every dataset (smoke runs)' })
      .option('lr', { type: 'number', describe: 'override the learning rate of every dataset' })
      .option('batch-size', { type: 'number', describe: 'override the batch size of every dataset' })
      .option('datasets', { type: 'string', array: true, choices: ['100+', '500+'], describe: 'only these datasets' })
      .option('resamples', { type: 'number', describe: 'bootstrap resamples' })
      .option('threads', { type: 'number', describe: 'ONNX Runtime intra-op threads (default: one per core)' })
      .option('ep', { choices: ['cpu', 'webgpu', 'cuda'] as const, default: 'cpu' as const, describe: 'execution provider for training and scoring' })
      .option('keep-runs', { type: 'boolean', default: false, describe: 'keep checkpoints and image caches of every run' })
      .option('list', { type: 'boolean', default: false, describe: 'print the variant list and exit' })
      .example('$0 replicate --out docs/replication', 'the CPU protocol on a synthesized world (under an hour on 2 cores)')
      .example('$0 replicate --out out/rep --only m2fn image-only linear --seeds 0 --epochs 1', 'a quick look'),
  handler: async (a) => {
    const base = PROTOCOLS[a.protocol];
    const protocol = restrictProtocol(base, { only: a.only, seeds: a.seeds, epochs: a.epochs, lr: a.lr, batchSize: a['batch-size'], datasets: a.datasets as DatasetKey[] | undefined, resamples: a.resamples });
    if (a.list) {
      for (const v of protocol.variants) console.log(`${v.dataset}\t${v.id}\t${v.table}\tseeds ${v.seeds.join(',')}\t${v.label}`);
      return;
    }
    if (!protocol.variants.length) throw new Error(`no variants selected (--only ${a.only?.join(' ')}); see --list`);
    const data: Partial<Record<DatasetKey, string>> = {};
    if (a['data-100']) data['100+'] = a['data-100'];
    if (a['data-500']) data['500+'] = a['data-500'];
    const run = await replicate({ protocol, work: a.work ?? join(a.out, 'work'), data, threads: a.threads, ep: a.ep, keepRuns: a['keep-runs'] });
    const command = `m2fn ${process.argv.slice(2).join(' ')}`;
    const r = await writeReport(run, a.out, { command });
    for (const [k, h] of Object.entries(r.headline)) {
      const frac = h.fraction && h.fractionInterval ? `, ${percent(h.fraction.sprc)} [${percent(h.fractionInterval.lo)}, ${percent(h.fractionInterval.hi)}] of the noise ceiling ${h.ceiling!.sprc.estimate.toFixed(3)}` : '';
      console.error(`${k}: M2FN SPRC ${h.m2fn.sprc.estimate.toFixed(3)} [${h.m2fn.sprc.lo.toFixed(3)}, ${h.m2fn.sprc.hi.toFixed(3)}]${frac}`);
    }
    const kept = run.seconds.earlier.results ? ` (with ${run.seconds.earlier.results} results kept from earlier invocations)` : '';
    console.error(`total run time: ${minutes(r.totalSeconds)}, the report's ${minutes(r.reportSeconds)} included${kept}; report: ${join(a.out, 'REPORT.md')}`);
    console.log(JSON.stringify({ report: join(a.out, 'REPORT.md'), seconds: { ...run.seconds, report: r.reportSeconds, totalWithEarlier: r.totalSeconds }, failures: run.failures.length }));
  },
});
