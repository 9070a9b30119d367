// A real (tiny) ONNX model and card for the runtime tests, built with onnx-proto so the tests do
// not depend on graph/. Its function is simple enough to recompute in a test:
//   regression:   ctr[n]  = mean(image[n]) + aux[n] · w
//   distribution: dist[n] = softmax(mean(image[n]) * v + aux[n] · W)        (W: [D, 10])
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import type { ModelCard, Preprocessing } from '../../runtime/card.ts';
import { auxDim, type AuxSchema } from '../../runtime/schema.ts';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const ATTR = onnx.AttributeProto.AttributeType;

/** A small schema touching every attribute kind: 3 + 4 + 1 = 8 aux dims. */
export const TINY_SCHEMA: AuxSchema = {
  name: 'tiny',
  attributes: [
    { name: 'colour', kind: 'categorical', levels: ['red', 'green', 'other'], unknown: 'other' },
    { name: 'title', kind: 'text', dim: 4 },
    { name: 'price', kind: 'numeric', mean: 10, std: 5 },
  ],
};

export const BUCKETS = 10;

export interface TinyModelOptions {
  schema?: AuxSchema | null;
  kind?: 'regression' | 'distribution';
  preprocessing?: Partial<Preprocessing>;
  textEncoder?: string;
  bucketValues?: number[];
}

export interface TinyModel {
  dir: string;
  onnxPath: string;
  cardPath: string;
  card: ModelCard;
  /** Regression: w [D]. Distribution: W [D, 10] row-major. */
  weights: Float32Array;
  /** Distribution only: the image-mean coefficients v [10]. */
  v: Float32Array;
}

/** Distinct, signed, exactly representable weights, so each aux position has a visible effect. */
export const weightAt = (i: number) => (((i * 37) % 23) - 11) / 8;

function tensor(name: string, dims: number[], values: ArrayLike<number>, type = FLOAT) {
  const bytes = type === FLOAT ? new Uint8Array(Float32Array.from(values).buffer) : new Uint8Array(BigInt64Array.from(Array.from(values, BigInt)).buffer);
  return onnx.TensorProto.create({ name, dims, dataType: type, rawData: bytes });
}

function valueInfo(name: string, dims: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });
}

const node = (opType: string, input: string[], output: string[], attribute: object[] = []) =>
  onnx.NodeProto.create({ opType, input, output, attribute: attribute as never });

export function buildTinyOnnx(size: number, d: number, kind: 'regression' | 'distribution'): { bytes: Uint8Array; weights: Float32Array; v: Float32Array } {
  const k = kind === 'regression' ? 1 : BUCKETS;
  const weights = Float32Array.from({ length: d * k }, (_, i) => weightAt(i));
  const v = Float32Array.from({ length: k }, (_, j) => (j - 4.5) / 2);
  const outName = kind === 'regression' ? 'ctr' : 'dist';
  const nodes = [
    node('ReduceMean', ['image'], ['m4'], [{ name: 'axes', type: ATTR.INTS, ints: [1, 2, 3] }, { name: 'keepdims', type: ATTR.INT, i: 1 }]),
    node('Reshape', ['m4', 'shape_n1'], ['m']),
  ];
  const inits = [tensor('shape_n1', [2], [-1, 1], INT64)];
  let sum = 'm';
  if (kind === 'distribution') {
    inits.push(tensor('v', [1, k], v));
    nodes.push(node('MatMul', ['m', 'v'], ['mv']));
    sum = 'mv';
  }
  if (d > 0) {
    inits.push(tensor('w', [d, k], weights));
    nodes.push(node('MatMul', ['aux', 'w'], ['aw']), node('Add', [sum, 'aw'], ['logits']));
    sum = 'logits';
  }
  nodes.push(kind === 'regression' ? node('Identity', [sum], [outName]) : node('Softmax', [sum], [outName], [{ name: 'axis', type: ATTR.INT, i: -1 }]));
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'm2fn-test-tiny-model',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'tiny',
      node: nodes,
      initializer: inits,
      input: [valueInfo('image', ['N', 3, size, size]), ...(d > 0 ? [valueInfo('aux', ['N', d])] : [])],
      output: [valueInfo(outName, ['N', k])],
    },
  });
  return { bytes: onnx.ModelProto.encode(model).finish(), weights, v };
}

/** Writes inference.onnx + inference.card.json into `dir` (created if needed). */
export async function writeTinyModel(dir: string, opts: TinyModelOptions = {}): Promise<TinyModel> {
  const schema = opts.schema === undefined ? TINY_SCHEMA : opts.schema;
  const kind = opts.kind ?? 'regression';
  const preprocessing: Preprocessing = {
    size: 8,
    mean: [0.5, 0.25, 0.125],
    std: [0.5, 0.25, 2],
    resize: 'fill',
    layout: 'NCHW',
    background: [255, 255, 255],
    maxPixels: 40_000_000,
    ...opts.preprocessing,
  };
  const d = schema ? auxDim(schema) : 0;
  const { bytes, weights, v } = buildTinyOnnx(preprocessing.size, d, kind);
  const card: ModelCard = {
    format: 'm2fn-model-card/1',
    model: `tiny-${kind}`,
    createdBy: 'test/runtime/tiny-model.ts',
    irVersion: 8,
    opset: 17,
    inputs: {
      image: { name: 'image', dtype: 'float32', shape: ['N', 3, preprocessing.size, preprocessing.size] },
      aux: schema ? { name: 'aux', dtype: 'float32', shape: ['N', d] } : null,
    },
    preprocessing,
    auxSchema: schema,
    textEncoder: schema?.attributes.some((a) => a.kind === 'text') ? (opts.textEncoder ?? 'hashing-v1') : null,
    output: {
      name: kind === 'regression' ? 'ctr' : 'dist',
      kind,
      size: kind === 'regression' ? 1 : BUCKETS,
      meaning: 'test model',
      ...(opts.bucketValues ? { bucketValues: opts.bucketValues } : {}),
    },
    config: {},
    parameters: { total: weights.length + (kind === 'distribution' ? v.length : 0), byModule: {} },
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
  await mkdir(dir, { recursive: true });
  const onnxPath = join(dir, 'inference.onnx');
  const cardPath = join(dir, 'inference.card.json');
  await writeFile(onnxPath, bytes);
  await writeFile(cardPath, JSON.stringify(card, null, 2));
  return { dir, onnxPath, cardPath, card, weights, v };
}
