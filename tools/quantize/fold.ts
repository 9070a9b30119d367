// Folds constant per-channel affine ops that follow a Conv into its weights and bias, so that a
// VGG-BN block `Conv → BatchNormalization → Mul γ → Add β → Relu` becomes `Conv → Relu`, the form
// the QDQ pass quantizes (ONNX Runtime does the same fusion for float graphs, but only after QDQ
// has fixed where the quantization points are — so it must happen first).
//
//   y = a ⊙ conv(x; W, b) + d   ⇒   W'[c] = a[c] · W[c],   b'[c] = a[c] · b[c] + d[c]
//   BatchNormalization(s, B, μ, σ², ε):  a = s / √(σ² + ε),  d = B − μ · a
//   Mul by a constant k:  a ← k·a, d ← k·d;     Add a constant k:  d ← d + k
//
// "Constant" means an initializer, or a Reshape/Unsqueeze of one; it must hold one value per
// output channel, laid out along axis 1. Anything else ends the chain.
import onnxProto from 'onnx-proto';
import { DataType, floatData as floats, initializer, int64Data, type TensorProto } from './tensors.ts';

const { onnx } = onnxProto;
type ModelProto = InstanceType<typeof onnx.ModelProto>;
type NodeProto = InstanceType<typeof onnx.NodeProto>;

/** Returns how many ops were folded; modifies `model` in place. */
export function foldConvAffine(model: ModelProto): number {
  const g = model.graph!;
  const inits = new Map((g.initializer as TensorProto[]).map((t) => [t.name!, t]));
  const graphOutputs = new Set((g.output ?? []).map((o) => o.name!));
  const nodes = g.node as NodeProto[];
  const producer = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const n of nodes) {
    for (const o of n.output!) producer.set(o, n);
    for (const i of n.input!) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  }
  const ints = (name: string): number[] | null => (inits.has(name) ? int64Data(inits.get(name)!) : null);
  /** Values and broadcast shape of a constant operand: an initializer, or a Reshape/Unsqueeze of one. */
  const constant = (name: string): { values: Float32Array; dims: number[] } | null => {
    const t = inits.get(name);
    if (t) return t.dataType === DataType.FLOAT ? { values: floats(t), dims: t.dims!.map(Number) } : null;
    const p = producer.get(name);
    const src = p && inits.get(p.input![0]);
    const arg = p && ints(p.input![1]);
    if (!src || !arg || src.dataType !== DataType.FLOAT) return null;
    if (p.opType === 'Reshape' && arg.every((x) => x > 0)) return { values: floats(src), dims: arg };
    if (p.opType === 'Unsqueeze') {
      const dims = src.dims!.map(Number);
      const rank = dims.length + arg.length;
      const axes = new Set(arg.map((x) => (x < 0 ? x + rank : x)));
      let k = 0;
      return { values: floats(src), dims: Array.from({ length: rank }, (_, i) => (axes.has(i) ? 1 : dims[k++])) };
    }
    return null;
  };
  /** The C values of an operand that broadcasts over [N, C, spatial…] as one value per channel. */
  const perChannel = (name: string, C: number, rank: number): Float32Array | null => {
    const k = constant(name);
    if (!k || k.dims.length > rank) return null;
    const dims = [...Array(rank - k.dims.length).fill(1), ...k.dims];
    return dims.every((x, i) => x === (i === 1 ? C : 1)) ? k.values : null;
  };
  const removed = new Set<NodeProto>();
  let folded = 0;
  for (const conv of nodes) {
    if (conv.opType !== 'Conv' || !inits.has(conv.input![1])) continue;
    const w = inits.get(conv.input![1])!;
    const C = Number(w.dims![0]);
    const a = new Float32Array(C).fill(1);
    const d = new Float32Array(C);
    let end = conv.output![0];
    const chain: NodeProto[] = [];
    for (;;) {
      const next = consumers.get(end) ?? [];
      if (next.length !== 1 || graphOutputs.has(end)) break;
      const n = next[0];
      if (n.opType === 'BatchNormalization' && n.output!.length === 1 && n.input!.slice(1).every((i) => inits.has(i))) {
        const [s, B, mu, v] = n.input!.slice(1).map((i) => floats(inits.get(i)!));
        const eps = n.attribute!.find((x) => x.name === 'epsilon')?.f ?? 1e-5;
        for (let c = 0; c < C; c++) {
          const k = s[c] / Math.sqrt(v[c] + eps);
          a[c] *= k;
          d[c] = (d[c] - mu[c]) * k + B[c];
        }
      } else if (n.opType === 'Mul' || n.opType === 'Add') {
        const other = n.input![0] === end ? n.input![1] : n.input![0];
        const k = perChannel(other, C, w.dims!.length);
        if (!k) break;
        for (let c = 0; c < C; c++) {
          if (n.opType === 'Mul') {
            a[c] *= k[c];
            d[c] *= k[c];
          } else d[c] += k[c];
        }
      } else break;
      chain.push(n);
      end = n.output![0];
    }
    if (!chain.length) continue;
    const W = floats(w);
    const per = W.length / C;
    const W2 = Float32Array.from(W, (x, i) => x * a[Math.floor(i / per)]);
    const b = conv.input![2] ? floats(inits.get(conv.input![2])!) : new Float32Array(C);
    const b2 = Float32Array.from(b, (x, c) => a[c] * x + d[c]);
    const name = (suffix: string) => `${conv.input![1].replace(/\.weight$/, '')}.folded_${suffix}`;
    for (const [n, data] of [[name('weight'), W2], [name('bias'), b2]] as const) {
      const t = initializer(n, DataType.FLOAT, n.endsWith('weight') ? w.dims!.map(Number) : [C], data);
      inits.set(n, t);
      (g.initializer as TensorProto[]).push(t);
    }
    conv.input = [conv.input![0], name('weight'), name('bias')];
    conv.output = [end];
    for (const n of chain) removed.add(n);
    folded += chain.length;
  }
  // Drop the folded ops, then whatever only fed them (the Reshapes of γ and β), then unread initializers.
  let kept = nodes.filter((n) => !removed.has(n));
  for (let changed = true; changed; ) {
    const read = new Set([...kept.flatMap((n) => n.input!), ...graphOutputs]);
    const next = kept.filter((n) => n.output!.some((o) => read.has(o)));
    changed = next.length !== kept.length;
    kept = next;
  }
  g.node = kept;
  const read = new Set(kept.flatMap((n) => n.input!));
  g.initializer = (g.initializer as TensorProto[]).filter((t) => read.has(t.name!));
  return folded;
}
