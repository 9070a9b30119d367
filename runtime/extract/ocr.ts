// OCR of ad images with tesseract.js, fully offline: the English model comes from the
// @tesseract.js-data/eng package on disk and nothing is cached or fetched (cacheMethod 'none').
// Images are upscaled to about 3× before recognition: ad text at 224 px is small for tesseract.
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { createWorker, type Worker } from 'tesseract.js';
import { DEFAULT_MAX_PIXELS, rasterSource } from '../image-node.ts';
import { editDistance } from '../strings.ts';

/** Levenshtein distance, shared with the runtime's did-you-mean hints. */
export { editDistance };

const require = createRequire(import.meta.url);

/** Directory holding eng.traineddata.gz from the installed data package. */
export function englishModelDir(): string {
  const pkg = require('@tesseract.js-data/eng') as { langPath: string };
  return pkg.langPath;
}

export interface OcrEngine {
  /** Recognised text, whitespace collapsed to single spaces. The image is checked as the scorer checks its own (rasterSource). */
  read(image: Buffer | string): Promise<string>;
  close(): Promise<void>;
}

export async function createOcr(opts: { maxPixels?: number } = {}): Promise<OcrEngine> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  let worker: Worker;
  try {
    worker = await createWorker('eng', 1, { langPath: englishModelDir(), cacheMethod: 'none', gzip: true, logger: () => {} });
  } catch (e) {
    throw new Error(`OCR: cannot start tesseract.js with the offline English model in ${englishModelDir()}: ${(e as Error).message ?? e}`);
  }
  return {
    async read(image) {
      const { src, meta } = await rasterSource(image, maxPixels);
      const scale = Math.max(1, Math.min(4, Math.round(640 / Math.max(meta.width ?? 640, 1))));
      const prepared = await sharp(src, { limitInputPixels: maxPixels }).flatten({ background: '#ffffff' }).resize((meta.width ?? 0) * scale || undefined).greyscale().png().toBuffer();
      const { data } = await worker.recognize(prepared);
      return data.text.replace(/\s+/g, ' ').trim();
    },
    async close() {
      await worker.terminate();
    },
  };
}

/** Character error rate: edits over reference length, after case and whitespace normalisation. */
export function characterErrorRate(reference: string, hypothesis: string): number {
  const norm = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim();
  const r = norm(reference);
  return r.length === 0 ? (norm(hypothesis).length ? 1 : 0) : editDistance(r, norm(hypothesis)) / r.length;
}
