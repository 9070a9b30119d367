// The model configurations the GPU checks (gpu-step.ts, gpu-bisect.ts) run, by name.
import { defaultConfig, type ModelConfig } from '../graph/models/config.ts';
import { BENCH_CONFIGS } from './configs.ts';

export const GPU_PRESETS: Record<string, { model: ModelConfig; batch: number }> = {
  small112: { model: BENCH_CONFIGS[1].model, batch: BENCH_CONFIGS[1].batch },
  paper224: { model: defaultConfig('m2fn'), batch: 2 },
  /** 224² at a quarter of the width: the full resolution's long reductions at 1/16 of the cost. */
  narrow224: { model: { ...defaultConfig('m2fn'), width: 0.25, headHidden: [256], cbnHidden: 64, attHidden: 128, fuseDim: 128 }, batch: 2 },
  tiny: { model: { ...defaultConfig('m2fn'), size: 32, width: 0.125, backbone: 'vgg11', headHidden: [16], cbnHidden: 8, attHidden: 8, fuseDim: 8 }, batch: 4 },
};

/**
 * Moves every value of `data` by one unit in its last place, up or down as `r` draws: a change
 * the size of one rounding of every value. Nudging a layer's inputs and weights this way moves
 * each product of its sums by a relative ~2⁻²⁴ in a random direction — the size and kind of
 * difference a different summation order makes — so a step run on nudged inputs shows how far
 * rounding alone moves each tensor of the step.
 */
export function oneUlp(data: Float32Array, r: () => number): void {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  for (let i = 0; i < bits.length; i++) {
    if (data[i] === 0) continue;
    // ±1 on the bit pattern is ±1 ulp in magnitude (away from or towards zero).
    bits[i] += r() < 0.5 ? 1 : -1;
  }
}
