// m2fn ocr: text embedded in images (tesseract.js, offline English model).
import { createOcr } from '../../runtime/extract/ocr.ts';
import { imageArgs } from '../data/image-args.ts';
import { defineCommand } from './command.ts';

export const ocrCommand = defineCommand({
  command: 'ocr <images..>',
  describe: 'read the text in images with tesseract.js (offline), as JSON lines',
  builder: (y) => y.positional('images', { type: 'string', array: true, demandOption: true, describe: 'image files or directories' }),
  handler: async (a) => {
    const files = imageArgs(a.images);
    const ocr = await createOcr();
    try {
      for (const file of files) console.log(JSON.stringify({ file, text: await ocr.read(file) }));
    } finally {
      await ocr.close();
    }
  },
});
