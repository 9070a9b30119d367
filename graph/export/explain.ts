// The explain graph: why a model scores an image as it does, in one ONNX graph that runs wherever
// the inference graph runs (Node, browser). Beside the model's output it returns the spatial
// attention weights and a Grad-CAM map (Selvaraju et al., 2017) for every VGG stage, whose
// gradients come from our own reverse-mode autodiff (autodiff.ts) inside the same graph.
//
// For stage b with feature map A [N, C, H, W] (the block's last activation before its pool) and
// the image's score y_n:
//
//   α_nk   = (1 / HW) Σ_ij ∂y_n / ∂A_nkij          one weight per channel: the mean gradient
//   cam_n  = ReLU(Σ_k α_nk A_nk)                   [H, W]: where raising the features raises y
//
// y_n is the regression output (a CTR, after the sigmoid of a logit link) or a distribution's
// mean Σ_k p_nk v_k over its bucket values. At inference every sample is independent (batch norm
// uses running statistics), so ∂(Σ_n y_n)/∂A_n = ∂y_n/∂A_n: one gradient of the batch sum gives
// every image's maps.
import { gradients } from '../autodiff/gradients.ts';
import { constF32, type Value } from '../core/ir.ts';
import type { BuiltModel } from '../models/m2fn.ts';
import { matmul, mul, reduceMean, reduceSum, relu, scoped } from '../ops/index.ts';
import { inferenceOutputs, modelCard, writeModel, type CardExtras, type Written } from './inference.ts';
import type { ExplainSpec } from '../../runtime/card.ts';
import type { GraphSpec } from '../core/serialize.ts';

export const gradcamName = (stage: number) => `gradcam${stage}`;

export interface ExplainGraph {
  spec: GraphSpec;
  /** The score y [N] the maps explain. */
  score: Value;
  /** Per stage: the feature map A, the channel weights α [N, C, 1, 1] and the map [N, H, W]. */
  stages: { features: Value; weights: Value; cam: Value }[];
}

/** Distribution outputs: the value each bucket stands for (default 1..10). */
export function explainGraph(m: BuiltModel, opts: { bucketValues?: number[] } = {}): ExplainGraph {
  const cfg = m.config;
  if (m.ctx.training) throw new Error('explain graph: build the model in inference mode (running batch-norm statistics)');
  const score = scoped('explain', () => {
    if (cfg.output === 'regression') return reduceSum(m.output, [1], false);
    const values = opts.bucketValues ?? Array.from({ length: 10 }, (_, k) => k + 1);
    return reduceSum(matmul(m.output, constF32(values, [values.length, 1])), [1], false);
  });
  const total = reduceSum(score, [0], false);
  const grads = gradients(total, m.stages);
  const stages = m.stages.map((features, b) =>
    scoped(`explain/stage${b + 1}`, () => {
      const weights = reduceMean(grads.get(features)!, [2, 3]);
      const cam = relu(reduceSum(mul(weights, features), [1], false)).named(gradcamName(b + 1));
      return { features, weights, cam };
    }),
  );
  const outputs = [...inferenceOutputs(m, { attention: true }), ...stages.map((s) => s.cam)];
  return { spec: { name: `${cfg.model}_explain`, inputs: m.aux ? [m.image, m.aux] : [m.image], outputs }, score, stages };
}

/** What the runtime needs to read the explain graph's extra outputs (recorded in its card). */
export function explainSpec(m: BuiltModel): ExplainSpec {
  const grid = m.attention ? Math.round(Math.sqrt(m.attention.shape[1] as number)) : null;
  return {
    attention: m.attention ? { name: 'attention', height: grid!, width: grid! } : null,
    gradcam: m.stages.map((s, b) => ({ stage: b + 1, name: gradcamName(b + 1), height: s.shape[2] as number, width: s.shape[3] as number })),
  };
}

/** `DIR/explain.onnx` + `DIR/explain.card.json`: the inference card plus the `explain` section. */
export function writeExplain(dir: string, m: BuiltModel, extras: CardExtras = {}): Promise<Written> {
  const { spec } = explainGraph(m, { bucketValues: extras.bucketValues });
  return writeModel(dir, 'explain', spec, (bytes) => ({ ...modelCard(m, bytes, extras), explain: explainSpec(m) }));
}
