// npm run bench:conv-grad — the conv weight gradient of every distinct VGG19 layer shape at 224²,
// batch 8, on the CPU provider: the rule the training graphs use (ops/nn.ts convGradWeight: the
// one-hot unfold, in channel chunks past GradOptions.unfoldFloats) against the other standard form,
// a conv with batch and channels swapped. Timed round-robin in one process, so load hits both
// alike; both results must agree (relative L2 ≤ 1e-5) or the bench fails.
//   npm run bench:conv-grad [-- --batch 8 --runs 3]
import * as ort from 'onnxruntime-node';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { gradients } from '../graph/autodiff/gradients.ts';
import { input, type Value } from '../graph/core/ir.ts';
import { build } from '../graph/core/builder.ts';
import { serialize } from '../graph/core/serialize.ts';
import { conv, mul, reduceSum, transpose } from '../graph/ops/index.ts';
import { rng } from '../runtime/random.ts';
import { difference } from '../tools/metrics/difference.ts';

const argv = await yargs(hideBin(process.argv))
  .option('batch', { type: 'number', default: 8 })
  .option('runs', { type: 'number', default: 3 })
  .strict()
  .parseAsync();
const N = argv.batch;
/** [in channels, out channels, map size] of VGG19's convs at 224², each shape once. */
const LAYERS: [number, number, number][] = [[3, 64, 224], [64, 64, 224], [64, 128, 112], [128, 128, 112], [128, 256, 56], [256, 256, 56], [256, 512, 28], [512, 512, 28], [512, 512, 14]];
const pads = [1, 1, 1, 1];

const forms: Record<string, (X: Value, G: Value, W: Value) => Value> = {
  rule: (X, G, W) => gradients(reduceSum(mul(conv(X, W, null, { pads }), G), [0, 1, 2, 3], false), [W]).get(W)!,
  swapped: (X, G) => transpose(conv(transpose(X, [1, 0, 2, 3]), transpose(G, [1, 0, 2, 3]), null, { pads }), [1, 0, 2, 3]),
};
const r = rng(3);
const rand = (n: number) => Float32Array.from({ length: n }, () => 2 * r() - 1);
const rows: Record<string, unknown>[] = [];
const total: Record<string, number> = { rule: 0, swapped: 0 };
for (const [ci, co, H] of LAYERS) {
  const feeds = {
    X: new ort.Tensor('float32', rand(N * ci * H * H), [N, ci, H, H]),
    G: new ort.Tensor('float32', rand(N * co * H * H), [N, co, H, H]),
    W: new ort.Tensor('float32', rand(co * ci * 9), [co, ci, 3, 3]),
  };
  const { W: _w, ...xg } = feeds;
  const feedsOf = (k: string) => (k === 'rule' ? feeds : xg); // the swapped form has no use for W
  const sessions: Record<string, ort.InferenceSession> = {};
  const out: Record<string, Float32Array> = {};
  for (const [k, f] of Object.entries(forms)) {
    const spec = build(() => {
      const [X, G, W] = [input('X', 'float32', [N, ci, H, H]), input('G', 'float32', [N, co, H, H]), input('W', 'float32', [co, ci, 3, 3])];
      return { name: k, inputs: k === 'rule' ? [X, G, W] : [X, G], outputs: [f(X, G, W).named('dw')] };
    });
    sessions[k] = await ort.InferenceSession.create(serialize(spec), { graphOptimizationLevel: 'all' });
    out[k] = (await sessions[k].run(feedsOf(k))).dw.data as Float32Array; // warm-up
  }
  const err = difference(out.swapped, out.rule).rel;
  if (!(err <= 1e-5)) throw new Error(`conv-grad: the two forms disagree at ${ci}→${co}, ${H}²: relative L2 ${err}`);
  const ms: Record<string, number> = { rule: 0, swapped: 0 };
  for (let i = 0; i < argv.runs; i++)
    for (const [k, s] of Object.entries(sessions)) {
      const t0 = performance.now();
      await s.run(feedsOf(k));
      ms[k] += (performance.now() - t0) / argv.runs;
    }
  for (const s of Object.values(sessions)) await s.release();
  for (const k of Object.keys(ms)) total[k] += ms[k];
  const row = { layer: `${ci}→${co} ${H}²`, rule_ms: Math.round(ms.rule), swapped_ms: Math.round(ms.swapped), swapped_over_rule: +(ms.swapped / ms.rule).toFixed(2), rel_l2: +err.toExponential(1) };
  console.error(JSON.stringify(row));
  rows.push(row);
}
console.log(JSON.stringify({ bench: 'conv-grad', batch: N, runs: argv.runs, layers: rows, total_rule_ms: Math.round(total.rule), total_swapped_ms: Math.round(total.swapped), swapped_over_rule: +(total.swapped / total.rule).toFixed(2) }));
