// Pins the oracle's primitive ops to values worked out by hand (in the comments).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  add, bnNormalize, bnStats, concat1, conv2d, flatten, linear, maxPool, mul, relu, softmax, tanh, tensor,
} from './ops.ts';

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-12): void {
  assert.is(actual.length, expected.length, 'length');
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      assert.unreachable(`element ${i}: got ${actual[i]}, expected ${expected[i]} (tol ${tol})`);
    }
  }
}

// x = 1..16 as a 4x4 image; w is a diagonal kernel that is not symmetric under a 180° flip,
// so a true convolution (flipped) would give different numbers than ONNX's cross-correlation.
const x44 = tensor([1, 1, 4, 4], Array.from({ length: 16 }, (_, i) => i + 1));
const wDiag = tensor([1, 1, 3, 3], [1, 0, 0, 0, 2, 0, 0, 0, 3]);
const b05 = tensor([1], [0.5]);

test('conv2d 3x3 on 4x4, no padding: x[i][j] + 2 x[i+1][j+1] + 3 x[i+2][j+2] + 0.5', () => {
  const y = conv2d(x44, wDiag, b05);
  assert.equal(y.shape, [1, 1, 2, 2]);
  // (0,0): 1 + 12 + 33; (0,1): 2 + 14 + 36; (1,0): 5 + 20 + 45; (1,1): 6 + 22 + 48
  close(y.data, [46.5, 52.5, 70.5, 76.5]);
});

test('conv2d pad 1 keeps 4x4, zeros outside', () => {
  const y = conv2d(x44, wDiag, b05, { pad: 1 });
  assert.equal(y.shape, [1, 1, 4, 4]);
  close(y.data, [
    20.5, 25.5, 30.5, 8.5,
    40.5, 46.5, 52.5, 19.5,
    60.5, 70.5, 76.5, 31.5,
    26.5, 37.5, 40.5, 43.5,
  ]);
});

test('conv2d stride 2 pad 1 samples every other padded output', () => {
  const y = conv2d(x44, wDiag, b05, { pad: 1, stride: 2 });
  assert.equal(y.shape, [1, 1, 2, 2]);
  close(y.data, [20.5, 30.5, 60.5, 76.5]);
});

test('conv2d dilation 2 pad 1: taps at offsets -1, +1, +3', () => {
  const y = conv2d(x44, wDiag, b05, { pad: 1, dilation: 2 });
  assert.equal(y.shape, [1, 1, 2, 2]);
  // (0,0): 2*x[1][1] + 3*x[3][3] = 12 + 48; (0,1): 2*x[1][2] = 14; (1,0): 2*x[2][1] = 20; (1,1): x[0][0] + 2*x[2][2] = 1 + 22
  close(y.data, [60.5, 14.5, 20.5, 23.5]);
});

test('conv2d OIHW layout and batch: 1x1 conv mixes channels', () => {
  // n0: ch0 [1,2], ch1 [3,4]; n1: ch0 [0,1], ch1 [1,0]. out0 = 10 ch0 + ch1, out1 = -ch1 + 1
  const x = tensor([2, 2, 1, 2], [1, 2, 3, 4, 0, 1, 1, 0]);
  const w = tensor([2, 2, 1, 1], [10, 1, 0, -1]);
  const y = conv2d(x, w, tensor([2], [0, 1]));
  assert.equal(y.shape, [2, 2, 1, 2]);
  close(y.data, [13, 24, -2, -3, 1, 10, 0, 1]);
});

test('conv2d rejects a channel mismatch', () => {
  assert.throws(() => conv2d(x44, tensor([1, 2, 3, 3]), null), /channels/);
});

const xPool = tensor([1, 1, 4, 4], [1, 5, 2, 0, 3, -1, 7, 4, 0, 0, -2, -3, 9, -8, -5, -4]);

test('maxPool 2x2 stride 2', () => {
  const y = maxPool(xPool, 2, 2);
  assert.equal(y.shape, [1, 1, 2, 2]);
  close(y.data, [5, 7, 9, -2]);
});

test('maxPool 3x3 stride 1 (overlapping windows)', () => {
  const y = maxPool(xPool, 3, 1);
  assert.equal(y.shape, [1, 1, 2, 2]);
  close(y.data, [7, 7, 9, 7]);
});

test('relu and tanh', () => {
  close(relu(tensor([4], [-1, 0, 0.5, 2])).data, [0, 0, 0.5, 2]);
  close(tanh(tensor([2], [0, Math.atanh(0.5)])).data, [0, 0.5]);
});

test('softmax: hand values, stability, sums along either axis', () => {
  close(softmax(tensor([1, 2], [0, Math.log(3)]), 1).data, [0.25, 0.75]);
  close(softmax(tensor([1, 2], [1000, 1000]), -1).data, [0.5, 0.5]);
  const x = tensor([3, 4], [0.1, -2, 3, 0.5, 1, 1, 1, 1, -4, 2, 0, 7]);
  const r = softmax(x, 1);
  for (let i = 0; i < 3; i++) close([r.data[i * 4] + r.data[i * 4 + 1] + r.data[i * 4 + 2] + r.data[i * 4 + 3]], [1], 1e-14);
  close(r.data.slice(4, 8), [0.25, 0.25, 0.25, 0.25]);
  const c = softmax(x, 0);
  for (let j = 0; j < 4; j++) close([c.data[j] + c.data[4 + j] + c.data[8 + j]], [1], 1e-14);
});

test('bnStats: per-channel mean and biased variance over N,H,W', () => {
  // channel 0 holds {1,3,5,7}: mean 4, var (9+1+1+9)/4 = 5; channel 1 holds {0,0,2,-2}: mean 0, var 8/4 = 2
  const x = tensor([2, 2, 1, 2], [1, 3, 0, 0, 5, 7, 2, -2]);
  const s = bnStats(x);
  close(s.mean, [4, 0]);
  close(s.var, [5, 2]);
  const y = bnNormalize(x, s.mean, s.var, 0);
  const r5 = Math.sqrt(5);
  const r2 = Math.sqrt(2);
  close(y.data, [-3 / r5, -1 / r5, 0, 0, 1 / r5, 3 / r5, 2 / r2, -2 / r2], 1e-14);
  // eps enters under the root: (1 - 4) / sqrt(5 + 4)
  close([bnNormalize(x, s.mean, s.var, 4).data[0]], [-1]);
});

test('bnStats on [N,C] reduces over N only', () => {
  const s = bnStats(tensor([2, 2], [1, 10, 3, 30]));
  close(s.mean, [2, 20]);
  close(s.var, [1, 100]);
});

test('linear: y = x W^T + b', () => {
  const y = linear(tensor([2, 2], [1, 2, -1, 0]), tensor([3, 2], [1, 0, 0, 1, 1, 1]), tensor([3], [0, 0, 10]));
  assert.equal(y.shape, [2, 3]);
  close(y.data, [1, 2, 13, -1, 0, 9]);
});

test('mul/add broadcast [N,C] as [N,C,1,1] and [N,1,H,W] over channels', () => {
  const x = tensor([1, 2, 1, 2], [1, 2, 3, 4]);
  close(mul(x, tensor([1, 2], [10, -1])).data, [10, 20, -3, -4]);
  close(add(x, tensor([1, 2], [10, -1])).data, [11, 12, 2, 3]);
  close(mul(x, tensor([1, 1, 1, 2], [2, 0])).data, [2, 0, 6, 0]);
  close(add(tensor([1, 2], [1, 2]), tensor([2, 1], [10, 20])).data, [11, 12, 21, 22]);
  assert.throws(() => add(tensor([2, 3]), tensor([2, 2])), /broadcast/);
});

test('flatten keeps C,H,W order; concat1 joins rows', () => {
  const f = flatten(tensor([2, 2, 1, 1], [1, 2, 3, 4]));
  assert.equal(f.shape, [2, 2]);
  const c = concat1(f, tensor([2, 1], [9, 8]));
  assert.equal(c.shape, [2, 3]);
  close(c.data, [1, 2, 9, 3, 4, 8]);
});

test.run();
