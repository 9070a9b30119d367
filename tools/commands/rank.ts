// m2fn rank: orders several creatives for one context by predicted CTR, and says what the order
// can claim: with one model there is no interval; with several (--model repeated: seeds or an
// ensemble) creatives whose prediction ranges overlap are marked as not distinguishable.
import { load, type Scorer } from '../../runtime/node.ts';
import { rankCreatives } from '../../runtime/rank.ts';
import { imageArgs } from '../data/image-args.ts';
import { parseAttrs } from './attrs-arg.ts';
import { defineCommand } from './command.ts';

export const rankCommand = defineCommand({
  command: 'rank <images..>',
  describe: 'order creatives (files or directories) by predicted CTR for one context; JSON lines, best first',
  builder: (y) =>
    y
      .positional('images', { type: 'string', array: true, demandOption: true })
      .option('model', { type: 'string', array: true, demandOption: true, describe: 'run directory; repeat for several models (seeds, an ensemble) to get ranges' })
      .option('attrs', { type: 'string', demandOption: true, describe: 'the context: JSON, @FILE, or key=value,…' })
      .example('$0 rank a.png b.png c.png --model out/demo/run --attrs @attrs.json', 'which creative to run for this context'),
  handler: async (a) => {
    const images = imageArgs(a.images);
    const attributes = parseAttrs(a.attrs);
    const scorers: Scorer[] = [];
    try {
      for (const m of a.model) scorers.push(await load(m, { ep: 'cpu' }));
      const r = await rankCreatives(scorers, images, attributes);
      console.error(`rank: ${r.note}`);
      r.ranked.forEach((c, i) =>
        console.log(JSON.stringify({ rank: i + 1, image: c.image, ctr: c.score, range: c.range, ...(c.range && i < r.ranked.length - 1 ? { distinguishableFromNext: !c.overlapsNext } : {}) })),
      );
    } finally {
      await Promise.all(scorers.map((s) => s.close()));
    }
  },
});
