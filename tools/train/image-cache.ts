// Decode-once cache of preprocessed images for training. Decoding and resizing a JPEG costs far
// more than reading its 3·224·224 floats back (≈600 KB), and an epoch touches every image, so each
// image is decoded once with the runtime's own preprocessing (runtime/image-node.ts — the model is
// trained on exactly what it will see at inference) and stored as one row of a flat float32 file:
//
//   <dir>/images-<key>.f32    row i = the [3, size, size] NCHW tensor of images[i], little-endian
//
// <key> is a sha256 over the image paths in order, each file's size and mtime, the preprocessing
// (JSON with sorted keys) and the libvips version, so a changed, added, removed or reordered image,
// another preprocessing, or a new decoder gives another file and a rebuild. The file is built as a
// `.images-<key>.f32.tmp-<pid>-<random>` sibling and renamed into place only once every image is
// written and fsynced: a killed build leaves at worst that temp file (safe to delete; nothing reads
// it), never a half cache under the real name. Old caches for other keys are not deleted here
// (train and validation sets may share `dir`); remove `images-*.f32` files by hand to reclaim space.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { endianness } from 'node:os';
import { isAbsolute, join } from 'node:path';
import sharp from 'sharp';
import { produceAtomic } from '../../runtime/atomic-write.ts';
import type { Preprocessing } from '../../runtime/card.ts';
import { imageToTensor } from '../../runtime/image-node.ts';

export interface ImageCache {
  count: number;
  floatsPerImage: number;
  /** fills `out` (length batch·floatsPerImage) with the rows `indices` */
  readBatch(indices: ArrayLike<number>, out: Float32Array): void;
  close(): void;
}

export interface ImageCacheOptions {
  dir: string;
  /** absolute paths */
  images: string[];
  preprocessing: Preprocessing;
  /** Called while the cache is being built (not when an existing one is opened). */
  onProgress?: (done: number, total: number) => void;
}

/** Bumped when the row layout or the key recipe changes. */
const CACHE_VERSION = 1;
/** sharp's decode and resize run on the libuv pool (4 threads by default); 3 leaves one free. */
const CONCURRENCY = 3;

/** The cache file for these images and preprocessing (stats every image; does not build). */
export function imageCachePath(opts: Pick<ImageCacheOptions, 'dir' | 'images' | 'preprocessing'>): string {
  const { images, preprocessing } = opts;
  if (!Array.isArray(images)) throw new Error('image cache: "images" must be an array of absolute paths');
  const h = createHash('sha256');
  const pre = preprocessing as unknown as Record<string, unknown>;
  h.update(JSON.stringify({ v: CACHE_VERSION, vips: sharp.versions.vips, pre: JSON.stringify(pre, Object.keys(pre).sort()) }));
  for (const [i, path] of images.entries()) {
    if (typeof path !== 'string' || !isAbsolute(path)) throw new Error(`image cache: image #${i} ${JSON.stringify(path)} is not an absolute path`);
    let size: number;
    let mtimeMs: number;
    try {
      ({ size, mtimeMs } = statSync(path));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(`${path}: ${code === 'ENOENT' ? 'image file not found' : `cannot stat image file (${(e as Error).message})`}`, { cause: e });
    }
    // NUL cannot occur in a path, so the fields cannot run into each other.
    h.update(`\0${path}\0${size}\0${mtimeMs}`);
  }
  return join(opts.dir, `images-${h.digest('hex').slice(0, 32)}.f32`);
}

function checkPreprocessing(pre: Preprocessing): void {
  if (!pre || !Number.isSafeInteger(pre.size) || pre.size < 1) throw new Error(`image cache: preprocessing.size must be a positive integer, got ${pre?.size}`);
  if (pre.layout !== 'NCHW') throw new Error(`image cache: preprocessing.layout must be "NCHW", got ${JSON.stringify(pre.layout)}`);
}

/**
 * Opens the cache for `images`, building it first if there is none for their current contents.
 * Decoding errors (a missing or undecodable image) are the runtime's, naming the image path.
 */
export async function openImageCache(opts: ImageCacheOptions): Promise<ImageCache> {
  // Rows are Float32Array memory as is; a big-endian host would read them byte-swapped.
  if (endianness() !== 'LE') throw new Error('image cache: big-endian hosts are not supported');
  checkPreprocessing(opts.preprocessing);
  const { images, preprocessing: pre } = opts;
  const floatsPerImage = 3 * pre.size * pre.size;
  const rowBytes = 4 * floatsPerImage;
  const path = imageCachePath(opts);
  const expectedBytes = images.length * rowBytes;

  // A file of the wrong length cannot come from a finished build; rebuild rather than trust it.
  const complete = existsSync(path) && statSync(path).size === expectedBytes;
  if (!complete) await build(path, opts, rowBytes);
  return openRows(path, images.length, floatsPerImage);
}

async function build(path: string, opts: ImageCacheOptions, rowBytes: number): Promise<void> {
  const { images, preprocessing: pre, onProgress } = opts;
  await produceAtomic(path, async (tmp) => {
    const fh = await open(tmp, 'w');
    try {
      const total = images.length;
      let next = 0;
      let done = 0;
      let failure: unknown = null;
      onProgress?.(0, total);
      const worker = async () => {
        // One row buffer per worker, reused: imageToTensor writes into it, then it goes to disk.
        const row = new Float32Array(rowBytes / 4);
        const bytes = new Uint8Array(row.buffer);
        while (failure === null && next < total) {
          const i = next++;
          try {
            await imageToTensor(images[i], pre, { out: row });
            let written = 0;
            while (written < rowBytes) {
              const r = await fh.write(bytes, written, rowBytes - written, i * rowBytes + written);
              written += r.bytesWritten;
            }
          } catch (e) {
            failure ??= e;
            return;
          }
          done++;
          onProgress?.(done, total);
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, total) }, worker));
      if (failure !== null) throw failure;
    } finally {
      await fh.close();
    }
  });
}

function openRows(path: string, count: number, floatsPerImage: number): ImageCache {
  let fd = openSync(path, 'r');
  const rowBytes = 4 * floatsPerImage;
  // readBatch is called with the same batch buffer every step; keep its byte view.
  let lastOut: Float32Array | null = null;
  let lastView: Uint8Array | null = null;

  const readRun = (view: Uint8Array, at: number, length: number, position: number) => {
    let got = 0;
    while (got < length) {
      const n = readSync(fd, view, at + got, length - got, position + got);
      if (n === 0) throw new Error(`image cache ${path}: unexpected end of file at byte ${position + got} (was the file truncated after it was built?)`);
      got += n;
    }
  };

  return {
    count,
    floatsPerImage,
    readBatch(indices, out) {
      if (fd < 0) throw new Error(`image cache ${path}: readBatch after close()`);
      const n = indices.length;
      if (out.length !== n * floatsPerImage) {
        throw new Error(`image cache: readBatch output has ${out.length} floats, expected ${n} × ${floatsPerImage} = ${n * floatsPerImage}`);
      }
      if (out !== lastOut) {
        lastOut = out;
        lastView = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      }
      const view = lastView!;
      let i = 0;
      while (i < n) {
        const first = indices[i];
        if (!Number.isInteger(first) || first < 0 || first >= count) {
          throw new Error(`image cache: readBatch index #${i} is ${first}, outside 0..${count - 1}`);
        }
        // Consecutive indices (evaluation order) become one read.
        let run = 1;
        while (i + run < n && first + run < count && indices[i + run] === first + run) run++;
        readRun(view, i * rowBytes, run * rowBytes, first * rowBytes);
        i += run;
      }
    },
    close() {
      if (fd >= 0) closeSync(fd);
      fd = -1;
      lastOut = lastView = null;
    },
  };
}
