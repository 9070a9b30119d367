// Derived datasets (attribute dropped, blank images, text dim) and a tiny `replicate` run: two
// variants, one seed, a very small model, one epoch → a report with the required sections.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { encodeAttributesBatch } from '../../runtime/attributes.ts';
import { HashingTextEncoder } from '../../runtime/hashing-text-encoder.ts';
import { auxDim } from '../../runtime/schema.ts';
import { readManifest } from '../../tools/data/manifest.ts';
import { fitLinear } from '../../tools/eval/baselines/linear.ts';
import { BLANK_IMAGE, deriveDataset } from '../../tools/eval/derive.ts';
import { CPU_PROTOCOL, GPU_PROTOCOL, modulesOf, restrictProtocol, rowWeights, variantLoss, type Protocol } from '../../tools/eval/replicate/protocol.ts';
import { replicate } from '../../tools/eval/replicate/run.ts';
import { writeReport } from '../../tools/eval/replicate/report.ts';
import { compareOrder } from '../../tools/eval/replicate/aggregate.ts';
import { tempDir, writeFixtureDataset } from './fixture.ts';

test('loss and baseline weights follow the schedule; Table 4 variants keep their own loss', () => {
  const cpu = CPU_PROTOCOL.schedule['500+'];
  const gpu = GPU_PROTOCOL.schedule['500+'];
  const m2fn = CPU_PROTOCOL.variants.find((v) => v.id === 'm2fn')!;
  const nimaRegr = CPU_PROTOCOL.variants.find((v) => v.id === 'nima-regr')!;
  const nimaEmd = CPU_PROTOCOL.variants.find((v) => v.id === 'nima-emd')!;
  assert.is(variantLoss(m2fn, cpu, 'regression'), 'mse');
  assert.is(variantLoss(m2fn, gpu, 'regression'), 'wmse');
  assert.is(variantLoss(m2fn, cpu, 'distribution'), 'kld');
  assert.is(variantLoss(nimaRegr, cpu, 'regression'), 'wmse', "the paper's regression NIMA keeps its weighted loss");
  assert.is(variantLoss(nimaEmd, cpu, 'distribution'), 'emd');
  const rows = [{ impressions: 500 }, { impressions: 20000 }, {}];
  assert.equal(rowWeights(cpu, rows), [1, 1, 1]);
  assert.equal(rowWeights(gpu, rows), [500, 20000, 1]);
});

test('derived datasets: an attribute dropped, text dims changed, images blanked', async () => {
  const t = tempDir('derive');
  try {
    const src = join(t.dir, 'src');
    await writeFixtureDataset(src, { images: 4, rows: 12 });
    const drop = await deriveDataset(src, join(t.dir, 'drop'), { drop: ['age'], textDim: 4 });
    const s = readManifest(drop, 'train');
    assert.equal(s.dataset.auxSchema.attributes.map((a) => a.name), ['colour', 'ocr']);
    assert.is((s.dataset.auxSchema.attributes[1] as { dim: number }).dim, 4);
    assert.ok(s.rows.every((r) => !('age' in r.attributes) && 'colour' in r.attributes));
    const orig = readManifest(src, 'train');
    assert.equal(s.rows.map((r) => [r.id, r.ctr, r.truth, r.image]), orig.rows.map((r) => [r.id, r.ctr, r.truth, r.image]), 'rows, targets and images kept');
    const blank = await deriveDataset(src, join(t.dir, 'blank'), { blankImage: true });
    const b = readManifest(blank, 'test');
    assert.ok(b.rows.every((r) => r.image === BLANK_IMAGE));
    const { data } = await sharp(join(blank, BLANK_IMAGE)).raw().toBuffer({ resolveWithObject: true });
    assert.equal([data[0], data[1], data[2]], [124, 116, 104], 'ImageNet mean colour: the normalised input is ≈ 0');
    let msg = '';
    await deriveDataset(src, join(t.dir, 'bad'), { drop: ['nope'] }).catch((e: Error) => (msg = e.message));
    assert.match(msg, /no attribute "nope"/);
  } finally {
    t.cleanup();
  }
});

test('protocol: module codes, variant selection and the CPU variant list', () => {
  assert.equal(modulesOf('OOxO'), { aux: true, low: true, att: false, high: true });
  assert.throws(() => modulesOf('OOO'), /four/);
  const ids = new Set(CPU_PROTOCOL.variants.map((v) => `${v.dataset}/${v.id}`));
  for (const id of ['500+/m2fn', '500+/image-only', '500+/linear', '500+/svr-rbf', '500+/svr-poly', '500+/mlp', '500+/no-image', '100+/m2fn', '100+/mods-OOxx', '100+/nima-emd', '100+/nima-kld', '100+/cbn-11111', '100+/drop-weekday']) {
    assert.ok(ids.has(id), id);
  }
  // Ablations only on the study dataset; the headline on both.
  assert.not.ok(ids.has('500+/mods-OOxx') || ids.has('500+/drop-age'));
  const r = restrictProtocol(CPU_PROTOCOL, { only: ['m2fn', 'linear'], seeds: [5], epochs: 1, datasets: ['500+'] });
  assert.equal(r.variants.map((v) => [v.id, v.seeds]), [['m2fn', [5]], ['linear', [5]]]);
  assert.is(r.schedule['500+'].epochs, 1);
});

test('order comparison counts discordant pairs', () => {
  const mk = (label: string, ours: number, paper: number) => ({ variant: { label }, sprc: { estimate: ours }, paper: { sprc: paper } }) as never;
  const c = compareOrder([mk('a', 0.5, 0.3), mk('b', 0.4, 0.2), mk('c', 0.1, 0.4)]);
  // paper order c > a > b; ours a > b > c: pairs (a,b) agree, (a,c) and (b,c) disagree → τ = (1 − 2) / 3
  assert.is(c.pairs, 3);
  assert.is(c.discordant.length, 2);
  assert.ok(Math.abs(c.tau + 1 / 3) < 1e-12);
});

test('tiny replicate run writes a report with the required sections', async () => {
  const t = tempDir('replicate');
  try {
    const data = join(t.dir, 'data');
    await writeFixtureDataset(data, { images: 8, rows: 64, size: 32 });
    const protocol: Protocol = {
      ...restrictProtocol(CPU_PROTOCOL, { only: ['m2fn', 'linear'], seeds: [0], epochs: 1, datasets: ['100+'], resamples: 100 }),
      name: 'test',
      textDim: 4,
      model: { size: 32, width: 0.0625, backboneNorm: 'batch', dropout: 0.5, headHidden: [8], auxCross: 1, notCrossed: ['title', 'desc'], link: 'logit', fuseDim: 8, attHidden: 8, cbnHidden: 8 },
    };
    protocol.schedule = { ...protocol.schedule, '100+': { epochs: 1, batchSize: 8, lr: 1e-3, warmupSteps: 1, standardizeTargets: true, weighting: 'uniform' } };
    const lines: string[] = [];
    const run = await replicate({ protocol, work: join(t.dir, 'work'), data: { '100+': data }, log: (s) => lines.push(s) });
    assert.equal(run.failures, []);
    assert.is(run.results.length, 2);
    assert.ok(run.results.every((r) => r.predicted.length === run.datasets['100+'].testRows));
    const out = join(t.dir, 'report');
    const r = await writeReport(run, out, { command: 'm2fn replicate (test)' });
    for (const section of ['# M2FN replication report', 'Total run time', '## Setup', 'crosses them (1 cross layer', 'all but title and desc', 'log-odds of the CTR as targets', 'the attribute-only baselines fit the same target', 'unweighted MSE', 'weighted as their dataset', '## Noise ceiling and headline', 'Noise ceiling (ground-truth CTR', 'of the SPRC ceiling', '| M2FN against |', '## Headline', 'paper SPRC', '## Time per variant']) {
      assert.ok(r.markdown.includes(section), `section "${section}" in:\n${r.markdown}`);
    }
    assert.ok(r.markdown.includes('M2FN (OOOO)') && r.markdown.includes('only aux: linear regression'));
    // Image sensitivity: measured for the trained variant, which sees images; not for the baseline.
    const m2fnResult = run.results.find((x) => x.variant === 'm2fn')!;
    assert.ok(m2fnResult.imageSensitivity && m2fnResult.imageSensitivity.ratio > 0 && m2fnResult.imageSensitivity.images === new Set(readManifest(run.datasets['100+'].dir, 'test').rows.map((x) => x.image)).size, JSON.stringify(m2fnResult.imageSensitivity));
    assert.is(run.results.find((x) => x.variant === 'linear')!.imageSensitivity, undefined);
    assert.ok(r.markdown.includes('| image sensitivity |'), 'the tables have the image-sensitivity column');
    assert.ok(r.markdown.includes(`| ${m2fnResult.imageSensitivity.ratio.toFixed(3)} |`), 'M2FN\'s row states its sensitivity');
    // The stated total counts the report's own writing as well as the data and the variants.
    assert.ok(r.reportSeconds > 0);
    assert.ok(Math.abs(r.totalSeconds - (run.seconds.total + run.seconds.earlier.seconds + r.reportSeconds)) < 1e-9);
    assert.match(r.markdown, /this report \d+ min \d+ s\)/);
    assert.ok(r.markdown.includes('VGG19-BN'), 'the report names the backbone the protocol trains');
    const card = JSON.parse(readFileSync(join(t.dir, 'work', 'runs', '100', 'm2fn', 'seed-0', 'inference.card.json'), 'utf8'));
    assert.is(card.config.backboneNorm, 'batch', 'the protocol\'s model size reaches the trained model');
    assert.is(card.config.dropout, 0.5);
    assert.is(card.config.link, 'logit');
    // The linear baseline fitted the rows' empirical log-odds and predicts their sigmoid: refit by hand.
    const linear = run.results.find((x) => x.variant === 'linear')!;
    const dir = run.datasets['100+'].dir;
    const [train, test] = [readManifest(dir, 'train'), readManifest(dir, 'test')];
    const schema = train.dataset.auxSchema;
    const encode = async (rows: typeof train.rows) => {
      const flat = await encodeAttributesBatch(schema, rows.map((x) => x.attributes), new HashingTextEncoder({ dim: 4 }));
      return rows.map((_, i) => flat.subarray(i * auxDim(schema), (i + 1) * auxDim(schema)));
    };
    const logOdds = train.rows.map((x) => Math.log((x.ctr! * x.impressions! + 0.5) / (x.impressions! - x.ctr! * x.impressions! + 0.5)));
    const byHand = fitLinear(await encode(train.rows), logOdds, logOdds.map(() => 1), { ridge: linear.info.ridge as number }).predict(await encode(test.rows));
    byHand.forEach((z, i) => assert.ok(Math.abs(linear.predicted[i] - 1 / (1 + Math.exp(-z))) < 1e-9, `row ${i}: ${linear.predicted[i]} vs sigmoid(${z})`));
    const png = join(out, 'headline-100.png');
    assert.ok(existsSync(png));
    const meta = await sharp(png).metadata();
    assert.is(meta.format, 'png');
    assert.ok((meta.width ?? 0) >= 600);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.is(results.variants.length, 2);
    assert.ok(Math.abs(results.variants.find((v: { variant: string }) => v.variant === 'm2fn').imageSensitivity - m2fnResult.imageSensitivity.ratio) < 1e-12);
    assert.ok(Number.isFinite(results.headline['100+'].ceiling.sprc.estimate));
    // The fraction's interval resamples M2FN and the ceiling on the same rows; its estimate is the stated fraction.
    const h = r.headline['100+'];
    assert.ok(Math.abs(h.fractionInterval!.estimate - h.m2fn.sprc.estimate / h.ceiling!.sprc.estimate) < 1e-12);
    assert.ok(h.fractionInterval!.lo <= h.fraction!.sprc && h.fraction!.sprc <= h.fractionInterval!.hi);
    assert.match(r.markdown, /of the SPRC ceiling\*\* .*the 95% interval of the fraction/);
    // A second call resumes: nothing is retrained.
    const again = await replicate({ protocol, work: join(t.dir, 'work'), data: { '100+': data }, log: (s) => lines.push(s) });
    assert.is(again.results.length, 2);
    assert.ok(lines.filter((l) => l.includes('kept from an earlier run')).length === 2);
    const resumed = await writeReport(again, join(t.dir, 'report-resumed'));
    assert.match(resumed.markdown, /recorded by earlier invocations for the data and the 2 results this one kept/);
  } finally {
    t.cleanup();
  }
});

test.run();
