// Finite-difference checking of emitted gradient graphs, run by ONNX Runtime.
import * as ort from 'onnxruntime-node';
import { gradients } from '../../graph/autodiff/gradients.ts';
import { constant, input, type Value } from '../../graph/core/ir.ts';
import { build, GraphBuilder, mul, reduceSum } from '../../graph/ops/index.ts';
import type { GradCtx, GradRule } from '../../graph/core/registry.ts';
import { serialize } from '../../graph/core/serialize.ts';
import { randomArray } from './helpers.ts';

export interface GradCase {
  shapes: number[][];
  build: (xs: Value[]) => Value;
  /** Values for each input (default uniform ±1, kept away from 0 to stay off kinks). */
  init?: (i: number, n: number) => Float32Array;
  /** Run-time shape when an input shape has the symbolic "N". */
  feedShapes?: number[][];
  ep?: GradCtx['ep'];
  /** GradOptions.unfoldFloats (small values make the conv dW rule chunk small inputs). */
  unfoldFloats?: number;
  /** Gradient rules the graph is built with instead of the registered ones. */
  gradRules?: Record<string, GradRule>;
}

export const awayFromZero = (seed: number) => (i: number, n: number) =>
  randomArray(n, seed + i).map((v) => (v >= 0 ? 0.2 + v : -0.2 + v));

/**
 * Max over elements of |analytic − central difference|, relative to max |central difference|.
 * The loss is Σ y ⊙ R with a fixed random R, so every output element carries gradient.
 */
export async function gradError(c: GradCase, seed = 1, eps = 1e-2): Promise<number> {
  const xs = c.shapes.map((s, i) => input(`x${i}`, 'float32', s.map((d) => (d < 0 ? 'N' : d))));
  const { loss, outs } = build(() => {
    const y = c.build(xs);
    const yShape = y.shape.map((d) => (typeof d === 'number' ? d : 1)); // R broadcasts over symbolic dims
    const R = constant('float32', yShape, randomArray(yShape.reduce((a, b) => a * b, 1), seed + 99));
    const loss = reduceSum(mul(y, R), y.shape.map((_, i) => i), false).named('loss');
    const grads = gradients(loss, xs, { ep: c.ep, unfoldFloats: c.unfoldFloats });
    return { loss, outs: xs.map((x, i) => grads.get(x)!.named(`g${i}`)) };
  }, new GraphBuilder({ gradRules: c.gradRules }));
  const feedShapes = c.feedShapes ?? c.shapes;
  const session = await ort.InferenceSession.create(serialize({ name: 'grad', inputs: xs, outputs: [loss, ...outs] }));
  const values = feedShapes.map((s, i) => (c.init ?? awayFromZero(seed))(i, s.reduce((a, b) => a * b, 1)));
  const feeds = () => Object.fromEntries(values.map((v, i) => [`x${i}`, new ort.Tensor('float32', v, feedShapes[i])]));
  const out = await session.run(feeds());
  let err = 0;
  let scale = 1e-6;
  for (let i = 0; i < xs.length; i++) {
    const g = out[`g${i}`].data as Float32Array;
    for (let j = 0; j < values[i].length; j++) {
      const x0 = values[i][j];
      values[i][j] = x0 + eps;
      const lp = ((await session.run(feeds())).loss.data as Float32Array)[0];
      values[i][j] = x0 - eps;
      const lm = ((await session.run(feeds())).loss.data as Float32Array)[0];
      values[i][j] = x0;
      const fd = (lp - lm) / (2 * eps);
      err = Math.max(err, Math.abs(fd - g[j]));
      scale = Math.max(scale, Math.abs(fd));
    }
  }
  await session.release();
  return err / scale;
}
