// p-values and the ANOVA / logistic tests against closed forms and direct computation; level merging.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { anovaBinary, chiSquareSurvival, fSurvival, logisticLrt, betaI } from '../../tools/data/stats.ts';
import { planMerges } from '../../tools/data/merge-levels.ts';

const close = (a: number, b: number, tol: number, msg = '') => assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b}`);

test('chi-square and F tails match closed forms', () => {
  // Chi-square with 2 df: P(X > x) = exp(-x/2); 1 df: erfc(sqrt(x/2)) — 3.841 is the 5% point.
  for (const x of [0.5, 2, 7.3, 20]) close(chiSquareSurvival(x, 2), Math.exp(-x / 2), 1e-12, `chi2(2) at ${x}`);
  close(chiSquareSurvival(3.841458820694124, 1), 0.05, 1e-9);
  close(chiSquareSurvival(11.070497693516351, 5), 0.05, 1e-9);
  // F(2, d2): P(F > f) = (1 + 2f/d2)^(-d2/2).
  for (const [f, d2] of [[1, 10], [4.1, 10], [0.3, 7], [9, 40]]) close(fSurvival(f, 2, d2), (1 + (2 * f) / d2) ** (-d2 / 2), 1e-10, `F(2,${d2}) at ${f}`);
  // I_x(a, 1) = x^a.
  close(betaI(0.3, 2.5, 1), 0.3 ** 2.5, 1e-12);
});

test('ANOVA from level counts equals the textbook computation on explicit 0/1 data', () => {
  const groups = [[1, 0, 0, 1, 0], [0, 0, 0, 0, 1, 0], [1, 1, 0, 1]];
  const all = groups.flat();
  const grand = all.reduce((a, b) => a + b, 0) / all.length;
  let ssb = 0;
  let ssw = 0;
  for (const g of groups) {
    const m = g.reduce((a, b) => a + b, 0) / g.length;
    ssb += g.length * (m - grand) ** 2;
    for (const y of g) ssw += (y - m) ** 2;
  }
  const f = ssb / 2 / (ssw / (all.length - 3));
  const r = anovaBinary(groups.map((g, i) => ({ level: String(i), impressions: g.length, clicks: g.reduce((a, b) => a + b, 0) })));
  close(r.f, f, 1e-12);
  assert.is(r.df1, 2);
  assert.is(r.df2, 12);
});

test('logistic LR statistic: 2 Σ observed log(observed / expected)', () => {
  const levels = [{ level: 'a', impressions: 1000, clicks: 30 }, { level: 'b', impressions: 2000, clicks: 90 }];
  const p = 120 / 3000;
  const expected = [[30, 1000 * p], [970, 1000 * (1 - p)], [90, 2000 * p], [1910, 2000 * (1 - p)]];
  const g = 2 * expected.reduce((s, [o, e]) => s + o * Math.log(o / e), 0);
  const r = logisticLrt(levels);
  close(r.chi2, g, 1e-9);
  close(r.p, chiSquareSurvival(g, 1), 1e-15);
  assert.is(logisticLrt([{ level: 'a', impressions: 100, clicks: 5 }, { level: 'b', impressions: 200, clicks: 10 }]).chi2, 0);
});

test('merging: ordered levels join a neighbour, cyclic wraps, unordered join the nearest CTR', () => {
  const lv = (counts: [number, number][]) => counts.map(([impressions, clicks], i) => ({ level: String(i + 1), impressions, clicks }));
  // Level 1 (small) joins 2; level 5 (small) joins 4 (linear) or 1's group (cyclic, smaller neighbour).
  const linear = planMerges(lv([[10, 1], [100, 5], [100, 5], [100, 5], [20, 1]]), 'linear', 50);
  assert.equal(linear.mapping, { '1': '2', '5': '4' });
  assert.equal(linear.kept, ['2', '3', '4']);
  const cyc = planMerges(lv([[10, 1], [100, 5], [100, 5], [100, 5], [30, 1]]), 'cyclic', 50);
  // 1 (10) merges first into its smaller neighbour 5 (30) → group of 40 named "5", still small,
  // then joins its smaller neighbour: 4 (100) vs 2 (100) → tie goes left (4).
  assert.equal(cyc.mapping, { '1': '4', '5': '4' });
  const none = planMerges([{ level: 'red', impressions: 10, clicks: 5 }, { level: 'blue', impressions: 100, clicks: 48 }, { level: 'grey', impressions: 100, clicks: 10 }], 'none', 50);
  assert.equal(none.mapping, { red: 'blue' });
  assert.equal(planMerges(lv([[100, 1], [200, 1]]), 'linear', 50).mapping, {});
});

test.run();
