// K-means (Lloyd's iterations, k-means++ seeding from a seeded generator) on 3-d points.
import { Rng } from '../random.ts';
import { dist2, type Vec3 } from './colour-space.ts';

export interface KMeansResult {
  centres: Vec3[];
  /** Cluster index per point. */
  assignment: Int32Array;
  sizes: number[];
}

export function kmeans(points: Vec3[], k: number, seed = 1, maxIter = 30): KMeansResult {
  const n = points.length;
  if (n === 0) throw new Error('kmeans: no points');
  k = Math.min(k, n);
  const rng = new Rng(seed);
  const centres: Vec3[] = [[...points[rng.int(n)]] as Vec3];
  const d = new Float64Array(n).fill(Infinity);
  while (centres.length < k) {
    let total = 0;
    const last = centres[centres.length - 1];
    for (let i = 0; i < n; i++) {
      d[i] = Math.min(d[i], dist2(points[i], last));
      total += d[i];
    }
    if (total === 0) break; // fewer distinct points than k
    let u = rng.next() * total;
    let pick = n - 1;
    for (let i = 0; i < n; i++) if ((u -= d[i]) <= 0) { pick = i; break; }
    centres.push([...points[pick]] as Vec3);
  }
  const assignment = new Int32Array(n);
  for (let iter = 0; iter < maxIter; iter++) {
    let changed = iter === 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bd = Infinity;
      for (let c = 0; c < centres.length; c++) {
        const dd = dist2(points[i], centres[c]);
        if (dd < bd) { bd = dd; best = c; }
      }
      if (assignment[i] !== best) { assignment[i] = best; changed = true; }
    }
    const sums = centres.map(() => [0, 0, 0, 0]);
    for (let i = 0; i < n; i++) {
      const s = sums[assignment[i]];
      s[0] += points[i][0]; s[1] += points[i][1]; s[2] += points[i][2]; s[3]++;
    }
    sums.forEach((s, c) => { if (s[3] > 0) centres[c] = [s[0] / s[3], s[1] / s[3], s[2] / s[3]]; });
    if (!changed) break;
  }
  const sizes = centres.map(() => 0);
  for (let i = 0; i < n; i++) sizes[assignment[i]]++;
  return { centres, assignment, sizes };
}
