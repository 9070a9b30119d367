// npm run check:gpu-step — one fused training step on the WebGPU provider (or --ep cuda) against
// the same step on the CPU provider: the loss, the AdamW moments (the gradients) and running
// statistics within 1e-3 relative (L2, per tensor), and each updated parameter within the
// difference its moments imply through AdamW's first step (adamStepOneExcess below). For a GPU host (ARCHITECTURE.md §4: Vulkan loader +
// VK_DRIVER_FILES) or SwiftShader; on a machine with neither it fails saying what to install.
//   npm run check:gpu-step                        the 112², ×0.25, batch-32 benchmark config
//   npm run check:gpu-step -- --preset paper224   the default 224² model, batch 2
//   npm run check:gpu-step -- --preset tiny       32², ×0.125, VGG11, batch 4 (seconds on SwiftShader)
import * as ort from 'onnxruntime-node';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { configAuxDim } from '../graph/models/config.ts';
import { DEFAULT_OPTIMIZER } from '../graph/training/optimizers.ts';
import type { ExecutionProvider } from '../runtime/execution.ts';
import { TrainEngine, type Batch } from '../tools/train/engine.ts';
import { assertProviderUsable } from '../tools/train/probe-provider.ts';
import { rng } from '../runtime/random.ts';
import { buildModel } from '../graph/models/m2fn.ts';
import { GPU_PRESETS, oneUlp } from './gpu-presets.ts';

const PRESETS = GPU_PRESETS;
const argv = await yargs(hideBin(process.argv))
  .option('ep', { choices: ['webgpu', 'cuda'] as const, default: 'webgpu' as const })
  .option('preset', { choices: Object.keys(PRESETS), default: 'small112' })
  .option('batch', { type: 'number', describe: 'default: the preset\'s' })
  .option('floor-samples', { type: 'number', default: 4, describe: 'CPU steps from one-ulp-nudged values whose largest difference is the floor' })
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
/** How many times the CPU's own one-ulp floor a tensor may differ by (see nudgedRun). */
const FLOOR_FACTOR = 2;
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

/**
 * The floor: how far the CPU step itself moves when every value it starts from — image, and every
 * parameter and statistic — is moved by one unit in its last place in a random direction
 * (gpu-presets.ts oneUlp). That perturbs each layer's sums by about one rounding, as a different
 * summation order does (at 224², ×0.25, its forward differences are 0.5–1× the WebGPU provider's,
 * layer by layer: bench/gpu-bisect.ts --against nudged). At 224² the backward pass amplifies it: a ReLU
 * whose pre-activation is within rounding of zero switches on or off, and the whole gradient
 * element routed through it (and through its max-pool window) appears or vanishes — a kink flip,
 * docs/training.md "WebGPU". Which ReLUs flip is a matter of chance, so the floor is the largest
 * difference over several such nudges.
 */
const FLOOR_SAMPLES = argv['floor-samples'];
const params = [...buildModel(cfg, { training: true }).params.values.values()];
function nudgedRun(k: number): { batch: Batch; initial: Map<string, Float32Array> } {
  const r = rng(100 + k);
  const image = Float32Array.from(batch.feeds.image.data as Float32Array);
  oneUlp(image, r);
  const initial = new Map(params.map((p) => {
    const data = Float32Array.from(p.data as Float32Array);
    oneUlp(data, r);
    return [p.name!, data];
  }));
  return { batch: { n: N, feeds: { ...batch.feeds, image: new ort.Tensor('float32', image, batch.feeds.image.dims) } }, initial };
}

type Run = { loss: number; values: Map<string, Float32Array>; ms: number; traffic: { up: number; down: number } };
const results: Record<string, Run> = {};
// 'lowered': the graphs built for the GPU (conv gradients lowered around the provider faults,
// docs/training.md) run on the CPU provider, which tells a wrong lowering from a provider that
// computes the right graph differently.
const runs: { key: string; provider: 'cpu' | ExecutionProvider; batch: Batch; lowered?: boolean; nudge?: number }[] = [
  { key: 'cpu', provider: 'cpu', batch },
  ...Array.from({ length: FLOOR_SAMPLES }, (_, k) => ({ key: `floor${k + 1}`, provider: 'cpu' as const, batch, nudge: k + 1 })),
  { key: 'lowered', provider: 'cpu', batch, lowered: true },
  { key: ep, provider: ep, batch },
];
const maxAbs = (a: Float32Array) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
/** ‖b − a‖₂ / ‖a‖₂, and the worst single element relative to a's largest value. */
function relDiff(a: Float32Array, b: Float32Array): { rel: number; element: number } {
  let [sq, norm, dMax] = [0, 0, 0];
  for (let i = 0; i < a.length; i++) {
    const e = a[i] - b[i];
    [sq, norm, dMax] = [sq + e * e, norm + a[i] * a[i], Math.max(dMax, Math.abs(e))];
  }
  return { rel: norm > 0 ? Math.sqrt(sq / norm) : sq > 0 ? Infinity : 0, element: dMax / Math.max(1e-6, maxAbs(a)) };
}
/** Per tensor: the largest relative L2 difference of a floor run from the CPU run. */
const floorOf = new Map<string, number>();
const floorLoss: number[] = [];
for (const { key, provider, batch: plain, lowered, nudge } of runs) {
  const { batch: b, initial } = nudge ? nudgedRun(nudge) : { batch: plain, initial: new Map<string, Float32Array>() };
  const engine = await TrainEngine.create({
    setup: { config: cfg, loss: 'wmse', optimizer: opt, ep: provider === 'webgpu' || lowered ? 'webgpu' : 'cpu' },
    mode: 'fused',
    ep: provider,
    initial,
  });
  try {
    const t0 = performance.now();
    const loss = await engine.step(b, LR, 1);
    const ms = performance.now() - t0;
    const values = new Map([...(await engine.values())].map(([k, v]) => [k, Float32Array.from(v.data)]));
    if (key.startsWith('floor')) {
      // Kept as each tensor's largest difference only: seven full copies of a 224² model's state would not fit.
      for (const [name, v] of values) floorOf.set(name, Math.max(floorOf.get(name) ?? 0, relDiff(results.cpu.values.get(name)!, v).rel));
      floorLoss.push(Math.abs(loss - results.cpu.loss) / Math.abs(results.cpu.loss));
    } else results[key] = { loss, values, ms, traffic: engine.lastStep };
  } finally {
    await engine.release();
  }
}
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
let worst = { name: '', rel: 0, bound: TOL };
// Each tensor's bound: 1e-3 relative (L2, as in the WebGPU test suite), or FLOOR_FACTOR times what
// the CPU step itself moves under a one-ulp nudge of the image, whichever is larger. Also: which
// parameters differ more than their moments imply, and the worst first moment on its own.
const over: Record<string, { rel: number; bound: number }> = {};
const unexplained: Record<string, number> = {};
const paramRel: Record<string, number> = {};
let worstMoment = 0;
let worstElement = { name: '', rel: 0 };
let floorMax = { name: '', rel: 0 };
let loweredWorst = { name: '', rel: 0 };
for (const [name, cpu] of results.cpu.values) {
  const lowered = relDiff(cpu, results.lowered.values.get(name)!).rel;
  if (lowered > loweredWorst.rel && !zeroGradient.has(name.replace(/\.adam_[mv]$/, ''))) loweredWorst = { name, rel: lowered };
  const gpu = results[ep].values.get(name)!;
  const { rel, element } = relDiff(cpu, gpu);
  const excess = adamStepOneExcess(name, cpu, gpu);
  if (excess !== undefined) {
    paramRel[name] = rel;
    if (excess > 0) unexplained[name] = excess;
    continue;
  }
  if (zeroGradient.has(name.replace(/\.adam_[mv]$/, ''))) continue;
  const floor = floorOf.get(name) ?? 0;
  if (floor > floorMax.rel) floorMax = { name, rel: floor };
  const bound = Math.max(TOL, FLOOR_FACTOR * floor);
  if (element > worstElement.rel) worstElement = { name, rel: element };
  if (rel / bound > worst.rel / worst.bound) worst = { name, rel, bound };
  if (rel > bound) over[name] = { rel, bound };
  if (name.endsWith('.adam_m')) worstMoment = Math.max(worstMoment, rel);
}
const worstParam = Object.entries(paramRel).sort((a, b) => b[1] - a[1])[0];
const lossDiff = Math.abs(results.cpu.loss - results[ep].loss) / Math.abs(results.cpu.loss);
console.log(JSON.stringify({
  ep, preset: argv.preset, size: cfg.size, width: cfg.width, batch: N,
  loss_cpu: results.cpu.loss, loss_ep: results[ep].loss, loss_rel_diff: lossDiff,
  worst_tensor_against_its_bound: worst, over_bound: over, worst_first_moment_rel_l2_diff: worstMoment, worst_element_of_max: worstElement,
  largest_cpu_floor: floorMax, gpu_graphs_on_cpu_worst: loweredWorst, floor_samples: FLOOR_SAMPLES, loss_cpu_floor_rel_diffs: floorLoss,
  params_unexplained_by_moments: unexplained, worst_param_rel_l2_diff: worstParam && { name: worstParam[0], rel: worstParam[1] },
  zero_gradient_moments_not_compared: [...zeroGradient], step_ms_cpu: results.cpu.ms, step_ms_ep: results[ep].ms, first_step_bytes: results[ep].traffic,
}));
process.exit(lossDiff < TOL && loweredWorst.rel < TOL && !Object.keys(over).length && !Object.keys(unexplained).length ? 0 : 1);
