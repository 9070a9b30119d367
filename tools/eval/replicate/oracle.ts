// Oracles on a synthetic world's test rows: the world's own logit with the terms a model cannot
// know left out. The noise ceiling (truth against observed) includes each image's random appeal,
// which no model sees in an unseen image's pixels, so it is not reachable; these oracles say what
// is. `learnable` keeps every effect of the attributes and the pixels; `attributes` keeps only
// what the aux vector carries (context, colour, category, the OCR'd phrase).
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CONTEXT_COLUMNS } from '../../data/log-columns.ts';
import type { DatasetJson, DatasetRow } from '../../data/manifest.ts';
import { logitFromTerms, logitTerms, type EffectStrengths, type ImageFactors, type InstanceKey } from '../../data/truth.ts';

export interface Oracles {
  learnable: Float64Array;
  attributes: Float64Array;
}

interface WorldFile {
  seed: number;
  truth: { strengths: EffectStrengths };
  images: (ImageFactors & { file: string; index: number })[];
}

/** The oracles of `rows`, or why there are none (not a synthetic world we can read, merged levels). */
export function worldOracles(dataset: DatasetJson, rows: DatasetRow[]): { oracles: Oracles } | { reason: string } {
  const src = dataset.source as { truth?: unknown; levelMerges?: Record<string, unknown> };
  if (typeof src.truth !== 'string') return { reason: 'the dataset names no synthetic world' };
  const file = join(dirname(src.truth), 'world.json');
  if (!existsSync(file)) return { reason: `${file} not found` };
  if (src.levelMerges && Object.keys(src.levelMerges).length) return { reason: 'attribute levels were merged, so a row is not one instance of the world' };
  const world = JSON.parse(readFileSync(file, 'utf8')) as WorldFile;
  const byFile = new Map(world.images.map((im) => [im.file, im]));
  const learnable = new Float64Array(rows.length);
  const attributes = new Float64Array(rows.length);
  for (const [i, r] of rows.entries()) {
    const im = byFile.get(basename(r.image));
    if (!im) return { reason: `row ${r.id}: image ${r.image} is not in ${file}` };
    const k = { image: im.index } as InstanceKey;
    for (const a of CONTEXT_COLUMNS) {
      const v = Number(r.attributes[a]);
      if (!Number.isInteger(v)) return { reason: `row ${r.id}: ${a} "${r.attributes[a]}" is not a single level` };
      k[a] = v;
    }
    const t = logitTerms(im, k, world.seed);
    learnable[i] = logitFromTerms(t, world.truth.strengths, ['noise']);
    attributes[i] = logitFromTerms(t, world.truth.strengths, ['noise', 'position', 'image']);
  }
  return { oracles: { learnable, attributes } };
}
