// Seeded randomness for the whole project: weight initialisation (graph/), the synthetic world and
// the colour extractor's k-means (runtime/extract, tools/data), epoch orders, hold-outs, dropout
// masks, augmentation and the evaluation's permutations (tools/). One implementation of each
// generator, so a seed means the same sequence everywhere; pure and browser-safe.
//
// Two sequential generators, because both already define recorded results: `rng` (mulberry32)
// gives every weight, world and shuffle, and `weylUniform` gives the bootstrap's resamples, whose
// intervals would move if it were replaced. Two stateless mixers turn keys into bits: `mix32` for
// values that must depend only on a key (an instance's noise), `fmix32` for string hashes.

/** 32-bit integer mix (the "lowbias32" constants): a good avalanche for sequential keys. */
export function mix32(x: number): number {
  x = x >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** MurmurHash3's 32-bit finaliser, as an unsigned integer. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of a list of integers to [0, 1). */
export function hashUnit(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) h = mix32(h ^ mix32(p >>> 0) ^ Math.floor(p / 4294967296));
  return h / 4294967296;
}

/** Standard normal from two hashed uniforms (Box–Muller), a pure function of the key. */
export function hashNormal(...parts: number[]): number {
  const u1 = Math.max(hashUnit(...parts, 1), 1e-12);
  const u2 = hashUnit(...parts, 2);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Uniform draws in [0, 1) from a seed (mulberry32): small, fast, plenty for init and shuffling. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Uniform draws in [0, 1) from a Weyl sequence (steps of the golden-ratio constant) through
 * fmix32; the bootstrap's generator (see the header for why it is not `rng`).
 */
export function weylUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    return fmix32(state) / 4294967296;
  };
}

/** `rng` with the draws the synthetic world and k-means need; the seed is mixed first, so nearby seeds start far apart. */
export class Rng {
  /** Uniform in [0, 1). */
  readonly next: () => number;
  constructor(seed: number) {
    this.next = rng(mix32(seed ^ 0x5bd1e995) || 1);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  normal(): number {
    const u1 = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * this.next());
  }
  bool(p: number): boolean {
    return this.next() < p;
  }
}

/**
 * Shuffles `xs` in place (Fisher–Yates, from the last element down, one draw each) and returns it.
 * Every seeded order in the project comes from here, so the draw pattern is part of the results.
 */
export function shuffle<A extends { length: number; [i: number]: unknown }>(xs: A, next: () => number): A {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = xs[i];
    xs[i] = xs[j];
    xs[j] = t;
  }
  return xs;
}

/** The integers from..n-1 in a shuffled order. */
export function permutation(n: number, next: () => number, from = 0): Int32Array {
  return shuffle(Int32Array.from({ length: n - from }, (_, i) => i + from), next);
}

/** Alias-free categorical sampler by cumulative weights (levels are few; binary search). */
export class Categorical {
  private readonly cdf: Float64Array;
  constructor(weights: readonly number[]) {
    const total = weights.reduce((a, b) => a + b, 0);
    if (!(total > 0)) throw new Error('Categorical: weights must sum to a positive number');
    this.cdf = new Float64Array(weights.length);
    let acc = 0;
    weights.forEach((w, i) => {
      if (w < 0 || !Number.isFinite(w)) throw new Error(`Categorical: weight ${i} is ${w}`);
      acc += w / total;
      this.cdf[i] = acc;
    });
    this.cdf[weights.length - 1] = 1;
  }
  /** Index of the level a uniform draw falls in. */
  sample(u: number): number {
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (u < this.cdf[mid]) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
