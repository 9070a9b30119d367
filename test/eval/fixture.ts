// A tiny CTR dataset for the eval tests: solid-colour images, a small schema (two categorical
// attributes and one text attribute), a planted CTR and a ground truth.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { rng } from '../../runtime/random.ts';
import type { AuxSchema } from '../../runtime/schema.ts';
import { toJsonl, writeDatasetJson, type DatasetRow } from '../../tools/data/manifest.ts';

export const FIXTURE_SCHEMA: AuxSchema = {
  name: 'tiny-ads',
  attributes: [
    { name: 'age', kind: 'categorical', levels: ['1', '2', '3'] },
    { name: 'colour', kind: 'categorical', levels: ['red', 'blue'] },
    { name: 'ocr', kind: 'text', dim: 8 },
  ],
};

export function tempDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), `m2fn-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Writes `images` images of `size`² and `rows` rows split 75/25 by image. CTR rises with age and
 * with red images; truth is the noiseless CTR and ctr = truth + noise.
 */
export async function writeFixtureDataset(dir: string, o: { images?: number; rows?: number; size?: number; seed?: number } = {}): Promise<void> {
  const nImages = o.images ?? 8;
  const nRows = o.rows ?? 48;
  const size = o.size ?? 32;
  const r = rng(o.seed ?? 7);
  mkdirSync(join(dir, 'images'), { recursive: true });
  const red: boolean[] = [];
  for (let i = 0; i < nImages; i++) {
    red.push(i % 2 === 0);
    const shade = Math.round(40 + 170 * r());
    const background = red[i] ? { r: 200, g: shade / 4, b: shade / 4 } : { r: shade / 4, g: shade / 3, b: 200 };
    await sharp({ create: { width: size, height: size, channels: 3, background } }).png().toFile(join(dir, 'images', `ad-${i}.png`));
  }
  const phrases = ['join the battle now', 'best puzzle game', 'build your own castle', 'win big today'];
  const rows: { row: DatasetRow; image: number }[] = [];
  for (let k = 0; k < nRows; k++) {
    const image = k % nImages;
    const age = String(1 + Math.floor(r() * 3));
    const truth = 0.02 + 0.01 * Number(age) + (red[image] ? 0.015 : 0);
    const impressions = 100 + Math.floor(r() * 900);
    const clicks = Math.min(impressions, Math.max(0, Math.round((truth + (r() - 0.5) * 0.01) * impressions)));
    rows.push({
      image,
      row: {
        id: `ad-${image}#${k}`,
        image: `images/ad-${image}.png`,
        attributes: { age, colour: red[image] ? 'red' : 'blue', ocr: phrases[k % phrases.length] },
        ctr: clicks / impressions,
        impressions,
        clicks,
        truth,
      },
    });
  }
  const testImage = (i: number) => i % 4 === 3;
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(rows.filter((x) => !testImage(x.image)).map((x) => x.row)));
  writeFileSync(join(dir, 'test.jsonl'), toJsonl(rows.filter((x) => testImage(x.image)).map((x) => x.row)));
  writeDatasetJson(dir, { auxSchema: FIXTURE_SCHEMA, target: 'ctr', splits: { train: 'train.jsonl', test: 'test.jsonl' }, source: { generator: 'test fixture' } });
}
