// temporary: round-robin step time of engine variants in one process
import * as ort from 'onnxruntime-node';
import { configAuxDim } from '../graph/models/config.ts';
import { DEFAULT_OPTIMIZER } from '../graph/training/optimizers.ts';
import { TrainEngine, type Batch } from '../tools/train/engine.ts';
import { BENCH_CONFIGS } from './configs.ts';
const name = process.argv[2];
const variants = process.argv.slice(3); // e.g. fused:pat fused:nopat split:nopat
const bc = BENCH_CONFIGS.find((c) => c.name === name)!;
const cfg = bc.model;
const engines = [];
for (const v of variants) {
  const [mode, pat] = v.split(':');
  engines.push(await TrainEngine.create({ setup: { config: cfg, loss: 'wmse', optimizer: DEFAULT_OPTIMIZER, ep: 'cpu' }, mode: mode as 'fused', ep: 'cpu', initial: new Map(), memoryPattern: pat === 'pat' }));
}
const N = bc.batch, D = configAuxDim(cfg);
const t = (n: number, shape: number[], v: number) => new ort.Tensor('float32', new Float32Array(n).fill(v), shape);
const batch: Batch = { n: N, feeds: { image: t(N * 3 * cfg.size * cfg.size, [N, 3, cfg.size, cfg.size], 0.5), aux: t(N * D, [N, D], 0.01), target: t(N, [N, 1], 0.02), weight: t(N, [N, 1], 1) } };
const times = variants.map(() => [] as number[]);
const losses = variants.map(() => [] as number[]);
const rounds = Number(process.env.ROUNDS ?? 4);
for (let r = 0; r <= rounds; r++) for (const [i, e] of engines.entries()) {
  const t0 = performance.now();
  losses[i].push(await e.step(batch, 1e-4, r + 1));
  if (r > 0) times[i].push(performance.now() - t0);
}
for (const [i, v] of variants.entries()) {
  const ms = times[i].reduce((a, b) => a + b, 0) / times[i].length;
  console.log(v, 'ms/step', ms.toFixed(0), 'img/s', ((N * 1000) / ms).toFixed(2), 'steps', times[i].map((x) => x.toFixed(0)).join(' '), 'losses', losses[i].map((x) => x.toExponential(5)).join(' '));
}
