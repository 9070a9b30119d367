// npm run check:gpu-step — one fused training step on the WebGPU provider (or --ep cuda) against
// the same step on the CPU provider: loss and every updated tensor compared. For a GPU host
// (ARCHITECTURE.md §4: Vulkan loader + VK_DRIVER_FILES); on a machine without one it fails
// saying why.
import * as ort from 'onnxruntime-node';
import { configAuxDim } from '../graph/models/config.ts';
import { DEFAULT_OPTIMIZER } from '../graph/training/optimizers.ts';
import type { ExecutionProvider } from '../runtime/execution.ts';
import { TrainEngine, type Batch } from '../tools/train/engine.ts';
import { rng } from '../graph/params.ts';
import { BENCH_CONFIGS } from './configs.ts';

const ep = (process.argv[2] ?? 'webgpu') as ExecutionProvider;
const bc = BENCH_CONFIGS[1];
const cfg = bc.model;
const N = bc.batch;
const r = rng(1);
const rand = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (2 * r() - 1) * scale);
const D = configAuxDim(cfg);
const batch: Batch = {
  n: N,
  feeds: {
    image: new ort.Tensor('float32', rand(N * 3 * cfg.size * cfg.size), [N, 3, cfg.size, cfg.size]),
    aux: new ort.Tensor('float32', rand(N * D, 0.1), [N, D]),
    target: new ort.Tensor('float32', rand(N, 0.05).map(Math.abs), [N, 1]),
    weight: new ort.Tensor('float32', new Float32Array(N).fill(1), [N, 1]),
  },
};

const results: Record<string, { loss: number; values: Map<string, Float32Array>; ms: number }> = {};
for (const provider of ['cpu', ep] as const) {
  const engine = await TrainEngine.create({
    setup: { config: cfg, loss: 'wmse', optimizer: DEFAULT_OPTIMIZER, bnMomentum: 0.1, ep: provider === 'webgpu' ? 'webgpu' : 'cpu' },
    mode: 'fused',
    ep: provider,
    initial: new Map(),
  }).catch((e: Error) => {
    console.error(`check:gpu-step: ${e.message}`);
    process.exit(1);
  });
  const t0 = performance.now();
  const loss = await engine.step(batch, 1e-3, 1);
  const ms = performance.now() - t0;
  results[provider] = { loss, values: new Map([...engine.values()].map(([k, v]) => [k, Float32Array.from(v.data)])), ms };
  await engine.release();
}
let worst = 0;
let worstName = '';
for (const [name, cpu] of results.cpu.values) {
  const gpu = results[ep].values.get(name)!;
  let scale = 1e-6;
  let d = 0;
  for (let i = 0; i < cpu.length; i++) {
    d = Math.max(d, Math.abs(cpu[i] - gpu[i]));
    scale = Math.max(scale, Math.abs(cpu[i]));
  }
  if (d / scale > worst) [worst, worstName] = [d / scale, name];
}
const lossDiff = Math.abs(results.cpu.loss - results[ep].loss) / Math.abs(results.cpu.loss);
console.log(JSON.stringify({ ep, loss_cpu: results.cpu.loss, loss_ep: results[ep].loss, loss_rel_diff: lossDiff, worst_tensor: worstName, worst_rel_diff: worst, step_ms_cpu: results.cpu.ms, step_ms_ep: results[ep].ms }));
process.exit(lossDiff < 1e-3 && worst < 1e-3 ? 0 : 1);
