// npm run bench:infer — CPU inference img/s of our M2FN graphs for the two reference configs, as
// ratios against ONNX Runtime running PyTorch's exported graph of the same model: measured in the
// same run when bench/reference/torch_cpu.py has exported it, and against the recorded figures.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { inferenceSpec } from '../graph/export.ts';
import { configAuxDim } from '../graph/models/config.ts';
import { buildModel } from '../graph/models/m2fn.ts';
import { serialize } from '../graph/serialize.ts';
import { BENCH_CONFIGS, peakRssMB } from './configs.ts';

const only = process.argv[2];
const threads = Number(process.env.M2FN_THREADS ?? 0) || undefined;
const referenceDir = process.env.M2FN_REFERENCE_DIR ?? '/tmp/m2fn-torch-ref';
const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', ...(threads ? { intraOpNumThreads: threads } : {}) };

async function imgPerSecond(model: Uint8Array | string, feeds: Record<string, ort.Tensor>, n: number, runs: number): Promise<number> {
  const session = await ort.InferenceSession.create(model as Uint8Array, options);
  await session.run(feeds); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await session.run(feeds);
  const rate = (n * runs) / ((performance.now() - t0) / 1000);
  await session.release();
  return rate;
}

const results: Record<string, unknown> = {};
for (const bc of BENCH_CONFIGS.filter((c) => !only || c.name === only)) {
  const m = buildModel(bc.model);
  const { size } = bc.model;
  const N = bc.batch;
  const D = configAuxDim(bc.model);
  const feeds: Record<string, ort.Tensor> = {
    image: new ort.Tensor('float32', new Float32Array(N * 3 * size * size).fill(0.5), [N, 3, size, size]),
    aux: new ort.Tensor('float32', new Float32Array(N * D).fill(0.01), [N, D]),
  };
  const runs = bc.name === 'paper224_b8' ? 5 : 20;
  const ours = await imgPerSecond(serialize(inferenceSpec(m)), feeds, N, runs);
  const torchGraph = join(referenceDir, `${bc.name}.onnx`);
  // Alternate the two graphs so load changes on the machine hit both alike.
  const theirs = existsSync(torchGraph) ? await imgPerSecond(torchGraph, feeds, N, runs) : null;
  results[bc.name] = {
    img_per_s: +ours.toFixed(2),
    ...(theirs ? { ort_torchgraph_same_run_img_per_s: +theirs.toFixed(2), ratio_vs_ort_torchgraph_same_run: +(ours / theirs).toFixed(3) } : {}),
    recorded_ort_torchgraph_img_per_s: bc.reference.ortTorchGraphInfer,
    ratio_vs_recorded_ort_torchgraph: +(ours / bc.reference.ortTorchGraphInfer).toFixed(3),
    recorded_torch_eager_img_per_s: bc.reference.torchInfer,
    ratio_vs_recorded_torch_eager: +(ours / bc.reference.torchInfer).toFixed(3),
    batch: N,
    runs,
  };
  console.error(bc.name, JSON.stringify(results[bc.name]));
}
console.log(JSON.stringify({ bench: 'infer', provider: 'cpu', ...results, peak_rss_mb: peakRssMB() }));
