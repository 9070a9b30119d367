// npm run bench:infer — CPU inference img/s of our M2FN graphs for the two reference configs,
// as ratios against ONNX Runtime running PyTorch's exported graph of the same model.
import * as ort from 'onnxruntime-node';
import { inferenceSpec } from '../graph/export.ts';
import { configAuxDim } from '../graph/models/config.ts';
import { buildModel } from '../graph/models/m2fn.ts';
import { serialize } from '../graph/serialize.ts';
import { BENCH_CONFIGS, peakRssMB } from './configs.ts';

const only = process.argv[2];
const threads = Number(process.env.M2FN_THREADS ?? 0) || undefined;
const results: Record<string, unknown> = {};
for (const bc of BENCH_CONFIGS.filter((c) => !only || c.name === only)) {
  const m = buildModel(bc.model);
  const bytes = serialize(inferenceSpec(m));
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', ...(threads ? { intraOpNumThreads: threads } : {}) });
  const { size } = bc.model;
  const N = bc.batch;
  const feeds: Record<string, ort.Tensor> = {
    image: new ort.Tensor('float32', new Float32Array(N * 3 * size * size).fill(0.5), [N, 3, size, size]),
  };
  if (m.aux) feeds.aux = new ort.Tensor('float32', new Float32Array(N * configAuxDim(bc.model)).fill(0.01), [N, configAuxDim(bc.model)]);
  await session.run(feeds); // warm-up
  const runs = bc.name === 'paper224_b8' ? 5 : 20;
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await session.run(feeds);
  const imgPerS = (N * runs) / ((performance.now() - t0) / 1000);
  results[bc.name] = {
    img_per_s: +imgPerS.toFixed(2),
    reference_ort_torchgraph_img_per_s: bc.reference.ortTorchGraphInfer,
    ratio_vs_ort_torchgraph: +(imgPerS / bc.reference.ortTorchGraphInfer).toFixed(3),
    reference_torch_eager_img_per_s: bc.reference.torchInfer,
    ratio_vs_torch_eager: +(imgPerS / bc.reference.torchInfer).toFixed(3),
    batch: N,
    runs,
  };
  console.error(bc.name, JSON.stringify(results[bc.name]));
  await session.release();
}
console.log(JSON.stringify({ bench: 'infer', provider: 'cpu', ...results, peak_rss_mb: peakRssMB() }));
