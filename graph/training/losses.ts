// Losses as ONNX subgraphs: impression-weighted MSE (paper eq. 1), plain MSE, KL divergence to a
// 10-bucket target distribution (eq. 2) and NIMA's earth mover's distance.
import { FieldError } from '../../runtime/errors.ts';
import { constant, constF32, input, type Value } from '../core/ir.ts';
import { add, logSoftmax, log, matmul, max, mul, reduceMean, reduceSum, softmax, sqrt, sub } from '../ops/index.ts';

export type LossKind = 'wmse' | 'mse' | 'kld' | 'emd';

export const LOSSES_FOR: Record<'regression' | 'distribution', LossKind[]> = {
  regression: ['wmse', 'mse'],
  distribution: ['kld', 'emd'],
};

/** Paper defaults: impression-weighted MSE for regression, KLD for distributions, EMD for NIMA. */
export function defaultLoss(cfg: { model: string; output: 'regression' | 'distribution' }): LossKind {
  return cfg.model === 'nima' ? 'emd' : cfg.output === 'regression' ? 'wmse' : 'kld';
}

export function checkLoss(kind: LossKind, output: 'regression' | 'distribution'): LossKind {
  if (!LOSSES_FOR[output].includes(kind)) throw new FieldError('loss', `${kind} does not fit a ${output} output (use ${LOSSES_FOR[output].join(' or ')})`);
  return kind;
}

export interface LossGraph {
  loss: Value;
  /** Batch inputs the loss reads besides the model's: target [N,1] or [N,10], weight [N,1]. */
  inputs: Value[];
}

const mean = (v: Value) => reduceMean(v, v.shape.map((_, i) => i), false);

/** `logits` is the head's output: the CTR for regression, pre-softmax scores for distributions. */
export function buildLoss(kind: LossKind, logits: Value): LossGraph {
  const outputs = logits.shape[1] as number;
  const target = input('target', 'float32', ['N', outputs]);
  switch (kind) {
    case 'mse': {
      const d = sub(logits, target);
      return { loss: mean(mul(d, d)), inputs: [target] };
    }
    case 'wmse': {
      // w = impressions, normalised by the trainer to mean 1 over the training set.
      const weight = input('weight', 'float32', ['N', 1]);
      const d = sub(logits, target);
      return { loss: mean(mul(weight, mul(d, d))), inputs: [target, weight] };
    }
    case 'kld': {
      // Σ p (log p − log q), with 0 · log 0 = 0 (p is clamped inside the log only).
      const logq = logSoftmax(logits, 1);
      const plogp = mul(target, log(max(target, constF32(1e-12))));
      const kl = reduceSum(sub(plogp, mul(target, logq)), [1], false);
      return { loss: mean(kl), inputs: [target] };
    }
    case 'emd': {
      // r = 2: sqrt(mean_k (CDF_q − CDF_p)²) per sample; the CDF is a product with an upper-triangular ones matrix.
      const k = outputs;
      const upper = Float32Array.from({ length: k * k }, (_, idx) => (Math.floor(idx / k) <= idx % k ? 1 : 0));
      const cdfDiff = matmul(sub(softmax(logits, 1), target), constant('float32', [k, k], upper, 'cdf'));
      const perSample = sqrt(add(reduceMean(mul(cdfDiff, cdfDiff), [1], false), constF32(1e-10)));
      return { loss: mean(perSample), inputs: [target] };
    }
  }
}
