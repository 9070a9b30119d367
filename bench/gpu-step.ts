// npm run check:gpu-step — one fused training step on the WebGPU provider (or --ep cuda) against
// the same step on the CPU provider: the loss, the AdamW moments (the gradients) and running
// statistics within 1e-3 of each tensor's largest value, and each updated parameter within the
// difference its moments imply through AdamW's first step (adamStepOneExcess below). For a GPU host (ARCHITECTURE.md §4: Vulkan loader +
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
const TOL = 1e-3;
const LR = 1e-3;
const opt = DEFAULT_OPTIMIZER;
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
    setup: { config: cfg, loss: 'wmse', optimizer: opt, bnMomentum: 0.1, ep: provider === 'webgpu' ? 'webgpu' : 'cpu' },
    mode: 'fused',
    ep: provider,
    initial: new Map(),
  });
  try {
    const t0 = performance.now();
    const loss = await engine.step(batch, LR, 1);
    const ms = performance.now() - t0;
    results[provider] = { loss, values: new Map([...(await engine.values())].map(([k, v]) => [k, Float32Array.from(v.data)])), ms, traffic: engine.lastStep };
  } finally {
    await engine.release();
  }
}
const maxAbs = (a: Float32Array) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
// A parameter whose gradient is zero by construction (a conv bias in front of a batch norm) sees
// only rounding noise: its AdamW moments are noise on either provider, recognisable by a first
// moment (0.1·gradient) that is noise next to every other's. Its moments are listed, not compared.
const m1 = [...results.cpu.values].filter(([k]) => k.endsWith('.adam_m'));
const topM = Math.max(...m1.map(([, v]) => maxAbs(v)));
const zeroGradient = new Set(m1.filter(([, v]) => maxAbs(v) < 1e-6 * topM).map(([k]) => k.slice(0, -'.adam_m'.length)));
/**
 * At step 1 AdamW moves each element by lr·ĝ/(|ĝ| + ε) (m̂ = ĝ, √v̂ = |ĝ|): about ±lr whatever
 * the gradient's size, so an element whose gradient is near zero flips its step from +lr to −lr
 * on a rounding difference. Comparing updated parameters to 1e-3 of their largest value then
 * tests the conditioning of sign(g), not the providers. What is tested instead: the gradients
 * (through m and v, 1e-3 of each tensor's largest value like every other tensor), and each
 * parameter against the difference its providers' own m and v imply through the update formula
 *     |Δp_i| ≤ lr/(1−β1) · |m_i/(√(v_i/(1−β2)) + ε)|cpu − (…)gpu| + 1e-3·lr + 1e-6·max|p|
 * (the last terms: the update's own fp32 arithmetic held to 1e-3 of the largest step, lr, and
 * rounding of p·(1 − lr·λ)). A wrong update, decay or a parameter the GPU
 * left stale exceeds it; a sign flip on a near-zero gradient does not.
 */
function adamStepOneExcess(name: string, cpu: Float32Array, gpu: Float32Array): number | undefined {
  if (opt.kind !== 'adamw') return undefined;
  const state = (provider: string, s: string) => results[provider].values.get(`${name}.adam_${s}`);
  const [mc, vc, mg, vg] = [state('cpu', 'm'), state('cpu', 'v'), state(ep, 'm'), state(ep, 'v')];
  if (!mc || !vc || !mg || !vg) return undefined;
  const dir = (m: number, v: number) => m / (Math.sqrt(v / (1 - opt.beta2)) + opt.eps);
  const rounding = TOL * LR + 1e-6 * maxAbs(cpu);
  let excess = 0;
  for (let i = 0; i < cpu.length; i++) {
    const implied = (LR / (1 - opt.beta1)) * Math.abs(dir(mc[i], vc[i]) - dir(mg[i], vg[i]));
    excess = Math.max(excess, Math.abs(cpu[i] - gpu[i]) - implied - rounding);
  }
  return excess;
}
let worst = 0;
let worstName = '';
// Which tensors miss the bound (relative to their largest value), which parameters differ more
// than their moments imply, and the worst first moment on its own (the gradients' agreement).
const over: Record<string, number> = {};
const unexplained: Record<string, number> = {};
const paramRel: Record<string, number> = {};
let worstMoment = 0;
for (const [name, cpu] of results.cpu.values) {
  const gpu = results[ep].values.get(name)!;
  let d = 0;
  for (let i = 0; i < cpu.length; i++) d = Math.max(d, Math.abs(cpu[i] - gpu[i]));
  const rel = d / Math.max(1e-6, maxAbs(cpu));
  const excess = adamStepOneExcess(name, cpu, gpu);
  if (excess !== undefined) {
    paramRel[name] = rel;
    if (excess > 0) unexplained[name] = excess;
    continue;
  }
  if (zeroGradient.has(name.replace(/\.adam_[mv]$/, ''))) continue;
  if (rel > worst) [worst, worstName] = [rel, name];
  if (rel >= TOL) over[name] = rel;
  if (name.endsWith('.adam_m')) worstMoment = Math.max(worstMoment, rel);
}
const worstParam = Object.entries(paramRel).sort((a, b) => b[1] - a[1])[0];
const lossDiff = Math.abs(results.cpu.loss - results[ep].loss) / Math.abs(results.cpu.loss);
console.log(JSON.stringify({
  ep, preset: argv.preset, size: cfg.size, width: cfg.width, batch: N,
  loss_cpu: results.cpu.loss, loss_ep: results[ep].loss, loss_rel_diff: lossDiff,
  worst_tensor: worstName, worst_rel_diff: worst, over_bound: over, worst_first_moment_rel_diff: worstMoment,
  params_unexplained_by_moments: unexplained, worst_param_rel_diff: worstParam && { name: worstParam[0], rel: worstParam[1] },
  zero_gradient_moments_not_compared: [...zeroGradient], step_ms_cpu: results.cpu.ms, step_ms_ep: results[ep].ms, first_step_bytes: results[ep].traffic,
}));
process.exit(lossDiff < TOL && worst < TOL && !Object.keys(unexplained).length ? 0 : 1);
