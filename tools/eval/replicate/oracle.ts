// Oracles on a synthetic world's test rows: the world's own logit with the terms a model cannot
// know left out. The noise ceiling (truth against observed) includes each image's random appeal,
// which no model sees in an unseen image's pixels, so it is not reachable; these oracles say what
// is. `learnable` keeps every effect of the attributes and the pixels; `attributes` keeps only
// what the aux vector carries (context, colour, category, the OCR'd phrase).
//
// The `fitted…` pair knows the world's structure but not its coefficients: one indicator per
// level of every factor and interaction the truth uses, weighted least squares on the training
// rows' observed logits. They say what this many noisy training rows support for a learner that
// needs to find only the sizes of the effects, not which effects there are.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CONTEXT_COLUMNS } from '../../data/log-columns.ts';
import type { DatasetJson, DatasetRow } from '../../data/manifest.ts';
import { ageBand, EFFECTS, logitFromTerms, logitTerms, season, type EffectStrengths, type ImageFactors, type InstanceKey, type LogoShape, type Style, type TextPosition } from '../../data/truth.ts';
import { DOMINANT_COLOURS } from '../../../runtime/schema.ts';
import { empiricalLogit } from '../../train/log-odds.ts';
import { fitLinear } from '../baselines/linear.ts';

const TEXT_POSITIONS = Object.keys(EFFECTS.textPositionAge) as TextPosition[];
const STYLES = Object.keys(EFFECTS.style) as Style[];
const LOGOS = Object.keys(EFFECTS.logo) as LogoShape[];

export interface Oracles {
  learnable: Float64Array;
  attributes: Float64Array;
  fittedLearnable: Float64Array;
  fittedAttributes: Float64Array;
}

/** One row as the world sees it: the image's factors and the context it was shown in. */
interface Instance {
  im: ImageFactors;
  k: InstanceKey;
}

interface WorldFile {
  seed: number;
  truth: { strengths: EffectStrengths };
  images: (ImageFactors & { file: string; index: number })[];
}

/** The oracles of the test `rows`, or why there are none (not a synthetic world we can read, merged levels). */
export function worldOracles(dataset: DatasetJson, rows: DatasetRow[], trainRows: DatasetRow[]): { oracles: Oracles } | { reason: string } {
  const src = dataset.source as { truth?: unknown; levelMerges?: Record<string, unknown> };
  if (typeof src.truth !== 'string') return { reason: 'the dataset names no synthetic world' };
  const file = join(dirname(src.truth), 'world.json');
  if (!existsSync(file)) return { reason: `${file} not found` };
  if (src.levelMerges && Object.keys(src.levelMerges).length) return { reason: 'attribute levels were merged, so a row is not one instance of the world' };
  const world = JSON.parse(readFileSync(file, 'utf8')) as WorldFile;
  const byFile = new Map(world.images.map((im) => [im.file, im]));
  const instance = (r: DatasetRow): Instance | { reason: string } => {
    const im = byFile.get(basename(r.image));
    if (!im) return { reason: `row ${r.id}: image ${r.image} is not in ${file}` };
    const k = { image: im.index } as InstanceKey;
    for (const a of CONTEXT_COLUMNS) {
      const v = Number(r.attributes[a]);
      if (!Number.isInteger(v)) return { reason: `row ${r.id}: ${a} "${r.attributes[a]}" is not a single level` };
      k[a] = v;
    }
    return { im, k };
  };
  const test = rows.map(instance);
  const train = trainRows.map(instance);
  const isInstance = (x: Instance | { reason: string }): x is Instance => !('reason' in x);
  if (!test.every(isInstance) || !train.every(isInstance)) {
    const bad = [...test, ...train].find((x): x is { reason: string } => !isInstance(x));
    return { reason: bad!.reason };
  }
  const learnable = new Float64Array(rows.length);
  const attributes = new Float64Array(rows.length);
  for (const [i, { im, k }] of test.entries()) {
    const t = logitTerms(im, k, world.seed);
    learnable[i] = logitFromTerms(t, world.truth.strengths, ['noise']);
    attributes[i] = logitFromTerms(t, world.truth.strengths, ['noise', 'position', 'image']);
  }
  const fitted = (pixels: boolean) => {
    const design = (xs: Instance[]) => xs.map(({ im, k }) => factorIndicators(im, k, pixels));
    const y = trainRows.map((r) => empiricalLogit(r.ctr ?? 0, r.impressions ?? 1));
    const model = fitLinear(design(train), y, trainRows.map((r) => r.impressions ?? 1), { ridge: 1e-4 });
    return model.predict(design(test));
  };
  return { oracles: { learnable, attributes, fittedLearnable: fitted(true), fittedAttributes: fitted(false) } };
}

/**
 * One indicator per level of each factor and interaction in truth.ts's logit: the context main
 * effects, colour, category, colour × season, participation phrase × age band, and with `pixels`
 * text position × age band, contrast, text size, style and logo.
 */
export function factorIndicators(im: ImageFactors, k: InstanceKey, pixels: boolean): Float32Array {
  const f: number[] = [];
  const oneOf = (level: number, levels: number) => {
    for (let j = 0; j < levels; j++) f.push(j === level ? 1 : 0);
  };
  const colour = DOMINANT_COLOURS.indexOf(im.colour);
  const band = ageBand(k.age);
  oneOf(k.gender - 1, 2);
  oneOf(k.age - 1, 9);
  oneOf(k.month - 1, 12);
  oneOf(k.weekday - 1, 7);
  oneOf(k.hour, 24);
  oneOf(k.position - 1, 4);
  oneOf(colour, DOMINANT_COLOURS.length);
  oneOf(im.cate3 - 1, 9);
  oneOf(colour * 4 + season(k.month), DOMINANT_COLOURS.length * 4);
  oneOf(im.participation ? band : -1, 3);
  if (pixels) {
    oneOf(TEXT_POSITIONS.indexOf(im.textPosition) * 3 + band, 9);
    f.push(im.highContrast ? 1 : 0, im.textLarge ? 1 : 0);
    oneOf(STYLES.indexOf(im.style), STYLES.length);
    oneOf(LOGOS.indexOf(im.logo), LOGOS.length);
  }
  return Float32Array.from(f);
}
