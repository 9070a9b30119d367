// ONNX serialisation: deterministic names, explicit IR version and opset, and
// reading a model back (for pretrained import and round-trip checks).
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { DTYPE_OF_ONNX, ONNX_DTYPE, type DType, type TensorData } from './dtype.ts';
import { leaves, topoSort, type Node, type Value } from './ir.ts';
import { rule } from './registry.ts';

const { onnx } = onnxProto;

/** ONNX Runtime 1.30 reads IR ≤ 13; the Debian ONNX checker (1.12) reads IR ≤ 8 and opset ≤ 17. */
export const IR_VERSION = 8;
export const OPSET = 17;

export interface GraphSpec {
  name: string;
  /** Runtime inputs, in order. */
  inputs: Value[];
  /** Named graph outputs, in order. */
  outputs: Value[];
  /** Training graphs feed parameters as inputs (an InferenceSession cannot change initializers). */
  paramsAsInputs?: boolean;
  /** Order of parameter inputs when `paramsAsInputs`; defaults to first use. */
  paramOrder?: Value[];
  docString?: string;
}

function typeProto(dtype: DType, shape: (number | string)[]) {
  return {
    tensorType: {
      elemType: ONNX_DTYPE[dtype],
      shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
    },
  };
}

function tensorProto(name: string, dtype: DType, dims: number[], data: TensorData) {
  return {
    name,
    dataType: ONNX_DTYPE[dtype],
    dims,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

function attrProto(op: string, name: string, value: unknown) {
  const type = rule(op).attrTypes?.[name];
  const A = onnx.AttributeProto.AttributeType;
  switch (type) {
    case 'int':
      return { name, type: A.INT, i: value as number };
    case 'ints':
      return { name, type: A.INTS, ints: value as number[] };
    case 'float':
      return { name, type: A.FLOAT, f: value as number };
    case 'floats':
      return { name, type: A.FLOATS, floats: value as number[] };
    case 'string':
      return { name, type: A.STRING, s: new TextEncoder().encode(value as string) };
    default:
      throw new Error(`${op}: attribute ${name} has no declared type`);
  }
}

export function toModelProto(spec: GraphSpec) {
  const nodes = topoSort(spec.outputs);
  const names = new Map<Value, string>();
  const taken = new Map<string, Value>();
  const claim = (v: Value, name: string) => {
    const other = taken.get(name);
    if (other && other !== v) throw new Error(`${spec.name}: two values are named "${name}"`);
    taken.set(name, v);
    names.set(v, name);
  };
  for (const v of [...spec.inputs, ...spec.outputs]) {
    if (!v.name) throw new Error(`${spec.name}: graph inputs and outputs need names`);
    claim(v, v.name);
  }
  const all = leaves(spec.outputs);
  for (const v of all) {
    if (v.kind === 'input' && !spec.inputs.includes(v)) throw new Error(`${spec.name}: input "${v.name}" is used but not declared`);
    if (v.kind === 'param') claim(v, v.name!);
  }
  // A constant is named after what it is (ir.ts constantName) in the scope of its first use;
  // a second constant of the same name in that scope gets "#2", and so on, in order of first use.
  const firstUse = new Map<Value, string>();
  for (const n of nodes) for (const v of n.inputs) if (v?.kind === 'const' && !firstUse.has(v)) firstUse.set(v, n.scope);
  for (const v of all) {
    if (v.kind !== 'const') continue;
    const scope = firstUse.get(v);
    const name = scope ? `${scope}/${v.name}` : v.name!;
    let unique = name;
    for (let k = 2; taken.has(unique); k++) unique = `${name}#${k}`;
    claim(v, unique);
  }

  const used = new Set<Value>(spec.outputs);
  for (const n of nodes) for (const v of n.inputs) if (v) used.add(v);

  const nodeProtos = nodes.map((n: Node, i) => {
    const base = `${n.scope ? `${n.scope}/` : ''}${n.op}_${i}`;
    n.outputs.forEach((v, k) => {
      if (used.has(v) && !names.has(v)) claim(v, v.name ?? (k === 0 ? base : `${base}:${k}`));
    });
    const outputs = n.outputs.map((v) => (used.has(v) ? names.get(v)! : ''));
    while (outputs.length && outputs[outputs.length - 1] === '') outputs.pop();
    const inputs = n.inputs.map((v) => (v ? names.get(v)! : ''));
    while (inputs.length && inputs[inputs.length - 1] === '') inputs.pop();
    return {
      name: base,
      opType: n.op,
      input: inputs,
      output: outputs,
      attribute: Object.entries(n.attrs).map(([k, v]) => attrProto(n.op, k, v)),
    };
  });

  const params = all.filter((v) => v.kind === 'param');
  const paramInputs = spec.paramsAsInputs ? (spec.paramOrder ?? params) : [];
  const initializers = all.filter((v) => v.kind === 'const' || (v.kind === 'param' && !spec.paramsAsInputs));
  return onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'm2fn',
    producerVersion: '0.1.0',
    docString: spec.docString ?? '',
    graph: {
      name: spec.name,
      node: nodeProtos,
      input: [...spec.inputs, ...paramInputs].map((v) => ({ name: names.get(v) ?? v.name!, type: typeProto(v.dtype, v.shape) })),
      output: spec.outputs.map((v) => ({ name: names.get(v)!, type: typeProto(v.dtype, v.shape) })),
      initializer: initializers.map((v) => tensorProto(names.get(v)!, v.dtype, v.shape as number[], v.data!)),
    },
  });
}

export function serialize(spec: GraphSpec): Uint8Array {
  return onnx.ModelProto.encode(toModelProto(spec)).finish();
}

export interface LoadedTensor {
  name: string;
  dtype: DType;
  dims: number[];
  data: TensorData;
}

export interface LoadedModel {
  irVersion: number;
  opset: number;
  inputs: { name: string; shape: (number | string)[] }[];
  outputs: { name: string; shape: (number | string)[] }[];
  nodes: { op: string; name: string; inputs: string[]; outputs: string[] }[];
  initializers: Map<string, LoadedTensor>;
}

function copyTyped(dtype: DType, bytes: Uint8Array): TensorData {
  const buf = Uint8Array.from(bytes).buffer; // a copy: decoded bytes may be a view into a pooled Buffer
  return dtype === 'float32' ? new Float32Array(buf) : dtype === 'int64' ? new BigInt64Array(buf) : dtype === 'int32' ? new Int32Array(buf) : new Uint8Array(buf);
}

/** Reads an .onnx file; a truncated or foreign file gives an error naming it. */
export function readOnnx(path: string): LoadedModel {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read model file (${(e as Error).message})`);
  }
  let m: ReturnType<typeof onnx.ModelProto.decode>;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`${path}: not a valid ONNX model — truncated or corrupt (${bytes.length} bytes; ${(e as Error).message})`);
  }
  if (!m.graph) throw new Error(`${path}: ONNX file has no graph`);
  // The generated types mark every repeated field optional; decoded messages always have them.
  const g = m.graph as any;
  const dims = (t: any) => (t?.tensorType?.shape?.dim ?? []).map((d: any) => (d.dimParam ? d.dimParam : Number(d.dimValue)));
  const initializers = new Map<string, LoadedTensor>();
  for (const t of g.initializer) {
    const dtype = DTYPE_OF_ONNX[t.dataType];
    if (!dtype) throw new Error(`${path}: initializer ${t.name} has unsupported data type ${t.dataType}`);
    let data: TensorData;
    if (t.rawData?.length) data = copyTyped(dtype, t.rawData);
    else if (dtype === 'float32') data = Float32Array.from(t.floatData);
    else if (dtype === 'int64') data = BigInt64Array.from(t.int64Data as unknown[], (v) => BigInt(String(v)));
    else data = Int32Array.from(t.int32Data);
    initializers.set(t.name, { name: t.name, dtype, dims: t.dims.map(Number), data });
  }
  const init = new Set(initializers.keys());
  return {
    irVersion: Number(m.irVersion),
    opset: Number((m.opsetImport as any[]).find((o) => !o.domain)?.version ?? 0),
    inputs: g.input.filter((i: any) => !init.has(i.name)).map((i: any) => ({ name: i.name, shape: dims(i.type) })),
    outputs: g.output.map((o: any) => ({ name: o.name, shape: dims(o.type) })),
    nodes: g.node.map((n: any) => ({ op: n.opType, name: n.name, inputs: [...n.input], outputs: [...n.output] })),
    initializers,
  };
}
