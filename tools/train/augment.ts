// Training-time image augmentation: a random horizontal flip and a random shift of a few pixels
// (edges replicated), drawn per image from a seed so that a resumed run sees the same batches.
// Both keep what an ad's appeal depends on (colours, contrast, text size and band, logo shape,
// style); they only move it, which a network trained on ~1,500 images otherwise has to learn from
// too few examples.
import { rng } from '../../runtime/random.ts';

export interface Augment {
  /** Mirror left–right with probability ½. */
  flip: boolean;
  /** Shift by up to this many pixels in each direction (0: none). */
  shift: number;
}

export const NO_AUGMENT: Augment = { flip: false, shift: 0 };

export function augmenting(a: Augment): boolean {
  return a.flip || a.shift > 0;
}

/** Parses `--augment`: "none", or a comma list of "flip" and "shiftN" (e.g. "flip,shift4"). */
export function parseAugment(spec: string): Augment {
  const a: Augment = { ...NO_AUGMENT };
  if (spec === 'none') return a;
  for (const part of spec.split(',')) {
    const shift = /^shift(\d+)$/.exec(part);
    if (part === 'flip') a.flip = true;
    else if (shift) a.shift = Number(shift[1]);
    else throw new Error(`--augment: "${part}" is not "flip" or "shiftN" (e.g. --augment flip,shift4, or none)`);
  }
  return a;
}

/**
 * Augments `n` NCHW images of side `size` in place. `scratch` holds one image
 * (3·size² floats).
 */
export function augmentImages(images: Float32Array, n: number, size: number, a: Augment, seed: number, scratch: Float32Array): void {
  if (!augmenting(a)) return;
  if (a.shift >= size) throw new Error(`augment: a shift of ${a.shift} px does not fit a ${size}-px image`);
  const plane = size * size;
  const r = rng(seed);
  for (let i = 0; i < n; i++) {
    const flip = a.flip && r() < 0.5;
    const dx = a.shift ? Math.floor(r() * (2 * a.shift + 1)) - a.shift : 0;
    const dy = a.shift ? Math.floor(r() * (2 * a.shift + 1)) - a.shift : 0;
    if (!flip && dx === 0 && dy === 0) continue;
    const img = images.subarray(i * 3 * plane, (i + 1) * 3 * plane);
    scratch.set(img);
    const clamp = (v: number) => (v < 0 ? 0 : v >= size ? size - 1 : v);
    for (let c = 0; c < 3; c++) {
      const p = c * plane;
      for (let y = 0; y < size; y++) {
        const row = p + clamp(y - dy) * size;
        for (let x = 0; x < size; x++) {
          const sx = clamp(x - dx);
          img[p + y * size + x] = scratch[row + (flip ? size - 1 - sx : sx)];
        }
      }
    }
  }
}
