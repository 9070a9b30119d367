// Browser images → size×size pixels, with the browser's own decoder and canvas resampling. The
// Node runtime does this with sharp; here there is no libvips, so decoding (and EXIF orientation,
// colour conversion to sRGB) is whatever createImageBitmap does, and resizing is the canvas's
// high-quality smoothing. The card's policy (fill / cover / contain, background, alpha) is applied
// the same way; only the resampling filter differs (see docs/runtime.md, "Browser").
import type { Preprocessing } from '../card.ts';
import { M2fnInputError } from '../errors.ts';
import { toNCHW, type RawPixels } from '../pixels.ts';

/** What the browser runtime accepts as an image. A string is a URL, fetched (CORS rules apply). */
export type WebImageInput = HTMLImageElement | ImageBitmap | HTMLCanvasElement | OffscreenCanvas | ImageData | Blob | string;

export type WebDecodePreprocessing = Pick<Preprocessing, 'size' | 'resize' | 'background' | 'maxPixels'>;

/** size×size RGBA from the canvas; alpha is 255 everywhere, the image having been flattened. */
export interface WebPixels extends RawPixels {
  data: Uint8ClampedArray;
  channels: 4;
}

// Worker scopes lack the DOM classes, so every instanceof check first asks whether the class exists.
const isInstance = <T>(v: unknown, ctor: string): v is T => {
  const C = (globalThis as Record<string, unknown>)[ctor];
  return typeof C === 'function' && v instanceof (C as new () => unknown);
};

const shorten = (s: string, max = 80) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** How errors name an image: the URL itself, or "image #k (Blob image/png, 1234 bytes)". */
export function describeWebImage(input: unknown, index?: number): string {
  if (typeof input === 'string') return shorten(input, 200);
  const at = `image${index === undefined ? '' : ` #${index}`}`;
  if (isInstance<HTMLImageElement>(input, 'HTMLImageElement')) return `${at} (<img src="${shorten(input.currentSrc || input.src)}">)`;
  if (isInstance<Blob>(input, 'Blob')) return `${at} (Blob${input.type ? ` ${input.type}` : ''}, ${input.size} bytes)`;
  if (isInstance<ImageBitmap>(input, 'ImageBitmap')) return `${at} (ImageBitmap ${input.width}×${input.height})`;
  if (isInstance<HTMLCanvasElement>(input, 'HTMLCanvasElement')) return `${at} (canvas ${input.width}×${input.height})`;
  if (isInstance<OffscreenCanvas>(input, 'OffscreenCanvas')) return `${at} (OffscreenCanvas ${input.width}×${input.height})`;
  if (isInstance<ImageData>(input, 'ImageData')) return `${at} (ImageData ${input.width}×${input.height})`;
  return at;
}

type Fail = (what: string, cause?: unknown) => never;

const reason = (e: unknown) => (e instanceof Error ? e.message || e.name : String(e));

async function bitmapFrom(blob: Blob, fail: Fail): Promise<ImageBitmap> {
  if (blob.size === 0) fail('empty data, not an image');
  // EXIF orientation is applied by default (imageOrientation "from-image"), as sharp's rotate().
  return createImageBitmap(blob).catch((e) => fail(`not a decodable image (${reason(e)})`, e));
}

/** A drawable source and its size; `owned` bitmaps were created here and are closed after use. */
async function sourceOf(input: WebImageInput, fail: Fail): Promise<{ src: CanvasImageSource; width: number; height: number; owned: boolean }> {
  if (typeof input === 'string') {
    if (input === '') return fail('empty URL');
    let res: Response;
    try {
      res = await fetch(input);
    } catch (e) {
      return fail(`cannot fetch image (${reason(e)}; a cross-origin URL needs CORS headers)`, e);
    }
    if (!res.ok) fail(`cannot fetch image: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    const bitmap = await bitmapFrom(await res.blob(), fail);
    return { src: bitmap, width: bitmap.width, height: bitmap.height, owned: true };
  }
  if (isInstance<Blob>(input, 'Blob')) {
    const bitmap = await bitmapFrom(input, fail);
    return { src: bitmap, width: bitmap.width, height: bitmap.height, owned: true };
  }
  if (isInstance<ImageData>(input, 'ImageData')) {
    // ImageData cannot be scaled by drawImage; as a bitmap it can.
    const bitmap = await createImageBitmap(input).catch((e) => fail(`cannot use the ImageData (${reason(e)})`, e));
    return { src: bitmap, width: bitmap.width, height: bitmap.height, owned: true };
  }
  if (isInstance<HTMLImageElement>(input, 'HTMLImageElement')) {
    // A broken or still-loading <img> has no pixels; decode() waits for it, or says why it failed.
    if (!input.complete || input.naturalWidth === 0) {
      await input.decode().catch((e) => fail(`the image element did not load or decode (${reason(e)})`, e));
    }
    // Through a bitmap, as URLs and Blobs go: Chrome draws an <img> directly with another
    // downscaling path, measurably further from sharp's (and from the same file given as a URL).
    const bitmap = await createImageBitmap(input).catch((e) => fail(`cannot use the image element (${reason(e)})`, e));
    return { src: bitmap, width: bitmap.width, height: bitmap.height, owned: true };
  }
  if (isInstance<ImageBitmap>(input, 'ImageBitmap') || isInstance<HTMLCanvasElement>(input, 'HTMLCanvasElement') || isInstance<OffscreenCanvas>(input, 'OffscreenCanvas')) {
    return { src: input, width: input.width, height: input.height, owned: false };
  }
  const got = input === null ? 'null' : typeof input === 'object' ? Object.prototype.toString.call(input) : typeof input;
  return fail(`expected an image URL, Blob, HTMLImageElement, ImageBitmap, canvas or ImageData, got ${got}`);
}

type Ctx2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

function canvas2d(size: number, fail: Fail): Ctx2D {
  const opts: CanvasRenderingContext2DSettings = { willReadFrequently: true, colorSpace: 'srgb' };
  if (typeof OffscreenCanvas === 'function') {
    return new OffscreenCanvas(size, size).getContext('2d', opts) ?? fail('cannot create a 2D OffscreenCanvas context');
  }
  if (typeof document === 'undefined') return fail('this environment has no 2D canvas (neither OffscreenCanvas nor document)');
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  return canvas.getContext('2d', opts) ?? fail('cannot create a 2D canvas context');
}

/**
 * Where the image goes on the size×size canvas under the card's resize policy. The geometry is
 * sharp's (libvips'), so the browser's pixels differ from the Node runtime's by the resampling
 * filter only: cover scales by the smaller shrink factor, rounds the scaled size and crops at
 * ((scaled - size + 1) / 2) rounded down; contain scales by the larger one and centres the
 * rounded size at ((size - scaled) / 2) rounded down, whole pixels so its edges do not blend
 * into the letterbox.
 */
export function placement(width: number, height: number, size: number, resize: Preprocessing['resize']) {
  if (resize === 'fill') return { dx: 0, dy: 0, dw: size, dh: size };
  if (resize === 'cover') {
    const shrink = Math.min(width / size, height / size);
    const left = Math.floor((Math.round(width / shrink) - size + 1) / 2);
    const top = Math.floor((Math.round(height / shrink) - size + 1) / 2);
    // Drawn at its exact scaled size; the canvas clips what overflows.
    return { dx: -left, dy: -top, dw: width / shrink, dh: height / shrink };
  }
  const shrink = Math.max(width / size, height / size);
  const dw = Math.max(1, Math.round(width / shrink));
  const dh = Math.max(1, Math.round(height / shrink));
  return { dx: Math.floor((size - dw) / 2), dy: Math.floor((size - dh) / 2), dw, dh };
}

/**
 * Decodes `input` into `pre.size`² RGBA pixels: drawn onto a canvas filled with
 * `pre.background` (which flattens alpha onto it, and is the letterbox colour of `contain`),
 * placed by `pre.resize`. Images over `pre.maxPixels` are refused — after decoding for URLs and
 * Blobs, since the browser decodes before it says the size. `label` overrides how errors name it.
 */
export async function decodeImageWeb(input: WebImageInput, pre: WebDecodePreprocessing, label = describeWebImage(input)): Promise<WebPixels> {
  const fail: Fail = (what, cause) => {
    throw new M2fnInputError(`${label}: ${what}`, cause === undefined ? undefined : { cause });
  };
  const { src, width, height, owned } = await sourceOf(input, fail);
  try {
    if (!(width > 0 && height > 0)) fail(`image has no pixels (${width}×${height}; a closed ImageBitmap or an empty canvas)`);
    const pixels = width * height;
    if (pixels > pre.maxPixels) {
      fail(`image has too many pixels: ${width}×${height} = ${pixels}, the limit is ${pre.maxPixels} (preprocessing.maxPixels)`);
    }
    const { size } = pre;
    const ctx = canvas2d(size, fail);
    const [r, g, b] = pre.background;
    ctx.fillStyle = `rgb(${r}, ${g}, ${b})`;
    ctx.fillRect(0, 0, size, size);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    const p = placement(width, height, size, pre.resize);
    ctx.drawImage(src, p.dx, p.dy, p.dw, p.dh);
    let data: Uint8ClampedArray;
    try {
      data = ctx.getImageData(0, 0, size, size).data;
    } catch (e) {
      // A cross-origin <img> loaded without CORS taints the canvas.
      return fail(`cannot read the pixels (${reason(e)}); a cross-origin image needs crossOrigin="anonymous" and CORS headers`, e);
    }
    return { data, width: size, height: size, channels: 4 };
  } finally {
    if (owned) (src as ImageBitmap).close();
  }
}

/** decodeImageWeb + toNCHW: one image as the model's normalised [3, size, size] input. */
export async function imageToTensorWeb(
  input: WebImageInput,
  pre: Preprocessing,
  opts: { label?: string; out?: Float32Array; offset?: number } = {},
): Promise<Float32Array> {
  const px = await decodeImageWeb(input, pre, opts.label);
  return toNCHW(px, pre, opts.out, opts.offset);
}
