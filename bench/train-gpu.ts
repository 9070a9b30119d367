// npm run bench:train-gpu — training and inference img/s on a GPU provider (default webgpu), for
// a GPU host (bench/gpu-host.sh). Training: the device-resident TrainEngine (fused step), timed
// after a warm-up step, with the host↔device bytes per step it measured. Inference: the exported
// graph, outputs to the host. On SwiftShader (no GPU) the figures only prove the path runs.
//   npm run bench:train-gpu -- --size 224 --batch 32,64,128
//   npm run bench:train-gpu -- --size 32 --width 0.125 --head-hidden 16 --backbone vgg11 --batch 4 --steps 2
import * as ort from 'onnxruntime-node';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { inferenceSpec } from '../graph/export/inference.ts';
import { configAuxDim, defaultConfig, type Backbone, type ModelKind } from '../graph/models/config.ts';
import { buildModel } from '../graph/models/m2fn.ts';
import { serialize } from '../graph/core/serialize.ts';
import { trainStep } from '../graph/training/graphs.ts';
import { DEFAULT_OPTIMIZER } from '../graph/training/optimizers.ts';
import { openSession, type ExecutionProvider } from '../runtime/execution.ts';
import { TrainEngine, type Batch } from '../tools/train/engine.ts';
import { assertProviderUsable } from '../tools/train/probe-provider.ts';
import { peakRssMB } from './configs.ts';

const argv = await yargs(hideBin(process.argv))
  .option('ep', { choices: ['webgpu', 'cuda', 'cpu'] as const, default: 'webgpu' as const })
  .option('model', { choices: ['m2fn', 'image-only', 'concat', 'nima'] as const, default: 'm2fn' as const })
  .option('backbone', { choices: ['vgg19', 'vgg16', 'vgg11'] as const, default: 'vgg19' as const })
  .option('size', { type: 'number', default: 224 })
  .option('width', { type: 'number', default: 1 })
  .option('head-hidden', { type: 'string', default: '4096,4096' })
  .option('batch', { type: 'string', default: '32,64,128', describe: 'comma list of batch sizes' })
  .option('steps', { type: 'number', default: 10, describe: 'timed training steps per batch size' })
  .option('infer-runs', { type: 'number', default: 10 })
  .strict()
  .parseAsync();

const ep = argv.ep as ExecutionProvider;
assertProviderUsable(ep);
const cfg = {
  ...defaultConfig(argv.model as ModelKind),
  backbone: argv.backbone as Backbone,
  size: argv.size,
  width: argv.width,
  headHidden: argv['head-hidden'].split(',').map(Number),
  ...(argv.model === 'nima' ? { output: 'distribution' as const } : {}),
};
const loss = argv.model === 'nima' ? ('emd' as const) : ('wmse' as const);
const D = configAuxDim(cfg);
const fill = (shape: number[], v: number) => new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v), shape);

const setup = { config: cfg, loss, optimizer: DEFAULT_OPTIMIZER, ep: ep === 'webgpu' ? ('webgpu' as const) : ('cpu' as const) };
// The batch inputs as the train step declares them (image, aux, dropout masks, loss inputs).
const stepSpec = trainStep(setup);
const batchInputs = stepSpec.inputs.filter((v) => !stepSpec.states.includes(v) && v.name !== 'lr' && v.name !== 'step');
const FILL: Record<string, number> = { image: 0.5, aux: 0.01, weight: 1, target: cfg.output === 'distribution' ? 0.1 : 0.02 };

function batchOf(N: number): Batch {
  const feeds: Record<string, ort.Tensor> = {};
  for (const v of batchInputs) feeds[v.name!] = fill(v.shape.map((d) => (typeof d === 'number' ? d : N)), FILL[v.name!] ?? 1);
  return { n: N, feeds };
}

const results: Record<string, unknown>[] = [];
for (const N of argv.batch.split(',').map(Number)) {
  const engine = await TrainEngine.create({ setup, mode: 'fused', ep, initial: new Map() });
  let train: Record<string, unknown>;
  try {
    const batch = batchOf(N);
    const w0 = performance.now();
    await engine.step(batch, 1e-4, 1); // warm-up: shader compilation and the upload of the initial values
    const warmupMs = performance.now() - w0;
    const t0 = performance.now();
    for (let s = 0; s < argv.steps; s++) await engine.step(batch, 1e-4, s + 2);
    const ms = (performance.now() - t0) / argv.steps;
    train = { train_img_per_s: +((N * 1000) / ms).toFixed(2), step_ms: +ms.toFixed(1), warmup_ms: +warmupMs.toFixed(0), bytes_up_per_step: engine.lastStep.up, bytes_down_per_step: engine.lastStep.down };
  } finally {
    await engine.release();
  }
  const { session } = await openSession(serialize(inferenceSpec(buildModel(cfg))), 'inference', { ep, fallback: false });
  let infer: Record<string, unknown>;
  try {
    const feeds: Record<string, ort.Tensor> = { image: fill([N, 3, cfg.size, cfg.size], 0.5) };
    if (cfg.modules.aux) feeds.aux = fill([N, D], 0.01);
    await session.run(feeds);
    const t0 = performance.now();
    for (let r = 0; r < argv['infer-runs']; r++) await session.run(feeds);
    infer = { infer_img_per_s: +((N * argv['infer-runs'] * 1000) / (performance.now() - t0)).toFixed(2) };
  } finally {
    await session.release();
  }
  const row = { batch: N, ...train, ...infer };
  console.error(JSON.stringify(row));
  results.push(row);
}
console.log(JSON.stringify({ bench: 'train-gpu', provider: ep, model: argv.model, backbone: cfg.backbone, size: cfg.size, width: cfg.width, head_hidden: cfg.headHidden, results, peak_rss_mb: peakRssMB() }));
