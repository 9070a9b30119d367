// Image sensitivity: how much a model's predictions depend on the image when the attributes are
// held fixed. One definition, used by `m2fn eval`, by `ort-train` each epoch, by the demo and by
// the replication report.
//
// Rows are (image, attributes) pairs of an evaluation set whose distinct images are numbered
// 0..M−1 (`imageOf[i]` is row i's). Let f(j, i) be the prediction for row i's attributes shown
// image j, and rank(i) the place of row i's image in that numbering.
//
//   swap rounds     K rounds with offsets o_0 = 0, o_1..o_{K−1} distinct in 1..M−1 (seeded; all
//                   of them when K ≥ M). In round k row i is shown image (imageOf[i] + o_k) mod M,
//                   so every round shows each row another image and round 0 is the row itself.
//   swapSpread      mean_i sd_k f((imageOf[i] + o_k) mod M, i)   (population sd over the K rounds)
//                   With K ≥ M every row sees every image once: mean_i sd_j f(j, i).
//   overallSpread   sd_i f(imageOf[i], i)                          (the predictions as they are)
//   ratio           swapSpread / overallSpread: 0 for a model that ignores the image, ~1 when the
//                   image explains as much of the spread as everything else together.
//   sprcLoss        SPRC(f(imageOf[i], i), y) − SPRC(f(imageOf[π(i)], i), y), π a seeded random
//                   permutation of the rows: the ranking quality that rests on the image.
//
// Spreads are in the units of the predictions (CTR, or a distribution's mean).
import { permutation, rng } from '../../runtime/random.ts';
import { spearman, type Vec } from './metrics.ts';

export interface ImageSensitivity {
  rows: number;
  images: number;
  /** Swap rounds, the row's own image included. */
  rounds: number;
  swapSpread: number;
  overallSpread: number;
  ratio: number;
  /** Present when observed scores were given. */
  sprc?: number;
  sprcPermuted?: number;
  sprcLoss?: number;
}

export interface SensitivityOptions {
  /** Image id (0..M−1) of every row. */
  imageOf: Int32Array;
  /** Predictions for every row when row i is shown image `images[i]`. */
  predict: (images: Int32Array) => Promise<Float64Array>;
  /** What SPRC is measured against (observed CTR); leave out to skip sprcLoss. */
  observed?: Vec;
  /** Swap rounds including the row's own image (default 8; all M when M is smaller). */
  rounds?: number;
  seed?: number;
}

/** Below this ratio a model is called image-blind (ort-train warns, the demo fails its check). */
export const IMAGE_BLIND_RATIO = 0.02;

const sd = (x: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < x.length; i++) m += x[i];
  m /= x.length;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] - m) ** 2;
  return Math.sqrt(s / x.length);
};

export async function imageSensitivity(o: SensitivityOptions): Promise<ImageSensitivity> {
  const n = o.imageOf.length;
  if (n < 2) throw new RangeError(`image sensitivity needs at least 2 rows, got ${n}`);
  let m = 0;
  for (const j of o.imageOf) {
    if (!(Number.isInteger(j) && j >= 0)) throw new RangeError(`image sensitivity: image id ${j} is not a non-negative integer`);
    m = Math.max(m, j + 1);
  }
  if (o.observed && o.observed.length !== n) throw new RangeError(`image sensitivity: ${n} rows but ${o.observed.length} observed scores`);
  const next = rng((o.seed ?? 0) ^ 0x1ea5e);
  const rounds = Math.min(m, Math.max(1, o.rounds ?? 8));
  const offsets = [0, ...permutation(m, next, 1).subarray(0, rounds - 1)];

  const own = await o.predict(o.imageOf);
  const perRow = Array.from({ length: n }, (_, i) => [own[i]]);
  for (const off of offsets.slice(1)) {
    const p = await o.predict(Int32Array.from(o.imageOf, (j) => (j + off) % m));
    p.forEach((v, i) => perRow[i].push(v));
  }
  const swapSpread = perRow.reduce((s, r) => s + sd(r), 0) / n;
  const overallSpread = sd(own);
  const out: ImageSensitivity = { rows: n, images: m, rounds, swapSpread, overallSpread, ratio: overallSpread > 0 ? swapSpread / overallSpread : 0 };
  if (o.observed) {
    const perm = permutation(n, next);
    const permuted = await o.predict(Int32Array.from(perm, (r) => o.imageOf[r]));
    out.sprc = spearman(own, o.observed);
    out.sprcPermuted = spearman(permuted, o.observed);
    out.sprcLoss = out.sprc - out.sprcPermuted;
  }
  return out;
}

/** Distinct image keys of rows, numbered in order of first appearance. */
export function imageIds<T>(keys: T[]): { imageOf: Int32Array; distinct: T[] } {
  const ids = new Map<T, number>();
  const imageOf = Int32Array.from(keys, (k) => {
    let id = ids.get(k);
    if (id === undefined) ids.set(k, (id = ids.size));
    return id;
  });
  return { imageOf, distinct: [...ids.keys()] };
}

/** One line for logs and the demo. */
export function describeSensitivity(s: ImageSensitivity): string {
  const sprc = s.sprcLoss !== undefined ? `, SPRC lost when images are permuted ${s.sprcLoss.toFixed(3)}` : '';
  return `image sensitivity ${s.ratio.toFixed(3)} (spread with the image swapped ${s.swapSpread.toExponential(2)} / overall ${s.overallSpread.toExponential(2)}, ${s.rows} rows × ${s.rounds} images${sprc})`;
}
