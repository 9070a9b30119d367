// The graph IR. Edges are object identity: a Value knows the Node that produced it, and a graph
// is whatever is reachable from its outputs. Names matter only when serialising.
import type { DType, TensorData } from './dtype.ts';

/** A dimension: a number, or a symbol such as "N" for the batch. */
export type Dim = number | string;
export type Shape = Dim[];

export type AttrValue = number | number[] | string | Value;
export type Attrs = Record<string, AttrValue | undefined>;

export type ValueKind =
  | 'input' // fed at run time
  | 'param' // trainable or statistic tensor: an initializer in inference graphs, an input in training graphs
  | 'const' // fixed constant, always an initializer
  | 'node'; // produced by a node

export class Value {
  /** Output index within the producer's outputs. */
  index = 0;
  constructor(
    readonly kind: ValueKind,
    readonly dtype: DType,
    readonly shape: Shape,
    public name: string | undefined,
    readonly producer: Node | null = null,
    public data: TensorData | null = null,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  /** Number of elements, when every dimension is static. */
  get size(): number {
    return this.shape.reduce<number>((n, d) => (typeof d === 'number' ? n * d : NaN), 1);
  }

  /** Gives a node output the name it carries in the serialised graph (inputs and params are named at creation). */
  named(name: string): this {
    this.name = name;
    return this;
  }
}

export class Node {
  readonly outputs: Value[] = [];
  constructor(
    readonly op: string,
    readonly inputs: (Value | null)[],
    readonly attrs: Attrs,
    /** Layer scope at creation, e.g. "vgg.conv1_1"; prefixes the node's serialised name. */
    readonly scope: string,
  ) {}
}

export function input(name: string, dtype: DType, shape: Shape): Value {
  return new Value('input', dtype, shape, name);
}

export function param(name: string, shape: number[], data: Float32Array): Value {
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) throw new Error(`param ${name}: ${data.length} values for shape [${shape}] (${size})`);
  return new Value('param', 'float32', shape, name, null, data);
}

const SHORT: Record<DType, string> = { float32: 'f32', int64: 'i64', int32: 'i32', bool: 'bool' };
/** Constants with at most this many elements are named by their values, larger ones by their dims. */
const NAMED_BY_VALUE = 8;

/** The shortest decimal that reads back as the same float32 (0.1, not 0.10000000149). */
function shortFloat(v: number): string {
  for (let p = 1; p < 9; p++) if (Math.fround(Number(v.toPrecision(p))) === v) return String(Number(v.toPrecision(p)));
  return String(v);
}

/**
 * What a constant is: its role when given (`axes`, `shape`, `pick`) or else its dtype, then its
 * values when small (`i64_[0,2,3]`, `f32_0.5`, `axes_[2,3]`) or its dims when not (`f32_10x10`).
 * The serialiser prefixes the scope of its first use and makes the names unique within a graph.
 */
export function constantName(dtype: DType, shape: number[], data: TensorData, role?: string): string {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n > NAMED_BY_VALUE) return role ?? `${SHORT[dtype]}_${shape.join('x')}`;
  const values = Array.from(data as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? String(v) : dtype === 'float32' ? shortFloat(v) : String(v)));
  return `${role ?? SHORT[dtype]}_${shape.length ? `[${values.join(',')}]` : values[0]}`;
}

export function constant(dtype: DType, shape: number[], data: TensorData, role?: string): Value {
  return new Value('const', dtype, shape, constantName(dtype, shape, data, role), null, data);
}

export function constI64(values: number[], shape: number[] = [values.length], role?: string): Value {
  return constant('int64', shape, BigInt64Array.from(values, (v) => BigInt(v)), role);
}

export function constF32(values: number[] | number, shape?: number[], role?: string): Value {
  const arr = typeof values === 'number' ? [values] : values;
  return constant('float32', shape ?? (typeof values === 'number' ? [] : [arr.length]), Float32Array.from(arr), role);
}

/** Nodes reachable from `outputs`, producers before consumers, in a deterministic order. */
export function topoSort(outputs: Value[]): Node[] {
  const order: Node[] = [];
  const state = new Map<Node, 'visiting' | 'done'>();
  // Iterative DFS: deep VGG training graphs would overflow a recursive one.
  for (const out of outputs) {
    if (!out.producer) continue;
    const stack: [Node, number][] = [[out.producer, 0]];
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [node, i] = top;
      if (i === 0) {
        if (state.get(node) === 'done') {
          stack.pop();
          continue;
        }
        state.set(node, 'visiting');
      }
      if (i < node.inputs.length) {
        top[1]++;
        const p = node.inputs[i]?.producer;
        if (p && state.get(p) !== 'done') {
          if (state.get(p) === 'visiting') throw new Error(`graph has a cycle through ${p.op}`);
          stack.push([p, 0]);
        }
      } else {
        state.set(node, 'done');
        order.push(node);
        stack.pop();
      }
    }
  }
  return order;
}

/** Leaves (inputs, params, consts) reachable from `outputs`, in first-use order. */
export function leaves(outputs: Value[]): Value[] {
  const seen = new Set<Value>();
  const out: Value[] = [];
  const visit = (v: Value | null) => {
    if (!v || v.producer || seen.has(v)) return;
    seen.add(v);
    out.push(v);
  };
  outputs.forEach(visit);
  for (const node of topoSort(outputs)) node.inputs.forEach(visit);
  return out;
}
