// SVR baselines. The glue (options, target scaling, weights) is tested with a fake libsvm class;
// the fits through the real libsvm-js run only when that optional package is installed
// (they show up as skipped otherwise).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fitSvr, fitSvrPoly, fitSvrRbf, kernelCacheMb, libsvmAvailable, type LibsvmClass } from '../../tools/eval/baselines/svr.ts';
import { baselines } from '../../tools/eval/baselines/index.ts';

const rows = (xs: number[][]) => xs.map((r) => Float32Array.from(r));

// Records what it was given; "predicts" each sample's first feature.
function fakeLibsvm() {
  const seen: { options?: Record<string, unknown>; samples?: number[][]; labels?: number[]; freed: boolean } = { freed: false };
  const Fake = class {
    static SVM_TYPES = { C_SVC: 0, EPSILON_SVR: 3 };
    static KERNEL_TYPES = { LINEAR: 0, POLYNOMIAL: 1, RBF: 2 };
    constructor(options: Record<string, unknown>) { seen.options = options; }
    train(samples: number[][], labels: number[]) { seen.samples = samples; seen.labels = labels; }
    predict(samples: number[][]) { return samples.map((s) => s[0]); }
    free() { seen.freed = true; }
  };
  return { SVM: Fake as unknown as LibsvmClass, seen };
}

test('fitSvr maps options, standardises the target and maps predictions back', () => {
  const { SVM, seen } = fakeLibsvm();
  // X entries {0, 2, 0, 2}: mean 1, var 1, d = 2 → default gamma 1 / (2 · 1) = 0.5
  const X = rows([[0, 2], [2, 0]]);
  // y = [1, 3]: mean 2, population std 1 → labels [-1, 1]
  const m = fitSvr(X, [1, 3], undefined, { kernel: 'rbf', libsvm: SVM });
  assert.equal(seen.options, { type: 3, kernel: 2, cost: 1, epsilon: 0.1, gamma: 0.5, degree: 3, coef0: 0, cacheSize: 100, quiet: true });
  assert.equal(seen.samples, [[0, 2], [2, 0]]);
  assert.equal(seen.labels, [-1, 1]);
  // fake returns x0 in standardised units → 2 + 1 · x0
  assert.equal(Array.from(m.predict(rows([[0.5, 9], [-1, 0]]))), [2.5, 1]);
  m.free();
  assert.ok(seen.freed);
  fitSvr(X, [1, 3], [5, 5], { kernel: 'poly', cost: 10, gamma: 0.1, degree: 2, coef0: 1, epsilon: 0.2, cacheMb: 300, libsvm: SVM });
  assert.equal(seen.options, { type: 3, kernel: 1, cost: 10, epsilon: 0.2, gamma: 0.1, degree: 2, coef0: 1, cacheSize: 300, quiet: true });
});

test('kernelCacheMb holds the whole kernel matrix (n² floats), within 100 … 1024 MB', () => {
  assert.is(kernelCacheMb(2), 100); // libsvm's own default is the floor
  // 8,000 rows: 8000² · 4 bytes = 244.14 MB → 245, plus 8 MB of slack
  assert.is(kernelCacheMb(8000), 253);
  assert.is(kernelCacheMb(20_000), 1024);
});

test('fitSvr: unequal weights throw, a constant target needs no libsvm', () => {
  const { SVM } = fakeLibsvm();
  const X = rows([[0], [1]]);
  assert.throws(() => fitSvr(X, [1, 2], [1, 2], { kernel: 'rbf', libsvm: SVM }), /per-sample weights/);
  const c = fitSvr(X, [4, 4], undefined, { kernel: 'rbf' }); // no libsvm passed, none loaded
  assert.equal(Array.from(c.predict(rows([[7]]))), [4]);
});

if (!libsvmAvailable()) {
  test('without libsvm-js, fitting says how to install it', () => {
    assert.throws(() => fitSvrRbf(rows([[0], [1]]), [0, 1]), /npm install libsvm-js/);
  });
}

const withLibsvm = libsvmAvailable() ? test : test.skip;

// y = sin(x) on [-3, 3]: an RBF SVR should follow it within a few epsilon tubes.
withLibsvm('RBF SVR through libsvm-js fits a smooth 1-D function', () => {
  const xs = Array.from({ length: 61 }, (_, i) => -3 + i * 0.1);
  const m = fitSvr(rows(xs.map((x) => [x])), xs.map(Math.sin), undefined, { kernel: 'rbf', cost: 10, gamma: 1 });
  const p = m.predict(rows(xs.map((x) => [x])));
  const rmse = Math.sqrt(xs.reduce((s, x, i) => s + (p[i] - Math.sin(x)) ** 2, 0) / xs.length);
  m.free();
  assert.ok(rmse < 0.1, `rmse ${rmse}`);
});

// y = x² with a degree-2 polynomial kernel (coef0 1 gives the constant and linear terms too).
withLibsvm('polynomial SVR through libsvm-js fits a quadratic', () => {
  const xs = Array.from({ length: 41 }, (_, i) => -2 + i * 0.1);
  const m = fitSvr(rows(xs.map((x) => [x])), xs.map((x) => x * x), undefined, { kernel: 'poly', degree: 2, coef0: 1, gamma: 1, cost: 100 });
  const p = m.predict(rows([[-1.5], [0], [1]]));
  m.free();
  [2.25, 0, 1].forEach((v, i) => assert.ok(Math.abs(p[i] - v) < 0.3, `x ${[-1.5, 0, 1][i]}: ${p[i]} vs ${v}`));
});

withLibsvm('default RBF and poly baselines run end to end', () => {
  const X = rows(Array.from({ length: 30 }, (_, i) => [i % 3 === 0 ? 1 : 0, i % 3 === 1 ? 1 : 0, (i % 7) / 7]));
  const y = X.map((r) => 0.02 + 0.01 * r[0] - 0.005 * r[1] + 0.003 * r[2]);
  for (const fit of [fitSvrRbf, fitSvrPoly]) {
    const m = fit(X, y);
    const p = m.predict(X);
    m.free();
    assert.is(p.length, 30);
    assert.ok(p.every(Number.isFinite));
  }
});

test('the baseline registry names all three', () => {
  assert.equal(Object.keys(baselines).sort(), ['linear', 'svr-poly', 'svr-rbf']);
  const m = baselines.linear(rows([[0], [1], [2]]), [1, 3, 5]);
  const p = m.predict(rows([[3]]));
  assert.ok(Math.abs(p[0] - 7) < 1e-4);
});

test.run();
