// m2fn synth: generate a synthetic ad world (images, impression log, ground truth).
import { synthesize, DEFAULT_SYNTH } from '../data/synth.ts';
import { stderrProgress } from '../progress.ts';
import { defineCommand } from './command.ts';

export const synthCommand = defineCommand({
  command: 'synth',
  describe: 'generate a seeded synthetic ad world: rendered ads, impression log (Parquet/CSV), ground-truth CTR',
  builder: (y) =>
    y
      .option('out', { type: 'string', demandOption: true, describe: 'output directory' })
      .option('seed', { type: 'number', default: DEFAULT_SYNTH.seed })
      .option('images', { type: 'number', default: DEFAULT_SYNTH.images, describe: 'number of ad images' })
      .option('impressions', { type: 'number', default: DEFAULT_SYNTH.impressions, describe: 'log rows (one per impression)' })
      .option('image-size', { type: 'number', default: DEFAULT_SYNTH.imageSize })
      .option('image-format', { choices: ['png', 'jpeg'] as const, default: DEFAULT_SYNTH.imageFormat })
      .option('csv', { type: 'boolean', default: false, describe: 'also write impressions.csv' })
      .option('no-images', { type: 'boolean', default: false, describe: 'skip rendering (log only)' })
      .option('main', { type: 'number', default: 1, describe: 'strength of main effects' })
      .option('low', { type: 'number', default: 1, describe: 'strength of colour × season' })
      .option('high', { type: 'number', default: 1, describe: 'strength of text × age interactions' })
      .option('image', { type: 'number', default: 1, describe: 'strength of image-only effects' })
      .option('noise', { type: 'number', default: 1, describe: 'strength of appeal and instance noise' })
      .option('instance-alpha', { type: 'number', default: DEFAULT_SYNTH.instanceAlpha, describe: 'Pareto tail index of impressions per instance' })
      .option('instance-min', { type: 'number', default: DEFAULT_SYNTH.instanceMin })
      .option('bot-fraction', { type: 'number', default: DEFAULT_SYNTH.botFraction })
      .option('corrupt-fraction', { type: 'number', default: DEFAULT_SYNTH.corruptFraction })
      .option('quiet', { type: 'boolean', default: false })
      .example('$0 synth --out out/world', '300 ads, 1M impressions (a few seconds)'),
  handler: async (a) => {
    const r = await synthesize(
      {
        ...DEFAULT_SYNTH,
        out: a.out, seed: a.seed, images: a.images, impressions: a.impressions, imageSize: a['image-size'], imageFormat: a['image-format'],
        csv: a.csv, renderImages: !a['no-images'],
        strengths: { main: a.main, low: a.low, high: a.high, image: a.image, noise: a.noise },
        instanceAlpha: a['instance-alpha'], instanceMin: a['instance-min'], botFraction: a['bot-fraction'], corruptFraction: a['corrupt-fraction'],
      },
      stderrProgress(!a.quiet),
    );
    console.log(JSON.stringify(r, null, 1));
  },
});
