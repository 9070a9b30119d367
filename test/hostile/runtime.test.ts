// Regression tests for the runtime and its extractors under hostile input (issue 19 items 5, 6, 8
// and 9): values that overflow float32, NaN pixels and outputs, special files as image paths, SVG
// that pulls in a sibling file, and caller mistakes that used to surface as TypeErrors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { load, M2fnInputError, encodeAttributes, HashingTextEncoder, decodeImage, dominantColour, type Scorer } from '../../runtime/index.ts';
import { createOcr } from '../../runtime/ocr.ts';
import { TINY_SCHEMA, writeTinyModel } from '../runtime/tiny-model.ts';
import { sandbox, thrown, within } from './sandbox.ts';

const box = sandbox('runtime');
let scorer: Scorer;
const attrs = { colour: 'red', title: 'x', price: 12 };
test.before(async () => {
  scorer = await load((await writeTinyModel(join(box.dir, 'tiny'))).dir);
});
test.after(async () => {
  await scorer.close();
  box.cleanup();
});

const inputError = async (f: () => unknown, pattern: RegExp, ms = 5_000) => {
  const e = await within(ms, pattern.source, thrown(f));
  assert.instance(e, M2fnInputError, `${e.name}: ${e.message}`);
  assert.match(e.message, pattern);
  return e;
};

test('item 5: a numeric attribute that overflows float32 is an input error, not a NaN score', async () => {
  await inputError(() => encodeAttributes(TINY_SCHEMA, { ...attrs, price: 1e308 }, new HashingTextEncoder({ dim: 4 })), /"price".*1e\+308.*float32/);
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).png().toBuffer();
  await inputError(() => scorer.score(png, { ...attrs, price: 1e308 }), /"price"/);
  await inputError(() => scorer.score(png, { ...attrs, price: -2e39 }), /"price"/);
});

test('item 5: scoreTensors with NaN or infinite inputs is refused; a non-finite output is an error, never a score', async () => {
  const n = 2;
  const image = new Float32Array(n * 3 * 8 * 8);
  const aux = new Float32Array(n * 8);
  image[70] = Number.NaN;
  await inputError(() => scorer.scoreTensors(image, aux, n), /image tensor.*not finite.*item #0/);
  image[70] = 0;
  aux[9] = Number.POSITIVE_INFINITY;
  await inputError(() => scorer.scoreTensors(image, aux, n), /aux vector.*not finite.*item #1/);
  aux[9] = 0;
  // Finite inputs whose sum overflows float32 inside the model: the output check catches it.
  image.fill(3e38);
  const e = await thrown(() => scorer.scoreTensors(image, aux, n));
  assert.match(e.message, /output "ctr" of item #0 is (Infinity|NaN)/);
});

test('item 6: /dev/zero, a FIFO and an oversized file as image paths are refused at once, without reading them', async () => {
  await inputError(() => scorer.score('/dev/zero', attrs), /\/dev\/zero: not a regular file/, 2_000);
  const fifo = join(box.dir, 'pipe.png');
  execFileSync('mkfifo', [fifo]);
  await inputError(() => scorer.score(fifo, attrs), /pipe\.png: not a regular file \(a FIFO\)/, 2_000);
  await inputError(() => dominantColour(fifo), /pipe\.png: not a regular file/, 2_000);
  const huge = join(box.dir, 'huge.png');
  closeSync(openSync(huge, 'w'));
  execFileSync('truncate', ['-s', '4G', huge]); // sparse: no disk used
  await inputError(() => scorer.score(huge, attrs), /huge\.png: file is 4294967296 bytes, more than the \d+-byte limit/, 2_000);
});

test('item 8: SVG is not an accepted image — from a path or bytes, in the scorer and in the extractors', async () => {
  await sharp({ create: { width: 64, height: 64, channels: 3, background: '#ff0000' } }).png().toFile(join(box.dir, 'sibling.png'));
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64"><image href="sibling.png" xlink:href="sibling.png" width="64" height="64"/></svg>`;
  const path = join(box.dir, 'evil.svg');
  writeFileSync(path, svg);
  const pre = scorer.card.preprocessing;
  for (const input of [path, Buffer.from(svg)]) {
    await inputError(() => decodeImage(input, pre), /SVG images are not accepted/);
    await inputError(() => dominantColour(input), /SVG images are not accepted/);
  }
  await inputError(() => scorer.score(path, attrs), /SVG images are not accepted/);
  const ocr = await createOcr();
  try {
    await inputError(() => ocr.read(path), /evil\.svg: SVG images are not accepted/);
  } finally {
    await ocr.close();
  }
});

test('item 9: caller mistakes are input errors naming the problem, not TypeErrors', async () => {
  for (const bad of [null, undefined, 42, {}, [1, 2]]) {
    await inputError(() => scorer.score(bad as never, attrs), /expected a file path, Buffer or Uint8Array/);
    await inputError(() => dominantColour(bad as never), /expected a file path, Buffer or Uint8Array/);
  }
  await inputError(() => scorer.scoreMany([{ image: null as never, attributes: attrs }]), /image #0.*expected a file path/);
  await inputError(() => scorer.scoreMany(null as never), /scoreMany expects an array/);
  await inputError(() => scorer.scoreTensors(null as never, null, 1), /image tensor must be a Float32Array/);
});

test('resource bounds: batch size, concurrency, threads and text length have limits with clear errors', async () => {
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).png().toBuffer();
  const items = [{ image: png, attributes: attrs }];
  await inputError(() => scorer.scoreMany(items, { batchSize: 1e9 }), /batchSize must be an integer in \[1, 4096\]/);
  await inputError(() => scorer.scoreMany(items, { concurrency: 10_000 }), /concurrency must be an integer in \[1, 64\]/);
  await inputError(() => scorer.score(png, { ...attrs, title: 'x'.repeat(100_001) }), /text attribute "title" is 100001 characters, more than 100000/);
  const e = await thrown(() => load(join(box.dir, 'tiny'), { threads: 100_000 }));
  assert.match(e.message, /threads must be an integer in \[1, 1024\]/);
});

test.run();
