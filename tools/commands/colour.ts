// m2fn colour: dominant colour of image files (K-means + MCD centre → named colour).
import { dominantColour } from '../../runtime/extract/dominant-colour.ts';
import { imageArgs } from '../data/image-args.ts';
import { defineCommand } from './command.ts';

export const colourCommand = defineCommand({
  command: 'colour <images..>',
  describe: 'dominant colour of images (one of the 10 named colours of Table 1), as JSON lines',
  builder: (y) => y.positional('images', { type: 'string', array: true, demandOption: true, describe: 'image files or directories' }),
  handler: async (a) => {
    for (const file of imageArgs(a.images)) {
      const r = await dominantColour(file);
      console.log(JSON.stringify({ file, colour: r.colour, share: +r.share.toFixed(3), centreRgb: r.centreRgb }));
    }
  },
});
