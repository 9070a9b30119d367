// The shape every attribute-only baseline shares: fit on aux vectors, predict CTR.
export interface Regressor {
  /** One prediction per row of X. */
  predict(X: Float32Array[]): Float64Array;
}

export type FitFn = (X: Float32Array[], y: ArrayLike<number>, w?: ArrayLike<number>) => Regressor;

/** Checks the common fit arguments and returns the feature count. */
export function checkFitArgs(name: string, X: Float32Array[], y: ArrayLike<number>, w?: ArrayLike<number>): number {
  if (X.length === 0) throw new RangeError(`${name}: no training rows`);
  if (y.length !== X.length) throw new RangeError(`${name}: ${X.length} rows but ${y.length} targets`);
  const d = X[0].length;
  X.forEach((row, i) => {
    if (row.length !== d) throw new RangeError(`${name}: row ${i} has ${row.length} features, row 0 has ${d}`);
  });
  for (let i = 0; i < y.length; i++) if (!Number.isFinite(y[i])) throw new RangeError(`${name}: target ${i} is ${y[i]}`);
  if (w !== undefined) {
    if (w.length !== X.length) throw new RangeError(`${name}: ${X.length} rows but ${w.length} weights`);
    let positive = false;
    for (let i = 0; i < w.length; i++) {
      if (!(w[i] >= 0 && Number.isFinite(w[i]))) throw new RangeError(`${name}: weight ${i} is ${w[i]}; weights must be finite and >= 0`);
      if (w[i] > 0) positive = true;
    }
    if (!positive) throw new RangeError(`${name}: all weights are zero`);
  }
  return d;
}

export function checkPredictArgs(name: string, X: Float32Array[], d: number): void {
  X.forEach((row, i) => {
    if (row.length !== d) throw new RangeError(`${name}.predict: row ${i} has ${row.length} features, the model was fit on ${d}`);
  });
}

/** Mean and (population) standard deviation of the targets; baselines that fit (y − mean) / std map back with them. */
export function targetScale(y: ArrayLike<number>): { mean: number; std: number } {
  const n = y.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i];
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (y[i] - mean) ** 2;
  return { mean, std: Math.sqrt(v / n) };
}

/** The row weights rescaled to mean 1 (all 1 without `w`), as the trainer weights its loss. */
export function unitMeanWeights(n: number, w?: ArrayLike<number>): Float64Array {
  const weight = new Float64Array(n).fill(1);
  if (w === undefined) return weight;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += w[i];
  for (let i = 0; i < n; i++) weight[i] = (w[i] * n) / sum;
  return weight;
}
