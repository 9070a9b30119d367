// Batch norm and conditional batch norm (CBN, de Vries et al. 2017): the low-level fusion step.
import { constF32, constI64, type Value } from '../core/ir.ts';
import {
  add, batchNorm as bnOp, cast, gather, mul, reciprocal, reduceMean, reshape, relu, shapeOf, sqrt, sub, unsqueeze,
} from '../ops/index.ts';
import { createParam, type LayerCtx } from './context.ts';
import { linear } from './dense.ts';

/**
 * Per-channel normalisation to zero mean and unit variance. Training: batch statistics over
 * N,H,W, and the running statistics' updates go to ctx.statUpdates. Inference: running statistics.
 * Training mode is built from primitives because the WebGPU provider has no training-mode
 * BatchNormalization, and so the gradient comes from the primitives' rules.
 */
export function normalize(ctx: LayerCtx, x: Value): Value {
  const C = x.shape[1] as number;
  const runMean = createParam(ctx, 'running_mean', [C], { kind: 'zeros' }, 'statistic');
  const runVar = createParam(ctx, 'running_var', [C], { kind: 'ones' }, 'statistic');
  if (!ctx.training) {
    return bnOp(x, constF32(new Array(C).fill(1), undefined, 'scale'), constF32(new Array(C).fill(0), undefined, 'bias'), runMean, runVar, ctx.bnEps);
  }
  const mean = reduceMean(x, [0, 2, 3]);
  const centred = sub(x, mean);
  const variance = reduceMean(mul(centred, centred), [0, 2, 3]);
  const xhat = mul(centred, reciprocal(sqrt(add(variance, constF32(ctx.bnEps, undefined, 'eps')))));

  // Running variance is unbiased (as PyTorch keeps it): var · n / (n − 1), n = N·H·W at run time.
  const batch = cast(gather(shapeOf(x), constI64([0], [])), 'float32');
  const n = mul(batch, constF32((x.shape[2] as number) * (x.shape[3] as number)));
  const unbiased = mul(reshape(variance, [C]), div1(n, sub(n, constF32(1))));
  const m = constF32(ctx.bnMomentum, undefined, 'momentum');
  const keep = constF32(1 - ctx.bnMomentum, undefined, 'keep');
  ctx.statUpdates.set(runMean, add(mul(runMean, keep), mul(reshape(mean, [C]), m)));
  ctx.statUpdates.set(runVar, add(mul(runVar, keep), mul(unbiased, m)));
  return xhat;
}

const div1 = (a: Value, b: Value) => mul(a, reciprocal(b));

/** Plain batch norm with learned per-channel scale and shift. */
export function batchNorm(ctx: LayerCtx, x: Value): Value {
  const C = x.shape[1] as number;
  const gamma = createParam(ctx, 'gamma', [C], { kind: 'ones' });
  const beta = createParam(ctx, 'beta', [C], { kind: 'zeros' });
  const perChannel = (v: Value) => reshape(v, [1, C, 1, 1]);
  return add(mul(normalize(ctx, x), perChannel(gamma)), perChannel(beta));
}

/** A 2-layer MLP predicting per-sample deltas; the last layer starts at zero so CBN starts as BN. */
function delta(ctx: LayerCtx, name: string, aux: Value, hidden: number, C: number): Value {
  return linear(ctx, `${name}.fc2`, relu(linear(ctx, `${name}.fc1`, aux, hidden)), C, { zeroInit: true });
}

/** y = BN(x) · (γ + Δγ(aux)) + (β + Δβ(aux)), per sample and channel. */
export function conditionalBatchNorm(ctx: LayerCtx, x: Value, aux: Value, hidden: number): Value {
  const C = x.shape[1] as number;
  const xhat = normalize(ctx, x);
  const gamma = createParam(ctx, 'gamma', [C], { kind: 'ones' });
  const beta = createParam(ctx, 'beta', [C], { kind: 'zeros' });
  const scale = add(gamma, delta(ctx, 'dgamma', aux, hidden, C)); // [N, C]
  const shift = add(beta, delta(ctx, 'dbeta', aux, hidden, C));
  const spatial = (v: Value) => unsqueeze(v, [2, 3]); // [N, C, 1, 1]
  return add(mul(xhat, spatial(scale)), spatial(shift));
}
