// Attribute-only linear regression (paper Table 7, "only aux" rows): weighted least squares
// with a small ridge term, solved in float64 by Cholesky on the normal equations.
import { checkFitArgs, checkPredictArgs, unitMeanWeights, type Regressor } from './types.ts';

export interface LinearOptions {
  /**
   * Ridge strength relative to the data: lambda = ridge * trace(G) / d, where G is the centred,
   * weighted Gram matrix. Relative, so its effect does not depend on feature or weight scale.
   * Needed for collinear features (one-hot groups always sum to 1). 0 = plain least squares.
   * Default 1e-6.
   */
  ridge?: number;
}

export interface LinearModel extends Regressor {
  coef: Float64Array;
  intercept: number;
}

/** In-place Cholesky G = L L^T (lower triangle of `a`, row-major n×n); throws if not positive definite. */
function cholesky(a: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    let s = a[j * n + j];
    for (let k = 0; k < j; k++) s -= a[j * n + k] ** 2;
    if (!(s > 0)) {
      throw new RangeError(`linear regression: normal equations are singular at feature ${j} (collinear or constant features); use a ridge > 0`);
    }
    const l = Math.sqrt(s);
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let t = a[i * n + j];
      for (let k = 0; k < j; k++) t -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = t / l;
    }
  }
}

/** Solves L L^T x = b given the factor from `cholesky`. */
function choleskySolve(l: Float64Array, n: number, b: Float64Array): Float64Array {
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * z[k];
    z[i] = s / l[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k];
    x[i] = s / l[i * n + i];
  }
  return x;
}

/**
 * Minimises sum_i w_i (y_i - x_i·coef - intercept)^2 + lambda |coef|^2 (the intercept is not
 * penalised). Weights (e.g. impressions) default to 1 and are rescaled to mean 1, which leaves
 * the unpenalised solution unchanged. Cost O(n d^2 + d^3).
 */
export function fitLinear(X: Float32Array[], y: ArrayLike<number>, w?: ArrayLike<number>, opts: LinearOptions = {}): LinearModel {
  const d = checkFitArgs('linear regression', X, y, w);
  const ridge = opts.ridge ?? 1e-6;
  if (!(ridge >= 0)) throw new RangeError(`ridge must be >= 0, got ${ridge}`);
  const n = X.length;
  const weight = unitMeanWeights(n, w);

  // Centring on the weighted means takes the intercept out of the system.
  const xMean = new Float64Array(d);
  let yMean = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) xMean[j] += weight[i] * X[i][j];
    yMean += weight[i] * y[i];
  }
  for (let j = 0; j < d; j++) xMean[j] /= n;
  yMean /= n;

  const G = new Float64Array(d * d); // lower triangle only
  const b = new Float64Array(d);
  const xc = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) xc[j] = X[i][j] - xMean[j];
    const wi = weight[i];
    const ryc = wi * (y[i] - yMean);
    for (let j = 0; j < d; j++) {
      const v = wi * xc[j];
      if (v === 0) continue; // zero weight, or the feature at its mean: this row adds nothing to row j
      const row = j * d;
      for (let k = 0; k <= j; k++) G[row + k] += v * xc[k];
      b[j] += ryc * xc[j];
    }
  }
  let trace = 0;
  for (let j = 0; j < d; j++) trace += G[j * d + j];
  const lambda = trace > 0 ? (ridge * trace) / d : ridge;
  for (let j = 0; j < d; j++) G[j * d + j] += lambda;

  cholesky(G, d);
  const coef = choleskySolve(G, d, b);
  let intercept = yMean;
  for (let j = 0; j < d; j++) intercept -= xMean[j] * coef[j];

  return {
    coef,
    intercept,
    predict(Xp: Float32Array[]): Float64Array {
      checkPredictArgs('linear regression', Xp, d);
      const out = new Float64Array(Xp.length);
      for (let i = 0; i < Xp.length; i++) {
        let s = intercept;
        for (let j = 0; j < d; j++) s += Xp[i][j] * coef[j];
        out[i] = s;
      }
      return out;
    },
  };
}
