// Image files and buffers → size×size RGB bytes, with sharp (libvips). Everything that depends on
// the image format (decoding, EXIF orientation, alpha, colour space) is settled here, so the
// pixel maths in pixels.ts sees plain sRGB bytes.
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { Preprocessing } from './card.ts';
import { M2fnInputError } from './errors.ts';
import { toNCHW, type RawPixels } from './pixels.ts';

/** A file path, or the encoded bytes of an image (JPEG, PNG, WebP, GIF, AVIF, TIFF, …). */
export type ImageInput = string | Buffer | Uint8Array;

/** Decoded, oriented, flattened and resized: interleaved sRGB bytes, size×size×3. */
export interface DecodedImage extends RawPixels {
  data: Uint8Array;
  channels: 3;
}

export type DecodePreprocessing = Pick<Preprocessing, 'size' | 'resize' | 'background' | 'maxPixels'>;

/** How errors name an input: the path itself, or "image #k (Buffer, 1234 bytes)". */
export function describeImage(input: ImageInput, index?: number): string {
  if (typeof input === 'string') return input;
  const kind = Buffer.isBuffer(input) ? 'Buffer' : input.constructor?.name ?? 'bytes';
  return `image${index === undefined ? '' : ` #${index}`} (${kind}, ${input.byteLength} bytes)`;
}

const FIT = { fill: 'fill', cover: 'cover', contain: 'contain' } as const;

/**
 * Decodes `input` into `pre.size`² interleaved RGB bytes: EXIF orientation applied, alpha
 * flattened onto `pre.background`, then resized by `pre.resize` — `fill` stretches, `cover`
 * scales to cover and crops the centre, `contain` scales to fit and letterboxes on the
 * background. Animated images give their first frame. Images over `pre.maxPixels` are refused
 * before their pixels are decoded (a small file can expand to gigabytes). `label` overrides how
 * errors name the input.
 */
export async function decodeImage(input: ImageInput, pre: DecodePreprocessing, label = describeImage(input)): Promise<DecodedImage> {
  const fail = (what: string, cause?: unknown): never => {
    throw new M2fnInputError(`${label}: ${what}`, cause === undefined ? undefined : { cause });
  };
  let src: Buffer;
  if (typeof input === 'string') {
    // Read the bytes ourselves rather than hand sharp the path: one decode path for files and
    // buffers, and the read error itself says missing / directory / unreadable (no stat race).
    src = await readFile(input).catch((e: NodeJS.ErrnoException) =>
      fail(e.code === 'ENOENT' ? 'image file not found' : e.code === 'EISDIR' ? 'not a file' : `cannot read image file (${e.message})`, e),
    );
    if (src.byteLength === 0) fail('empty file, not an image');
  } else if (!(input instanceof Uint8Array)) {
    return fail(`expected a file path, Buffer or Uint8Array, got ${input === null ? 'null' : typeof input}`);
  } else {
    if (input.byteLength === 0) fail('empty buffer, not an image');
    src = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  }

  // The header read does not decode pixels, so the limit is enforced before any large allocation;
  // libvips' own limitInputPixels below is the backstop.
  const meta = await sharp(src, { limitInputPixels: false })
    .metadata()
    .catch((e: Error) => fail(`not a decodable image (${e.message})`, e));
  const { width, height } = meta;
  if (!width || !height) return fail(`not a decodable image (no dimensions in its header, format ${meta.format})`);
  const pixels = width * height;
  if (pixels > pre.maxPixels) {
    fail(`image has too many pixels: ${width}×${height} = ${pixels}, the limit is ${pre.maxPixels} (preprocessing.maxPixels)`);
  }

  const [r, g, b] = pre.background;
  const bg = { r, g, b, alpha: 1 };
  const { data, info } = await sharp(src, { limitInputPixels: pre.maxPixels })
    .rotate()
    .flatten({ background: bg })
    .resize(pre.size, pre.size, { fit: FIT[pre.resize], position: 'centre', background: bg })
    .removeAlpha()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true })
    .catch((e: Error) => fail(`not a decodable image (${e.message})`, e));
  if (info.channels !== 3 || info.width !== pre.size || info.height !== pre.size) {
    fail(`decoded to ${info.width}×${info.height}×${info.channels}, expected ${pre.size}×${pre.size}×3`);
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: 3 };
}

/** decodeImage + toNCHW: one image as the model's normalised [3, size, size] input. */
export async function imageToTensor(
  input: ImageInput,
  pre: Preprocessing,
  opts: { label?: string; out?: Float32Array; offset?: number } = {},
): Promise<Float32Array> {
  const px = await decodeImage(input, pre, opts.label);
  return toNCHW(px, pre, opts.out, opts.offset);
}
