// CTR → 10-bucket target distribution for the distribution head (KL loss), and back.
//
// The paper (§7.2) says only that "the CTR distributions were approximated based on a log-normal
// distribution". The concrete design here:
//
// Buckets (fitBuckets). Take the training set's CTRs that are > 0 (log 0 is −∞, so zero-click rows
// are left out of the fit; they still get a target, below). Let lo and hi be their 1st and 99th
// percentiles (linear interpolation between order statistics). The 11 edges are equally spaced
// in log-CTR from lo to hi: edge_i = exp(ln lo + i·(ln hi − ln lo)/10). The outer buckets are open:
// bucket 0 holds everything below edge_1 (down to 0) and bucket 9 everything from edge_9 up, so
// each row's whole probability lands in some bucket. Each bucket's representative CTR is its
// geometric centre sqrt(edge_i · edge_{i+1}) (the outer ones use lo and hi as their far edge).
//
// Per row (ctrToDistribution). Clicks out of n impressions are binomial; on the log scale the delta
// method gives Var(ln ĉ) ≈ (1 − c)/(n·c). So the row's CTR is treated as log-normal with
//   median c  = max(ctr, 0.5/n)      (a zero-click row is read as half a click, so ln c is defined)
//   σ         = max(sqrt((1 − c)/(n·c)), minSigma)     (minSigma defaults to 0.05: even a row with
//                                                      millions of impressions is not a spike)
// and bucket k gets Φ((ln edge_{k+1} − ln c)/σ) − Φ((ln edge_k − ln c)/σ), with ln edge_0 = −∞ and
// ln edge_10 = +∞ for the open outer buckets. The ten masses sum to 1.
//
// Back (distributionToCtr): the expected CTR Σ p_k · value_k. For a well-measured row the mass sits
// in one or two buckets, so the round trip is accurate to about half a bucket's width in log-CTR
// (exact at bucket centres); that resolution is the price of a 10-bucket output.
//
// Φ is computed here, not from a library: erf by its everywhere-convergent series with positive
// terms, erf x = (2/√π)·e^(−x²)·Σ_{n≥0} 2ⁿ x^(2n+1) / (1·3·5···(2n+1)) (Abramowitz & Stegun 7.1.6),
// for |x| < 2.5, and erfc by Laplace's continued fraction, erfc x = (e^(−x²)/√π) /
// (x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))) (A&S 7.1.14), evaluated bottom-up from 50 levels,
// for x ≥ 2.5. Checked against the C library's erfc: absolute error below 1e-15 and relative
// error below 1e-13 in the tails, far inside the 1e-7 needed.

export const BUCKETS = 10;
export const DEFAULT_MIN_SIGMA = 0.05;

export interface Buckets {
  edges: number[] /* 11 CTR values */;
  values: number[] /* 10 representative CTRs: geometric centres */;
}

const SQRT_PI = Math.sqrt(Math.PI);
const CF_SWITCH = 2.5;
const CF_DEPTH = 50;

/** erf(x) for |x| < CF_SWITCH by the positive-term series (no cancellation between terms). */
function erfSeries(x: number): number {
  const x2 = 2 * x * x;
  let term = x;
  let sum = x;
  // Terms grow until 2n+1 > 2x², then shrink geometrically; 45 suffice at x = 3.
  for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= x2 / (2 * n + 1);
    sum += term;
  }
  return (2 / SQRT_PI) * Math.exp(-x * x) * sum;
}

/** erfc(x) for x ≥ CF_SWITCH by Laplace's continued fraction. */
function erfcContinuedFraction(x: number): number {
  let f = x;
  for (let k = CF_DEPTH; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / SQRT_PI / f;
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.abs(x) < CF_SWITCH) return erfSeries(x);
  return x > 0 ? 1 - erfcContinuedFraction(x) : erfcContinuedFraction(-x) - 1;
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x >= CF_SWITCH) return erfcContinuedFraction(x);
  if (x <= -CF_SWITCH) return 2 - erfcContinuedFraction(-x);
  return 1 - erfSeries(x);
}

/** Standard normal CDF Φ(z), accurate in both tails (relative error ~1e-13 down to Φ(−37)). */
export function normalCdf(z: number): number {
  if (z === -Infinity) return 0;
  if (z === Infinity) return 1;
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** Φ(b) − Φ(a) for a ≤ b, computed in the upper tail by symmetry so it does not cancel to 0. */
function normalMass(a: number, b: number): number {
  return a > 0 ? normalCdf(-a) - normalCdf(-b) : normalCdf(b) - normalCdf(a);
}

/** Linear interpolation between order statistics of a sorted array (R's type 7). */
function quantileSorted(sorted: number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

function checkBuckets(b: Buckets, what: string): void {
  const ok =
    Array.isArray(b?.edges) && b.edges.length === BUCKETS + 1 && Array.isArray(b.values) && b.values.length === BUCKETS &&
    b.edges.every((e, i) => Number.isFinite(e) && e > 0 && (i === 0 || e > b.edges[i - 1]));
  if (!ok) throw new Error(`${what}: buckets must have ${BUCKETS + 1} increasing positive edges and ${BUCKETS} values (use fitBuckets)`);
}

/** Bucket edges and centres from the training set's CTRs (see the file comment). */
export function fitBuckets(ctrs: number[]): Buckets {
  const positive: number[] = [];
  for (let i = 0; i < ctrs.length; i++) {
    const c = ctrs[i];
    if (!(typeof c === 'number' && c >= 0 && c <= 1)) throw new Error(`fitBuckets: CTR #${i} is ${c}, not a number in [0, 1]`);
    if (c > 0) positive.push(c);
  }
  if (positive.length < 2) throw new Error(`fitBuckets: need at least 2 CTRs above 0 to place buckets, got ${positive.length} (of ${ctrs.length} rows)`);
  positive.sort((a, b) => a - b);
  const lo = quantileSorted(positive, 0.01);
  const hi = quantileSorted(positive, 0.99);
  if (!(hi > lo)) throw new Error(`fitBuckets: the 1st and 99th percentile CTRs are both ${lo}; the CTRs do not spread enough to place buckets`);
  const a = Math.log(lo);
  const step = (Math.log(hi) - a) / BUCKETS;
  const edges = Array.from({ length: BUCKETS + 1 }, (_, i) => (i === 0 ? lo : i === BUCKETS ? hi : Math.exp(a + i * step)));
  const values = Array.from({ length: BUCKETS }, (_, i) => Math.sqrt(edges[i] * edges[i + 1]));
  return { edges, values };
}

/** The 10-bucket target for a row with CTR `ctr` measured over `impressions` impressions. */
export function ctrToDistribution(ctr: number, impressions: number, b: Buckets, minSigma = DEFAULT_MIN_SIGMA): Float32Array {
  if (!(typeof ctr === 'number' && ctr >= 0 && ctr <= 1)) throw new Error(`ctrToDistribution: CTR ${ctr} is not a number in [0, 1]`);
  if (!(Number.isFinite(impressions) && impressions >= 1)) throw new Error(`ctrToDistribution: impressions must be a number ≥ 1, got ${impressions}`);
  if (!(Number.isFinite(minSigma) && minSigma > 0)) throw new Error(`ctrToDistribution: minSigma must be a positive number, got ${minSigma}`);
  checkBuckets(b, 'ctrToDistribution');
  const c = Math.min(1, Math.max(ctr, 0.5 / impressions));
  const sigma = Math.max(Math.sqrt((1 - c) / (impressions * c)), minSigma);
  const mu = Math.log(c);
  const z = (k: number) => (k === 0 ? -Infinity : k === BUCKETS ? Infinity : (Math.log(b.edges[k]) - mu) / sigma);
  const p = new Float64Array(BUCKETS);
  let sum = 0;
  for (let k = 0; k < BUCKETS; k++) {
    p[k] = normalMass(z(k), z(k + 1));
    sum += p[k];
  }
  // The masses telescope to 1 up to rounding; dividing removes that rounding.
  return Float32Array.from(p, (v) => v / sum);
}

/** Expected CTR under a bucket distribution (normalised by its sum, so softmax rounding is fine). */
export function distributionToCtr(p: ArrayLike<number>, b: Buckets): number {
  checkBuckets(b, 'distributionToCtr');
  if (p.length !== BUCKETS) throw new Error(`distributionToCtr: expected ${BUCKETS} probabilities, got ${p.length}`);
  let mass = 0;
  let mean = 0;
  for (let k = 0; k < BUCKETS; k++) {
    const v = p[k];
    if (!(v >= 0 && Number.isFinite(v))) throw new Error(`distributionToCtr: probability #${k} is ${v}, not a finite number ≥ 0`);
    mass += v;
    mean += v * b.values[k];
  }
  if (!(mass > 0)) throw new Error('distributionToCtr: the probabilities sum to 0');
  return mean / mass;
}
