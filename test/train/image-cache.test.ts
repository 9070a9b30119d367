// Image cache: rows equal the runtime's own imageToTensor, reuse without re-decoding, rebuilds on
// change, clear errors for bad images, and no half-built file ever under the real name.
import { mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Preprocessing } from '../../runtime/card.ts';
import { imageToTensor } from '../../runtime/image-node.ts';
import { imageCachePath, openImageCache } from '../../tools/train/image-cache.ts';

let root = '';
let imgDir = '';
const images: string[] = [];
const PRE: Preprocessing = {
  size: 12, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], resize: 'cover', layout: 'NCHW', background: [255, 255, 255], maxPixels: 1_000_000,
};
const FPI = 3 * 12 * 12;

/** A w×h image whose pixels depend on (x, y, seed), so rows differ from each other. */
async function makeImage(path: string, w: number, h: number, seed: number, format: 'png' | 'jpeg' | 'webp', alpha = false): Promise<void> {
  const ch = alpha ? 4 : 3;
  const raw = Buffer.alloc(w * h * ch);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = (y * w + x) * ch;
      raw[p] = (x * 17 + seed * 40) & 255;
      raw[p + 1] = (y * 23 + seed * 90) & 255;
      raw[p + 2] = ((x ^ y) * 11 + seed) & 255;
      if (alpha) raw[p + 3] = (x * 9) & 255;
    }
  }
  await sharp(raw, { raw: { width: w, height: h, channels: ch } })[format]().toFile(path);
}

test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'm2fn-imgcache-'));
  imgDir = join(root, 'img');
  mkdirSync(imgDir);
  const specs: [number, number, 'png' | 'jpeg' | 'webp', boolean][] = [[20, 30, 'png', false], [40, 16, 'jpeg', false], [12, 12, 'png', true], [33, 33, 'webp', false], [8, 50, 'jpeg', false]];
  for (const [i, [w, h, f, a]] of specs.entries()) {
    const p = join(imgDir, `img${i}.${f === 'jpeg' ? 'jpg' : f}`);
    await makeImage(p, w, h, i, f, a);
    images.push(p);
  }
});
test.after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function direct(path: string): Promise<Float32Array> {
  return imageToTensor(path, PRE);
}

const cacheFiles = (dir: string) => readdirSync(dir).filter((f) => /^images-.*\.f32$/.test(f));
const tmpFiles = (dir: string) => readdirSync(dir).filter((f) => f.includes('.tmp-'));

test('rows equal a direct imageToTensor, in the order of the indices asked for', async () => {
  const dir = join(root, 'c1');
  const progress: [number, number][] = [];
  const cache = await openImageCache({ dir, images, preprocessing: PRE, onProgress: (d, t) => progress.push([d, t]) });
  assert.is(cache.count, 5);
  assert.is(cache.floatsPerImage, FPI);
  assert.equal(progress[0], [0, 5]);
  assert.equal(progress[progress.length - 1], [5, 5]);
  assert.is(progress.length, 6);
  const idx = [3, 0, 1, 2, 4, 4]; // a run (0, 1, 2) read in one go, a repeat, and a jump back
  const out = new Float32Array(idx.length * FPI);
  cache.readBatch(idx, out);
  for (const [k, i] of idx.entries()) {
    const want = await direct(images[i]);
    const got = out.subarray(k * FPI, (k + 1) * FPI);
    assert.ok(got.every((v, j) => v === want[j]), `row ${k} (image ${i}) differs from imageToTensor`);
  }
  // Rows really differ (the test images are not all alike).
  assert.not.ok(out.subarray(0, FPI).every((v, j) => v === out[FPI + j]));
  // Reusing the same output buffer, and an output that is a view at an offset.
  const big = new Float32Array(FPI * 3);
  const view = big.subarray(FPI, FPI * 3);
  cache.readBatch(Int32Array.of(2, 3), view);
  const want2 = await direct(images[2]);
  assert.ok(view.subarray(0, FPI).every((v, j) => v === want2[j]));
  assert.ok(big.subarray(0, FPI).every((v) => v === 0), 'wrote outside the view');
  cache.close();
  assert.equal(cacheFiles(dir).length, 1);
  assert.equal(tmpFiles(dir), []);
  assert.is(statSync(join(dir, cacheFiles(dir)[0])).size, 5 * FPI * 4);
});

test('a second open reuses the file without decoding', async () => {
  const dir = join(root, 'c2');
  (await openImageCache({ dir, images, preprocessing: PRE })).close();
  const file = imageCachePath({ dir, images, preprocessing: PRE });
  const before = statSync(file).mtimeMs;
  await new Promise((r) => setTimeout(r, 20));
  let calls = 0;
  const cache = await openImageCache({ dir, images, preprocessing: PRE, onProgress: () => calls++ });
  assert.is(calls, 0, 'onProgress was called: the cache was rebuilt');
  assert.is(statSync(file).mtimeMs, before);
  const out = new Float32Array(FPI);
  cache.readBatch([4], out);
  const want = await direct(images[4]);
  assert.ok(out.every((v, j) => v === want[j]));
  cache.close();
});

test('changing an image, its mtime, the list or the preprocessing rebuilds', async () => {
  const dir = join(root, 'c3');
  const imgs = [...images];
  const changed = join(imgDir, 'changing.png');
  await makeImage(changed, 10, 10, 7, 'png');
  imgs[1] = changed;
  const first = await openImageCache({ dir, images: imgs, preprocessing: PRE });
  const old = new Float32Array(FPI);
  first.readBatch([1], old);
  first.close();

  await makeImage(changed, 10, 10, 8, 'png'); // new content (same size in pixels)
  let calls = 0;
  const second = await openImageCache({ dir, images: imgs, preprocessing: PRE, onProgress: () => calls++ });
  assert.ok(calls > 0, 'not rebuilt after the image changed');
  const now = new Float32Array(FPI);
  second.readBatch([1], now);
  second.close();
  const want = await direct(changed);
  assert.ok(now.every((v, j) => v === want[j]), 'stale row after rebuild');
  assert.not.ok(now.every((v, j) => v === old[j]), 'the new image decodes like the old one; the test proves nothing');

  const p1 = imageCachePath({ dir, images: imgs, preprocessing: PRE });
  utimesSync(changed, new Date(), new Date(Date.now() + 5000)); // touched, same bytes
  assert.is.not(imageCachePath({ dir, images: imgs, preprocessing: PRE }), p1);
  assert.is.not(imageCachePath({ dir, images: imgs.slice(0, 4), preprocessing: PRE }), imageCachePath({ dir, images: imgs, preprocessing: PRE }));
  assert.is.not(imageCachePath({ dir, images: [...imgs].reverse(), preprocessing: PRE }), imageCachePath({ dir, images: imgs, preprocessing: PRE }));
  assert.is.not(imageCachePath({ dir, images: imgs, preprocessing: { ...PRE, resize: 'fill' } }), imageCachePath({ dir, images: imgs, preprocessing: PRE }));
  // Key order in the preprocessing object does not matter.
  const reordered = Object.fromEntries(Object.entries(PRE).reverse()) as unknown as Preprocessing;
  assert.is(imageCachePath({ dir, images: imgs, preprocessing: reordered }), imageCachePath({ dir, images: imgs, preprocessing: PRE }));
});

test('a file of the wrong length under the cache name is rebuilt, not trusted', async () => {
  const dir = join(root, 'c4');
  (await openImageCache({ dir, images, preprocessing: PRE })).close();
  const file = imageCachePath({ dir, images, preprocessing: PRE });
  writeFileSync(file, Buffer.alloc(FPI * 4 * 2)); // as if half-written
  let calls = 0;
  const cache = await openImageCache({ dir, images, preprocessing: PRE, onProgress: () => calls++ });
  assert.ok(calls > 0);
  const out = new Float32Array(FPI);
  cache.readBatch([0], out);
  const want = await direct(images[0]);
  assert.ok(out.every((v, j) => v === want[j]));
  cache.close();
});

test('a corrupt or missing image fails the build with its path, leaving no cache file', async () => {
  const dir = join(root, 'c5');
  const bad = join(imgDir, 'corrupt.jpg');
  writeFileSync(bad, Buffer.from('this is not a jpeg at all, just text'));
  try {
    await openImageCache({ dir, images: [...images, bad], preprocessing: PRE });
    assert.unreachable('built a cache over a corrupt image');
  } catch (e) {
    assert.match((e as Error).message, bad);
    assert.match((e as Error).message, /not a decodable image/);
  }
  assert.equal(cacheFiles(dir), []);
  assert.equal(tmpFiles(dir), []);
  const missing = join(imgDir, 'gone.png');
  try {
    await openImageCache({ dir, images: [missing], preprocessing: PRE });
    assert.unreachable('accepted a missing image');
  } catch (e) {
    assert.match((e as Error).message, `${missing}: image file not found`);
  }
  try {
    await openImageCache({ dir, images: ['relative/a.png'], preprocessing: PRE });
    assert.unreachable('accepted a relative path');
  } catch (e) {
    assert.match((e as Error).message, /image #0 "relative\/a.png" is not an absolute path/);
  }
});

test('readBatch checks its arguments and refuses after close', async () => {
  const cache = await openImageCache({ dir: join(root, 'c1'), images, preprocessing: PRE });
  const out = new Float32Array(2 * FPI);
  const expectThrow = (fn: () => void, re: RegExp) => {
    try {
      fn();
    } catch (e) {
      assert.match((e as Error).message, re);
      return;
    }
    assert.unreachable(`no error matching ${re}`);
  };
  expectThrow(() => cache.readBatch([0], out), new RegExp(`output has ${2 * FPI} floats, expected 1 × ${FPI}`));
  expectThrow(() => cache.readBatch([4, 5], out), /index #1 is 5, outside 0\.\.4/);
  expectThrow(() => cache.readBatch([-1, 0], out), /index #0 is -1/);
  expectThrow(() => cache.readBatch([0.5, 0], out), /index #0 is 0.5/);
  cache.close();
  expectThrow(() => cache.readBatch([0, 1], out), /readBatch after close/);
});

test.run();
