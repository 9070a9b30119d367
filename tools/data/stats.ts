// Distribution tails for the attribute-selection tests, from the standard special-function
// definitions: log-gamma (Lanczos), regularized incomplete gamma and beta (series / continued
// fraction evaluated with the modified Lentz method).

const LANCZOS = [676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406, 12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7];

export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  x -= 1;
  let a = 0.99999999999980993;
  const t = x + 7.5;
  for (let i = 0; i < 8; i++) a += LANCZOS[i] / (x + i + 1);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

const EPS = 1e-15;
const TINY = 1e-300;

/** Continued fraction by modified Lentz: b0 + a1/(b1 + a2/(b2 + …)) with terms from `term(i)`. */
function lentz(term: (i: number) => [number, number], b0: number): number {
  let f = b0 === 0 ? TINY : b0;
  let c = f;
  let d = 0;
  for (let i = 1; i < 10000; i++) {
    const [a, b] = term(i);
    d = b + a * d;
    d = Math.abs(d) < TINY ? TINY : d;
    c = b + a / c;
    c = Math.abs(c) < TINY ? TINY : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return f;
}

/** Upper regularized incomplete gamma Q(a, x). */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  if (x < a + 1) {
    // Series for P, then Q = 1 - P.
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 10000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPS) break;
    }
    return 1 - sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
  }
  // Continued fraction for Q: 1/(x+1-a- 1·(1-a)/(x+3-a- 2·(2-a)/(x+5-a- …))).
  const cf = lentz((i) => [-i * (i - a), x + 2 * i + 1 - a], x + 1 - a);
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) / cf;
}

/** Regularized incomplete beta I_x(a, b). */
export function betaI(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - betaI(1 - x, b, a);
  const front = Math.exp(a * Math.log(x) + b * Math.log(1 - x) - (logGamma(a) + logGamma(b) - logGamma(a + b))) / a;
  // Continued fraction 1/(1+ d1/(1+ d2/(1+ …))) with the standard even/odd coefficients.
  const cf = lentz((i) => {
    const m = Math.floor(i / 2);
    const d = i % 2 === 0 ? (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)) : -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    return [d, 1];
  }, 1);
  return front / cf;
}

/** P(F > f) for an F(d1, d2) variable. */
export function fSurvival(f: number, d1: number, d2: number): number {
  if (!(f > 0)) return 1;
  return betaI(d2 / (d2 + d1 * f), d2 / 2, d1 / 2);
}

/** P(X > x) for a chi-square variable with k degrees of freedom. */
export function chiSquareSurvival(x: number, k: number): number {
  return gammaQ(k / 2, x / 2);
}

export interface LevelCount {
  level: string;
  impressions: number;
  clicks: number;
}

/** One-way ANOVA of the 0/1 click outcome across levels, from per-level sufficient statistics. */
export function anovaBinary(levels: LevelCount[]): { f: number; df1: number; df2: number; p: number } {
  const used = levels.filter((l) => l.impressions > 0);
  const N = used.reduce((s, l) => s + l.impressions, 0);
  const C = used.reduce((s, l) => s + l.clicks, 0);
  const K = used.length;
  if (K < 2 || N <= K) return { f: 0, df1: Math.max(K - 1, 0), df2: Math.max(N - K, 0), p: 1 };
  const mean = C / N;
  let ssb = 0;
  let ssw = 0;
  for (const l of used) {
    const m = l.clicks / l.impressions;
    ssb += l.impressions * (m - mean) ** 2;
    ssw += l.clicks * (1 - m) ** 2 + (l.impressions - l.clicks) * m ** 2; // Σ (y - m)^2 with y ∈ {0, 1}
  }
  const df1 = K - 1;
  const df2 = N - K;
  if (ssw === 0) return { f: ssb > 0 ? Infinity : 0, df1, df2, p: ssb > 0 ? 0 : 1 };
  const f = ssb / df1 / (ssw / df2);
  return { f, df1, df2, p: fSurvival(f, df1, df2) };
}

/**
 * Likelihood-ratio test of a logistic regression with one dummy per level against the intercept
 * model. With a saturated set of dummies the MLE reproduces each level's CTR, so the deviance
 * difference has a closed form; no iterative fit is needed.
 */
export function logisticLrt(levels: LevelCount[]): { chi2: number; df: number; p: number } {
  const used = levels.filter((l) => l.impressions > 0);
  const N = used.reduce((s, l) => s + l.impressions, 0);
  const C = used.reduce((s, l) => s + l.clicks, 0);
  const K = used.length;
  if (K < 2 || C === 0 || C === N) return { chi2: 0, df: Math.max(K - 1, 0), p: 1 };
  const m = C / N;
  const xlogy = (x: number, y: number) => (x === 0 ? 0 : x * Math.log(y));
  let g = 0;
  for (const l of used) {
    const ml = l.clicks / l.impressions;
    g += xlogy(l.clicks, ml / m) + xlogy(l.impressions - l.clicks, (1 - ml) / (1 - m));
  }
  const chi2 = 2 * g;
  return { chi2, df: K - 1, p: chiSquareSurvival(chi2, K - 1) };
}
