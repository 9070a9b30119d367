// Linear-regression baseline against known coefficients and a hand-solved weighted fit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fitLinear } from '../../tools/eval/baselines/linear.ts';
import { weylUniform } from '../../runtime/random.ts';

function near(actual: number, expected: number, tol: number, what = ''): void {
  if (!(Math.abs(actual - expected) <= tol)) assert.unreachable(`${what} got ${actual}, expected ${expected} (tol ${tol})`);
}

const rows = (xs: number[][]) => xs.map((r) => Float32Array.from(r));

test('recovers known coefficients on noiseless synthetic data', () => {
  const u = weylUniform(3);
  const trueCoef = [2, -1, 0.5, 0, 3];
  const X: Float32Array[] = [];
  const y: number[] = [];
  for (let i = 0; i < 60; i++) {
    const x = Float32Array.from(trueCoef, () => u() * 2 - 1);
    X.push(x);
    y.push(0.25 + x.reduce((s, v, j) => s + v * trueCoef[j], 0)); // float64 sum of the float32 features
  }
  const exact = fitLinear(X, y, undefined, { ridge: 0 });
  trueCoef.forEach((c, j) => near(exact.coef[j], c, 1e-10, `coef ${j}`));
  near(exact.intercept, 0.25, 1e-10, 'intercept');
  const pred = exact.predict(X);
  y.forEach((v, i) => near(pred[i], v, 1e-10, `pred ${i}`));
  // The default ridge (1e-6 relative) shrinks the coefficients by about that much.
  const ridged = fitLinear(X, y);
  trueCoef.forEach((c, j) => near(ridged.coef[j], c, 1e-4, `ridged coef ${j}`));
});

test('weighted fit on 3 points equals the hand-derived solution', () => {
  // x = [0,1,2], y = [0,1,3], w = [1,1,2]. Normal equations:
  //   [Σw  Σwx ] [b0]   [Σwy ]      [4 5] [b0]   [ 7]
  //   [Σwx Σwx²] [b1] = [Σwxy]  →   [5 9] [b1] = [13]
  // det = 11, b0 = (9·7 − 5·13)/11 = −2/11, b1 = (4·13 − 5·7)/11 = 17/11.
  const X = rows([[0], [1], [2]]);
  const m = fitLinear(X, [0, 1, 3], [1, 1, 2], { ridge: 0 });
  near(m.coef[0], 17 / 11, 1e-14, 'slope');
  near(m.intercept, -2 / 11, 1e-14, 'intercept');
  // Scaling all weights (impressions in the thousands) leaves the solution unchanged.
  const scaled = fitLinear(X, [0, 1, 3], [1000, 1000, 2000], { ridge: 0 });
  near(scaled.coef[0], 17 / 11, 1e-14, 'scaled slope');
  // Unweighted: x̄ = 1, ȳ = 4/3, slope = Σ(x−x̄)(y−ȳ)/Σ(x−x̄)² = (4/3 + 5/3)/2 = 3/2, intercept = 4/3 − 3/2 = −1/6
  const plain = fitLinear(X, [0, 1, 3], undefined, { ridge: 0 });
  near(plain.coef[0], 1.5, 1e-14, 'unweighted slope');
  near(plain.intercept, -1 / 6, 1e-14, 'unweighted intercept');
});

test('ridge handles one-hot collinearity; ridge 0 reports it', () => {
  // Two one-hot columns always sum to 1: collinear with the intercept.
  const X = rows([[1, 0], [1, 0], [0, 1], [0, 1]]);
  const y = [1, 1, 3, 3];
  assert.throws(() => fitLinear(X, y, undefined, { ridge: 0 }), /singular/);
  const m = fitLinear(X, y);
  const p = m.predict(rows([[1, 0], [0, 1]]));
  near(p[0], 1, 1e-5);
  near(p[1], 3, 1e-5);
  // Minimum-norm split of the +-1 level effect between the two columns.
  near(m.coef[0], -1, 1e-5);
  near(m.coef[1], 1, 1e-5);
});

test('argument errors are explicit', () => {
  const X = rows([[0], [1]]);
  assert.throws(() => fitLinear(X, [1]), /targets/);
  assert.throws(() => fitLinear(X, [1, 2], [1]), /weights/);
  assert.throws(() => fitLinear(X, [1, 2], [1, -1]), /weight 1/);
  assert.throws(() => fitLinear(X, [1, 2], [0, 0]), /all weights are zero/);
  assert.throws(() => fitLinear([Float32Array.from([1]), Float32Array.from([1, 2])], [1, 2]), /row 1/);
  assert.throws(() => fitLinear(X, [1, 2]).predict(rows([[1, 2]])), /fit on 1/);
});

test.run();
