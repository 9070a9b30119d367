// npm run check:gpu-step — one fused training step on the WebGPU provider (or --ep cuda) against
// the same step on the CPU provider: loss and every updated tensor compared, relative to each
// tensor's largest value, within 1e-3. For a GPU host (ARCHITECTURE.md §4: Vulkan loader +
// VK_DRIVER_FILES) or SwiftShader; on a machine with neither it fails saying what to install.
//   npm run check:gpu-step                        the 112², ×0.25, batch-32 benchmark config
//   npm run check:gpu-step -- --preset paper224   the default 224² model, batch 2
//   npm run check:gpu-step -- --preset tiny       32², ×0.125, VGG11, batch 4 (seconds on SwiftShader)
import * as ort from 'onnxruntime-node';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { configAuxDim, defaultConfig, type ModelConfig } from '../graph/models/config.ts';
import { DEFAULT_OPTIMIZER } from '../graph/training/optimizers.ts';
import type { ExecutionProvider } from '../runtime/execution.ts';
import { TrainEngine, type Batch } from '../tools/train/engine.ts';
import { assertProviderUsable } from '../tools/train/probe-provider.ts';
import { rng } from '../graph/core/params.ts';
import { BENCH_CONFIGS } from './configs.ts';

const PRESETS: Record<string, { model: ModelConfig; batch: number }> = {
  small112: { model: BENCH_CONFIGS[1].model, batch: BENCH_CONFIGS[1].batch },
  paper224: { model: defaultConfig('m2fn'), batch: 2 },
  tiny: { model: { ...defaultConfig('m2fn'), size: 32, width: 0.125, backbone: 'vgg11', headHidden: [16], cbnHidden: 8, attHidden: 8, fuseDim: 8 }, batch: 4 },
};
const argv = await yargs(hideBin(process.argv))
  .option('ep', { choices: ['webgpu', 'cuda'] as const, default: 'webgpu' as const })
  .option('preset', { choices: Object.keys(PRESETS), default: 'small112' })
  .option('batch', { type: 'number', describe: 'default: the preset\'s' })
  .strict()
  .parseAsync();
const ep = argv.ep as ExecutionProvider;
try {
  assertProviderUsable(ep);
} catch (e) {
  console.error(`check:gpu-step: ${(e as Error).message}`);
  process.exit(1);
}
const cfg = PRESETS[argv.preset].model;
const N = argv.batch ?? PRESETS[argv.preset].batch;
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

const results: Record<string, { loss: number; values: Map<string, Float32Array>; ms: number; traffic: { up: number; down: number } }> = {};
for (const provider of ['cpu', ep] as const) {
  const engine = await TrainEngine.create({
    setup: { config: cfg, loss: 'wmse', optimizer: DEFAULT_OPTIMIZER, bnMomentum: 0.1, ep: provider === 'webgpu' ? 'webgpu' : 'cpu' },
    mode: 'fused',
    ep: provider,
    initial: new Map(),
  });
  try {
    const t0 = performance.now();
    const loss = await engine.step(batch, 1e-3, 1);
    const ms = performance.now() - t0;
    results[provider] = { loss, values: new Map([...(await engine.values())].map(([k, v]) => [k, Float32Array.from(v.data)])), ms, traffic: engine.lastStep };
  } finally {
    await engine.release();
  }
}
const maxAbs = (a: Float32Array) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
// A parameter whose gradient is zero by construction (a conv bias in front of a batch norm) sees
// only rounding noise, which AdamW turns into steps of about lr on either provider: recognisable
// by a first moment (0.1·gradient) that is noise next to every other's. Listed, not compared.
const m1 = [...results.cpu.values].filter(([k]) => k.endsWith('.adam_m'));
const topM = Math.max(...m1.map(([, v]) => maxAbs(v)));
const zeroGradient = new Set(m1.filter(([, v]) => maxAbs(v) < 1e-6 * topM).map(([k]) => k.slice(0, -'.adam_m'.length)));
let worst = 0;
let worstName = '';
// Which tensors miss the bound, and the worst first moment (0.1·gradient at step 1) on its own:
// it says whether the gradients agree when an updated parameter does not.
const over: Record<string, number> = {};
let worstMoment = 0;
for (const [name, cpu] of results.cpu.values) {
  if (zeroGradient.has(name.replace(/\.adam_[mv]$/, ''))) continue;
  const gpu = results[ep].values.get(name)!;
  let d = 0;
  for (let i = 0; i < cpu.length; i++) d = Math.max(d, Math.abs(cpu[i] - gpu[i]));
  const rel = d / Math.max(1e-6, maxAbs(cpu));
  if (rel > worst) [worst, worstName] = [rel, name];
  if (rel >= 1e-3) over[name] = rel;
  if (name.endsWith('.adam_m')) worstMoment = Math.max(worstMoment, rel);
}
const lossDiff = Math.abs(results.cpu.loss - results[ep].loss) / Math.abs(results.cpu.loss);
console.log(JSON.stringify({
  ep, preset: argv.preset, size: cfg.size, width: cfg.width, batch: N,
  loss_cpu: results.cpu.loss, loss_ep: results[ep].loss, loss_rel_diff: lossDiff, worst_tensor: worstName, worst_rel_diff: worst, over_bound: over, worst_first_moment_rel_diff: worstMoment,
  zero_gradient_not_compared: [...zeroGradient], step_ms_cpu: results.cpu.ms, step_ms_ep: results[ep].ms, first_step_bytes: results[ep].traffic,
}));
process.exit(lossDiff < 1e-3 && worst < 1e-3 ? 0 : 1);
