// Optimizer updates as ONNX subgraphs: AdamW and SGD with momentum, decoupled weight decay on
// weight matrices and kernels (not on biases or norm scales), gradient clipping by global norm.
import { constF32, input, type Value } from '../core/ir.ts';
import { add, div, min, mul, pow, reduceSum, sqrt, sub } from '../ops/index.ts';

export type OptimizerKind = 'adamw' | 'sgd';

export interface OptimizerConfig {
  kind: OptimizerKind;
  weightDecay: number;
  /** 0 disables clipping. */
  clipNorm: number;
  beta1: number;
  beta2: number;
  eps: number;
  momentum: number;
}

export const DEFAULT_OPTIMIZER: OptimizerConfig = { kind: 'adamw', weightDecay: 0.01, clipNorm: 1, beta1: 0.9, beta2: 0.999, eps: 1e-8, momentum: 0.9 };

/** Names of the optimizer state tensors of one parameter. */
export function stateNames(kind: OptimizerKind, param: string): string[] {
  return kind === 'adamw' ? [`${param}.adam_m`, `${param}.adam_v`] : [`${param}.momentum`];
}

export interface OptimizerGraph {
  /** lr and step (1-based, as float) scalars, fed each step. */
  lr: Value;
  step: Value;
  states: Value[];
  /** param → updated param; state → updated state. */
  updates: Map<Value, Value>;
}

/** Weight decay applies to weight matrices and kernels, not to biases or norm scales. */
export const decaysShape = (shape: readonly (number | string)[]) => shape.length >= 2;
const decays = (p: Value) => decaysShape(p.shape);

/** min(1, clipNorm / (‖g‖₂ + 1e-6)), ‖g‖₂ over every gradient together: the factor clipping applies. */
export function clipScale(clipNorm: number, grads: Value[]): Value {
  const sq = grads.map((g) => reduceSum(mul(g, g), g.shape.map((_, i) => i), false));
  const norm = sqrt(sq.reduce((a, b) => add(a, b)));
  return min(constF32(1), div(constF32(clipNorm), add(norm, constF32(1e-6))));
}

/** The scalars every update of one step shares, computed once per step. */
function stepScalars(cfg: OptimizerConfig, lr: Value, step: Value) {
  const c = constF32;
  return {
    lr,
    lrDecay: mul(lr, c(cfg.weightDecay)),
    adamStep: cfg.kind === 'adamw' ? div(lr, sub(c(1), pow(c(cfg.beta1), step))) : null,
    adamVHat: cfg.kind === 'adamw' ? div(c(1), sub(c(1), pow(c(cfg.beta2), step))) : null,
  };
}

/**
 * One tensor's update from its (clipped) gradient `g`: the new value and each state → its new
 * value. `decay` says whether weight decay applies: fixed by the parameter's rank, or a 0/1 scalar
 * input where one graph serves every parameter (`sliceOptimizer`).
 */
function updateTensor(cfg: OptimizerConfig, s: ReturnType<typeof stepScalars>, p: Value, g: Value, decay: boolean | Value) {
  const c = constF32;
  const [name, shape] = [p.name!, p.shape];
  const decayed = cfg.weightDecay <= 0 || decay === false ? p : sub(p, mul(p, decay === true ? s.lrDecay : mul(s.lrDecay, decay)));
  if (cfg.kind === 'adamw') {
    const [m, v] = stateNames('adamw', name).map((n) => input(n, 'float32', shape));
    const m2 = add(mul(m, c(cfg.beta1)), mul(g, c(1 - cfg.beta1)));
    const v2 = add(mul(v, c(cfg.beta2)), mul(mul(g, g), c(1 - cfg.beta2)));
    const stepDir = div(m2, add(sqrt(mul(v2, s.adamVHat!)), c(cfg.eps)));
    return { updated: sub(decayed, mul(stepDir, s.adamStep!)), states: new Map([[m, m2], [v, v2]]) };
  }
  const buf = input(stateNames('sgd', name)[0], 'float32', shape);
  const buf2 = add(mul(buf, c(cfg.momentum)), g);
  return { updated: sub(decayed, mul(buf2, s.lr)), states: new Map([[buf, buf2]]) };
}

export function buildOptimizer(cfg: OptimizerConfig, params: Value[], grads: Map<Value, Value>): OptimizerGraph {
  const lr = input('lr', 'float32', []);
  const step = input('step', 'float32', []);
  const updates = new Map<Value, Value>();
  const states: Value[] = [];
  const scale = cfg.clipNorm > 0 ? clipScale(cfg.clipNorm, params.map((p) => grads.get(p)!)) : null;
  const scalars = stepScalars(cfg, lr, step);
  for (const p of params) {
    const g = scale ? mul(grads.get(p)!, scale) : grads.get(p)!;
    const u = updateTensor(cfg, scalars, p, g, decays(p));
    updates.set(p, u.updated);
    for (const [state, updated] of u.states) {
      updates.set(state, updated);
      states.push(state);
    }
  }
  return { lr, step, states, updates };
}

/** The clip scale's name where one graph computes it and another applies it. */
export const GRAD_SCALE = 'grad_scale';

export interface SliceOptimizerGraph extends OptimizerGraph {
  /** The step's clip scale (`clipScale` over every gradient, from the training graph; 1 without clipping). */
  scale: Value;
  /** 1 where the parameter decays (`decaysShape`), else 0. */
  decay: Value;
}

/**
 * The update of `buildOptimizer` for a flat run `p` ([n]) of any one parameter's elements, with
 * its gradient `g`, the clip scale and the decay flag as inputs. Run slice by slice, each result
 * copied back over its inputs, it lets parameters and optimizer state be held once instead of
 * in and out of one fused run (tools/train/engine.ts). The same ops in the same order as
 * `buildOptimizer`, so both give the same values.
 */
export function sliceOptimizer(cfg: OptimizerConfig, p: Value, g: Value): SliceOptimizerGraph {
  const lr = input('lr', 'float32', []);
  const step = input('step', 'float32', []);
  const scale = input(GRAD_SCALE, 'float32', []);
  const decay = input('decay', 'float32', []);
  const u = updateTensor(cfg, stepScalars(cfg, lr, step), p, mul(g, scale), decay);
  return { lr, step, scale, decay, states: [...u.states.keys()], updates: new Map([[p, u.updated], ...u.states]) };
}
