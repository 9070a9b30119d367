// The replication report's oracles: the world's logit without its unlearnable terms, read back
// from world.json for dataset rows. Checked against the truth synth itself assigns, in worlds
// where the left-out terms are switched off (then oracle = logit(truth) exactly) or on.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { DEFAULT_SYNTH, drawInstances, synthesize } from '../../tools/data/synth.ts';
import { generateWorld } from '../../tools/data/world.ts';
import { DATASET_FORMAT, type DatasetJson, type DatasetRow } from '../../tools/data/manifest.ts';
import { DEFAULT_STRENGTHS, type EffectStrengths } from '../../tools/data/truth.ts';
import { REAL_AD_SCHEMA } from '../../runtime/schema.ts';
import { worldOracles } from '../../tools/eval/replicate/oracle.ts';
import { tempDir } from './fixture.ts';

const logit = (p: number) => Math.log(p / (1 - p));

/** A world on disk (world.json beside truth.parquet) and rows drawn from it as prepare would write them. */
async function worldRows(dir: string, strengths: EffectStrengths, levelMerges: Record<string, unknown> = {}) {
  const seed = 4;
  await synthesize({ ...DEFAULT_SYNTH, out: dir, seed, images: 30, impressions: 2000, strengths, renderImages: false });
  const world = generateWorld(seed, 30);
  const rows: DatasetRow[] = drawInstances(world, 3000, { ...DEFAULT_SYNTH, seed, strengths }).map((k, i) => ({
    id: `r${i}`,
    image: `images/${world.images[k.image].file}`,
    attributes: { gender: `${k.gender}`, age: `${k.age}`, month: `${k.month}`, weekday: `${k.weekday}`, hour: `${k.hour}`, position: `${k.position}` },
    ctr: k.truth,
    impressions: 1e9,
    truth: k.truth,
  }));
  const dataset: DatasetJson = { format: DATASET_FORMAT, auxSchema: REAL_AD_SCHEMA, target: 'ctr', splits: { train: 'train.jsonl', test: 'test.jsonl' }, source: { truth: join(dir, 'truth.parquet'), levelMerges } };
  return { rows, dataset };
}

test('with noise, image and text-interaction effects off, both oracles are the true logit', async () => {
  const t = tempDir('oracle');
  try {
    const { rows, dataset } = await worldRows(t.dir, { ...DEFAULT_STRENGTHS, high: 0, image: 0, noise: 0 });
    const o = worldOracles(dataset, rows, rows);
    if (!('oracles' in o)) throw new Error(o.reason);
    assert.ok(rows.length > 100);
    rows.forEach((r, i) => {
      assert.ok(Math.abs(o.oracles.learnable[i] - logit(r.truth!)) < 1e-9, `learnable, row ${i}`);
      assert.ok(Math.abs(o.oracles.attributes[i] - logit(r.truth!)) < 1e-9, `attributes, row ${i}`);
    });
  } finally {
    t.cleanup();
  }
});

test('with everything on, the oracles leave out exactly the noise (learnable) and the pixel-only effects (attributes)', async () => {
  const t = tempDir('oracle');
  try {
    const noisy = await worldRows(join(t.dir, 'a'), DEFAULT_STRENGTHS);
    const quiet = await worldRows(join(t.dir, 'b'), { ...DEFAULT_STRENGTHS, noise: 0 });
    const pixelsOff = await worldRows(join(t.dir, 'c'), { ...DEFAULT_STRENGTHS, noise: 0, image: 0 });
    const on = worldOracles(noisy.dataset, noisy.rows, noisy.rows);
    const off = worldOracles(pixelsOff.dataset, pixelsOff.rows, pixelsOff.rows);
    if (!('oracles' in on) || !('oracles' in off)) throw new Error('no oracles');
    // The same instances (the draw does not depend on the strengths), so rows line up.
    assert.equal(noisy.rows.map((r) => r.id + r.image), quiet.rows.map((r) => r.id + r.image));
    let differs = 0;
    noisy.rows.forEach((r, i) => {
      assert.ok(Math.abs(on.oracles.learnable[i] - logit(quiet.rows[i].truth!)) < 1e-9, `learnable = truth without noise, row ${i}`);
      if (Math.abs(on.oracles.learnable[i] - logit(r.truth!)) > 1e-3) differs++;
      // The attribute oracle cannot see the pixel-only effects: switching them off changes nothing.
      assert.ok(Math.abs(on.oracles.attributes[i] - off.oracles.attributes[i]) < 1e-12);
    });
    assert.ok(differs > noisy.rows.length * 0.9, 'the noise term was left out');
  } finally {
    t.cleanup();
  }
});

test('fitted oracles: without noise the world is linear in its factor indicators, so the fit recovers the logit; each leaves out what it should', async () => {
  const t = tempDir('oracle');
  try {
    // Only attribute effects (text interactions and pixels off): both fits are exact.
    const attrs = await worldRows(join(t.dir, 'a'), { ...DEFAULT_STRENGTHS, high: 0, image: 0, noise: 0 });
    const a = worldOracles(attrs.dataset, attrs.rows, attrs.rows);
    // Everything but noise: the full fit is exact, the attribute fit misses the pixel effects.
    const all = await worldRows(join(t.dir, 'b'), { ...DEFAULT_STRENGTHS, noise: 0 });
    const b = worldOracles(all.dataset, all.rows, all.rows);
    if (!('oracles' in a) || !('oracles' in b)) throw new Error('no oracles');
    const maxErr = (pred: Float64Array, rows: DatasetRow[]) => Math.max(...rows.map((r, i) => Math.abs(pred[i] - logit(r.truth!))));
    assert.ok(maxErr(a.oracles.fittedLearnable, attrs.rows) < 0.01, `${maxErr(a.oracles.fittedLearnable, attrs.rows)}`);
    assert.ok(maxErr(a.oracles.fittedAttributes, attrs.rows) < 0.01, `${maxErr(a.oracles.fittedAttributes, attrs.rows)}`);
    assert.ok(maxErr(b.oracles.fittedLearnable, all.rows) < 0.01, `${maxErr(b.oracles.fittedLearnable, all.rows)}`);
    assert.ok(maxErr(b.oracles.fittedAttributes, all.rows) > 0.1, 'the attribute fit cannot see contrast, size, style, logo or text position');
  } finally {
    t.cleanup();
  }
});

test('merged levels or a dataset without a world give no oracles, with the reason', async () => {
  const t = tempDir('oracle');
  try {
    const { rows, dataset } = await worldRows(t.dir, DEFAULT_STRENGTHS, { hour: { '0-3': ['0', '1', '2', '3'] } });
    const merged = worldOracles(dataset, rows, rows);
    assert.ok('reason' in merged && /levels were merged/.test(merged.reason));
    const none = worldOracles({ ...dataset, source: {} }, rows, rows);
    assert.ok('reason' in none && /no synthetic world/.test(none.reason));
  } finally {
    t.cleanup();
  }
});

test.run();
