// Heat-map overlays of explanation maps on their image (sharp): a map is scaled by its own
// maximum to [0, 1], upsampled to the display size, coloured from blue (0) through green to red
// (1), and blended in proportion to its value, so unexplained regions keep the original pixels.
import sharp from 'sharp';
import type { ImageInput } from '../../runtime/image-node.ts';

/** Colour of a value in [0, 1]: blue → cyan → green → yellow → red. */
export function heat(v: number): [number, number, number] {
  const c = (x: number) => Math.round(255 * Math.max(0, Math.min(1, x)));
  return [c(1.5 - Math.abs(4 * v - 3)), c(1.5 - Math.abs(4 * v - 2)), c(1.5 - Math.abs(4 * v - 1))];
}

/** The map scaled to [0, 1] by its maximum (all zeros stay zeros). */
export function normalizeMap(map: ArrayLike<number>): Float32Array {
  let max = 0;
  for (let i = 0; i < map.length; i++) max = Math.max(max, map[i]);
  return Float32Array.from(map, (v) => (max > 0 ? Math.max(0, v) / max : 0));
}

/** RGB pixels of `image` at size × size, stretched as the model's `fill` preprocessing does. */
export async function basePixels(image: ImageInput, size: number): Promise<Buffer> {
  return sharp(image as string | Buffer).rotate().flatten({ background: '#ffffff' }).resize(size, size, { fit: 'fill' }).removeAlpha().raw().toBuffer();
}

/** PNG of `map` [h, w] over `base` (size × size RGB). */
export async function overlayPng(base: Buffer, size: number, map: ArrayLike<number>, h: number, w: number): Promise<Buffer> {
  const norm = normalizeMap(map);
  const grey = Buffer.from(Array.from(norm, (v) => Math.round(255 * v)));
  // sharp may hand back more than one channel for a one-channel input: read with its stride.
  const { data: up, info } = await sharp(grey, { raw: { width: w, height: h, channels: 1 } }).resize(size, size, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer({ resolveWithObject: true });
  const stride = info.channels;
  const out = Buffer.alloc(size * size * 3);
  for (let p = 0; p < size * size; p++) {
    const v = up[p * stride] / 255;
    const [r, g, b] = heat(v);
    const a = 0.65 * v;
    out[3 * p] = Math.round((1 - a) * base[3 * p] + a * r);
    out[3 * p + 1] = Math.round((1 - a) * base[3 * p + 1] + a * g);
    out[3 * p + 2] = Math.round((1 - a) * base[3 * p + 2] + a * b);
  }
  return sharp(out, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
}

const esc = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Panels side by side, each titled (like the paper's Fig. 7). */
export async function panelPng(panels: { title: string; png: Buffer }[], size: number): Promise<Buffer> {
  const pad = 8;
  const titleH = 22;
  const W = panels.length * (size + pad) + pad;
  const H = size + titleH + 2 * pad;
  const titles = panels.map((p, i) => `<text x="${pad + i * (size + pad) + size / 2}" y="${pad + 15}" font-family="sans-serif" font-size="14" text-anchor="middle">${esc(p.title)}</text>`).join('');
  const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="${W}" height="${H}" fill="white"/>${titles}</svg>`);
  return sharp(svg)
    .composite(panels.map((p, i) => ({ input: p.png, left: pad + i * (size + pad), top: pad + titleH })))
    .png()
    .toBuffer();
}
