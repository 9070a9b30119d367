// CTR → bucket distributions. Reference values come from the C library's erfc (Python's
// math.erfc, printed to 16 digits) and from the definitions worked by hand in the comments.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { near, throwsMatching } from './assertions.ts';
import { ctrToDistribution, distributionToCtr, erf, erfc, fitBuckets, normalCdf, type Buckets } from '../../tools/train/targets.ts';

const rel = (actual: number, expected: number, tol: number, what = '') => near(actual / expected, 1, tol, what);

// Hand-made buckets, independent of fitBuckets: edges 10^(-3 + 0.2 i), i = 0..10 (0.001 … 0.1),
// so each bucket is 0.2 decades = 0.4605 wide in ln-CTR; centres 10^(-2.9 + 0.2 k).
const B: Buckets = {
  edges: Array.from({ length: 11 }, (_, i) => 10 ** (-3 + 0.2 * i)),
  values: Array.from({ length: 10 }, (_, k) => 10 ** (-2.9 + 0.2 * k)),
};
const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0);

test('normal CDF and erf against known values', () => {
  near(normalCdf(1), 0.8413447460685429, 1e-15, 'Φ(1)');
  near(normalCdf(-1), 0.15865525393145707, 1e-15, 'Φ(-1)');
  near(normalCdf(0), 0.5, 0, 'Φ(0)');
  near(normalCdf(-1.96), 0.024997895148220435, 1e-15, 'Φ(-1.96)');
  near(normalCdf(0.5), 0.6914624612740131, 1e-15, 'Φ(0.5)');
  near(normalCdf(3), 0.9986501019683699, 1e-15, 'Φ(3)');
  near(normalCdf(6), 0.9999999990134123, 1e-15, 'Φ(6)');
  // Tails keep relative accuracy (a 1 − erf form would give 0 here).
  rel(normalCdf(-5), 2.866515718791946e-7, 1e-12, 'Φ(-5)');
  rel(normalCdf(-8), 6.220960574271819e-16, 1e-12, 'Φ(-8)');
  rel(normalCdf(-20), 2.7536241186063314e-89, 1e-12, 'Φ(-20)');
  assert.is(normalCdf(-Infinity), 0);
  assert.is(normalCdf(Infinity), 1);
  // Either side of the series / continued-fraction switch at 2.5.
  near(erf(2.4999), 0.9995928300996666, 1e-15, 'erf(2.4999)');
  near(erf(2.5), 0.999593047982555, 1e-15, 'erf(2.5)');
  rel(erfc(2.4999), 0.0004071699003334514, 1e-12, 'erfc(2.4999)');
  rel(erfc(2.5), 0.0004069520174449589, 1e-12, 'erfc(2.5)');
  rel(erfc(5), 1.5374597944280351e-12, 1e-12, 'erfc(5)');
  near(erf(0.1), 0.1124629160182849, 1e-16, 'erf(0.1)');
  near(erf(-0.7), -0.6778011938374184, 1e-15, 'erf(-0.7)');
  near(erfc(-0.7), 1.6778011938374184, 1e-15, 'erfc(-0.7)');
  assert.is(erf(0), 0);
});

test('fitBuckets: log-spaced edges between the 1st and 99th percentile of the positive CTRs', () => {
  // 101 CTRs 10^(-3 + 0.02 i): type-7 percentiles sit at i = 1 and i = 99 → 10^-2.98 and 10^-1.02,
  // so the edges step 0.196 decades. Zero rows do not take part in the fit.
  const ctrs = [0, 0, ...Array.from({ length: 101 }, (_, i) => 10 ** (-3 + 0.02 * i)), 0];
  const b = fitBuckets(ctrs);
  assert.is(b.edges.length, 11);
  assert.is(b.values.length, 10);
  b.edges.forEach((e, i) => rel(e, 10 ** (-2.98 + 0.196 * i), 1e-12, `edge ${i}`));
  b.values.forEach((v, k) => rel(v, 10 ** (-2.98 + 0.196 * (k + 0.5)), 1e-12, `centre ${k}`));
  // Order of the input does not matter.
  assert.equal(fitBuckets([...ctrs].reverse()), b);
});

test('fitBuckets refuses data it cannot place buckets on', () => {
  throwsMatching(() => fitBuckets([0, 0, 0.1]), /need at least 2 CTRs above 0/, 'too few');
  throwsMatching(() => fitBuckets([0.05, 0.05, 0.05]), /1st and 99th percentile CTRs are both 0.05/, 'constant');
  throwsMatching(() => fitBuckets([0.1, 1.5]), /CTR #1 is 1.5, not a number in \[0, 1\]/, 'out of range');
  throwsMatching(() => fitBuckets([0.1, NaN]), /CTR #1 is NaN/, 'NaN');
});

test('distributions sum to 1 across the range, including zero clicks and CTR 1', () => {
  for (const [c, n] of [[0, 100], [0, 1e6], [1e-5, 1e3], [0.001, 500], [0.01, 100], [0.0123, 1e4], [0.1, 1e7], [0.5, 200], [1, 100]]) {
    const p = ctrToDistribution(c, n, B);
    assert.is(p.length, 10);
    near(sum(p), 1, 1e-6, `sum for ctr ${c}, n ${n}`);
    assert.ok(Array.from(p).every((v) => v >= 0), `non-negative for ${c}`);
  }
});

test('masses match the log-normal definition worked out by hand', () => {
  // ctr 0.01 = edge 5 exactly, n = 10000: σ = sqrt(0.99 / 100) = 0.0994987 (above the 0.05 floor).
  // Half the mass either side of edge 5; Φ(−0.4605/σ) = Φ(−4.6286) = 1.8428e-6 spills into
  // buckets 3 and 6.
  const p = ctrToDistribution(0.01, 10000, B);
  const want = [0, 0, 1.0538e-20, 1.8427739e-6, 0.4999981572, 0.4999981572, 1.8427739e-6, 0, 0, 0];
  want.forEach((w, k) => near(p[k], w, 1e-7, `bucket ${k}`));
  // Zero clicks out of 200: c = 0.5/200 = 0.0025, σ = sqrt(0.9975 / 0.5) = 1.41244 — a wide spread
  // from the Φ differences at z_k = (ln edge_k − ln 0.0025)/σ (reference from math.erfc).
  const z = ctrToDistribution(0, 200, B);
  const wantZ = [0.37346717506879373, 0.12787255986035667, 0.127733860294866, 0.11483519937696407, 0.09291458084551385,
    0.06765994671658349, 0.04434217602614199, 0.02615399974868582, 0.013883301395011705, 0.01113720066708268];
  wantZ.forEach((w, k) => near(z[k], w, 1e-7, `zero-click bucket ${k}`));
});

test('a CTR in the middle of a bucket with huge impressions puts > 0.99 of the mass there', () => {
  for (let k = 0; k < 10; k++) {
    // σ hits the 0.05 floor; the bucket's half-width 0.1·ln 10 = 0.23026 is 4.6052σ, and
    // Φ(−4.6052) = 2.0606e-6 spills out of each closed side (the outer buckets have one).
    const p = ctrToDistribution(B.values[k], 1e8, B);
    assert.ok(p[k] > 0.99, `bucket ${k} got ${p[k]}`);
    near(p[k], 1 - (k === 0 || k === 9 ? 1 : 2) * 2.060643395971721e-6, 2e-7, `bucket ${k} inside mass`);
  }
  // A smaller floor concentrates it further; a larger one spreads it.
  assert.ok(ctrToDistribution(B.values[4], 1e8, B, 0.01)[4] > ctrToDistribution(B.values[4], 1e8, B, 0.2)[4]);
  // Outer buckets are open-ended: CTRs beyond the outer edges land wholly in them.
  near(ctrToDistribution(1e-6, 1e9, B)[0], 1, 1e-6, 'below edge 0');
  near(ctrToDistribution(0.9, 1e9, B)[9], 1, 1e-6, 'above edge 10');
});

test('round trip: distributionToCtr(ctrToDistribution(c)) ≈ c for well-measured c', () => {
  // At bucket centres the mass is symmetric around the centre → exact up to the 4e-6 spill.
  for (let k = 1; k < 9; k++) rel(distributionToCtr(ctrToDistribution(B.values[k], 1e7, B), B), B.values[k], 1e-4, `centre ${k}`);
  // Anywhere inside: within half a bucket (0.2303 in ln-CTR) — the 10-bucket resolution.
  for (let i = 0; i <= 40; i++) {
    const c = 10 ** (-2.8 + 0.04 * i); // 10^-2.8 … 10^-1.2, inside edges 1..9
    const back = distributionToCtr(ctrToDistribution(c, 1e7, B), B);
    assert.ok(Math.abs(Math.log(back / c)) <= 0.2303 + 1e-3, `ctr ${c} came back as ${back}`);
  }
});

test('distributionToCtr is the expected value and checks its input', () => {
  const p = [0, 0, 0, 0, 0.25, 0.75, 0, 0, 0, 0];
  near(distributionToCtr(p, B), 0.25 * 10 ** -2.1 + 0.75 * 10 ** -1.9, 1e-15);
  // Unnormalised input is normalised (e.g. float32 softmax rounding).
  near(distributionToCtr(p.map((v) => v * 2), B), 0.25 * 10 ** -2.1 + 0.75 * 10 ** -1.9, 1e-15);
  throwsMatching(() => distributionToCtr([1, 2, 3], B), /expected 10 probabilities, got 3/, 'length');
  throwsMatching(() => distributionToCtr([0, 0, 0, -1, 0, 0, 0, 0, 0, 2], B), /probability #3 is -1/, 'negative');
  throwsMatching(() => distributionToCtr(new Array(10).fill(0), B), /sum to 0/, 'zero');
  throwsMatching(() => ctrToDistribution(0.1, 0, B), /impressions must be a number ≥ 1, got 0/, 'impressions');
  throwsMatching(() => ctrToDistribution(-0.1, 10, B), /CTR -0.1 is not a number in \[0, 1\]/, 'ctr');
  throwsMatching(() => ctrToDistribution(0.1, 10, { edges: [1, 2], values: [1] }), /11 increasing positive edges/, 'buckets');
});

test.run();
