// The training artifact set, mirroring ONNX Runtime's on-device training: training_model
// (forward + loss + gradients), eval_model, optimizer_model, and a fused train step that does
// forward, backward and update in one run. Parameters are inputs and come back as outputs.
import { gradients } from '../autodiff/gradients.ts';
import { constF32, input, type Value } from '../core/ir.ts';
import { identity } from '../ops/elementwise.ts';
import { buildModel, type BuiltModel } from '../models/m2fn.ts';
import type { ModelConfig } from '../models/config.ts';
import type { GradCtx } from '../core/registry.ts';
import type { ParamStore } from '../core/params.ts';
import type { GraphSpec } from '../core/serialize.ts';
import { buildLoss, type LossKind } from './losses.ts';
import { buildOptimizer, clipScale, GRAD_SCALE, sliceOptimizer, type OptimizerConfig } from './optimizers.ts';

export interface TrainingSetup {
  config: ModelConfig;
  loss: LossKind;
  optimizer: OptimizerConfig;
  ep: GradCtx['ep'];
  /** Parameters that get no gradient and no update (e.g. a pretrained backbone, for a while). */
  frozen?: (name: string) => boolean;
  /**
   * The batch the graphs will mostly run (their batch axis stays free). It sizes the channel
   * chunks of the conv weight gradients so that one chunk's unfolded copy stays under 2²⁵ floats
   * (128 MB) for the whole batch; without it the chunks are sized per sample (2²² floats).
   */
  batchSize?: number;
}

/** Gradient options of a setup: the conv weight gradients' chunk size from its batch. */
const gradOptions = (s: TrainingSetup) => ({ ep: s.ep, unfoldFloats: s.batchSize ? Math.max(1, Math.floor(2 ** 25 / s.batchSize)) : undefined });

export const gradName = (param: string) => `${param}_grad`;
const NEW = '_new';
export const newName = (tensor: string) => `${tensor}${NEW}`;
/** The tensor an output `<tensor>_new` updates. */
export function updatedTensor(output: string): string {
  if (!output.endsWith(NEW)) throw new Error(`${output} is not an updated tensor (<name>${NEW})`);
  return output.slice(0, -NEW.length);
}

/** A graph built beside another of the same setup takes that one's weight arrays (ParamStore). */
interface Shared {
  paramsFrom?: ParamStore;
}

/** A training-mode model with its loss: the shared front half of the training graphs. */
function forwardWithLoss(s: TrainingSetup, training: boolean, paramsFrom?: ParamStore) {
  const model = buildModel(s.config, { training, paramsFrom });
  const { loss, inputs: lossInputs } = buildLoss(s.loss, model.logits);
  const batch = [model.image, ...(model.aux ? [model.aux] : []), ...model.ctx.dropoutMasks, ...lossInputs];
  const trainable = model.params.trainable.filter((p) => !s.frozen?.(p.name!));
  return { model, loss: loss.named('loss'), batch, trainable };
}

/** Names of every parameter-like input, in the order the graphs take them. */
export function parameterOrder(model: BuiltModel): Value[] {
  return [...model.params.values.values()];
}

/**
 * forward + loss + `<param>_grad` for every trainable parameter + updated running statistics;
 * with `gradScale`, also the step's clip scale `grad_scale` that `sliceOptimizerModel` takes.
 */
export function trainingModel(s: TrainingSetup, o: { gradScale?: boolean } & Shared = {}): GraphSpec & { model: BuiltModel } {
  const { model, loss, batch, trainable } = forwardWithLoss(s, true, o.paramsFrom);
  const grads = gradients(loss, trainable, gradOptions(s));
  const outputs = [loss, ...trainable.map((p) => grads.get(p)!.named(gradName(p.name!)))];
  for (const [stat, updated] of model.ctx.statUpdates) outputs.push(updated.named(newName(stat.name!)));
  if (o.gradScale) {
    const clip = s.optimizer.clipNorm;
    outputs.push((clip > 0 ? clipScale(clip, trainable.map((p) => grads.get(p)!)) : identity(constF32(1))).named(GRAD_SCALE));
  }
  return { name: 'training_model', inputs: batch, outputs, paramsAsInputs: true, paramOrder: parameterOrder(model), model };
}

/** forward with running statistics + loss + prediction, in the units the loss sees (before any sigmoid). */
export function evalModel(s: TrainingSetup, o: Shared = {}): GraphSpec & { model: BuiltModel } {
  const { model, loss, batch } = forwardWithLoss(s, false, o.paramsFrom);
  const prediction = s.config.output === 'distribution' ? model.output.named('dist') : model.logits.named(s.config.link === 'logit' ? 'logit' : 'ctr');
  return { name: 'eval_model', inputs: batch, outputs: [loss, prediction], paramsAsInputs: true, paramOrder: parameterOrder(model), model };
}

/** params, `<param>_grad`, optimizer state, lr, step → `<param>_new`, `<state>_new`. */
export function optimizerModel(s: TrainingSetup, o: Shared = {}): GraphSpec {
  const model = buildModel(s.config, { paramsFrom: o.paramsFrom });
  const params = model.params.trainable.filter((p) => !s.frozen?.(p.name!)).map((p) => input(p.name!, 'float32', p.shape));
  const grads = new Map(params.map((p) => [p, input(gradName(p.name!), 'float32', p.shape)]));
  const opt = buildOptimizer(s.optimizer, params, grads);
  const outputs = [...opt.updates].map(([v, updated]) => updated.named(newName(v.name!)));
  return { name: 'optimizer_model', inputs: [...params, ...grads.values(), ...opt.states, opt.lr, opt.step], outputs };
}

/** The slice optimizer's parameter input: `slice`, `slice_grad`, `slice.adam_m`, … */
export const SLICE = 'slice';

/** One slice of any parameter: `slice`, its gradient and states, lr, step, grad_scale, decay → `<…>_new` (optimizers.ts). */
export function sliceOptimizerModel(s: TrainingSetup): GraphSpec {
  const [p, g] = [SLICE, gradName(SLICE)].map((n) => input(n, 'float32', ['n']));
  const opt = sliceOptimizer(s.optimizer, p, g);
  const outputs = [...opt.updates].map(([v, updated]) => updated.named(newName(v.name!)));
  return { name: 'optimizer_slice', inputs: [p, g, ...opt.states, opt.lr, opt.step, opt.scale, opt.decay], outputs };
}

/** One run: forward, backward, clip, update; returns loss and every updated tensor. */
export function trainStep(s: TrainingSetup, o: Shared = {}): GraphSpec & { model: BuiltModel; states: Value[] } {
  const { model, loss, batch, trainable } = forwardWithLoss(s, true, o.paramsFrom);
  const grads = gradients(loss, trainable, gradOptions(s));
  const opt = buildOptimizer(s.optimizer, trainable, grads);
  const outputs = [loss];
  for (const [v, updated] of [...opt.updates, ...model.ctx.statUpdates]) outputs.push(updated.named(newName(v.name!)));
  return {
    name: 'train_step',
    inputs: [...batch, ...opt.states, opt.lr, opt.step],
    outputs,
    paramsAsInputs: true,
    paramOrder: parameterOrder(model),
    model,
    states: opt.states,
  };
}
