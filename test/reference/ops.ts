// Plain float64 tensor ops: the independent oracle for the ONNX graphs. Every op is a direct
// loop over the definition, with no cleverness, so that a reader can check it by eye. They are
// also used for finite-difference gradient checks, so they allocate fresh outputs and never
// mutate their inputs.

export interface Tensor {
  shape: number[];
  data: Float64Array;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A tensor of the given shape; `data` is copied to float64 (zeros when omitted). */
export function tensor(shape: number[], data?: ArrayLike<number>): Tensor {
  const n = numel(shape);
  if (data !== undefined && data.length !== n) {
    throw new RangeError(`tensor: shape [${shape}] needs ${n} values, got ${data.length}`);
  }
  const out = new Float64Array(n);
  if (data !== undefined) for (let i = 0; i < n; i++) out[i] = data[i];
  return { shape: [...shape], data: out };
}

function map(x: Tensor, f: (v: number) => number): Tensor {
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f(x.data[i]);
  return { shape: [...x.shape], data: out };
}

function pair(v: number | readonly [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

function assertRank(name: string, x: Tensor, rank: number): void {
  if (x.shape.length !== rank) throw new RangeError(`${name}: expected rank ${rank}, got shape [${x.shape}]`);
}

export interface Conv2dOptions {
  stride?: number | [number, number];
  /** Symmetric zero padding per spatial side. */
  pad?: number | [number, number];
  dilation?: number | [number, number];
}

/** 2-D convolution (cross-correlation, as ONNX Conv): x [N,Cin,H,W], w [Cout,Cin,kH,kW], b [Cout] or null. */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  assertRank('conv2d x', x, 4);
  assertRank('conv2d w', w, 4);
  const [N, C, H, W] = x.shape;
  const [O, Cw, KH, KW] = w.shape;
  if (Cw !== C) throw new RangeError(`conv2d: x has ${C} channels, w expects ${Cw}`);
  if (b !== null && (b.shape.length !== 1 || b.shape[0] !== O)) {
    throw new RangeError(`conv2d: bias shape [${b.shape}] should be [${O}]`);
  }
  const [sh, sw] = pair(opts.stride ?? 1);
  const [ph, pw] = pair(opts.pad ?? 0);
  const [dh, dw] = pair(opts.dilation ?? 1);
  const OH = Math.floor((H + 2 * ph - dh * (KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - dw * (KW - 1) - 1) / sw) + 1;
  if (OH < 1 || OW < 1) throw new RangeError(`conv2d: empty output for input [${x.shape}] and kernel [${w.shape}]`);
  const out = new Float64Array(N * O * OH * OW);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++) {
          let s = b === null ? 0 : b.data[o];
          for (let c = 0; c < C; c++) {
            for (let ky = 0; ky < KH; ky++) {
              const iy = oy * sh - ph + ky * dh;
              if (iy < 0 || iy >= H) continue;
              for (let kx = 0; kx < KW; kx++) {
                const ix = ox * sw - pw + kx * dw;
                if (ix < 0 || ix >= W) continue;
                s += x.data[((n * C + c) * H + iy) * W + ix] * w.data[((o * C + c) * KH + ky) * KW + kx];
              }
            }
          }
          out[((n * O + o) * OH + oy) * OW + ox] = s;
        }
      }
    }
  }
  return { shape: [N, O, OH, OW], data: out };
}

export function relu(x: Tensor): Tensor {
  return map(x, (v) => (v > 0 ? v : 0));
}

export function tanh(x: Tensor): Tensor {
  return map(x, Math.tanh);
}

/** Max pooling without padding (floor mode): x [N,C,H,W]. */
export function maxPool(x: Tensor, kernel: number | [number, number], stride: number | [number, number]): Tensor {
  assertRank('maxPool x', x, 4);
  const [N, C, H, W] = x.shape;
  const [kh, kw] = pair(kernel);
  const [sh, sw] = pair(stride);
  const OH = Math.floor((H - kh) / sh) + 1;
  const OW = Math.floor((W - kw) / sw) + 1;
  if (OH < 1 || OW < 1) throw new RangeError(`maxPool: window ${kh}x${kw} larger than input [${x.shape}]`);
  const out = new Float64Array(N * C * OH * OW);
  for (let nc = 0; nc < N * C; nc++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        let m = -Infinity;
        for (let ky = 0; ky < kh; ky++) {
          for (let kx = 0; kx < kw; kx++) {
            const v = x.data[(nc * H + oy * sh + ky) * W + ox * sw + kx];
            if (v > m || Number.isNaN(v)) m = v; // NaN propagates, as in ONNX MaxPool
          }
        }
        out[(nc * OH + oy) * OW + ox] = m;
      }
    }
  }
  return { shape: [N, C, OH, OW], data: out };
}

/** Per-channel statistics over every axis except 1 (N,H,W for NCHW; N for [N,C]); var is biased (divides by count). */
export function bnStats(x: Tensor): { mean: Float64Array; var: Float64Array } {
  if (x.shape.length < 2) throw new RangeError(`bnStats: expected rank >= 2, got [${x.shape}]`);
  const [N, C] = x.shape;
  const inner = numel(x.shape.slice(2));
  const count = N * inner;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < inner; i++) s += x.data[(n * C + c) * inner + i];
    const m = s / count;
    // Two passes: subtracting the mean first keeps the variance accurate.
    let q = 0;
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < inner; i++) {
        const d = x.data[(n * C + c) * inner + i] - m;
        q += d * d;
      }
    }
    mean[c] = m;
    variance[c] = q / count;
  }
  return { mean, var: variance };
}

/** (x - mean_c) / sqrt(var_c + eps) per channel (axis 1). */
export function bnNormalize(x: Tensor, mean: ArrayLike<number>, variance: ArrayLike<number>, eps: number): Tensor {
  const [N, C] = x.shape;
  if (mean.length !== C || variance.length !== C) {
    throw new RangeError(`bnNormalize: x has ${C} channels, stats have ${mean.length}/${variance.length}`);
  }
  const inner = numel(x.shape.slice(2));
  const out = new Float64Array(x.data.length);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const inv = 1 / Math.sqrt(variance[c] + eps);
      for (let i = 0; i < inner; i++) {
        const k = (n * C + c) * inner + i;
        out[k] = (x.data[k] - mean[c]) * inv;
      }
    }
  }
  return { shape: [...x.shape], data: out };
}

/** y = x W^T + b: x [N,in], w [out,in] (PyTorch / Gemm transB=1 layout), b [out] or null. */
export function linear(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  assertRank('linear x', x, 2);
  assertRank('linear w', w, 2);
  const [N, I] = x.shape;
  const [O, Iw] = w.shape;
  if (Iw !== I) throw new RangeError(`linear: x has ${I} features, w expects ${Iw}`);
  if (b !== null && (b.shape.length !== 1 || b.shape[0] !== O)) {
    throw new RangeError(`linear: bias shape [${b.shape}] should be [${O}]`);
  }
  const out = new Float64Array(N * O);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      let s = b === null ? 0 : b.data[o];
      for (let i = 0; i < I; i++) s += x.data[n * I + i] * w.data[o * I + i];
      out[n * O + o] = s;
    }
  }
  return { shape: [N, O], data: out };
}

/** Softmax along `axis` (negative counts from the end); the max is subtracted for stability. */
export function softmax(x: Tensor, axis: number): Tensor {
  const r = x.shape.length;
  const ax = axis < 0 ? axis + r : axis;
  if (ax < 0 || ax >= r) throw new RangeError(`softmax: axis ${axis} out of range for shape [${x.shape}]`);
  const outer = numel(x.shape.slice(0, ax));
  const len = x.shape[ax];
  const inner = numel(x.shape.slice(ax + 1));
  const out = new Float64Array(x.data.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (k: number) => (o * len + k) * inner + i;
      let m = -Infinity;
      for (let k = 0; k < len; k++) m = Math.max(m, x.data[at(k)]);
      let s = 0;
      for (let k = 0; k < len; k++) {
        const e = Math.exp(x.data[at(k)] - m);
        out[at(k)] = e;
        s += e;
      }
      for (let k = 0; k < len; k++) out[at(k)] /= s;
    }
  }
  return { shape: [...x.shape], data: out };
}

/** [N, ...] → [N, prod(rest)], keeping row-major (C, H, W) order. */
export function flatten(x: Tensor): Tensor {
  const N = x.shape[0];
  return { shape: [N, numel(x.shape.slice(1))], data: x.data.slice() };
}

/** Concatenate along axis 1; all other dims must match ([N,a] + [N,b] → [N,a+b]). */
export function concat1(a: Tensor, b: Tensor): Tensor {
  const N = a.shape[0];
  if (b.shape[0] !== N) throw new RangeError(`concat1: batch ${N} vs ${b.shape[0]}`);
  const tailA = a.shape.slice(2);
  const tailB = b.shape.slice(2);
  if (tailA.length !== tailB.length || tailA.some((d, i) => d !== tailB[i])) {
    throw new RangeError(`concat1: shapes [${a.shape}] and [${b.shape}] differ beyond axis 1`);
  }
  const ra = numel(a.shape.slice(1));
  const rb = numel(b.shape.slice(1));
  const out = new Float64Array(N * (ra + rb));
  for (let n = 0; n < N; n++) {
    out.set(a.data.subarray(n * ra, (n + 1) * ra), n * (ra + rb));
    out.set(b.data.subarray(n * rb, (n + 1) * rb), n * (ra + rb) + ra);
  }
  return { shape: [N, a.shape[1] + b.shape[1], ...tailA], data: out };
}

/**
 * Elementwise binary op with broadcasting between equal-rank shapes whose dims are equal or 1.
 * As a convenience for per-sample, per-channel terms, a [N,C] operand next to a [N,C,H,W] one
 * is read as [N,C,1,1] (numpy would align it with H,W instead, which is never what we mean).
 */
function binary(a: Tensor, b: Tensor, f: (x: number, y: number) => number, name: string): Tensor {
  const as = a.shape.length === 2 && b.shape.length === 4 ? [...a.shape, 1, 1] : a.shape;
  const bs = b.shape.length === 2 && a.shape.length === 4 ? [...b.shape, 1, 1] : b.shape;
  if (as.length !== bs.length) throw new RangeError(`${name}: cannot broadcast [${a.shape}] with [${b.shape}]`);
  const shape = as.map((d, i) => {
    if (d === bs[i] || bs[i] === 1) return d;
    if (d === 1) return bs[i];
    throw new RangeError(`${name}: cannot broadcast [${a.shape}] with [${b.shape}]`);
  });
  const r = shape.length;
  // Row-major strides, with 0 on broadcast dims so the same element is reused.
  const strides = (s: number[]) => {
    const st = new Array<number>(r);
    let acc = 1;
    for (let i = r - 1; i >= 0; i--) {
      st[i] = s[i] === 1 && shape[i] !== 1 ? 0 : acc;
      acc *= s[i];
    }
    return st;
  };
  const sa = strides(as);
  const sb = strides(bs);
  const out = new Float64Array(numel(shape));
  const idx = new Array<number>(r).fill(0);
  for (let k = 0; k < out.length; k++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < r; d++) {
      ia += idx[d] * sa[d];
      ib += idx[d] * sb[d];
    }
    out[k] = f(a.data[ia], b.data[ib]);
    for (let d = r - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return { shape, data: out };
}

export function add(a: Tensor, b: Tensor): Tensor {
  return binary(a, b, (x, y) => x + y, 'add');
}

export function mul(a: Tensor, b: Tensor): Tensor {
  return binary(a, b, (x, y) => x * y, 'mul');
}

/** Same data under a new shape with the same element count. */
export function reshape(x: Tensor, shape: number[]): Tensor {
  if (numel(shape) !== x.data.length) throw new RangeError(`reshape: [${x.shape}] → [${shape}] changes the size`);
  return { shape: [...shape], data: x.data.slice() };
}
