// npm run demo — the main job on embedded defaults, end to end: synthesise a small ad world,
// prepare it into a dataset, train a CPU-sized M2FN on it, and score the unseen test ads with the
// Node runtime. Each step is the command a user would type; it is printed before it runs.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readManifest } from './data/manifest.ts';
import { pearson, spearman } from './metrics/metrics.ts';
import { prepareSplit, splitSensitivity } from './eval/score-model.ts';
import { describeSensitivity, IMAGE_BLIND_RATIO } from './metrics/sensitivity.ts';
import { load } from '../runtime/node.ts';
import { scoreValue } from '../runtime/results.ts';

const out = process.argv[2] ?? 'out/demo';
const world = join(out, 'world');
const dataset = join(out, 'dataset');
const run = join(out, 'run');

function step(bin: string, args: string[]): void {
  console.log(`\n$ ${bin} ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [join('bin', `${bin}.js`), ...args], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`demo: \`${bin} ${args[0]}\` failed (exit ${r.status})`);
    process.exit(1);
  }
}

const t0 = performance.now();
step('m2fn', ['synth', '--out', world, '--images', '300', '--impressions', '1000000', '--image-size', '128']);
step('m2fn', ['prepare', '--world', world, '--out', dataset, '--merge-below', '5000', '--size', '128']);
step('ort-train', [
  '--data', dataset, '--out', run, '--force',
  // CBN opens every VGG block: with it only after conv1 the unnormalised features grew ~10⁴× in
  // the first epoch, saturated the fusion's image tanh and left the model image-blind (docs/explain.md).
  '--size', '64', '--width', '0.125', '--head-hidden', '64', '--cbn-hidden', '32', '--att-hidden', '32', '--fuse-dim', '32', '--cbn-placement', '1,1,1,1,1',
  '--epochs', '6', '--batch-size', '16', '--lr', '1e-3', '--schedule', 'cosine:warmup=20', '--validation', 'holdout:0.15',
]);

console.log(`\n$ scoring the ${dataset} test split with the Node runtime (runtime/node.ts)`);
const test = readManifest(dataset, 'test');
const scorer = await load(run);
const scores = await scorer.scoreMany(test.rows.map((r) => ({ image: join(dataset, r.image), attributes: r.attributes })), { batchSize: 32 });
const predicted = scores.map(scoreValue);
const observed = test.rows.map((r) => r.ctr!);
const sensitivity = await splitSensitivity(await prepareSplit(scorer, test), observed);
await scorer.close();
const truth = test.rows.map((r) => r.truth ?? NaN);
console.log(`test rows (unseen ads × their contexts): ${test.rows.length}`);
console.log(`SPRC / LCC vs observed CTR: ${spearman(predicted, observed).toFixed(3)} / ${pearson(predicted, observed).toFixed(3)}; ${describeSensitivity(sensitivity)}${sensitivity.ratio < IMAGE_BLIND_RATIO ? ' — IMAGE-BLIND: the ranking comes from the attributes alone' : ''}`);
if (truth.every(Number.isFinite)) {
  console.log(`SPRC / LCC vs ground-truth CTR: ${spearman(predicted, truth).toFixed(3)} / ${pearson(predicted, truth).toFixed(3)}`);
  console.log(`noise ceiling (truth vs observed) SPRC / LCC: ${spearman(truth, observed).toFixed(3)} / ${pearson(truth, observed).toFixed(3)}`);
}
// Test rows are ad × context (audience, time, placement); rank the ads themselves, each by its
// impression-weighted predicted CTR over the contexts it was shown in, next to its observed CTR.
const ads = new Map<string, { impressions: number; predicted: number; clicks: number; contexts: number }>();
test.rows.forEach((r, i) => {
  const w = r.impressions ?? 1;
  const ad = ads.get(r.image) ?? { impressions: 0, predicted: 0, clicks: 0, contexts: 0 };
  ad.impressions += w;
  ad.predicted += w * predicted[i];
  ad.clicks += r.clicks ?? w * r.ctr!;
  ad.contexts++;
  ads.set(r.image, ad);
});
const top = [...ads].sort(([, a], [, b]) => b.predicted / b.impressions - a.predicted / a.impressions).slice(0, 5);
console.log(`top 5 predicted ads (of ${ads.size}; impression-weighted over each ad's contexts):`);
for (const [image, ad] of top) {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  console.log(`  ${image}  predicted ${pct(ad.predicted / ad.impressions)}  observed ${pct(ad.clicks / ad.impressions)}  (${ad.contexts} context${ad.contexts === 1 ? '' : 's'}, ${ad.impressions} impressions)`);
}
console.log(`\nmodel: ${join(run, 'inference.onnx')} (+ card); log: ${join(run, 'train-log.jsonl')}; curve: ${join(run, 'learning-curve.png')}`);
console.log(`demo finished in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
