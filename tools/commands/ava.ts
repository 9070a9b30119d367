// m2fn ava: AVA.txt + tags.txt + image directory → dataset directory (histogram targets).
import { buildAvaDataset } from '../data/ava.ts';
import { defineCommand } from './command.ts';

export const avaCommand = defineCommand({
  command: 'ava',
  describe: 'build an AVA dataset (vote histograms as targets, tags as text) with an 8:2 split',
  builder: (y) =>
    y
      .option('ava', { type: 'string', demandOption: true, describe: 'AVA.txt' })
      .option('tags', { type: 'string', demandOption: true, describe: 'tags.txt' })
      .option('images', { type: 'string', demandOption: true, describe: 'directory of <image_id>.jpg files' })
      .option('out', { type: 'string', demandOption: true, describe: 'dataset directory to write' })
      .option('test-fraction', { type: 'number', default: 0.2 })
      .option('seed', { type: 'number', default: 1 })
      .option('ext', { type: 'string', default: 'jpg', describe: 'image file extension' })
      .example('$0 ava --ava fixtures/ava/AVA.txt --tags fixtures/ava/tags.txt --images fixtures/ava/images --out out/ava', 'the fixture'),
  handler: async (a) => {
    const r = buildAvaDataset({ ava: a.ava, tags: a.tags, images: a.images, out: a.out, testFraction: a['test-fraction'], seed: a.seed, imageExtension: a.ext });
    console.log(JSON.stringify(r, null, 1));
  },
});
