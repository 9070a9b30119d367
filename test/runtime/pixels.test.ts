import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toNCHW } from '../../runtime/pixels.ts';

const pre = { mean: [0.5, 0.25, 0] as [number, number, number], std: [0.5, 0.25, 1] as [number, number, number], background: [255, 0, 51] as [number, number, number] };
const close = (a: ArrayLike<number>, b: number[], tol = 1e-6) => {
  assert.is(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) < tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

test('RGB 2×1 → planes, (p/255 - mean)/std', () => {
  // pixel 0 = (255, 0, 51), pixel 1 = (0, 255, 102)
  const out = toNCHW({ data: Uint8Array.from([255, 0, 51, 0, 255, 102]), width: 2, height: 1, channels: 3 }, pre);
  // R: (1-.5)/.5=1, (0-.5)/.5=-1; G: (0-.25)/.25=-1, (1-.25)/.25=3; B: .2, .4
  close(out, [1, -1, -1, 3, 0.2, 0.4]);
});

test('RGBA composites onto the background', () => {
  // opaque white, fully transparent (→ background 255,0,51), half alpha black (→ ~128,0,25.6)
  const a = 128 / 255;
  const out = toNCHW({ data: Uint8Array.from([255, 255, 255, 255, 9, 9, 9, 0, 0, 0, 0, 128]), width: 3, height: 1, channels: 4 }, pre);
  const r = (255 * (1 - a)) / 255;
  const b = (51 * (1 - a)) / 255;
  close(out, [
    (1 - 0.5) / 0.5, (1 - 0.5) / 0.5, (r - 0.5) / 0.5,
    (1 - 0.25) / 0.25, (0 - 0.25) / 0.25, (0 - 0.25) / 0.25,
    1, 0.2, b,
  ], 1e-5);
});

test('writes at an offset into a batch buffer', () => {
  const batch = new Float32Array(9).fill(7);
  toNCHW({ data: Uint8Array.from([0, 0, 0]), width: 1, height: 1, channels: 3 }, pre, batch, 3);
  close(batch, [7, 7, 7, -1, -1, 0, 7, 7, 7]);
});

test('size mismatches are errors', () => {
  assert.throws(() => toNCHW({ data: new Uint8Array(5), width: 2, height: 1, channels: 3 }, pre), /2×1×3 needs 6 bytes, got 5/);
  assert.throws(() => toNCHW({ data: new Uint8Array(6), width: 2, height: 1, channels: 3 }, pre, new Float32Array(6), 2), /too few/);
});

test.run();
