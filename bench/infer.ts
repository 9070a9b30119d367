// npm run bench:infer — CPU inference img/s of our M2FN graphs for the two reference configs: float32,
// and int8 (the QDQ graph of `m2fn quantize`, calibrated on real rows of a prepared dataset), as
// ratios against ONNX Runtime running PyTorch's exported graph of the same model — measured in the
// same run, interleaved run by run, when bench/reference/torch_cpu.py has exported it — and against
// the recorded figures. With M2FN_SPRC_MODEL (a trained model directory) it also reports how
// quantization changes SPRC on the calibration dataset's test split.
//
//   M2FN_CALIBRATION_DATA  prepared dataset for calibration (default out/demo/dataset, from `npm run demo`)
//   M2FN_SPRC_MODEL        trained float32 model directory scored on that dataset's test split
//   M2FN_REFERENCE_DIR     where torch_cpu.py wrote its graphs (default /tmp/m2fn-torch-ref)
//   M2FN_THREADS           intra-op threads (default: ORT's, one per core)
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { inferenceSpec, modelCard } from '../graph/export/inference.ts';
import { buildModel } from '../graph/models/m2fn.ts';
import { serialize } from '../graph/core/serialize.ts';
import { evaluateModel } from '../tools/eval/score-model.ts';
import { optimizedOpCounts } from '../tools/quantize/kernels.ts';
import { quantizeModel, quantizeModelDir } from '../tools/quantize/model-dir.ts';
import { BENCH_CONFIGS, benchFeeds, peakRssMB } from './configs.ts';

const only = process.argv[2];
const threads = Number(process.env.M2FN_THREADS ?? 0) || undefined;
const referenceDir = process.env.M2FN_REFERENCE_DIR ?? '/tmp/m2fn-torch-ref';
const calibrationData = process.env.M2FN_CALIBRATION_DATA ?? 'out/demo/dataset';
const sprcModel = process.env.M2FN_SPRC_MODEL;
const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', ...(threads ? { intraOpNumThreads: threads } : {}) };
const haveCalibration = existsSync(join(calibrationData, 'dataset.json'));
if (!haveCalibration) console.error(`bench:infer: no prepared dataset at ${calibrationData} (run \`npm run demo\` or set M2FN_CALIBRATION_DATA): the int8 rows are skipped`);

/**
 * img/s of each model, measured round-robin (one run of each in turn, `runs` rounds after a
 * warm-up) so that load changes on a shared machine hit every model alike; and images per
 * CPU-second of this process (all its threads), which other processes' load changes less — though
 * ORT's spinning worker threads count in it too.
 */
async function interleavedImgPerSecond(models: Record<string, Uint8Array | string>, feeds: Record<string, ort.Tensor>, n: number, runs: number): Promise<{ wall: Record<string, number>; cpu: Record<string, number> }> {
  const sessions = Object.fromEntries(await Promise.all(Object.entries(models).map(async ([k, m]) => [k, await ort.InferenceSession.create(m as Uint8Array, options)] as const)));
  const ms: Record<string, number> = {};
  const cpuUs: Record<string, number> = {};
  for (const [k, s] of Object.entries(sessions)) {
    await s.run(feeds); // warm-up
    ms[k] = cpuUs[k] = 0;
  }
  for (let r = 0; r < runs; r++) {
    for (const [k, s] of Object.entries(sessions)) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await s.run(feeds);
      const c = process.cpuUsage(c0);
      ms[k] += performance.now() - t0;
      cpuUs[k] += c.user + c.system;
    }
  }
  for (const s of Object.values(sessions)) await s.release();
  const per = (total: Record<string, number>, unit: number) => Object.fromEntries(Object.entries(total).map(([k, t]) => [k, (n * runs) / (t / unit)]));
  return { wall: per(ms, 1000), cpu: per(cpuUs, 1e6) };
}

const round = (x: number, d = 3) => +x.toFixed(d);
const results: Record<string, unknown> = {};
for (const bc of BENCH_CONFIGS.filter((c) => !only || c.name === only)) {
  const m = buildModel(bc.model);
  const N = bc.batch;
  const feeds = benchFeeds(bc.model, N);
  const runs = bc.name === 'paper224_b8' ? 5 : 20;
  const fp32 = serialize(inferenceSpec(m));
  const models: Record<string, Uint8Array | string> = { fp32 };
  let int8Kernels: number | undefined;
  if (haveCalibration) {
    const q = await quantizeModel(fp32, modelCard(m, fp32), calibrationData, { rows: 16, batchSize: 4, threads });
    models.int8 = q.bytes;
    int8Kernels = (await optimizedOpCounts(q.bytes)).get('com.microsoft.QLinearConv') ?? 0;
  }
  const torchGraph = join(referenceDir, `${bc.name}.onnx`);
  if (existsSync(torchGraph)) models.torchGraph = torchGraph;
  const { wall: rate, cpu } = await interleavedImgPerSecond(models, feeds, N, runs);
  results[bc.name] = {
    img_per_s: round(rate.fp32, 2),
    ...(rate.int8 ? { int8_img_per_s: round(rate.int8, 2), int8_ratio_vs_fp32_same_run: round(rate.int8 / rate.fp32), int8_ratio_vs_fp32_per_cpu_second: round(cpu.int8 / cpu.fp32), int8_qlinearconv_kernels: int8Kernels } : {}),
    ...(rate.torchGraph
      ? { ort_torchgraph_same_run_img_per_s: round(rate.torchGraph, 2), ratio_vs_ort_torchgraph_same_run: round(rate.fp32 / rate.torchGraph), ...(rate.int8 ? { int8_ratio_vs_ort_torchgraph_same_run: round(rate.int8 / rate.torchGraph) } : {}) }
      : { ort_torchgraph_same_run: `not measured: no ${torchGraph} (run bench/reference/torch_cpu.py)` }),
    recorded_ort_torchgraph_img_per_s: bc.reference.ortTorchGraphInfer,
    ratio_vs_recorded_ort_torchgraph: round(rate.fp32 / bc.reference.ortTorchGraphInfer),
    recorded_torch_eager_img_per_s: bc.reference.torchInfer,
    ratio_vs_recorded_torch_eager: round(rate.fp32 / bc.reference.torchInfer),
    batch: N,
    runs,
  };
  console.error(bc.name, JSON.stringify(results[bc.name]));
}

// How much int8 changes the ranking quality of a trained model on held-out rows.
if (sprcModel && haveCalibration) {
  const dir = mkdtempSync(join(tmpdir(), 'm2fn-bench-int8-'));
  try {
    await quantizeModelDir(sprcModel, calibrationData, dir, { threads });
    const opts = { resamples: 200, load: { threads } };
    const [f, q] = [(await evaluateModel(sprcModel, calibrationData, opts)).report, (await evaluateModel(dir, calibrationData, opts)).report];
    results.sprc = {
      model: sprcModel,
      data: calibrationData,
      test_rows: f.n,
      calibration: '128 train rows',
      fp32: round(f.overall.sprc.estimate, 4),
      int8: round(q.overall.sprc.estimate, 4),
      change: round(q.overall.sprc.estimate - f.overall.sprc.estimate, 4),
      goal_abs_change: 0.005,
    };
    console.error('sprc', JSON.stringify(results.sprc));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(JSON.stringify({ bench: 'infer', provider: 'cpu', ...results, peak_rss_mb: peakRssMB() }));
