// Pins the reference forward pass to tiny models whose output can be worked out by hand.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { referenceForward, referenceParamShapes, stageChannels, type ReferenceConfig } from './m2fn.ts';

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-12): void {
  assert.is(actual.length, expected.length, 'length');
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      assert.unreachable(`element ${i}: got ${actual[i]}, expected ${expected[i]} (tol ${tol})`);
    }
  }
}

const base: ReferenceConfig = {
  model: 'm2fn', backbone: 'vgg19', size: 224, width: 1,
  modules: { aux: true, low: true, att: true, high: true },
  cbnPlacement: [1, 0, 0, 0, 0], cbnHidden: 256, attHidden: 512, fuseDim: 512, headHidden: [4096, 4096],
  output: 'regression', dropout: 0, bnEps: 1e-5, auxDim: 2385,
};

function zeroParams(config: ReferenceConfig): Map<string, Float64Array> {
  const m = new Map<string, Float64Array>();
  for (const [name, shape] of referenceParamShapes(config)) m.set(name, new Float64Array(shape.reduce((a, b) => a * b, 1)));
  return m;
}

test('full-size M2FN has the paper reference model\'s 55.7M trainable parameters', () => {
  let n = 0;
  for (const [name, shape] of referenceParamShapes(base)) {
    if (!/running_/.test(name)) n += shape.reduce((a, b) => a * b, 1);
  }
  // VGG19 convs 20,024,384 + CBN1 1,254,656 + attention 1,484,289 + fusion 14,067,200 + head 18,886,657
  assert.is(n, 55_717_186);
  assert.equal(stageChannels({ ...base, width: 0.25 }), [16, 32, 64, 128, 128]);
  assert.equal(stageChannels({ ...base, width: 0.01 }), [8, 8, 8, 8, 8]);
});

test('VGG19-BN adds torchvision\'s 11,008 batch-norm parameters (gamma, beta), 10,880 when conv1_1 has CBN', () => {
  const trainable = (c: ReferenceConfig) =>
    [...referenceParamShapes(c)].filter(([n]) => !/running_/.test(n)).reduce((s, [, shape]) => s + shape.reduce((a, b) => a * b, 1), 0);
  const vgg = { ...base, model: 'image-only', modules: { aux: false, low: false, att: false, high: false }, auxDim: 0 };
  // torchvision: vgg19_bn 143,678,248 − vgg19 143,667,240 parameters.
  assert.is(trainable({ ...vgg, backboneNorm: 'batch' }) - trainable(vgg), 11_008);
  assert.is(trainable({ ...base, backboneNorm: 'batch' }) - trainable(base), 11_008 - 2 * 64);
  assert.equal(referenceParamShapes({ ...base, backboneNorm: 'batch' }).get('vgg.bn5_4.running_var'), [512]);
});

// A vanilla VGG11 at 32x32, width 0.01 (8 channels everywhere, final map 1x1). All conv weights
// are zero, so the feature vector is relu(bias of the last conv) whatever the image.
const tinyVgg: ReferenceConfig = {
  ...base, model: 'image-only', backbone: 'vgg11', size: 32, width: 0.01,
  modules: { aux: false, low: false, att: false, high: false }, headHidden: [], output: 'distribution', auxDim: 0,
};

test('image-only, zero convs except biases: distribution head is softmax(0..9)', () => {
  const p = zeroParams(tinyVgg);
  p.get('vgg.conv5_2.bias')!.set([1, -1, 2, 0, 0, 0, 0, 0]); // relu → f = [1, 0, 2, 0, ...]
  p.get('vgg.conv1_1.bias')!.fill(3); // wiped out by the next conv's zero weights
  const w = p.get('head.out.weight')!; // [10, 8]: logit_k = k * f0 + 0 * f2
  for (let k = 0; k < 10; k++) w[k * 8] = k;
  const N = 2;
  const image = Float32Array.from({ length: N * 3 * 32 * 32 }, (_, i) => Math.sin(i));
  const r = referenceForward(tinyVgg, p, image, null, N, { training: false });
  const Z = Array.from({ length: 10 }, (_, k) => Math.exp(k)).reduce((a, b) => a + b);
  const expected = Array.from({ length: 10 }, (_, k) => Math.exp(k) / Z);
  close(r.output, [...expected, ...expected], 1e-14);
  assert.is(r.attention, undefined);
  assert.is(r.batchStats, undefined);
});

test('concat (M1FN): aux joins the flattened features before head.out', () => {
  const cfg: ReferenceConfig = { ...tinyVgg, model: 'concat', modules: { aux: true, low: false, att: false, high: false }, output: 'regression', auxDim: 2 };
  const shapes = referenceParamShapes(cfg);
  assert.equal(shapes.get('head.out.weight'), [1, 10]);
  const p = zeroParams(cfg);
  p.get('vgg.conv5_2.bias')!.set([1, -1, 2, 0, 0, 0, 0, 0]);
  p.get('head.out.weight')!.set([1, 1, 1, 0, 0, 0, 0, 0, 10, -100]); // f0 + f1 + f2 + 10 a0 - 100 a1
  p.get('head.out.bias')!.set([0.5]);
  const r = referenceForward(cfg, p, new Float32Array(2 * 3 * 32 * 32), Float32Array.from([1, 0, 0.5, 0.25]), 2, { training: false });
  close(r.output, [3 + 0.5 + 10, 3 + 0.5 + 5 - 25]);
});

test('size 112: the five 2x2 pools floor to a 3x3 map (112 → 56 → 28 → 14 → 7 → 3)', () => {
  const cfg: ReferenceConfig = { ...tinyVgg, size: 112, output: 'regression' };
  assert.equal(referenceParamShapes(cfg).get('head.out.weight'), [1, 8 * 9]);
  assert.equal(referenceParamShapes({ ...tinyM2fn, size: 112 }).get('fuse.img.weight'), [2, 8 * 9]);
  const p = zeroParams(cfg);
  p.get('vgg.conv5_2.bias')!.set([1, -1, 2]); // channel 0 is 1 and channel 2 is 2 at all 9 positions
  p.get('head.out.weight')!.fill(1); // sums all 72 features: 9 · (1 + 0 + 2)
  const r = referenceForward(cfg, p, new Float32Array(3 * 112 * 112), null, 1, { training: false });
  close(r.output, [27]);
  assert.throws(() => referenceParamShapes({ ...cfg, size: 16 }), /size/);
});

// The full M2FN pipeline on VGG11 at 64x64 (final map 2x2), width 0.01 → 8 channels. Every conv
// is an identity (centre tap 1 on its own channel), the image has signal in channel 0 only and is
// constant on each 32x32 quadrant, so after the five 2x2 pools channel 0 holds one value per
// quadrant z_q and the other channels are 0. CBN1 on channel 0:
//   inference: xhat = (x - 0) / sqrt(running_var + eps) = x / 2, with running_var = 4 - eps
//   g0 = 1 + relu(a0) (dgamma: fc1 = I, fc2 row 0 = [1, 0]),  d0 = relu(a1) (dbeta: fc2 row 0 = [0, 1])
//   z_q = relu(xhat_q * g0 + d0)
// Attention: h0 = relu(z_q + a0) (weight_img picks channel 0, weight_aux row 0 = [1, 0]), h1 = 0,
//   logit_q = h0 = z_q + a0 (a0 >= 0), alpha = softmax(z) (the +a0 shift cancels).
// Fusion: fuse.img row 0 sums channel 0 over positions → u = sum_q alpha_q z_q; fuse.aux = I.
//   v = [tanh(u) tanh(a0), tanh(0) tanh(a1)] = [tanh(u) tanh(a0), 0]
// Head: fc1 = I, relu; out = [1, 0], bias 0.5 → y = 0.5 + relu(tanh(u) tanh(a0)).
const tinyM2fn: ReferenceConfig = {
  ...base, backbone: 'vgg11', size: 64, width: 0.01, cbnHidden: 2, attHidden: 2, fuseDim: 2, headHidden: [2], auxDim: 2,
};
const quadrants = [[0, 2, 4, 6], [-1, 0, 1, 2]]; // per sample, quadrant order (top-left, top-right, bottom-left, bottom-right)
const auxValues = [[0.5, 0.25], [1, -1]];

function tinyM2fnInputs(): { params: Map<string, Float64Array>; image: Float32Array; aux: Float32Array } {
  const cfg = tinyM2fn;
  const p = zeroParams(cfg);
  for (const [name, shape] of referenceParamShapes(cfg)) {
    if (!/^vgg\..*\.weight$/.test(name)) continue;
    const [O, I] = shape;
    const w = p.get(name)!;
    for (let c = 0; c < Math.min(O, I); c++) w[((c * I + c) * 3 + 1) * 3 + 1] = 1;
  }
  p.get('cbn1.gamma')!.fill(1);
  p.get('cbn1.running_var')!.fill(4 - cfg.bnEps);
  p.get('cbn1.dgamma.fc1.weight')!.set([1, 0, 0, 1]);
  p.get('cbn1.dgamma.fc2.weight')!.set([1, 0]); // row 0 of [8, 2]
  p.get('cbn1.dbeta.fc1.weight')!.set([1, 0, 0, 1]);
  p.get('cbn1.dbeta.fc2.weight')!.set([0, 1]);
  p.get('att.fc1.weight_img')!.set([1]); // [2, 8, 1, 1]: h0 reads channel 0
  p.get('att.fc1.weight_aux')!.set([1, 0]);
  p.get('att.fc2.weight')!.set([1, 0]);
  p.get('fuse.img.weight')!.set([1, 1, 1, 1]); // [2, 32]: row 0, channel 0's four positions
  p.get('fuse.aux.weight')!.set([1, 0, 0, 1]);
  p.get('head.fc1.weight')!.set([1, 0, 0, 1]);
  p.get('head.out.weight')!.set([1, 0]);
  p.get('head.out.bias')!.set([0.5]);
  const S = 64;
  const image = new Float32Array(2 * 3 * S * S);
  for (let n = 0; n < 2; n++) {
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) image[(n * 3 * S + y) * S + x] = quadrants[n][2 * (y >> 5) + (x >> 5)];
  }
  return { params: p, image, aux: Float32Array.from(auxValues.flat()) };
}

function expectedTiny(xhat: (v: number) => number): { y: number[]; alpha: number[] } {
  const y: number[] = [];
  const alpha: number[] = [];
  for (let n = 0; n < 2; n++) {
    const [a0, a1] = auxValues[n];
    const z = quadrants[n].map((v) => Math.max(0, xhat(v) * (1 + Math.max(0, a0)) + Math.max(0, a1)));
    const e = z.map(Math.exp);
    const sum = e.reduce((s, v) => s + v);
    const al = e.map((v) => v / sum);
    const u = z.reduce((s, v, q) => s + v * al[q], 0);
    y.push(0.5 + Math.max(0, Math.tanh(u) * Math.tanh(a0)));
    alpha.push(...al);
  }
  return { y, alpha };
}

test('tiny M2FN, inference: CBN with running stats, attention, fusion, head by hand', () => {
  const { params, image, aux } = tinyM2fnInputs();
  const r = referenceForward(tinyM2fn, params, image, aux, 2, { training: false });
  const e = expectedTiny((v) => v / 2);
  // Sample 0 by hand: z = relu(q/2 * 1.5 + 0.25) = [0.25, 1.75, 3.25, 4.75]
  close(r.attention!.slice(0, 4), [0.25, 1.75, 3.25, 4.75].map((z, _, zs) => Math.exp(z) / zs.reduce((s, t) => s + Math.exp(t), 0)), 1e-12);
  close(r.attention!, e.alpha, 1e-12);
  close(r.output, e.y, 1e-12);
  assert.is(r.batchStats, undefined);
});

test('tiny M2FN, training: CBN uses batch statistics (biased var) and reports them', () => {
  const { params, image, aux } = tinyM2fnInputs();
  const r = referenceForward(tinyM2fn, params, image, aux, 2, { training: true });
  // Channel 0 over both samples: equal-sized quadrants {0,2,4,6,-1,0,1,2}: mean 14/8 = 1.75,
  // E[x^2] = 62/8 = 7.75, var = 7.75 - 1.75^2 = 4.6875. The other channels are all zero.
  const st = r.batchStats!.get('cbn1')!;
  close(st.mean, [1.75, 0, 0, 0, 0, 0, 0, 0], 1e-12);
  close(st.var, [4.6875, 0, 0, 0, 0, 0, 0, 0], 1e-12);
  const e = expectedTiny((v) => (v - 1.75) / Math.sqrt(4.6875 + tinyM2fn.bnEps));
  close(r.attention!, e.alpha, 1e-12);
  close(r.output, e.y, 1e-12);
});

test('a missing or wrong-sized parameter throws naming it; aux is required when on', () => {
  const { params, image, aux } = tinyM2fnInputs();
  const missing = new Map(params);
  missing.delete('cbn1.dbeta.fc2.bias');
  assert.throws(() => referenceForward(tinyM2fn, missing, image, aux, 2, { training: false }), /cbn1\.dbeta\.fc2\.bias/);
  const wrong = new Map(params);
  wrong.set('att.fc1.weight_aux', new Float64Array(5));
  assert.throws(() => referenceForward(tinyM2fn, wrong, image, aux, 2, { training: false }), /att\.fc1\.weight_aux/);
  assert.throws(() => referenceForward(tinyM2fn, params, image, null, 2, { training: false }), /aux/);
  assert.throws(() => referenceForward(tinyM2fn, params, image.subarray(1), aux, 2, { training: false }), /image/);
});

test.run();
