// summarize / levelBreakdown / paired intervals against hand computations, and `m2fn eval` on a
// tiny model and dataset against an independent scoring path (runtime scoreMany + naive metrics).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { levelBreakdown, summarize } from '../../tools/eval/evaluate.ts';
import { evaluateModel } from '../../tools/eval/score-model.ts';
import { bootstrapStat, distributionMoments, pairedBootstrapDiff, spearman } from '../../tools/metrics/metrics.ts';
import { readManifest } from '../../tools/data/manifest.ts';
import { ctrToDistribution, fitBuckets } from '../../tools/train/targets.ts';
import { load } from '../../runtime/node.ts';
import { writeTinyModel } from '../runtime/tiny-model.ts';
import { FIXTURE_SCHEMA, tempDir, writeFixtureDataset } from './fixture.ts';

function near(actual: number, expected: number, tol: number, what = ''): void {
  if (!(Math.abs(actual - expected) <= tol)) assert.unreachable(`${what} got ${actual}, expected ${expected} (tol ${tol})`);
}

// Independent references: ranks by counting, Pearson by the textbook sums.
function naiveRanks(x: number[]): number[] {
  return x.map((v) => x.filter((u) => u < v).length + (x.filter((u) => u === v).length + 1) / 2);
}
function naivePearson(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b) / n;
  const my = y.reduce((a, b) => a + b) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}
const naiveSpearman = (x: number[], y: number[]) => naivePearson(naiveRanks(x), naiveRanks(y));

test('per-level breakdown by hand', () => {
  const schema = { name: 's', attributes: [{ name: 'a', kind: 'categorical' as const, levels: ['x', 'y', 'z'] }, { name: 't', kind: 'text' as const, dim: 2 }] };
  const attrs = [{ a: 'x' }, { a: 'x' }, { a: 'y' }, { a: 'y' }, { a: 'y' }];
  const b = levelBreakdown(attrs, schema, [1, 2, 3, 4, 5], [1, 3, 2, 4, 9]);
  assert.is(b.length, 1, 'text attributes have no levels');
  assert.equal(b[0].levels.map((l) => [l.level, l.n]), [['x', 2], ['y', 3]], 'empty level z left out');
  const [x, y] = b[0].levels;
  // x: pred [1,2] vs obs [1,3]: errors [0,-1] → MSE 0.5, MAE 0.5; both correlations 1
  near(x.sprc, 1, 1e-15);
  near(x.lcc, 1, 1e-15);
  near(x.mse, 0.5, 1e-15);
  near(x.mae, 0.5, 1e-15);
  near(x.meanPredicted, 1.5, 1e-15);
  near(x.meanObserved, 2, 1e-15);
  // y: pred [3,4,5] vs obs [2,4,9]: dx [-1,0,1], dy [-3,-1,4]: sxy 7, sxx 2, syy 26 → 7/sqrt(52);
  // errors [1,0,-4]: MSE 17/3, MAE 5/3; ranks agree → SPRC 1
  near(y.lcc, 7 / Math.sqrt(52), 1e-15);
  near(y.sprc, 1, 1e-15);
  near(y.mse, 17 / 3, 1e-14);
  near(y.mae, 5 / 3, 1e-15);
  near(y.meanObserved, 5, 1e-15);
});

test('std metrics of distribution outputs by hand (ties included)', () => {
  // predicted std [1,1,2,3] vs target std [2,1,3,4]
  // SPRC: ranks [1.5,1.5,3,4] and [2,1,3,4]; centred [-1,-1,.5,1.5], [-.5,-1.5,.5,1.5]:
  //   sxy 4.5, sxx 4.5, syy 5 → sqrt(0.9)
  // LCC: centred [-.75,-.75,.25,1.25], [-.5,-1.5,.5,1.5]: sxy 3.5, sxx 2.75, syy 5 → 3.5/sqrt(13.75)
  const s = summarize(
    {
      attributes: [{}, {}, {}, {}],
      observed: Float64Array.of(1, 2, 3, 4),
      predicted: Float64Array.of(1, 2, 3, 4),
      predictedStd: Float64Array.of(1, 1, 2, 3),
      targetStd: Float64Array.of(2, 1, 3, 4),
    },
    null,
    { resamples: 50 },
  );
  near(s.std!.sprc.estimate, Math.sqrt(0.9), 1e-15);
  near(s.std!.lcc.estimate, 3.5 / Math.sqrt(13.75), 1e-15);
  near(s.overall.sprc.estimate, 1, 1e-15);
  assert.is(s.truth, undefined);
});

test('truth metrics, noise ceiling and fraction of it', () => {
  // truth [1,2,3,4] vs observed [1,3,2,4]: SPRC = LCC = 0.8 (sxy 4, sxx = syy = 5)
  // predicted [1,2,4,3] vs observed [1,3,2,4]: ranks [1,2,4,3]: sxy = 2.25+(-0.25)(0.5)+(1.5)(-0.5)+(0.5)(1.5)... computed below
  const observed = Float64Array.of(1, 3, 2, 4);
  const predicted = Float64Array.of(1, 2, 4, 3);
  const s = summarize({ attributes: [{}, {}, {}, {}], observed, predicted, truth: Float64Array.of(1, 2, 3, 4) }, null, { resamples: 50 });
  near(s.noiseCeiling!.sprc.estimate, 0.8, 1e-15);
  near(s.noiseCeiling!.lcc.estimate, 0.8, 1e-15);
  // predicted vs observed: centred [-1.5,-.5,1.5,.5] · [-1.5,.5,-.5,1.5] = 2.25 - .25 - .75 + .75 = 2 → 2/5 = 0.4
  near(s.overall.sprc.estimate, 0.4, 1e-15);
  near(s.fractionOfCeiling!.sprc, 0.5, 1e-15);
  // predicted vs truth: [-1.5,-.5,1.5,.5] · [-1.5,-.5,.5,1.5] = 2.25+.25+.75+.75 = 4 → 0.8
  near(s.truth!.sprc.estimate, 0.8, 1e-15);
});

test('paired difference and generic bootstrap', () => {
  const y = Float64Array.from({ length: 30 }, (_, i) => Math.sin(i) + i / 10);
  const a = Float64Array.from(y, (v, i) => v + 0.3 * Math.cos(3 * i));
  const same = pairedBootstrapDiff(spearman, a, a, y, { resamples: 100 });
  assert.equal([same.estimate, same.lo, same.hi], [0, 0, 0]);
  const b = Float64Array.from(y, (_, i) => (i * 7919) % 31);
  const d = pairedBootstrapDiff(spearman, a, b, y, { resamples: 300 });
  near(d.estimate, spearman(a, y) - spearman(b, y), 1e-15);
  assert.ok(d.lo > 0, `a is far better than noise: ${JSON.stringify(d)}`);
  const m = bootstrapStat(y.length, (rows) => rows.reduce((s, r) => s + y[r], 0) / rows.length, { resamples: 200 });
  near(m.estimate, y.reduce((s, v) => s + v) / y.length, 1e-12);
  assert.ok(m.lo < m.estimate && m.estimate < m.hi);
});

test('m2fn eval equals an independent scoring of the same rows', async () => {
  const t = tempDir('eval-cli');
  try {
    const data = join(t.dir, 'data');
    await writeFixtureDataset(data, { images: 8, rows: 48 });
    const model = await writeTinyModel(join(t.dir, 'model'), { schema: FIXTURE_SCHEMA, preprocessing: { size: 8 } });
    const out = join(t.dir, 'out');
    const r = spawnSync(process.execPath, ['bin/m2fn.js', 'eval', '--model', model.dir, '--data', data, '--out', out, '--resamples', '200', '--quiet'], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(out, 'eval-test.json'), 'utf8'));
    const md = readFileSync(join(out, 'eval-test.md'), 'utf8');
    for (const section of ['## Overall', '## Noise ceiling', '## By attribute level', '### age', '### colour']) assert.ok(md.includes(section), section);

    const split = readManifest(data, 'test');
    const scorer = await load(model.dir);
    const scores = await scorer.scoreMany(split.rows.map((row) => ({ image: join(data, row.image), attributes: row.attributes })));
    await scorer.close();
    const pred = scores.map((s) => ('ctr' in s ? s.ctr : NaN));
    const obs = split.rows.map((row) => row.ctr!);
    const truth = split.rows.map((row) => row.truth!);
    assert.is(report.n, split.rows.length);
    near(report.overall.sprc.estimate, naiveSpearman(pred, obs), 1e-9, 'SPRC');
    near(report.overall.lcc.estimate, naivePearson(pred, obs), 1e-9, 'LCC');
    near(report.overall.mse.estimate, pred.reduce((s, p, i) => s + (p - obs[i]) ** 2, 0) / pred.length, 1e-12, 'MSE');
    near(report.overall.mae.estimate, pred.reduce((s, p, i) => s + Math.abs(p - obs[i]), 0) / pred.length, 1e-12, 'MAE');
    near(report.truth.sprc.estimate, naiveSpearman(pred, truth), 1e-9, 'SPRC vs truth');
    near(report.noiseCeiling.lcc.estimate, naivePearson(truth, obs), 1e-9, 'ceiling');
    assert.ok(report.overall.sprc.lo <= report.overall.sprc.estimate && report.overall.sprc.estimate <= report.overall.sprc.hi);
    const age = report.byAttribute.find((a: { attribute: string }) => a.attribute === 'age');
    for (const level of age.levels) {
      const idx = split.rows.map((row, i) => (row.attributes.age === level.level ? i : -1)).filter((i) => i >= 0);
      assert.is(level.n, idx.length);
      if (idx.length >= 3) near(level.lcc, naivePearson(idx.map((i) => pred[i]), idx.map((i) => obs[i])), 1e-9, `age ${level.level}`);
      near(level.meanObserved, idx.reduce((s, i) => s + obs[i], 0) / idx.length, 1e-12);
    }
  } finally {
    t.cleanup();
  }
});

test('distribution model: SPRC/LCC on the mean and on the std', async () => {
  const t = tempDir('eval-dist');
  try {
    const data = join(t.dir, 'data');
    await writeFixtureDataset(data, { images: 8, rows: 48 });
    const train = readManifest(data, 'train');
    const buckets = fitBuckets(train.rows.map((r) => r.ctr!));
    const model = await writeTinyModel(join(t.dir, 'model'), { schema: FIXTURE_SCHEMA, kind: 'distribution', preprocessing: { size: 8 }, bucketValues: buckets.values });
    const { report } = await evaluateModel(model.dir, data, { resamples: 100 });
    assert.equal(report.notes, [], 'refitted buckets equal the card’s');
    const split = readManifest(data, 'test');
    const scorer = await load(model.dir);
    const scores = await scorer.scoreMany(split.rows.map((row) => ({ image: join(data, row.image), attributes: row.attributes })));
    await scorer.close();
    const mean = scores.map((s) => ('mean' in s ? s.mean : NaN));
    const std = scores.map((s) => ('std' in s ? s.std : NaN));
    const targetStd = split.rows.map((r) => distributionMoments(ctrToDistribution(r.ctr!, r.impressions!, buckets), buckets.values).std);
    near(report.overall.sprc.estimate, naiveSpearman(mean, split.rows.map((r) => r.ctr!)), 1e-9, 'SPRC(mean)');
    near(report.std!.sprc.estimate, naiveSpearman(std, targetStd), 1e-9, 'SPRC(std)');
    near(report.std!.lcc.estimate, naivePearson(std, targetStd), 1e-9, 'LCC(std)');
  } finally {
    t.cleanup();
  }
});

test.run();
