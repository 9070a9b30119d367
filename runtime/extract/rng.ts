// Seeded randomness for the synthetic world. Two kinds: a sequential generator for drawing the
// world (images, instances), and a stateless hash so that a value that must depend only on a key
// (an instance's noise) is the same however the key was reached.

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

/** Sequential PRNG (mulberry32) with the draws the generator needs. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = mix32(seed ^ 0x5bd1e995) || 1;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
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
