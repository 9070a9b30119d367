// Minimum covariance determinant location for 3-d points, FAST-MCD style: random (p+1)-point
// starts, concentration steps (fit mean/covariance on the h points, keep the h points nearest in
// Mahalanobis distance, repeat) until the determinant stops falling; the best subset's mean is the
// robust centre. Outliers (text, logos in the background's cluster) do not pull it.
import { Rng } from '../random.ts';
import type { Vec3 } from './colour-space.ts';

type Mat3 = number[]; // row-major 3×3

function meanCov(points: Vec3[], idx: ArrayLike<number>): { mean: Vec3; cov: Mat3 } {
  const m: Vec3 = [0, 0, 0];
  const n = idx.length;
  for (let j = 0; j < n; j++) for (let d = 0; d < 3; d++) m[d] += points[idx[j]][d] / n;
  const c = new Array(9).fill(0);
  for (let j = 0; j < n; j++) {
    const p = points[idx[j]];
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) c[a * 3 + b] += ((p[a] - m[a]) * (p[b] - m[b])) / Math.max(1, n - 1);
  }
  // A tiny ridge keeps flat colour regions (zero variance) invertible.
  for (let d = 0; d < 3; d++) c[d * 4] += 1e-6;
  return { mean: m, cov: c };
}

const det3 = (c: Mat3) => c[0] * (c[4] * c[8] - c[5] * c[7]) - c[1] * (c[3] * c[8] - c[5] * c[6]) + c[2] * (c[3] * c[7] - c[4] * c[6]);

function inv3(c: Mat3): Mat3 {
  const d = det3(c);
  return [
    (c[4] * c[8] - c[5] * c[7]) / d, (c[2] * c[7] - c[1] * c[8]) / d, (c[1] * c[5] - c[2] * c[4]) / d,
    (c[5] * c[6] - c[3] * c[8]) / d, (c[0] * c[8] - c[2] * c[6]) / d, (c[2] * c[3] - c[0] * c[5]) / d,
    (c[3] * c[7] - c[4] * c[6]) / d, (c[1] * c[6] - c[0] * c[7]) / d, (c[0] * c[4] - c[1] * c[3]) / d,
  ];
}

function cStep(points: Vec3[], subset: ArrayLike<number>, h: number): { subset: Int32Array; det: number; mean: Vec3 } {
  const { mean, cov } = meanCov(points, subset);
  const inv = inv3(cov);
  const d = new Float64Array(points.length);
  for (let i = 0; i < points.length; i++) {
    const x = points[i][0] - mean[0], y = points[i][1] - mean[1], z = points[i][2] - mean[2];
    d[i] = x * (inv[0] * x + inv[1] * y + inv[2] * z) + y * (inv[3] * x + inv[4] * y + inv[5] * z) + z * (inv[6] * x + inv[7] * y + inv[8] * z);
  }
  const order = Int32Array.from(points.keys()).sort((a, b) => d[a] - d[b]);
  const next = order.slice(0, h);
  const fit = meanCov(points, next);
  return { subset: next, det: det3(fit.cov), mean: fit.mean };
}

export interface McdResult {
  centre: Vec3;
  det: number;
  /** Indices of the h points the estimate rests on. */
  subset: Int32Array;
}

/** MCD centre with coverage `fraction` (h = ⌈fraction·n⌉). */
export function mcdCentre(points: Vec3[], fraction = 0.75, seed = 1, starts = 10): McdResult {
  const n = points.length;
  if (n === 0) throw new Error('mcd: no points');
  if (n <= 4) {
    const { mean, cov } = meanCov(points, Int32Array.from(points.keys()));
    return { centre: mean, det: det3(cov), subset: Int32Array.from(points.keys()) };
  }
  const h = Math.max(4, Math.ceil(fraction * n));
  const rng = new Rng(seed);
  const candidates: { subset: Int32Array; det: number; mean: Vec3 }[] = [];
  for (let s = 0; s < starts; s++) {
    const start = Int32Array.from({ length: 4 }, () => rng.int(n));
    let r = cStep(points, start, h);
    r = cStep(points, r.subset, h);
    candidates.push(r);
  }
  candidates.sort((a, b) => a.det - b.det);
  let best = candidates[0];
  for (const c of candidates.slice(0, 3)) {
    let r = c;
    for (let it = 0; it < 50; it++) {
      const next = cStep(points, r.subset, h);
      if (next.det >= r.det * (1 - 1e-9)) break;
      r = next;
    }
    if (r.det < best.det) best = r;
  }
  return { centre: best.mean, det: best.det, subset: best.subset };
}
