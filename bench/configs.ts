// The two benchmark configurations shared with ../shared/reference/bench_torch_cpu.py, and the
// reference figures measured there on this machine kind (ARCHITECTURE.md §5).
import * as ort from 'onnxruntime-node';
import { configAuxDim, defaultConfig, type ModelConfig } from '../graph/models/config.ts';

export interface BenchConfig {
  name: 'paper224_b8' | 'small112_b32';
  batch: number;
  model: ModelConfig;
  /** img/s measured for the PyTorch reference on a 2-core machine of this kind. */
  reference: { torchTrain: number; torchInfer: number; ortTorchGraphInfer: number };
}

export const BENCH_CONFIGS: BenchConfig[] = [
  {
    name: 'paper224_b8',
    batch: 8,
    model: defaultConfig('m2fn'),
    reference: { torchTrain: 1.82, torchInfer: 7.8, ortTorchGraphInfer: 9.6 },
  },
  {
    name: 'small112_b32',
    batch: 32,
    model: { ...defaultConfig('m2fn'), size: 112, width: 0.25, headHidden: [512, 512] },
    reference: { torchTrain: 91, torchInfer: 310, ortTorchGraphInfer: 497 },
  },
];

export function peakRssMB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** The benches' model input: a constant image (0.5) and attribute (0.01) batch of `n` rows. */
export function benchFeeds(cfg: ModelConfig, n: number): Record<string, ort.Tensor> {
  const D = configAuxDim(cfg);
  const t = (size: number, shape: number[], v: number) => new ort.Tensor('float32', new Float32Array(size).fill(v), shape);
  return { image: t(n * 3 * cfg.size * cfg.size, [n, 3, cfg.size, cfg.size], 0.5), aux: t(n * D, [n, D], 0.01) };
}
