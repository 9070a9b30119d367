// Plain float64 forward pass of the M2FN family, written straight from docs/model.md and
// deliberately independent of graph/: tests compare ONNX Runtime's output against this.
import {
  add, bnNormalize, bnStats, concat1, conv2d, flatten, linear, maxPool, mul, relu, reshape, softmax,
  tanh, tensor, type Tensor,
} from './ops.ts';

/** The fields of docs/model.md's configuration table, plus the aux vector length. */
export interface ReferenceConfig {
  /** Informational only: the forward pass follows `modules` and `output`. */
  model: string;
  backbone: 'vgg19' | 'vgg16' | 'vgg11';
  /** 'batch': BN (`vgg.bn{b}_{j}`) after every conv that has no CBN; absent means 'none'. */
  backboneNorm?: 'none' | 'batch';
  size: number;
  width: number;
  modules: { aux: boolean; low: boolean; att: boolean; high: boolean };
  cbnPlacement: number[];
  cbnHidden: number;
  attHidden: number;
  fuseDim: number;
  headHidden: number[];
  output: 'regression' | 'distribution';
  /** Ignored: the reference has no dropout. */
  dropout: number;
  bnEps: number;
  auxDim: number;
  /** Cross layers on the aux columns `crossColumns` before anything reads aux; absent means 0. */
  auxCross?: number;
  crossColumns?: number[];
}

export interface ReferenceResult {
  /** [N,1] for regression, [N,10] softmax probabilities for distribution. */
  output: Float64Array;
  /** [N, s*s] attention weights alpha, when `modules.att` is on. */
  attention?: Float64Array;
  /** Batch statistics (biased var) per CBN block, keyed `cbn{b}`; only with `training: true`. */
  batchStats?: Map<string, { mean: Float64Array; var: Float64Array }>;
}

/** Convs per VGG block (docs/model.md). */
export const VGG_CONVS: Record<ReferenceConfig['backbone'], number[]> = {
  vgg19: [2, 2, 4, 4, 4],
  vgg16: [2, 2, 3, 3, 3],
  vgg11: [1, 1, 2, 2, 2],
};

const VGG_STAGES = [64, 128, 256, 512, 512];

/** Channels of each VGG block after the width multiplier. */
export function stageChannels(config: ReferenceConfig): number[] {
  return VGG_STAGES.map((c) => Math.max(8, Math.floor(c * config.width)));
}

function hasCbn(config: ReferenceConfig, block: number): boolean {
  return config.modules.low && config.cbnPlacement[block - 1] === 1;
}

function checkConfig(config: ReferenceConfig): void {
  const { size, modules, auxDim } = config;
  if (!Number.isInteger(size) || size < 32) throw new RangeError(`size ${size} must be an integer of at least 32`);
  if (!(config.backbone in VGG_CONVS)) throw new RangeError(`unknown backbone ${config.backbone}`);
  if (config.cbnPlacement.length !== 5) throw new RangeError(`cbnPlacement needs 5 entries, got ${config.cbnPlacement.length}`);
  if ((modules.low || modules.att || modules.high) && !modules.aux) {
    throw new RangeError('modules low/att/high need aux: they all read the aux vector');
  }
  if (modules.aux && !(Number.isInteger(auxDim) && auxDim > 0)) throw new RangeError(`auxDim ${auxDim} must be a positive integer`);
}

/** Every parameter the config needs, with its shape, in forward order (docs/model.md's table). */
export function referenceParamShapes(config: ReferenceConfig): Map<string, number[]> {
  checkConfig(config);
  const shapes = new Map<string, number[]>();
  const D = config.auxDim;
  const chans = stageChannels(config);
  for (let k = 1; k <= (config.auxCross ?? 0); k++) {
    const d = config.crossColumns!.length;
    shapes.set(`aux.cross${k}.weight`, [d, d]);
    shapes.set(`aux.cross${k}.bias`, [d]);
  }
  let cin = 3;
  VGG_CONVS[config.backbone].forEach((n, i) => {
    const b = i + 1;
    const c = chans[i];
    for (let j = 1; j <= n; j++) {
      shapes.set(`vgg.conv${b}_${j}.weight`, [c, cin, 3, 3]);
      shapes.set(`vgg.conv${b}_${j}.bias`, [c]);
      cin = c;
      if (j === 1 && hasCbn(config, b)) {
        for (const p of ['gamma', 'beta', 'running_mean', 'running_var']) shapes.set(`cbn${b}.${p}`, [c]);
        for (const d of ['dgamma', 'dbeta']) {
          shapes.set(`cbn${b}.${d}.fc1.weight`, [config.cbnHidden, D]);
          shapes.set(`cbn${b}.${d}.fc1.bias`, [config.cbnHidden]);
          shapes.set(`cbn${b}.${d}.fc2.weight`, [c, config.cbnHidden]);
          shapes.set(`cbn${b}.${d}.fc2.bias`, [c]);
        }
      } else if (config.backboneNorm === 'batch') {
        for (const p of ['gamma', 'beta', 'running_mean', 'running_var']) shapes.set(`vgg.bn${b}_${j}.${p}`, [c]);
      }
    }
  });
  const C = chans[4];
  const s = Math.floor(config.size / 32); // five 2×2 pools, each flooring
  if (config.modules.att) {
    shapes.set('att.fc1.weight_img', [config.attHidden, C, 1, 1]);
    shapes.set('att.fc1.weight_aux', [config.attHidden, D]);
    shapes.set('att.fc1.bias', [config.attHidden]);
    shapes.set('att.fc2.weight', [1, config.attHidden, 1, 1]);
    shapes.set('att.fc2.bias', [1]);
  }
  let width = C * s * s;
  if (config.modules.high) {
    shapes.set('fuse.img.weight', [config.fuseDim, width]);
    shapes.set('fuse.img.bias', [config.fuseDim]);
    shapes.set('fuse.aux.weight', [config.fuseDim, D]);
    shapes.set('fuse.aux.bias', [config.fuseDim]);
    width = config.fuseDim;
  }
  config.headHidden.forEach((h, k) => {
    shapes.set(`head.fc${k + 1}.weight`, [h, width]);
    shapes.set(`head.fc${k + 1}.bias`, [h]);
    width = h;
  });
  if (config.modules.aux && !config.modules.high) width += D; // input-step fusion: aux joins before the last FC
  const out = config.output === 'distribution' ? 10 : 1;
  shapes.set('head.out.weight', [out, width]);
  shapes.set('head.out.bias', [out]);
  return shapes;
}

/**
 * The model's forward pass in float64. Throws naming the parameter when one is missing or has
 * the wrong number of elements; parameters the config does not use are ignored. With
 * `training: true`, CBN normalises with batch statistics (biased var) and reports them;
 * otherwise with `cbn{b}.running_mean` / `running_var`. There is never dropout.
 */
export function referenceForward(
  config: ReferenceConfig,
  params: Map<string, Float32Array | Float64Array>,
  image: Float32Array,
  aux: Float32Array | null,
  N: number,
  opts: { training: boolean },
): ReferenceResult {
  const shapes = referenceParamShapes(config);
  const P = new Map<string, Tensor>();
  for (const [name, shape] of shapes) {
    const v = params.get(name);
    if (v === undefined) throw new Error(`missing parameter ${name} (shape [${shape}])`);
    const n = shape.reduce((a, b) => a * b, 1);
    if (v.length !== n) throw new RangeError(`parameter ${name} has ${v.length} values, shape [${shape}] needs ${n}`);
    P.set(name, tensor(shape, v));
  }
  const p = (name: string) => P.get(name)!;
  const S = config.size;
  const D = config.auxDim;
  if (image.length !== N * 3 * S * S) throw new RangeError(`image has ${image.length} values, [${N},3,${S},${S}] needs ${N * 3 * S * S}`);
  let a: Tensor | null = null;
  if (config.modules.aux) {
    if (aux === null || aux.length !== N * D) throw new RangeError(`aux must have ${N}x${D} values, got ${aux?.length ?? 'null'}`);
    a = tensor([N, D], aux);
    if (config.auxCross) a = crossAttributes(a, config.crossColumns!, config.auxCross, p);
  }

  const batchStats = new Map<string, { mean: Float64Array; var: Float64Array }>();
  const normalise = (x: Tensor, name: string): Tensor => {
    const stats = opts.training ? bnStats(x) : { mean: p(`${name}.running_mean`).data, var: p(`${name}.running_var`).data };
    if (opts.training) batchStats.set(name, stats);
    return bnNormalize(x, stats.mean, stats.var, config.bnEps);
  };
  const bn = (x: Tensor, name: string): Tensor => {
    const C = x.shape[1];
    return add(mul(normalise(x, name), reshape(p(`${name}.gamma`), [1, C])), reshape(p(`${name}.beta`), [1, C]));
  };
  const cbn = (x: Tensor, b: number): Tensor => {
    const xhat = normalise(x, `cbn${b}`);
    const mlp = (d: string) =>
      linear(relu(linear(a!, p(`cbn${b}.${d}.fc1.weight`), p(`cbn${b}.${d}.fc1.bias`))), p(`cbn${b}.${d}.fc2.weight`), p(`cbn${b}.${d}.fc2.bias`));
    const C = x.shape[1];
    const g = add(reshape(p(`cbn${b}.gamma`), [1, C]), mlp('dgamma')); // [N,C]
    const d = add(reshape(p(`cbn${b}.beta`), [1, C]), mlp('dbeta'));
    return add(mul(xhat, g), d); // [N,C] operands broadcast as [N,C,1,1]
  };

  let x = tensor([N, 3, S, S], image);
  VGG_CONVS[config.backbone].forEach((n, i) => {
    const b = i + 1;
    for (let j = 1; j <= n; j++) {
      x = conv2d(x, p(`vgg.conv${b}_${j}.weight`), p(`vgg.conv${b}_${j}.bias`), { pad: 1 });
      if (j === 1 && hasCbn(config, b)) x = cbn(x, b);
      else if (config.backboneNorm === 'batch') x = bn(x, `vgg.bn${b}_${j}`);
      x = relu(x);
    }
    x = maxPool(x, 2, 2);
  });

  const s = x.shape[2]; // floor(S / 32): each pool floors
  let attention: Float64Array | undefined;
  if (config.modules.att) {
    const hAux = linear(a!, p('att.fc1.weight_aux'), null); // [N,attHidden], broadcast over positions
    const h = relu(add(conv2d(x, p('att.fc1.weight_img'), p('att.fc1.bias')), hAux));
    const logit = conv2d(h, p('att.fc2.weight'), p('att.fc2.bias')); // [N,1,s,s]
    const alpha = softmax(reshape(logit, [N, s * s]), 1);
    attention = alpha.data;
    x = mul(x, reshape(alpha, [N, 1, s, s]));
  }

  let v = flatten(x);
  if (config.modules.high) {
    v = mul(tanh(linear(v, p('fuse.img.weight'), p('fuse.img.bias'))), tanh(linear(a!, p('fuse.aux.weight'), p('fuse.aux.bias'))));
  }
  config.headHidden.forEach((_, k) => {
    v = relu(linear(v, p(`head.fc${k + 1}.weight`), p(`head.fc${k + 1}.bias`)));
  });
  if (config.modules.aux && !config.modules.high) v = concat1(v, a!);
  let y = linear(v, p('head.out.weight'), p('head.out.bias'));
  if (config.output === 'distribution') y = softmax(y, 1);

  const result: ReferenceResult = { output: y.data };
  if (attention !== undefined) result.attention = attention;
  if (opts.training && batchStats.size > 0) result.batchStats = batchStats;
  return result;
}

/** c₀ = a[:, cols]; c ← c₀ ⊙ (W_k c + b_k) + c for k = 1..layers; a with cols replaced by c. */
export function crossAttributes(a: Tensor, cols: number[], layers: number, p: (name: string) => Tensor): Tensor {
  const [N, D] = a.shape;
  const d = cols.length;
  const out = Float64Array.from(a.data);
  for (let r = 0; r < N; r++) {
    const c0 = cols.map((col) => a.data[r * D + col]);
    let c = c0;
    for (let k = 1; k <= layers; k++) {
      const w = p(`aux.cross${k}.weight`).data;
      const b = p(`aux.cross${k}.bias`).data;
      c = c.map((ci, i) => c0[i] * (b[i] + c.reduce((acc, cj, j) => acc + w[i * d + j] * cj, 0)) + ci);
    }
    cols.forEach((col, i) => (out[r * D + col] = c[i]));
  }
  return tensor([N, D], out);
}
