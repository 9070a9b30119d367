// npm run bench:train [-- CONFIG] — CPU training img/s and peak RSS of both step forms (fused:
// forward + backward + AdamW in one run; split: the training model, then the optimizer in place,
// slice by slice) for the two reference configs, each config and form in its own process so that
// each peak RSS is its own. Ratios against the peers measured on this machine when their scripts
// have run (bench/reference/torch_cpu.py: PyTorch eager + Adam; bench/reference/ort_training.py:
// ONNX Runtime's training build on PyTorch's exported graph), and against the recorded figures.
// Each peer's line says whether it ran and which version it was. `floor_img_per_s` is the most a
// step of these standard ops could give (three forward passes, `forwardSeconds`).
// M2FN_STEP_MODE=fused|split times one form only.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { inferenceSpec } from '../graph/export/inference.ts';
import { serialize } from '../graph/core/serialize.ts';
import { buildModel } from '../graph/models/m2fn.ts';
import { DEFAULT_OPTIMIZER } from '../graph/training/optimizers.ts';
import { openSession } from '../runtime/execution.ts';
import { TrainEngine, type Batch, type StepMode } from '../tools/train/engine.ts';
import { BENCH_CONFIGS, benchFeeds, peakRssMB, type BenchConfig } from './configs.ts';

const threads = Number(process.env.M2FN_THREADS ?? 0) || undefined;

/** One config and step form, in this process: img/s over timed steps after a warm-up step. */
async function measure(bc: BenchConfig, mode: StepMode) {
  const cfg = bc.model;
  const engine = await TrainEngine.create({ setup: { config: cfg, loss: 'wmse', optimizer: DEFAULT_OPTIMIZER, ep: 'cpu', batchSize: bc.batch }, mode, ep: 'cpu', threads, initial: new Map() });
  const N = bc.batch;
  const t = (v: number) => new ort.Tensor('float32', new Float32Array(N).fill(v), [N, 1]);
  const batch: Batch = { n: N, feeds: { ...benchFeeds(cfg, N), target: t(0.02), weight: t(1) } };
  await engine.step(batch, 1e-4, 1); // warm-up
  const steps = bc.name === 'paper224_b8' ? 3 : 8;
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) await engine.step(batch, 1e-4, s + 2);
  const imgPerS = (N * steps) / ((performance.now() - t0) / 1000);
  await engine.release();
  return { img_per_s: +imgPerS.toFixed(2), peak_rss_mb: peakRssMB(), steps };
}

/**
 * Seconds of one inference forward pass at the bench batch: a floor for the step. A step holds
 * three products of the forward convs' size per conv (the forward, dX as a flipped conv, dW), so
 * with each at the forward's rate it takes at least three forward passes.
 */
async function forwardSeconds(bc: BenchConfig): Promise<number> {
  const m = buildModel(bc.model);
  const { session } = await openSession(serialize(inferenceSpec(m)), 'inference forward', { threads, fallback: false });
  const feeds = benchFeeds(bc.model, bc.batch);
  await session.run(feeds);
  const runs = 3;
  const t0 = performance.now();
  for (let r = 0; r < runs; r++) await session.run(feeds);
  await session.release();
  return (performance.now() - t0) / 1000 / runs;
}

const CHILD = '--child';
if (process.argv[2] === CHILD) {
  const bc = BENCH_CONFIGS.find((c) => c.name === process.argv[3])!;
  if (process.argv[4] === 'floor') console.log(JSON.stringify({ forward_s: await forwardSeconds(bc) }));
  else console.log(JSON.stringify(await measure(bc, process.argv[4] as StepMode)));
  process.exit(0);
}

const only = process.argv[2];
// The peers on this same machine, when their scripts have measured them.
const referenceDir = process.env.M2FN_REFERENCE_DIR ?? '/tmp/m2fn-torch-ref';
const peerFile = <T>(file: string, script: string): { data: Record<string, T>; missing?: string } => {
  const path = join(referenceDir, file);
  return existsSync(path) ? { data: JSON.parse(readFileSync(path, 'utf8')) } : { data: {}, missing: `not measured: no ${path} (run bench/reference/${script} ${referenceDir})` };
};
const torchPeer = peerFile<{ torch_train_img_s: number; torch: string; train_peak_rss_mb?: number }>('torch.json', 'torch_cpu.py');
const ortTrainingPeer = peerFile<{ train_img_s: number; onnxruntime: string; train_peak_rss_mb?: number }>('ort_training.json', 'ort_training.py');
const modes: StepMode[] = process.env.M2FN_STEP_MODE ? [process.env.M2FN_STEP_MODE as StepMode] : ['fused', 'split'];
const ratio = (a: number, b: number | undefined) => (b ? +(a / b).toFixed(3) : undefined);

/** Runs this script on one config and step form (or 'floor') in a process of its own. */
function inChild<T>(bc: BenchConfig, what: StepMode | 'floor'): T {
  const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1], CHILD, bc.name, what], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.status !== 0) throw new Error(`bench:train: ${bc.name} ${what} exited with status ${child.status}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as T;
}

const results: Record<string, unknown> = {};
for (const bc of BENCH_CONFIGS.filter((c) => !only || c.name === only)) {
  const torch = torchPeer.data[bc.name];
  const ortTraining = ortTrainingPeer.data[bc.name];
  const forms: Record<string, unknown> = {};
  for (const mode of modes) {
    const m = inChild<Awaited<ReturnType<typeof measure>>>(bc, mode);
    forms[mode] = {
      ...m,
      ratio_vs_torch_same_machine: torch && ratio(m.img_per_s, torch.torch_train_img_s),
      rss_vs_torch_same_machine: torch && ratio(m.peak_rss_mb, torch.train_peak_rss_mb),
      ratio_vs_ort_training_same_machine: ortTraining && ratio(m.img_per_s, ortTraining.train_img_s),
      rss_vs_ort_training_same_machine: ortTraining && ratio(m.peak_rss_mb, ortTraining.train_peak_rss_mb),
      ratio_vs_recorded_torch: ratio(m.img_per_s, bc.reference.torchTrain),
    };
    console.error(bc.name, mode, JSON.stringify(forms[mode]));
  }
  // The floor of three forward passes, and what it allows against PyTorch.
  const { forward_s } = inChild<{ forward_s: number }>(bc, 'floor');
  const floor = bc.batch / (3 * forward_s);
  results[bc.name] = {
    ...forms,
    forward_s: +forward_s.toFixed(3),
    floor_img_per_s: +floor.toFixed(2),
    floor_ratio_vs_torch_same_machine: torch && ratio(floor, torch.torch_train_img_s),
    ...(torch
      ? { torch_same_machine_img_per_s: torch.torch_train_img_s, torch_version: torch.torch, torch_peak_rss_mb: torch.train_peak_rss_mb }
      : { torch_same_machine: torchPeer.missing ?? `not measured for ${bc.name}` }),
    ...(ortTraining
      ? { ort_training_same_machine_img_per_s: ortTraining.train_img_s, ort_training_version: ortTraining.onnxruntime, ort_training_peak_rss_mb: ortTraining.train_peak_rss_mb }
      : { ort_training_same_machine: ortTrainingPeer.missing ?? `not measured for ${bc.name}` }),
    recorded_torch_eager_adam_img_per_s: bc.reference.torchTrain,
    goal_ratio: 1.4,
    batch: bc.batch,
  };
}
console.log(JSON.stringify({ bench: 'train', provider: 'cpu', ...results }));
