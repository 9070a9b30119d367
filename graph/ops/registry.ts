// One table of op rules. Each op is declared once, in the module of its family, with its
// attribute types, its shape rule and (for differentiable ops) its gradient rule side by side.
import type { DType } from '../dtype.ts';
import { Node, Value, type Attrs, type Shape } from '../ir.ts';
import { ShapeError } from '../shape.ts';

export type AttrType = 'int' | 'ints' | 'float' | 'floats' | 'string' | 'tensor';

export interface InferCtx {
  inputs: (Value | null)[];
  attrs: Attrs;
  /** Throws a ShapeError naming the op, its scope and every input shape. */
  fail(message: string): never;
  /** The i-th input, or a failure naming it as required. */
  in(i: number): Value;
}

/** Gradient rule: given the node and the gradients of its outputs, the gradients of its inputs. */
export interface GradCtx {
  node: Node;
  x: (Value | null)[];
  y: Value[];
  /** Gradient flowing into each output (null where nothing depends on it). */
  dy: (Value | null)[];
  /** Whether input i needs a gradient, so rules can skip work (e.g. dW of a frozen conv). */
  wants(i: number): boolean;
  /** Execution provider the gradient graph is lowered for, where providers differ. */
  ep: 'cpu' | 'webgpu' | 'cuda';
}
export type GradRule = (g: GradCtx) => (Value | null)[];

export interface OpRule {
  attrTypes?: Record<string, AttrType>;
  infer(ctx: InferCtx): { dtype: DType; shape: Shape }[];
  grad?: GradRule;
  /** Ops whose outputs carry no gradient (shapes, masks, integer indices). */
  nondifferentiable?: boolean;
}

export const OPS = new Map<string, OpRule>();

export function defineOp(op: string, rule: OpRule): void {
  if (OPS.has(op)) throw new Error(`op ${op} defined twice`);
  OPS.set(op, rule);
}

export function rule(op: string): OpRule {
  const r = OPS.get(op);
  if (!r) throw new Error(`no rule for op ${op}`);
  return r;
}

const scopes: string[] = [];

/** Runs `fn` with every node it creates tagged by `name` (nested scopes join with "/"). */
export function scoped<T>(name: string, fn: () => T): T {
  scopes.push(name);
  try {
    return fn();
  } finally {
    scopes.pop();
  }
}

export function currentScope(): string {
  return scopes.join('/');
}

/** Creates a node after checking its inputs with the op's shape rule. */
export function apply(op: string, inputs: (Value | null)[], attrs: Attrs = {}): Value[] {
  const r = rule(op);
  const scope = currentScope();
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) delete attrs[k];
    else if (!r.attrTypes?.[k]) throw new Error(`${op}: unknown attribute ${k}`);
  }
  const ctx: InferCtx = {
    inputs,
    attrs,
    fail: (message) => {
      throw new ShapeError(op, scope, message, inputs);
    },
    in: (i) => inputs[i] ?? ctx.fail(`input ${i} is required`),
  };
  const types = r.infer(ctx);
  const node = new Node(op, inputs, attrs, scope);
  types.forEach((t, i) => {
    const v = new Value('node', t.dtype, t.shape, undefined, node);
    v.index = i;
    node.outputs.push(v);
  });
  return node.outputs;
}

export const apply1 = (op: string, inputs: (Value | null)[], attrs: Attrs = {}) => apply(op, inputs, attrs)[0];
