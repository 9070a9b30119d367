// Image files and buffers → size×size RGB bytes, with sharp (libvips). Everything that depends on
// the image format (decoding, EXIF orientation, alpha, colour space) is settled here, so the
// pixel maths in pixels.ts sees plain sRGB bytes.
import sharp, { type Metadata } from 'sharp';
import type { Preprocessing } from './card.ts';
import { M2fnInputError } from './errors.ts';
import { readRegularFile } from './files.ts';
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
  const at = `image${index === undefined ? '' : ` #${index}`}`;
  // A caller's mistake (null, a number, an object) is named too, not a TypeError here.
  if (!(input instanceof Uint8Array)) return `${at} (${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input})`;
  const kind = Buffer.isBuffer(input) ? 'Buffer' : input.constructor?.name ?? 'bytes';
  return `${at} (${kind}, ${input.byteLength} bytes)`;
}

/** The extractors' pixel limit when no card gives one (the cards' default). */
export const DEFAULT_MAX_PIXELS = 40_000_000;

/**
 * The largest image file read for a pixel limit: 8 bytes a pixel (16-bit RGBA, uncompressed) and
 * room for metadata. No real encoding of an allowed image is bigger, so a larger file is refused
 * before a byte is read — `/dev/zero` or a huge sparse file cannot eat memory.
 */
export const maxImageFileBytes = (maxPixels: number) => maxPixels * 8 + (16 << 20);

/** Raster formats accepted as input (sharp's names). SVG is not among them: see rasterSource. */
const ACCEPTED_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'avif', 'heif', 'tiff'];

/** Reads an image file through readRegularFile, its problems as input errors naming `label`. */
export function readImageFile(path: string, maxBytes: number, label = path): Promise<Buffer> {
  return readRegularFile(path, maxBytes, (what, cause) => {
    throw new M2fnInputError(`${label}: ${what === 'not found' ? 'image file not found' : what}`, cause === undefined ? undefined : { cause });
  }, 'an image');
}

/**
 * The encoded bytes of `input` with their header read and checked: a path is read with
 * readImageFile, bytes are taken as they are; the format must be an accepted raster format and
 * the image at most `maxPixels`. Every decoder (the scorer, the extractors, prepare) starts here.
 * SVG is refused everywhere: it is not an ad-image format, and an SVG can reference other files
 * (`<image href>`), which librsvg resolves against a file's directory.
 */
export async function rasterSource(input: ImageInput, maxPixels: number, label = describeImage(input)): Promise<{ src: Buffer; meta: Metadata }> {
  const fail = (what: string, cause?: unknown): never => {
    throw new M2fnInputError(`${label}: ${what}`, cause === undefined ? undefined : { cause });
  };
  let src: Buffer;
  if (typeof input === 'string') src = await readImageFile(input, maxImageFileBytes(maxPixels), label);
  else if (!(input instanceof Uint8Array)) return fail(`expected a file path, Buffer or Uint8Array, got ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}`);
  else {
    if (input.byteLength === 0) fail('empty buffer, not an image');
    src = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  }
  // The header read does not decode pixels, so the limit is enforced before any large allocation;
  // libvips' own limitInputPixels in the decoders is the backstop.
  const meta = await sharp(src, { limitInputPixels: false })
    .metadata()
    .catch((e: Error) => fail(`not a decodable image (${e.message})`, e));
  if (meta.format === 'svg') fail('SVG images are not accepted (an SVG can load other files); convert it to PNG first');
  if (!ACCEPTED_FORMATS.includes(String(meta.format))) fail(`image format "${meta.format}" is not accepted (accepted: ${ACCEPTED_FORMATS.join(', ')})`);
  const { width, height } = meta;
  if (!width || !height) return fail(`not a decodable image (no dimensions in its header, format ${meta.format})`);
  const pixels = width * height;
  if (pixels > maxPixels) fail(`image has too many pixels: ${width}×${height} = ${pixels}, the limit is ${maxPixels} (preprocessing.maxPixels)`);
  return { src, meta };
}

const FIT = { fill: 'fill', cover: 'cover', contain: 'contain' } as const;

/**
 * Decodes `input` into `pre.size`² interleaved RGB bytes: EXIF orientation applied, alpha
 * flattened onto `pre.background`, then resized by `pre.resize` — `fill` stretches, `cover`
 * scales to cover and crops the centre, `contain` scales to fit and letterboxes on the
 * background. Animated images give their first frame. Images over `pre.maxPixels` are refused
 * before their pixels are decoded (a small file can expand to gigabytes); a path must be a regular
 * file, and SVG is refused (rasterSource). `label` overrides how errors name the input.
 */
export async function decodeImage(input: ImageInput, pre: DecodePreprocessing, label = describeImage(input)): Promise<DecodedImage> {
  const fail = (what: string, cause?: unknown): never => {
    throw new M2fnInputError(`${label}: ${what}`, cause === undefined ? undefined : { cause });
  };
  const { src } = await rasterSource(input, pre.maxPixels, label);

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
