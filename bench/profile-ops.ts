// npm run bench:profile-ops — where inference time goes, per op kind, for the float32 and int8 graphs
// of one bench config (ONNX Runtime's profiler, CPU provider, after its optimiser; one run after a
// warm-up). Prints op kind → milliseconds and share of kernel time.
//   npm run bench:profile-ops -- [small112_b32|paper224_b8]   (M2FN_CALIBRATION_DATA as in bench:infer)
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { inferenceSpec, modelCard } from '../graph/export/inference.ts';
import { buildModel } from '../graph/models/m2fn.ts';
import { serialize } from '../graph/core/serialize.ts';
import { quantizeModel } from '../tools/quantize/model-dir.ts';
import { BENCH_CONFIGS, benchFeeds } from './configs.ts';

const name = process.argv[2] ?? 'small112_b32';
const bc = BENCH_CONFIGS.find((c) => c.name === name);
if (!bc) throw new Error(`unknown config ${name}; one of ${BENCH_CONFIGS.map((c) => c.name).join(', ')}`);
const calibrationData = process.env.M2FN_CALIBRATION_DATA ?? 'out/demo/dataset';
const m = buildModel(bc.model);
const feeds = benchFeeds(bc.model, bc.batch);
const fp32 = serialize(inferenceSpec(m));
const int8 = (await quantizeModel(fp32, modelCard(m, fp32), calibrationData, { rows: 16, batchSize: 4 })).bytes;

for (const [label, bytes] of [['fp32', fp32], ['int8', int8]] as const) {
  const dir = mkdtempSync(join(tmpdir(), 'm2fn-profile-'));
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: join(dir, label) });
  await s.run(feeds);
  await s.run(feeds);
  s.endProfiling(); // writes <prefix>_<timestamp>.json
  await s.release();
  const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.json'))!);
  const events = JSON.parse(readFileSync(file, 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  rmSync(dir, { recursive: true, force: true });
  // Kernel events of the second (measured) run: each node appears once per run.
  const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
  const second = kernels.slice(kernels.length / 2);
  const byOp = new Map<string, number>();
  if (process.env.M2FN_PROFILE_NODES) for (const e of second.filter((e) => e.args?.op_name === process.env.M2FN_PROFILE_NODES)) console.log(`    ${e.name} ${(e.dur / 1000).toFixed(1)} ms`);
  for (const e of second) byOp.set(e.args?.op_name ?? '?', (byOp.get(e.args?.op_name ?? '?') ?? 0) + e.dur / 1000);
  const total = [...byOp.values()].reduce((a, b) => a + b, 0);
  console.log(`${name} ${label}: ${total.toFixed(0)} ms of kernel time for ${bc.batch} images`);
  for (const [op, ms] of [...byOp].sort((a, b) => b[1] - a[1])) console.log(`  ${op.padEnd(24)} ${ms.toFixed(1).padStart(9)} ms  ${((100 * ms) / total).toFixed(1)}%`);
}
