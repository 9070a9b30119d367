// int8 inference graphs in ONNX's standard QDQ form: QuantizeLinear/DequantizeLinear pairs around
// float ops, which ONNX Runtime's graph optimiser folds into integer kernels (QLinearConv, uint8
// MaxPool) and any other runtime can simply execute as written.
//
// What is quantized: every Conv with constant weights whose only consumer is a Relu — the VGG
// backbone, which holds > 99% of the model's multiply-adds. The first conv feeds conditional batch
// norm, the attention's convs feed a softmax, and the Gemms of the fusion and head are a rounding
// error of the cost, so all of those stay float (numerically sensitive, and nothing to gain).
//
//   x ──Q─DQ──┐                                            x_q = clamp(round(x / s_x) + z_x, 0, 255)
//   W_int8 ─DQ┼─ Conv ─ Relu ─Q─DQ─ MaxPool ─Q─DQ─ …       W_q[c] = round(W[c] / s_w[c]), s_w[c] = max|W[c]| / q_max
//   b_int32 ─DQ┘                                            b_q[c] = round(b[c] / (s_x · s_w[c]))
//
// Weights are int8, symmetric, one scale per output channel (axis 0); the bias is int32 at the
// product scale, as the integer kernel accumulates it. Activations are uint8, asymmetric, with the
// range observed in calibration widened to include 0: a Relu output then gets zero point 0, which
// lets ONNX Runtime drop the Relu (the Q clamps at 0 anyway) and fuse DQ·Conv·Q into QLinearConv.
// A MaxPool between quantized tensors takes its input's scale, so it runs on uint8 unchanged.
//
// `weightBits: 7` narrows weights to [-64, 63]: on x86 CPUs without VNNI the u8·s8 dot product
// (vpmaddubsw) adds two products in a saturating int16, which 8-bit weights can overflow.
import onnxProto from 'onnx-proto';
import { DataType as T, floatData, initializer, type TensorProto } from './tensors.ts';

const { onnx } = onnxProto;
type ModelProto = InstanceType<typeof onnx.ModelProto>;
type NodeProto = InstanceType<typeof onnx.NodeProto>;

/** Observed range of one activation tensor over the calibration rows. */
export interface Range {
  min: number;
  max: number;
}

export interface QuantizePlan {
  /** The Conv nodes (by name) that become integer convs. */
  convs: string[];
  /** Activation tensors that get a Q/DQ pair; each needs a calibrated range. */
  tensors: string[];
  /** Tensors that take another tensor's quantization parameters (MaxPool output ← its input). */
  sharesParamsWith: Map<string, string>;
}

export interface QuantizeOptions {
  /** 8 (default) or 7: see the module comment. */
  weightBits?: 7 | 8;
}

interface Graph {
  nodes: NodeProto[];
  initializers: Map<string, TensorProto>;
  consumers: Map<string, NodeProto[]>;
}

function graphOf(model: ModelProto): Graph {
  const g = model.graph!;
  const nodes = g.node as NodeProto[];
  const initializers = new Map((g.initializer as TensorProto[]).map((t) => [t.name!, t]));
  const consumers = new Map<string, NodeProto[]>();
  for (const n of nodes) for (const i of n.input!) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  return { nodes, initializers, consumers };
}

/** Which convs and tensors `quantize` will touch, from the graph's structure alone. */
export function planQuantization(model: ModelProto): QuantizePlan {
  const g = graphOf(model);
  const convs: NodeProto[] = [];
  const quantized = new Set<string>();
  for (const n of g.nodes) {
    if (n.opType !== 'Conv' || !g.initializers.has(n.input![1])) continue;
    const next = g.consumers.get(n.output![0]) ?? [];
    if (next.length !== 1 || next[0].opType !== 'Relu') continue;
    convs.push(n);
    quantized.add(n.input![0]);
    quantized.add(next[0].output![0]);
  }
  // A MaxPool over a quantized tensor: quantize its output with the same parameters, so that the
  // pool runs on uint8 and the next conv reads it without a float round trip.
  const sharesParamsWith = new Map<string, string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const n of g.nodes) {
      if (n.opType === 'MaxPool' && n.output!.length === 1 && quantized.has(n.input![0]) && !sharesParamsWith.has(n.output![0])) {
        sharesParamsWith.set(n.output![0], n.input![0]);
        quantized.add(n.output![0]);
        grew = true;
      }
    }
  }
  if (!convs.length) throw new Error('quantize: the model has no Conv + Relu pair with constant weights to quantize');
  return { convs: convs.map((n) => n.name!), tensors: [...quantized], sharesParamsWith };
}

/** uint8 scale and zero point for a range widened to include 0. */
export function activationParams(r: Range): { scale: number; zeroPoint: number } {
  const lo = Math.min(0, r.min);
  const hi = Math.max(0, r.max);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`quantize: calibration range [${r.min}, ${r.max}] is not finite`);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-lo / scale))) };
}

/** Symmetric per-output-channel int8 weights: W [C, …] → W_q and one scale per channel. */
export function quantizeWeights(w: Float32Array, channels: number, weightBits: 7 | 8 = 8): { q: Int8Array; scales: Float32Array } {
  const per = w.length / channels;
  const qmax = weightBits === 8 ? 127 : 63;
  const q = new Int8Array(w.length);
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let m = 0;
    for (let i = c * per; i < (c + 1) * per; i++) m = Math.max(m, Math.abs(w[i]));
    const s = m > 0 ? m / qmax : 1;
    scales[c] = s;
    for (let i = c * per; i < (c + 1) * per; i++) q[i] = Math.max(-qmax - 1, Math.min(qmax, Math.round(w[i] / scales[c])));
  }
  return { q, scales };
}

function node(opType: string, inputs: string[], output: string, attrs: { axis?: number } = {}) {
  const attribute = attrs.axis === undefined ? [] : [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: attrs.axis }];
  return onnx.NodeProto.create({ name: output, opType, input: inputs, output: [output], attribute });
}

/**
 * The QDQ model: `model` with the plan's convs on int8 weights and its tensors on uint8, using
 * `ranges` (one per plan tensor that does not share parameters). Returns a new ModelProto;
 * `model` is not modified.
 */
export function quantize(model: ModelProto, plan: QuantizePlan, ranges: Map<string, Range>, opts: QuantizeOptions = {}): ModelProto {
  const out = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const g = graphOf(out);
  const params = new Map<string, { scale: number; zeroPoint: number }>();
  const paramsOf = (t: string): { scale: number; zeroPoint: number } => {
    const known = params.get(t);
    if (known) return known;
    const shared = plan.sharesParamsWith.get(t);
    const r = ranges.get(t);
    if (!shared && !r) throw new Error(`quantize: no calibrated range for tensor "${t}"`);
    const p = shared ? paramsOf(shared) : activationParams(r!);
    params.set(t, p);
    return p;
  };
  const added: TensorProto[] = [];
  const before = new Map<NodeProto, NodeProto[]>(); // nodes to insert in front of a node
  const after = new Map<NodeProto, NodeProto[]>();
  const producer = new Map<string, NodeProto>();
  for (const n of g.nodes) for (const o of n.output!) producer.set(o, n);

  // Activations: t → Q → DQ, and every consumer of t reads the DQ output.
  const quantizedFrom = new Map<string, string>(); // DQ output → the tensor it stands for
  for (const t of plan.tensors) {
    const { scale, zeroPoint } = paramsOf(t);
    const s = `${t}_scale`, z = `${t}_zero_point`, q = `${t}_quantized`, dq = `${t}_dequantized`;
    added.push(initializer(s, T.FLOAT, [], Float32Array.of(scale)), initializer(z, T.UINT8, [], Uint8Array.of(zeroPoint)));
    for (const c of g.consumers.get(t) ?? []) c.input = c.input!.map((i) => (i === t ? dq : i));
    const pair = [node('QuantizeLinear', [t, s, z], q), node('DequantizeLinear', [q, s, z], dq)];
    const p = producer.get(t);
    if (p) after.set(p, [...(after.get(p) ?? []), ...pair]);
    else before.set(g.nodes[0], [...(before.get(g.nodes[0]) ?? []), ...pair]); // a graph input
    quantizedFrom.set(dq, t);
  }

  // Weights and biases: int8 / int32 initializers behind a per-channel DequantizeLinear.
  const convs = new Set(plan.convs);
  for (const n of g.nodes) {
    if (!convs.has(n.name!)) continue;
    const [x, wName, bName] = n.input!;
    const w = g.initializers.get(wName)!;
    const C = Number(w.dims![0]);
    const { q, scales } = quantizeWeights(floatData(w, wName), C, opts.weightBits);
    const inputScale = paramsOf(quantizedFrom.get(x) ?? x).scale;
    const deq: NodeProto[] = [];
    added.push(initializer(`${wName}_quantized`, T.INT8, w.dims!.map(Number), q), initializer(`${wName}_scale`, T.FLOAT, [C], scales), initializer(`${wName}_zero_point`, T.INT8, [C], new Int8Array(C)));
    deq.push(node('DequantizeLinear', [`${wName}_quantized`, `${wName}_scale`, `${wName}_zero_point`], `${wName}_dequantized`, { axis: 0 }));
    const inputs = [x, `${wName}_dequantized`];
    if (bName) {
      const b = floatData(g.initializers.get(bName)!, bName);
      const bs = Float32Array.from(scales, (s) => s * inputScale);
      const bq = Int32Array.from(b, (v, c) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(v / bs[c]))));
      added.push(initializer(`${bName}_quantized`, T.INT32, [C], bq), initializer(`${bName}_scale`, T.FLOAT, [C], bs), initializer(`${bName}_zero_point`, T.INT32, [C], new Int32Array(C)));
      deq.push(node('DequantizeLinear', [`${bName}_quantized`, `${bName}_scale`, `${bName}_zero_point`], `${bName}_dequantized`, { axis: 0 }));
      inputs.push(`${bName}_dequantized`);
    }
    n.input = inputs;
    before.set(n, [...(before.get(n) ?? []), ...deq]);
  }

  // Float weights no longer read by any node are dropped.
  const order: NodeProto[] = [];
  for (const n of g.nodes) order.push(...(before.get(n) ?? []), n, ...(after.get(n) ?? []));
  const read = new Set(order.flatMap((n) => n.input!));
  const graph = out.graph!;
  graph.node = order;
  graph.initializer = [...(graph.initializer as TensorProto[]).filter((t) => read.has(t.name!)), ...added];
  return out;
}
