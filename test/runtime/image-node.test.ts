import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeImage, describeImage, imageToTensor, type DecodePreprocessing } from '../../runtime/image-node.ts';
import { M2fnInputError } from '../../runtime/errors.ts';

type RGB = [number, number, number];
type RGBA = [number, number, number, number];
const RED: RGB = [255, 0, 0];
const GREEN: RGB = [0, 255, 0];
const BLUE: RGB = [0, 0, 255];
const WHITE: RGB = [255, 255, 255];
const BG: RGB = [10, 20, 30];

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'm2fn-image-'));
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An image whose pixel (x, y) is paint(x, y), as a sharp pipeline ready for any encoder. */
function paint(width: number, height: number, fn: (x: number, y: number) => RGB | RGBA) {
  const channels = fn(0, 0).length as 3 | 4;
  const raw = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw.set(fn(x, y), (y * width + x) * channels);
  return sharp(raw, { raw: { width, height, channels } });
}

const pre = (size: number, resize: DecodePreprocessing['resize'] = 'fill'): DecodePreprocessing => ({ size, resize, background: BG, maxPixels: 40_000_000 });

function pixelAt(img: { data: Uint8Array; width: number }, x: number, y: number): RGB {
  const i = (y * img.width + x) * 3;
  return [img.data[i], img.data[i + 1], img.data[i + 2]];
}

function near(img: { data: Uint8Array; width: number }, x: number, y: number, want: RGB, tol: number, what = '') {
  const got = pixelAt(img, x, y);
  assert.ok(got.every((v, c) => Math.abs(v - want[c]) <= tol), `${what} pixel (${x},${y}) = ${got}, expected ${want} ±${tol}`);
}

async function rejects(fn: () => Promise<unknown>, ...parts: string[]) {
  try {
    await fn();
  } catch (e) {
    assert.instance(e, M2fnInputError);
    const msg = (e as Error).message;
    for (const p of parts) assert.ok(msg.includes(p), `message ${JSON.stringify(msg)} lacks ${JSON.stringify(p)}`);
    return;
  }
  assert.unreachable('expected an error');
}

// 32×32, quadrants red | green over blue | white.
const quadrants = () => paint(32, 32, (x, y) => (y < 16 ? (x < 16 ? RED : GREEN) : x < 16 ? BLUE : WHITE));

const FORMATS: [string, (s: Sharp) => Sharp, number][] = [
  ['jpeg', (s) => s.jpeg({ quality: 95 }), 12],
  ['png', (s) => s.png(), 0],
  ['webp', (s) => s.webp({ lossless: true }), 0],
  ['gif', (s) => s.gif(), 0],
  ['avif', (s) => s.avif({ quality: 90 }), 12],
  ['tiff', (s) => s.tiff({ compression: 'lzw' }), 0],
];

for (const [ext, encode, tol] of FORMATS) {
  test(`${ext} from a file decodes to the painted pixels`, async () => {
    const file = join(dir, `quadrants.${ext}`);
    await encode(quadrants()).toFile(file);
    const img = await decodeImage(file, pre(32));
    assert.is(img.width, 32);
    assert.is(img.height, 32);
    assert.is(img.data.length, 32 * 32 * 3);
    near(img, 8, 8, RED, tol, ext);
    near(img, 24, 8, GREEN, tol, ext);
    near(img, 8, 24, BLUE, tol, ext);
    near(img, 24, 24, WHITE, tol, ext);
  });
}

test('Buffer and Uint8Array inputs decode like the file', async () => {
  const png = await quadrants().png().toBuffer();
  const fromBuffer = await decodeImage(png, pre(32));
  const fromBytes = await decodeImage(new Uint8Array(png), pre(32));
  assert.equal(Array.from(fromBytes.data), Array.from(fromBuffer.data));
  near(fromBuffer, 24, 8, GREEN, 0);
});

test('greyscale and 16-bit images come out as 8-bit RGB', async () => {
  const grey = await sharp(Buffer.alloc(64, 100), { raw: { width: 8, height: 8, channels: 1 } }).toColourspace('b-w').png().toBuffer();
  assert.is((await sharp(grey).metadata()).channels, 1);
  near(await decodeImage(grey, pre(8)), 3, 3, [100, 100, 100], 0, 'grey');
  const deep = await paint(8, 8, () => [200, 50, 25]).toColourspace('rgb16').png().toBuffer();
  assert.is((await sharp(deep).metadata()).depth, 'ushort');
  near(await decodeImage(deep, pre(8)), 3, 3, [200, 50, 25], 1, '16-bit');
});

test('EXIF orientation 6 is applied (the image comes out rotated 90° clockwise)', async () => {
  // Stored 16×8: left half red, right half blue. Displayed (rotated 90° CW) it is 8×16 with the
  // red half on top; without the rotation, fill would give red on the left instead.
  const jpeg = await paint(16, 8, (x) => (x < 8 ? RED : BLUE)).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
  assert.is((await sharp(jpeg).metadata()).orientation, 6);
  const img = await decodeImage(jpeg, pre(8));
  near(img, 0, 1, RED, 16, 'top-left');
  near(img, 7, 1, RED, 16, 'top-right');
  near(img, 0, 6, BLUE, 16, 'bottom-left');
  near(img, 7, 6, BLUE, 16, 'bottom-right');
});

test('alpha is flattened onto preprocessing.background', async () => {
  // Left half fully transparent, right half red at alpha 128.
  const png = await paint(8, 8, (x) => (x < 4 ? [0, 0, 0, 0] : [255, 0, 0, 128])).png().toBuffer();
  const img = await decodeImage(png, pre(8));
  near(img, 1, 4, BG, 0, 'transparent');
  const a = 128 / 255;
  const blend = BG.map((b, c) => RED[c] * a + b * (1 - a)) as RGB; // ≈ 133, 10, 15
  near(img, 6, 4, blend, 2, 'half alpha');
});

// 60×20 in three vertical bands: red x<15, green 15≤x<45, blue x≥45.
const bands = () => paint(60, 20, (x) => (x < 15 ? RED : x < 45 ? GREEN : BLUE)).png().toBuffer();

test('resize fill stretches the whole image to size×size', async () => {
  const img = await decodeImage(await bands(), pre(10, 'fill'));
  // Horizontal scale 6: column 0 samples source x 0..6 (red), 5 → 30..36 (green), 9 → 54..60 (blue);
  // every row is image, no letterbox.
  for (const y of [0, 5, 9]) {
    near(img, 0, y, RED, 8, 'fill');
    near(img, 5, y, GREEN, 8, 'fill');
    near(img, 9, y, BLUE, 8, 'fill');
  }
});

test('resize cover scales to cover and keeps the centre', async () => {
  const img = await decodeImage(await bands(), pre(10, 'cover'));
  // Scale 1/2 → 30×10, centre crop of source x 20..40: inside the green band, so all green.
  for (let y = 0; y < 10; y += 3) for (let x = 0; x < 10; x++) near(img, x, y, GREEN, 8, 'cover');
});

test('resize contain letterboxes onto the background', async () => {
  const img = await decodeImage(await bands(), pre(10, 'contain'));
  // Scale 1/6 → 10×3 (10×3.33 rounded) centred: background above and below, bands in rows 3..6.
  for (const x of [0, 5, 9]) {
    near(img, x, 0, BG, 0, 'top border');
    near(img, x, 9, BG, 0, 'bottom border');
  }
  near(img, 0, 5, RED, 8, 'contain');
  near(img, 5, 5, GREEN, 8, 'contain');
  near(img, 9, 5, BLUE, 8, 'contain');
});

test('imageToTensor normalises with the card mean/std into NCHW', async () => {
  const png = await paint(2, 2, () => [255, 51, 0]).png().toBuffer();
  const t = await imageToTensor(png, { ...pre(2), mean: [0.5, 0.1, 0], std: [0.5, 0.1, 0.5], layout: 'NCHW' });
  // R (1-.5)/.5 = 1; G (.2-.1)/.1 = 1; B (0-0)/.5 = 0 — four pixels per plane
  assert.equal(Array.from(t, (v) => Math.round(v * 1e5) / 1e5), [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
});

test('missing file: error names the path and says not found', async () => {
  const file = join(dir, 'nope.png');
  await rejects(() => decodeImage(file, pre(8)), file, 'not found');
});

test('a file rewritten in place is decoded afresh', async () => {
  const file = join(dir, 'rewritten.png');
  await paint(8, 8, () => RED).png().toFile(file);
  near(await decodeImage(file, pre(8)), 4, 4, RED, 0, 'first');
  await paint(8, 8, () => BLUE).png().toFile(file);
  near(await decodeImage(file, pre(8)), 4, 4, BLUE, 0, 'rewritten');
});

test('a directory or an empty file is not an image', async () => {
  await rejects(() => decodeImage(dir, pre(8)), dir, 'not a regular file (a directory)');
  const empty = join(dir, 'empty.png');
  await writeFile(empty, '');
  await rejects(() => decodeImage(empty, pre(8)), empty, 'empty file');
});

test('corrupt file: error names the path and says not decodable', async () => {
  const file = join(dir, 'corrupt.jpg');
  await writeFile(file, Buffer.from('this is not a jpeg at all, just text'));
  await rejects(() => decodeImage(file, pre(8)), file, 'not a decodable image');
});

test('truncated PNG (valid header, missing data) is not decodable', async () => {
  const png = await quadrants().png().toBuffer();
  const file = join(dir, 'truncated.png');
  await writeFile(file, png.subarray(0, 60));
  await rejects(() => decodeImage(file, pre(8)), file, 'not a decodable image');
});

test('bad Buffer: error names it by index, type and size', async () => {
  assert.is(describeImage(Buffer.alloc(1234), 7), 'image #7 (Buffer, 1234 bytes)');
  await rejects(() => decodeImage(Buffer.from('nope'), pre(8), describeImage(Buffer.from('nope'), 3)), 'image #3 (Buffer, 4 bytes)', 'not a decodable image');
  await rejects(() => decodeImage(new Uint8Array(0), pre(8)), 'image (Uint8Array, 0 bytes)', 'empty');
});

test('100-megapixel image is refused with its pixel count and the limit', async () => {
  const file = join(dir, 'huge.png');
  await sharp({ create: { width: 10000, height: 10000, channels: 3, background: { r: 0, g: 0, b: 0 } } }).png({ compressionLevel: 1 }).toFile(file);
  const t0 = Date.now();
  await rejects(() => decodeImage(file, pre(8)), file, 'too many pixels', '10000×10000 = 100000000', 'limit is 40000000');
  // Refused from the header: decoding 300 MB of pixels first would take seconds.
  assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
});

test.run();
