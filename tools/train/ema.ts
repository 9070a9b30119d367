// An exponential moving average of the weights (Polyak averaging): the exported model carries the
// average, which is less tied to the last few noisy batches than the final weights are. The
// decay ramps up as (1 + step) / (10 + step) so that early, fast-moving weights wash out quickly.

export class WeightAverage {
  readonly values = new Map<string, Float32Array>();
  constructor(
    readonly decay: number,
    initial: Map<string, { data: Float32Array }>,
    names: Iterable<string>,
  ) {
    if (!(decay > 0 && decay < 1)) throw new Error(`weight average: decay must be in (0, 1), got ${decay}`);
    for (const n of names) {
      const v = initial.get(n);
      if (!v) throw new Error(`weight average: no tensor "${n}"`);
      this.values.set(n, Float32Array.from(v.data));
    }
  }

  /** Folds in the weights after optimizer step `step` (1-based). */
  update(current: Map<string, { data: Float32Array }>, step: number): void {
    const d = Math.min(this.decay, (1 + step) / (10 + step));
    for (const [n, avg] of this.values) {
      const cur = current.get(n)!.data;
      for (let i = 0; i < avg.length; i++) avg[i] = d * avg[i] + (1 - d) * cur[i];
    }
  }
}
