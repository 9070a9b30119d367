// npm run bench:train — CPU training img/s (fused forward + backward + AdamW step) for the two
// reference configs, as ratios against the peers measured on this machine when their scripts have
// run (bench/reference/torch_cpu.py: PyTorch eager + Adam; bench/reference/ort_training.py: ONNX
// Runtime's training build on PyTorch's exported graph), and against the recorded figures, with
// peak RSS. Each peer's line says whether it ran and which version it was.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { configAuxDim } from '../graph/models/config.ts';
import { DEFAULT_OPTIMIZER } from '../graph/training/optimizers.ts';
import { TrainEngine, type Batch, type StepMode } from '../tools/train/engine.ts';
import { BENCH_CONFIGS, peakRssMB } from './configs.ts';

const only = process.argv[2];
// PyTorch eager on this same machine, when bench/reference/torch_cpu.py has measured it.
const referenceDir = process.env.M2FN_REFERENCE_DIR ?? '/tmp/m2fn-torch-ref';
const peerFile = <T>(file: string, script: string): { data: Record<string, T>; missing?: string } => {
  const path = join(referenceDir, file);
  return existsSync(path) ? { data: JSON.parse(readFileSync(path, 'utf8')) } : { data: {}, missing: `not measured: no ${path} (run bench/reference/${script} ${referenceDir})` };
};
const torchPeer = peerFile<{ torch_train_img_s: number; torch: string; train_peak_rss_mb?: number }>('torch.json', 'torch_cpu.py');
const ortTrainingPeer = peerFile<{ train_img_s: number; onnxruntime: string; train_peak_rss_mb?: number }>('ort_training.json', 'ort_training.py');
const mode = (process.env.M2FN_STEP_MODE ?? 'fused') as StepMode;
const threads = Number(process.env.M2FN_THREADS ?? 0) || undefined;
const results: Record<string, unknown> = {};
for (const bc of BENCH_CONFIGS.filter((c) => !only || c.name === only)) {
  const cfg = bc.model;
  const engine = await TrainEngine.create({
    setup: { config: cfg, loss: 'wmse', optimizer: DEFAULT_OPTIMIZER, ep: 'cpu' },
    mode,
    ep: 'cpu',
    threads,
    initial: new Map(),
  });
  const N = bc.batch;
  const D = configAuxDim(cfg);
  const t = (n: number, shape: number[], v: number) => new ort.Tensor('float32', new Float32Array(n).fill(v), shape);
  const batch: Batch = {
    n: N,
    feeds: {
      image: t(N * 3 * cfg.size * cfg.size, [N, 3, cfg.size, cfg.size], 0.5),
      aux: t(N * D, [N, D], 0.01),
      target: t(N, [N, 1], 0.02),
      weight: t(N, [N, 1], 1),
    },
  };
  await engine.step(batch, 1e-4, 1); // warm-up
  const steps = bc.name === 'paper224_b8' ? 3 : 8;
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) await engine.step(batch, 1e-4, s + 2);
  const imgPerS = (N * steps) / ((performance.now() - t0) / 1000);
  const torch = torchPeer.data[bc.name];
  const ortTraining = ortTrainingPeer.data[bc.name];
  results[bc.name] = {
    img_per_s: +imgPerS.toFixed(2),
    ...(torch
      ? { torch_same_machine_img_per_s: torch.torch_train_img_s, torch_version: torch.torch, ratio_vs_torch_same_machine: +(imgPerS / torch.torch_train_img_s).toFixed(3), torch_peak_rss_mb: torch.train_peak_rss_mb }
      : { torch_same_machine: torchPeer.missing ?? `not measured for ${bc.name}` }),
    ...(ortTraining
      ? { ort_training_same_machine_img_per_s: ortTraining.train_img_s, ort_training_version: ortTraining.onnxruntime, ratio_vs_ort_training_same_machine: +(imgPerS / ortTraining.train_img_s).toFixed(3), ort_training_peak_rss_mb: ortTraining.train_peak_rss_mb }
      : { ort_training_same_machine: ortTrainingPeer.missing ?? `not measured for ${bc.name}` }),
    recorded_torch_eager_adam_img_per_s: bc.reference.torchTrain,
    ratio_vs_recorded_torch: +(imgPerS / bc.reference.torchTrain).toFixed(3),
    goal_ratio: 1.4,
    batch: N,
    steps,
    mode,
  };
  console.error(bc.name, JSON.stringify(results[bc.name]));
  await engine.release();
}
console.log(JSON.stringify({ bench: 'train', provider: 'cpu', ...results, peak_rss_mb: peakRssMB() }));
