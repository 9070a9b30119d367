import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { augmentImages, parseAugment, NO_AUGMENT } from '../../tools/train/augment.ts';

// A 3-channel 4×4 image whose value names its place: c·100 + y·10 + x.
const S = 4;
const image = () => Float32Array.from({ length: 3 * S * S }, (_, i) => Math.floor(i / (S * S)) * 100 + Math.floor((i % (S * S)) / S) * 10 + (i % S));
const at = (img: Float32Array, c: number, y: number, x: number) => img[c * S * S + y * S + x];

/** Which (flip, dx, dy) produced `out` from `image()`, by trying every candidate. */
function recover(out: Float32Array, shift: number): { flip: boolean; dx: number; dy: number } {
  const clamp = (v: number) => Math.min(S - 1, Math.max(0, v));
  for (const flip of [false, true])
    for (let dx = -shift; dx <= shift; dx++)
      for (let dy = -shift; dy <= shift; dy++) {
        let ok = true;
        for (let c = 0; c < 3 && ok; c++)
          for (let y = 0; y < S && ok; y++)
            for (let x = 0; x < S && ok; x++) {
              const sx = clamp(x - dx);
              ok = at(out, c, y, x) === c * 100 + clamp(y - dy) * 10 + (flip ? S - 1 - sx : sx);
            }
        if (ok) return { flip, dx, dy };
      }
  throw new Error('output is no flip/shift of the input');
}

test('parseAugment reads flip and shiftN, refuses anything else', () => {
  assert.equal(parseAugment('none'), NO_AUGMENT);
  assert.equal(parseAugment('flip'), { flip: true, shift: 0 });
  assert.equal(parseAugment('flip,shift4'), { flip: true, shift: 4 });
  assert.equal(parseAugment('shift2'), { flip: false, shift: 2 });
  assert.throws(() => parseAugment('rotate'), /"rotate" is not "flip" or "shiftN"/);
  assert.throws(() => parseAugment('shift'), /"shift" is not/);
});

test('no augmentation leaves the batch untouched', () => {
  const img = image();
  augmentImages(img, 1, S, NO_AUGMENT, 1, new Float32Array(3 * S * S));
  assert.equal(Array.from(img), Array.from(image()));
});

test('a flip mirrors every row of every channel', () => {
  // Over 64 seeds a fair coin comes up both ways; each output is the input or its mirror.
  const seen = new Set<boolean>();
  for (let seed = 0; seed < 64; seed++) {
    const img = image();
    augmentImages(img, 1, S, { flip: true, shift: 0 }, seed, new Float32Array(3 * S * S));
    const mirrored = at(img, 0, 0, 0) === 3;
    seen.add(mirrored);
    for (let c = 0; c < 3; c++) for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
      assert.is(at(img, c, y, x), c * 100 + y * 10 + (mirrored ? S - 1 - x : x));
    }
  }
  assert.equal([...seen].sort(), [false, true]);
});

test('a shift moves the image and repeats its edge; shifts cover the range; the seed fixes them', () => {
  const shifts = new Set<string>();
  const scratch = new Float32Array(3 * S * S);
  for (let seed = 0; seed < 200; seed++) {
    const batch = new Float32Array(2 * 3 * S * S);
    batch.set(image(), 0);
    batch.set(image(), 3 * S * S);
    augmentImages(batch, 2, S, { flip: true, shift: 1 }, seed, scratch);
    const first = recover(batch.subarray(0, 3 * S * S), 1);
    recover(batch.subarray(3 * S * S), 1);
    shifts.add(`${first.dx},${first.dy}`);
    const again = new Float32Array(2 * 3 * S * S);
    again.set(image(), 0);
    again.set(image(), 3 * S * S);
    augmentImages(again, 2, S, { flip: true, shift: 1 }, seed, scratch);
    assert.equal(Array.from(again), Array.from(batch));
  }
  assert.is(shifts.size, 9);
  // Hand-checked case: shifted right by one with no flip, column 0 repeats the old column 0.
  const out = new Float32Array(3 * S * S);
  for (let seed = 0; ; seed++) {
    out.set(image());
    augmentImages(out, 1, S, { flip: true, shift: 1 }, seed, scratch);
    const r = recover(out, 1);
    if (r.flip || r.dx !== 1 || r.dy !== 0) continue;
    assert.equal(Array.from(out.subarray(0, S * 2)), [0, 0, 1, 2, 10, 10, 11, 12]);
    break;
  }
});

test('a shift as large as the image is refused', () => {
  assert.throws(() => augmentImages(image(), 1, S, { flip: false, shift: 4 }, 0, new Float32Array(3 * S * S)), /shift of 4 px does not fit a 4-px image/);
});

test.run();
