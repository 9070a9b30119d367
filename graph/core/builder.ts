// The graph under construction: its scope stack and any gradient rules it overrides. Op builders
// (add, conv, …) reach it through `activeBuilder()` so that model code stays `add(a, b)` rather
// than threading a builder through every call. `active` below is the only builder state outside
// a GraphBuilder: it is set for the duration of build() and restored after, so two graphs built
// one after the other share nothing.
import { Node, Value, type Attrs } from './ir.ts';
import { ShapeError } from './shape.ts';
import { rule, type GradRule, type InferCtx } from './registry.ts';

export interface BuilderOptions {
  /** Gradient rules used instead of the registered ones, by op (a test's deliberately wrong rule). */
  gradRules?: Record<string, GradRule>;
}

export class GraphBuilder {
  private readonly scopes: string[] = [];
  private readonly gradRules: ReadonlyMap<string, GradRule>;

  constructor(opts: BuilderOptions = {}) {
    this.gradRules = new Map(Object.entries(opts.gradRules ?? {}));
  }

  /** Layer scope of the nodes created now, e.g. "vgg.conv1_1"; nested scopes join with "/". */
  get scope(): string {
    return this.scopes.join('/');
  }

  scoped<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  gradRule(op: string): GradRule | undefined {
    return this.gradRules.get(op) ?? rule(op).grad;
  }

  /** Creates a node after checking its inputs with the op's shape rule; `attrs` is not modified. */
  apply(op: string, inputs: (Value | null)[], attrs: Attrs = {}): Value[] {
    const r = rule(op);
    const scope = this.scope;
    const given: Attrs = {};
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined) continue;
      if (!r.attrTypes?.[k]) throw new Error(`${op}: unknown attribute ${k}`);
      given[k] = v;
    }
    const ctx: InferCtx = {
      inputs,
      attrs: given,
      fail: (message) => {
        throw new ShapeError(op, scope, message, inputs);
      },
      in: (i) => inputs[i] ?? ctx.fail(`input ${i} is required`),
    };
    const types = r.infer(ctx);
    const node = new Node(op, inputs, given, scope);
    types.forEach((t, i) => {
      const v = new Value('node', t.dtype, t.shape, undefined, node);
      v.index = i;
      node.outputs.push(v);
    });
    return node.outputs;
  }
}

let active: GraphBuilder | null = null;

/** Runs `fn` building into `builder` — by default the graph already being built, else a new one. */
export function build<T>(fn: () => T, builder: GraphBuilder = active ?? new GraphBuilder()): T {
  const outer = active;
  active = builder;
  try {
    return fn();
  } finally {
    active = outer;
  }
}

/** The graph being built; outside build(), a fresh builder with no scope and the registered rules. */
export function activeBuilder(): GraphBuilder {
  return active ?? new GraphBuilder();
}

/** Runs `fn` with every node it creates tagged by `name` (nested scopes join with "/"). */
export function scoped<T>(name: string, fn: () => T): T {
  return build(() => active!.scoped(name, fn));
}

export function currentScope(): string {
  return activeBuilder().scope;
}

export const apply = (op: string, inputs: (Value | null)[], attrs: Attrs = {}) => activeBuilder().apply(op, inputs, attrs);
export const apply1 = (op: string, inputs: (Value | null)[], attrs: Attrs = {}) => apply(op, inputs, attrs)[0];
