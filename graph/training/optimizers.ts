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

const decays = (p: Value) => p.rank >= 2;

export function buildOptimizer(cfg: OptimizerConfig, params: Value[], grads: Map<Value, Value>): OptimizerGraph {
  const lr = input('lr', 'float32', []);
  const step = input('step', 'float32', []);
  const updates = new Map<Value, Value>();
  const states: Value[] = [];

  let scale: Value | null = null;
  if (cfg.clipNorm > 0) {
    const sq = params.map((p) => reduceSum(mul(grads.get(p)!, grads.get(p)!), p.shape.map((_, i) => i), false));
    const norm = sqrt(sq.reduce((a, b) => add(a, b)));
    scale = min(constF32(1), div(constF32(cfg.clipNorm), add(norm, constF32(1e-6))));
  }
  const c = constF32;
  // Scalars shared by every parameter, computed once per step.
  const lrDecay = mul(lr, c(cfg.weightDecay));
  const adamStep = cfg.kind === 'adamw' ? div(lr, sub(c(1), pow(c(cfg.beta1), step))) : null;
  const adamVHat = cfg.kind === 'adamw' ? div(c(1), sub(c(1), pow(c(cfg.beta2), step))) : null;

  for (const p of params) {
    const g = scale ? mul(grads.get(p)!, scale) : grads.get(p)!;
    const shape = p.shape as number[];
    const decayed = cfg.weightDecay > 0 && decays(p) ? sub(p, mul(p, lrDecay)) : p;
    if (cfg.kind === 'adamw') {
      const [mName, vName] = stateNames('adamw', p.name!);
      const m = input(mName, 'float32', shape);
      const v = input(vName, 'float32', shape);
      const m2 = add(mul(m, c(cfg.beta1)), mul(g, c(1 - cfg.beta1)));
      const v2 = add(mul(v, c(cfg.beta2)), mul(mul(g, g), c(1 - cfg.beta2)));
      const stepDir = div(m2, add(sqrt(mul(v2, adamVHat!)), c(cfg.eps)));
      updates.set(p, sub(decayed, mul(stepDir, adamStep!)));
      updates.set(m, m2);
      updates.set(v, v2);
      states.push(m, v);
    } else {
      const buf = input(stateNames('sgd', p.name!)[0], 'float32', shape);
      const buf2 = add(mul(buf, c(cfg.momentum)), g);
      updates.set(p, sub(decayed, mul(buf2, lr)));
      updates.set(buf, buf2);
      states.push(buf);
    }
  }
  return { lr, step, states, updates };
}
