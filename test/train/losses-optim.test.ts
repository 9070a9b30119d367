// Losses and optimizer updates against plain-TS formulas.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { input } from '../../graph/core/ir.ts';
import { buildLoss, type LossKind } from '../../graph/training/losses.ts';
import { buildOptimizer, DEFAULT_OPTIMIZER, type OptimizerConfig } from '../../graph/training/optimizers.ts';
import { randomArray, run } from '../graph/helpers.ts';

const N = 4;
const logitsData = randomArray(N * 10, 1, 2);
const pred1 = randomArray(N, 2, 0.1);
const y1 = randomArray(N, 3, 0.1);
const w1 = randomArray(N, 4).map((x) => 0.5 + Math.abs(x));
const dist = Array.from({ length: N }, (_, n) => {
  const r = randomArray(10, 10 + n).map((x) => Math.abs(x) + (n === 0 ? 0 : 0.01));
  if (n === 0) r[3] = 0; // a zero bucket: 0·log 0 = 0
  const s = r.reduce((a, b) => a + b);
  return r.map((x) => x / s);
});
const softmax = (row: ArrayLike<number>) => {
  const m = Math.max(...Array.from(row));
  const e = Array.from(row, (x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b);
  return e.map((x) => x / s);
};

async function lossValue(kind: LossKind): Promise<number> {
  const outputs = kind === 'kld' || kind === 'emd' ? 10 : 1;
  const logits = input('logits', 'float32', ['N', outputs]);
  const { loss, inputs } = buildLoss(kind, logits);
  const feeds: Record<string, ort.Tensor> = {
    logits: new ort.Tensor('float32', outputs === 10 ? logitsData : pred1, [N, outputs]),
    target: new ort.Tensor('float32', outputs === 10 ? Float32Array.from(dist.flatMap((d) => Array.from(d))) : y1, [N, outputs]),
  };
  if (kind === 'wmse') feeds.weight = new ort.Tensor('float32', w1, [N, 1]);
  const out = await run({ name: 'l', inputs: [logits, ...inputs], outputs: [loss.named('loss')] }, feeds);
  return (out.loss.data as Float32Array)[0];
}

test('weighted MSE = mean(w (ŷ − y)²) and MSE = mean((ŷ − y)²)', async () => {
  let wm = 0;
  let m = 0;
  for (let n = 0; n < N; n++) {
    wm += (w1[n] * (pred1[n] - y1[n]) ** 2) / N;
    m += (pred1[n] - y1[n]) ** 2 / N;
  }
  assert.ok(Math.abs((await lossValue('wmse')) - wm) < 1e-7);
  assert.ok(Math.abs((await lossValue('mse')) - m) < 1e-7);
});

test('KL divergence = mean Σ p log(p / q), with 0·log 0 = 0', async () => {
  let kl = 0;
  for (let n = 0; n < N; n++) {
    const q = softmax(logitsData.subarray(n * 10, n * 10 + 10));
    dist[n].forEach((p, k) => (kl += p > 0 ? (p * Math.log(p / q[k])) / N : 0));
  }
  assert.ok(Math.abs((await lossValue('kld')) - kl) < 1e-5, `${await lossValue('kld')} vs ${kl}`);
});

test('EMD (r = 2) = mean sqrt(mean_k (CDF_q − CDF_p)²)', async () => {
  let emd = 0;
  for (let n = 0; n < N; n++) {
    const q = softmax(logitsData.subarray(n * 10, n * 10 + 10));
    let cq = 0;
    let cp = 0;
    let s = 0;
    for (let k = 0; k < 10; k++) {
      cq += q[k];
      cp += dist[n][k];
      s += (cq - cp) ** 2 / 10;
    }
    emd += Math.sqrt(s) / N;
  }
  assert.ok(Math.abs((await lossValue('emd')) - emd) < 1e-5);
});

/** One reference AdamW / SGD step in float64, with global-norm clipping and decay on rank ≥ 2 only. */
function referenceStep(cfg: OptimizerConfig, params: Float32Array[], ranks: number[], grads: Float32Array[], states: Float32Array[][], lr: number, t: number) {
  const norm = Math.sqrt(grads.reduce((s, g) => s + g.reduce((a, x) => a + x * x, 0), 0));
  const scale = cfg.clipNorm > 0 ? Math.min(1, cfg.clipNorm / (norm + 1e-6)) : 1;
  return params.map((p, i) =>
    Array.from(p, (x, j) => {
      const g = grads[i][j] * scale;
      const decayed = ranks[i] >= 2 ? x - lr * cfg.weightDecay * x : x;
      if (cfg.kind === 'sgd') return decayed - lr * (cfg.momentum * states[i][0][j] + g);
      const m = cfg.beta1 * states[i][0][j] + (1 - cfg.beta1) * g;
      const v = cfg.beta2 * states[i][1][j] + (1 - cfg.beta2) * g * g;
      const mhat = m / (1 - cfg.beta1 ** t);
      const vhat = v / (1 - cfg.beta2 ** t);
      return decayed - (lr * mhat) / (Math.sqrt(vhat) + cfg.eps);
    }),
  );
}

for (const [label, cfg] of [
  ['AdamW with clipping (norm above the limit)', { ...DEFAULT_OPTIMIZER, clipNorm: 0.5 }],
  ['AdamW without clipping', { ...DEFAULT_OPTIMIZER, clipNorm: 0 }],
  ['SGD with momentum', { ...DEFAULT_OPTIMIZER, kind: 'sgd', weightDecay: 0.1 }],
] as [string, OptimizerConfig][]) {
  test(`optimizer update equals the formula: ${label}`, async () => {
    const shapes = [[3, 4], [4]];
    const params = shapes.map((s, i) => input(`p${i}`, 'float32', s));
    const gradInputs = params.map((p, i) => input(`g${i}`, 'float32', p.shape));
    const opt = buildOptimizer(cfg, params, new Map(params.map((p, i) => [p, gradInputs[i]])));
    const pData = shapes.map((s, i) => randomArray(s.reduce((a, b) => a * b), 20 + i));
    const gData = shapes.map((s, i) => randomArray(s.reduce((a, b) => a * b), 30 + i));
    const sData = opt.states.map((v, i) => randomArray(v.size, 40 + i).map((x) => (v.name!.endsWith('adam_v') ? Math.abs(x) : x)));
    const feeds: Record<string, ort.Tensor> = { lr: new ort.Tensor('float32', Float32Array.of(0.01), []), step: new ort.Tensor('float32', Float32Array.of(3), []) };
    params.forEach((p, i) => (feeds[p.name!] = new ort.Tensor('float32', pData[i], p.shape as number[])));
    gradInputs.forEach((g, i) => (feeds[g.name!] = new ort.Tensor('float32', gData[i], g.shape as number[])));
    opt.states.forEach((s, i) => (feeds[s.name!] = new ort.Tensor('float32', sData[i], s.shape as number[])));
    const outs = params.map((p) => opt.updates.get(p)!.named(`${p.name}_new`));
    const out = await run({ name: 'o', inputs: [...params, ...gradInputs, ...opt.states, opt.lr, opt.step], outputs: outs }, feeds);
    const perParam = cfg.kind === 'adamw' ? 2 : 1;
    const states = params.map((_, i) => sData.slice(i * perParam, i * perParam + perParam));
    const want = referenceStep(cfg, pData, [2, 1], gData, states, 0.01, 3);
    params.forEach((p, i) => {
      const got = out[`${p.name}_new`].data as Float32Array;
      want[i].forEach((w, j) => assert.ok(Math.abs(got[j] - w) < 1e-6, `${p.name}[${j}] ${got[j]} vs ${w}`));
    });
  });
}

test.run();
