// One table of op rules. Each op is declared once, in the module of its family, with its
// attribute types, its shape rule and (for differentiable ops) its gradient rule side by side.
// The table is filled when the families are imported and read-only after that; a graph that needs
// another gradient rule (a test's deliberately wrong one) gets it from its builder (builder.ts).
import type { DType } from './dtype.ts';
import type { Attrs, Node, Shape, Value } from './ir.ts';

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
  /** Most floats one sample's unfolded copy of a conv input may hold (the conv dW rule, ops/nn.ts). */
  unfoldFloats: number;
}
export type GradRule = (g: GradCtx) => (Value | null)[];

export interface OpRule {
  attrTypes?: Record<string, AttrType>;
  infer(ctx: InferCtx): { dtype: DType; shape: Shape }[];
  grad?: GradRule;
  /** Ops whose outputs carry no gradient (shapes, masks, integer indices). */
  nondifferentiable?: boolean;
}

const RULES = new Map<string, Readonly<OpRule>>();

export function defineOp(op: string, rule: OpRule): void {
  if (RULES.has(op)) throw new Error(`op ${op} defined twice`);
  RULES.set(op, Object.freeze({ ...rule }));
}

export function rule(op: string): Readonly<OpRule> {
  const r = RULES.get(op);
  if (!r) throw new Error(`no rule for op ${op}`);
  return r;
}
