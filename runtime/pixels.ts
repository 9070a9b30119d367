// Interleaved 8-bit pixels → the model's normalised float32 NCHW input. Pure array code (no Node
// APIs) so the browser runtime can feed it canvas ImageData.
import type { Preprocessing } from './card.ts';

export interface RawPixels {
  /** Interleaved [H, W, C] bytes, C = 3 (RGB) or 4 (RGBA). */
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 3 | 4;
}

/**
 * Writes one image as planes R, G, B of `(p / 255 - mean[c]) / std[c]` into `out` starting at
 * `offset` (so a batch is filled in place), and returns `out`. RGBA input is composited onto
 * `pre.background` first — the Node decoder flattens already, but canvas data arrives with alpha.
 */
export function toNCHW(
  img: RawPixels,
  pre: Pick<Preprocessing, 'mean' | 'std' | 'background'>,
  out: Float32Array = new Float32Array(3 * img.width * img.height),
  offset = 0,
): Float32Array {
  const { data, width, height, channels } = img;
  const plane = width * height;
  if (channels !== 3 && channels !== 4) throw new Error(`pixels: expected 3 or 4 channels, got ${channels}`);
  if (data.length !== plane * channels) {
    throw new Error(`pixels: ${width}×${height}×${channels} needs ${plane * channels} bytes, got ${data.length}`);
  }
  if (offset + 3 * plane > out.length) {
    throw new Error(`pixels: output has ${out.length} floats, too few for an image of ${3 * plane} at offset ${offset}`);
  }
  // Per-channel affine map folded into one multiply-add: (p/255 - m)/s = p*scale + shift.
  const scale = pre.std.map((s) => 1 / (255 * s));
  const shift = pre.mean.map((m, c) => -m / pre.std[c]);
  const bg = pre.background;
  for (let i = 0; i < plane; i++) {
    const p = i * channels;
    const a = channels === 4 ? data[p + 3] / 255 : 1;
    for (let c = 0; c < 3; c++) {
      const v = a === 1 ? data[p + c] : data[p + c] * a + bg[c] * (1 - a);
      out[offset + c * plane + i] = v * scale[c] + shift[c];
    }
  }
  return out;
}
