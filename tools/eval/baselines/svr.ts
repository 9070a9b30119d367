// Attribute-only epsilon-SVR baselines (paper Table 7: RBF and polynomial kernels) through
// libsvm-js. libsvm-js is an optional dependency: it is loaded lazily, on the first fit, from its
// synchronous asm build, so the rest of tools/eval works without it.
import { createRequire } from 'node:module';
import { checkFitArgs, checkPredictArgs, targetScale, type Regressor } from './types.ts';

/** The slice of libsvm-js's SVM class that we use. */
export interface LibsvmModel {
  train(samples: number[][], labels: number[]): void;
  predict(samples: number[][]): number[];
  free(): void;
}
export interface LibsvmClass {
  new (options: Record<string, unknown>): LibsvmModel;
  SVM_TYPES: Record<string, number>;
  KERNEL_TYPES: Record<string, number>;
}

let cached: LibsvmClass | undefined;

/** The libsvm-js SVM class; throws with install instructions when the package is missing. */
export function loadLibsvm(): LibsvmClass {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  try {
    cached = require('libsvm-js/asm') as LibsvmClass;
  } catch (err) {
    throw new Error(
      'The SVR baselines need the optional package libsvm-js, which could not be loaded. ' +
        'Install it with `npm install libsvm-js` (its synchronous build libsvm-js/asm is used).',
      { cause: err },
    );
  }
  return cached;
}

export function libsvmAvailable(): boolean {
  try {
    loadLibsvm();
    return true;
  } catch {
    return false;
  }
}

export interface SvrOptions {
  kernel: 'rbf' | 'poly';
  /** C (default 1). */
  cost?: number;
  /** Width of the insensitive tube, in units of the target's standard deviation (default 0.1). */
  epsilon?: number;
  /** Kernel gamma; default 1 / (d * var(X)) over all entries (scikit-learn's 'scale'). */
  gamma?: number;
  /** Polynomial degree (default 3). */
  degree?: number;
  /** Polynomial coef0 (default 0). */
  coef0?: number;
  /** libsvm's kernel cache in MB; default: room for the whole kernel matrix, 100 … 1024. */
  cacheMb?: number;
  /** The SVM class to use instead of libsvm-js (tests inject a fake). */
  libsvm?: LibsvmClass;
}

export interface SvrModel extends Regressor {
  /** Releases libsvm's memory (emscripten heap, not garbage collected). */
  free(): void;
}

function scaleGamma(X: Float32Array[], d: number): number {
  let s = 0;
  let q = 0;
  for (const row of X) for (let j = 0; j < d; j++) s += row[j];
  const m = s / (X.length * d);
  for (const row of X) for (let j = 0; j < d; j++) q += (row[j] - m) ** 2;
  const v = q / (X.length * d);
  return v > 0 ? 1 / (d * v) : 1;
}

/**
 * libsvm caches kernel rows (n floats each). Its default 100 MB holds the whole matrix only up
 * to ~5,000 rows; past that the solver recomputes rows it evicted, and on 11,204 rows one RBF fit
 * ran over ten minutes where a cache that holds the matrix took 85 s.
 */
export function kernelCacheMb(n: number): number {
  return Math.min(1024, Math.max(100, Math.ceil((n * n * 4) / 2 ** 20) + 8));
}

/**
 * Fits an epsilon-SVR. The target is standardised before training (CTRs are ~0.01, far inside
 * libsvm's usual epsilon) and predictions are mapped back. libsvm has no per-sample weights,
 * so non-uniform `w` throws rather than being silently ignored.
 */
export function fitSvr(X: Float32Array[], y: ArrayLike<number>, w: ArrayLike<number> | undefined, opts: SvrOptions): SvrModel {
  const d = checkFitArgs('SVR', X, y, w);
  if (w !== undefined) {
    for (let i = 1; i < w.length; i++) {
      if (w[i] !== w[0]) throw new RangeError('SVR: libsvm-js has no per-sample weights; fit it unweighted (omit w)');
    }
  }
  const n = X.length;
  const { mean: yMean, std: yStd } = targetScale(y);
  if (yStd === 0) {
    // A constant target: the SVR solution is that constant; libsvm is not needed.
    return {
      predict(Xp: Float32Array[]): Float64Array {
        checkPredictArgs('SVR', Xp, d);
        return new Float64Array(Xp.length).fill(yMean);
      },
      free: () => {},
    };
  }

  const SVM = opts.libsvm ?? loadLibsvm();
  const svm = new SVM({
    type: SVM.SVM_TYPES.EPSILON_SVR,
    kernel: opts.kernel === 'rbf' ? SVM.KERNEL_TYPES.RBF : SVM.KERNEL_TYPES.POLYNOMIAL,
    cost: opts.cost ?? 1,
    epsilon: opts.epsilon ?? 0.1,
    gamma: opts.gamma ?? scaleGamma(X, d),
    degree: opts.degree ?? 3,
    coef0: opts.coef0 ?? 0,
    cacheSize: opts.cacheMb ?? kernelCacheMb(n),
    quiet: true,
  });
  const toRows = (rows: Float32Array[]) => rows.map((r) => Array.from(r));
  svm.train(toRows(X), Array.from({ length: n }, (_, i) => (y[i] - yMean) / yStd));
  return {
    predict(Xp: Float32Array[]): Float64Array {
      checkPredictArgs('SVR', Xp, d);
      if (Xp.length === 0) return new Float64Array(0);
      return Float64Array.from(svm.predict(toRows(Xp)), (z) => yMean + yStd * z);
    },
    free: () => svm.free(),
  };
}

export function fitSvrRbf(X: Float32Array[], y: ArrayLike<number>, w?: ArrayLike<number>): SvrModel {
  return fitSvr(X, y, w, { kernel: 'rbf' });
}

export function fitSvrPoly(X: Float32Array[], y: ArrayLike<number>, w?: ArrayLike<number>): SvrModel {
  return fitSvr(X, y, w, { kernel: 'poly' });
}
