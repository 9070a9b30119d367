// m2fn insights: CTR by age, hour, weekday, month, position and colour, as JSON and bar charts.
import { prepare, DEFAULT_PREPARE } from '../data/prepare.ts';
import { stderrProgress } from '../progress.ts';
import { withLogInputs, worldInputs } from './prepare.ts';
import { defineCommand } from './command.ts';

export const insightsCommand = defineCommand({
  command: 'insights',
  describe: 'ad-insights report of a log: CTR per level of age, hour, weekday, month, position, colour (JSON + PNG charts)',
  builder: (y) =>
    withLogInputs(y)
      .option('out', { type: 'string', demandOption: true, describe: 'report directory' })
      .option('quiet', { type: 'boolean', default: false }),
  handler: async (a) => {
    const { logs, images } = worldInputs(a);
    // The same validation and aggregation as prepare; only the reports are written.
    const r = await prepare({ ...DEFAULT_PREPARE, logs, images, out: a.out, reportsOnly: true }, stderrProgress(!a.quiet));
    const summary = Object.fromEntries(Object.entries(r.insights).map(([k, levels]) => [k, Object.fromEntries(levels.filter((l) => l.impressions > 0).map((l) => [l.level, +(l.ctr * 100).toFixed(3)]))]));
    console.log(JSON.stringify({ ctrPercent: summary, files: r.files }, null, 1));
  },
});
