// link logit: the head regresses the CTR's log-odds and the exported model outputs sigmoid(head).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inferenceSpec } from '../../graph/export/inference.ts';
import { validateConfig } from '../../graph/models/config.ts';
import { buildModel } from '../../graph/models/m2fn.ts';
import type { DatasetJson, DatasetRow, LoadedSplit } from '../../tools/data/manifest.ts';
import { buildExamples, fitTargets, foldTargetScaling, predictedScores } from '../../tools/train/data.ts';
import { HashingTextEncoder } from '../../runtime/hashing-text-encoder.ts';
import { modelFeeds, run, smallConfig } from '../graph/helpers.ts';

const logistic = (z: number) => 1 / (1 + Math.exp(-z));

test('the logit model outputs the sigmoid of what the identity model outputs, folding included', async () => {
  const plain = buildModel(smallConfig('m2fn', { size: 64, seed: 5 }));
  const logit = buildModel(smallConfig('m2fn', { size: 64, seed: 5, link: 'logit' }));
  const { feeds } = modelFeeds(plain, 4, 1);
  for (const m of [plain, logit]) foldTargetScaling(m, { shift: -3.3, scale: 0.4 });
  const y = (await run(inferenceSpec(plain), feeds)).ctr.data as Float32Array;
  const ctr = (await run(inferenceSpec(logit), feeds)).ctr.data as Float32Array;
  y.forEach((v, i) => {
    assert.ok(Math.abs(ctr[i] - logistic(v)) < 1e-6, `${ctr[i]} vs sigmoid(${v})`);
    assert.ok(ctr[i] > 0 && ctr[i] < 1);
  });
});

const rows: DatasetRow[] = [
  { id: 'a', image: 'a.png', attributes: {}, ctr: 0.04, impressions: 1000 },
  { id: 'b', image: 'b.png', attributes: {}, ctr: 0, impressions: 200 },
  { id: 'c', image: 'c.png', attributes: {}, ctr: 0.1, impressions: 50 },
];
const split = (over: Partial<DatasetJson> = {}, rs = rows): LoadedSplit => ({ dir: '/data/x', split: 'train', rows: rs, dataset: { target: 'ctr', ...over } as DatasetJson });
const imageOnly = smallConfig('image-only', { size: 64, link: 'logit' });

test('targets are the z-scored empirical log-odds, and predictions map back to CTRs', async () => {
  // By hand: ln((clicks + ½) / (misses + ½)) with clicks 40, 0, 5.
  const z = [Math.log(40.5 / 960.5), Math.log(0.5 / 200.5), Math.log(5.5 / 45.5)];
  const mean = (z[0] + z[1] + z[2]) / 3;
  const std = Math.sqrt(z.reduce((a, v) => a + (v - mean) ** 2, 0) / 3);
  const spec = fitTargets(imageOnly, split(), true);
  assert.equal(spec.link, 'logit');
  assert.ok(Math.abs(spec.shift - mean) < 1e-12 && Math.abs(spec.scale - std) < 1e-12);
  const images = new Map(rows.map((r, i) => [`/data/x/${r.image}`, i]));
  const ex = await buildExamples(imageOnly, split(), rows, spec, new HashingTextEncoder({ dim: 4 }), images);
  z.forEach((v, i) => assert.ok(Math.abs(ex.target[i] - (v - mean) / std) < 1e-6, `target ${i}`));
  assert.equal(Array.from(ex.score), [0.04, 0, 0.1]); // metrics still compare with the observed CTR
  const back = predictedScores(spec, ex.target, 3);
  z.forEach((v, i) => assert.ok(Math.abs(back[i] - logistic(v)) < 1e-6, `prediction ${i}`));
});

test('link logit refuses what it cannot form: no impressions, rating histograms, distribution heads, unknown links', () => {
  const noImpressions = [rows[0], { ...rows[1], impressions: undefined }];
  assert.throws(() => fitTargets(imageOnly, split({}, noImpressions), false), /\/data\/x row b: link logit needs the row's impressions/);
  assert.throws(() => fitTargets(imageOnly, split({ target: 'histogram' }), false), /link logit needs a CTR dataset; this one has histogram targets/);
  assert.throws(() => validateConfig(smallConfig('nima', { link: 'logit' })), /^link: logit needs the regression output/);
  assert.throws(() => validateConfig(smallConfig('m2fn', { link: 'probit' as never })), /^link: "probit" must be one of identity, logit$/);
  // Configs saved before link existed mean the CTR head.
  const { link: _, ...old } = smallConfig('m2fn');
  assert.equal(validateConfig(old as never).link, 'identity');
});

test.run();
