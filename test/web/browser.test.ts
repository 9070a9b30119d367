// The browser runtime in a real browser (Debian's Chromium through playwright-core), checked
// against the Node runtime on the same small M2FN model built with the project's graph builder:
// - the same preprocessed tensors give the same scores (only ORT's wasm vs native kernels differ);
// - the browser's own decoding and resizing stay within a stated distance of sharp's, in pixels
//   and in scores;
// - errors read as they do in Node.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeInference } from '../../graph/export/inference.ts';
import { writeExplain } from '../../graph/export/explain.ts';
import { defaultConfig } from '../../graph/models/config.ts';
import { buildModel } from '../../graph/models/m2fn.ts';
import { quantizeModelDir } from '../../tools/quantize/model-dir.ts';
import { testDataset } from '../train/world.ts';
import { load, encodeAttributes, HashingTextEncoder, type Scorer, type Score } from '../../runtime/index.ts';
import { decodeImage, imageToTensor } from '../../runtime/image-node.ts';
import { toNCHW } from '../../runtime/pixels.ts';
import type * as M2fnWeb from '../../runtime/web.ts';
import { assertChromium, CHROMIUM, FLAGS } from './chromium.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** Relative agreement when the browser gets the exact tensors Node made (wasm vs native float32 kernels). */
const TENSOR_RTOL = 1e-5;
/**
 * The int8 model, wasm vs native integer kernels on the same tensors: the integer sums are exact,
 * so only the float parts (attention, fusion, head) differ, as in TENSOR_RTOL.
 */
const INT8_RTOL = 1e-5;
/**
 * Through the browser's decoder and canvas resampling (Skia's filter, not libvips' lanczos3): the
 * score difference as a multiple of how far Node's score moves when sharp resamples bilinearly
 * instead (see bilinearScore). Measured: 0.6–2.4 for PNG, 3.1 for JPEG (whose decoders differ too).
 */
const IMAGE_FRACTION = 5;
/**
 * Per-channel 8-bit levels, browser canvas vs sharp, over the whole size×size image. Measured on
 * the test image: mean 2.5–3.9, max 32–67 (sharp lanczos3 vs sharp bilinear: mean 2.6).
 */
const PIXEL_MEAN_TOL = 6;
const PIXEL_MAX_TOL = 100;

const ATTRS = {
  gender: 1, age: 3, month: 11, weekday: 5, hour: 20, position: 2, cate2: 1, cate3: 9,
  title: 'Build your kingdom', desc: 'Free to play strategy', ocr: 'PLAY NOW', domcol: 'blue',
};
const ATTRS_2 = { ...ATTRS, gender: 2, age: 7, hour: 3, title: 'Match three gems', ocr: '', domcol: 'red' };

declare global {
  interface Window {
    m2fn: typeof M2fnWeb;
    m2fnReady?: boolean;
  }
}

interface Env {
  server: Server;
  base: string;
  context: BrowserContext;
  page: Page;
  dir: string;
  m2fn: Scorer;
  nima: Scorer;
  pageErrors: string[];
}

// ---------------------------------------------------------------------------------------------
// Fixtures: models, images, a static server, the browser. Built once, by the first test that asks.

/** A 240×180 RGBA test "ad": smooth colour fields, hard-edged blocks, a half-transparent band. */
async function testImage(): Promise<{ png: Buffer; jpeg: Buffer; raw: Buffer }> {
  const w = 240, h = 180;
  const raw = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = (y * w + x) * 4;
      let r = 128 + 100 * Math.sin(x / 23), g = 128 + 100 * Math.cos(y / 17), b = 128 + 90 * Math.sin((x + y) / 31);
      if (x > 30 && x < 90 && y > 40 && y < 120) [r, g, b] = [230, 40, 30];
      if ((x - 170) ** 2 + (y - 90) ** 2 < 35 ** 2) [r, g, b] = [20, 30, 200];
      if (y > 140 && ((x >> 3) & 1)) [r, g, b] = [250, 250, 250];
      raw[p] = r; raw[p + 1] = g; raw[p + 2] = b;
      raw[p + 3] = y < 20 ? Math.round((255 * x) / w) : 255;
    }
  }
  const img = () => sharp(raw, { raw: { width: w, height: h, channels: 4 } });
  return { png: await img().png().toBuffer(), jpeg: await img().flatten({ background: '#ffffff' }).jpeg({ quality: 92 }).toBuffer(), raw };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.map': 'application/json',
  '.wasm': 'application/wasm', '.json': 'application/json', '.onnx': 'application/octet-stream',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.txt': 'text/plain',
};

/** Serves URL prefixes from directories; anything else is a 404. */
function serve(routes: Record<string, string>, page: string): Promise<Server> {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const send = (status: number, body: string | Buffer, type = 'text/plain') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (path === '/' || path === '/page.html') return send(200, page, 'text/html');
    const prefix = Object.keys(routes).find((p) => path.startsWith(p));
    if (!prefix) return send(404, 'not found');
    const file = normalize(join(routes[prefix], path.slice(prefix.length)));
    if (!file.startsWith(routes[prefix])) return send(403, 'forbidden');
    try {
      send(200, await readFile(file), TYPES[extname(file)] ?? 'application/octet-stream');
    } catch {
      send(404, 'not found');
    }
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

// The bundle imports onnxruntime-web by its bare name, as an app's bundler would resolve it; here
// an import map points it at the package's ESM build, and wasmPaths at the .wasm files beside it.
const PAGE = `<!doctype html><meta charset="utf-8"><title>m2fn web test</title>
<script>
  // tsx compiles this test with esbuild's keepNames, which wraps the page.evaluate callbacks'
  // inner functions in __name(...); the page needs that helper to run them.
  window.__name = (f) => f;
</script>
<script type="importmap">{ "imports": { "onnxruntime-web": "/ort/ort.min.mjs" } }</script>
<script type="module">
  import * as m2fn from '/dist/m2fn-web.js';
  window.m2fn = m2fn;
  window.m2fnReady = true;
</script>
<img id="ad" src="/img/ad.png">`;

let envPromise: Promise<Env> | null = null;
const env = () => (envPromise ??= setup());

async function setup(): Promise<Env> {
  assertChromium();
  const build = spawnSync('npm', ['run', '--silent', 'build:web'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build:web failed (${build.status}): ${build.stderr}`);

  const dir = await mkdtemp(join(tmpdir(), 'm2fn-web-'));
  const size = 64;
  const m2fnModel = buildModel({ ...defaultConfig('m2fn'), size, width: 0.125, headHidden: [16], cbnHidden: 8, attHidden: 8, fuseDim: 8 });
  await writeInference(join(dir, 'm2fn'), m2fnModel);
  await writeExplain(join(dir, 'm2fn'), m2fnModel);
  const nimaModel = buildModel({ ...defaultConfig('nima'), size, width: 0.125, headHidden: [16] });
  await writeInference(join(dir, 'nima'), nimaModel);
  // A directory whose card belongs to another model: the sha256 check must catch it.
  await mkdir(join(dir, 'mismatch'));
  await writeFile(join(dir, 'mismatch', 'inference.onnx'), await readFile(join(dir, 'nima', 'inference.onnx')));
  await writeFile(join(dir, 'mismatch', 'inference.card.json'), await readFile(join(dir, 'm2fn', 'inference.card.json')));

  const images = join(dir, 'img');
  await mkdir(images);
  const { png, jpeg } = await testImage();
  await writeFile(join(images, 'ad.png'), png);
  await writeFile(join(images, 'ad.jpg'), jpeg);
  await writeFile(join(images, 'not-an-image.png'), 'this is text, not a PNG');

  const server = await serve(
    {
      '/ort/': join(ROOT, 'node_modules/onnxruntime-web/dist/'),
      '/dist/': join(ROOT, 'dist/web/'),
      '/models/': dir + '/',
      '/img/': images + '/',
    },
    PAGE,
  );
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: CHROMIUM, headless: true, args: FLAGS });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${base}/page.html`);
  await page.waitForFunction(() => window.m2fnReady === true, null, { timeout: 10_000 }).catch(() => {
    throw new Error(`the bundle did not load in the page: ${pageErrors.join('; ') || 'no page error reported'}`);
  });
  const m2fn = await load(join(dir, 'm2fn'));
  const nima = await load(join(dir, 'nima'));
  return { server, base, context, page, dir, m2fn, nima, pageErrors };
}

test.after(async () => {
  if (measured.length) console.log(`\n  ${measured.join('\n  ')}`);
  if (!envPromise) return;
  const e = await envPromise.catch(() => null);
  if (!e) return;
  await e.m2fn.close();
  await e.nima.close();
  await e.context.close();
  await new Promise((ok) => e.server.close(ok));
  await rm(e.dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Helpers

const WASM = { wasmPaths: '/ort/', threads: 1 };

const valueOf = (s: Score) => ('ctr' in s ? s.ctr : s.mean);

function close(actual: number, expected: number, rtol: number, what: string) {
  const rel = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-6);
  assert.ok(rel <= rtol, `${what}: browser ${actual}, node ${expected}, relative difference ${rel.toExponential(2)} > ${rtol}`);
  return rel;
}

function closeScores(browser: Score, node: Score, rtol: number, what: string): number {
  if ('ctr' in node) {
    assert.ok('ctr' in browser, `${what}: browser score ${JSON.stringify(browser)} has no ctr`);
    return close((browser as { ctr: number }).ctr, node.ctr, rtol, what);
  }
  assert.ok('distribution' in browser, `${what}: browser score ${JSON.stringify(browser)} has no distribution`);
  const b = browser as typeof node;
  assert.is(b.distribution.length, node.distribution.length);
  let worst = Math.max(close(b.mean, node.mean, rtol, `${what} mean`), close(b.std, node.std, rtol, `${what} std`));
  node.distribution.forEach((p, i) => (worst = Math.max(worst, close(b.distribution[i], p, rtol, `${what} p[${i}]`))));
  return worst;
}

/**
 * Node's score with sharp resampling bilinearly instead of its default lanczos3: the yardstick for
 * the image path. A random-weight model reacts to images in no meaningful way, so a tolerance
 * relative to the score itself would say nothing; how far a change of resampling filter within
 * sharp moves the score is the scale the browser's filter difference lives on.
 */
async function bilinearScore(scorer: Scorer, path: string, attrs: Record<string, unknown> | null): Promise<Score> {
  const pre = scorer.card.preprocessing;
  const [r, g, b] = pre.background;
  const bg = { r, g, b, alpha: 1 };
  const { data } = await sharp(path)
    .flatten({ background: bg })
    .resize(pre.size, pre.size, { fit: pre.resize, background: bg, kernel: 'linear' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const image = toNCHW({ data, width: pre.size, height: pre.size, channels: 3 }, pre);
  const aux = attrs && scorer.card.auxSchema ? await encodeAttributes(scorer.card.auxSchema, attrs, new HashingTextEncoder({ dim: 768 })) : null;
  return (await scorer.scoreTensors(image, aux, 1))[0];
}

/** |browser − node| / |node − node with bilinear resampling|, asserted at most IMAGE_FRACTION. */
function imageCloseness(browser: Score, node: Score, bilinear: Score, what: string): number {
  const change = Math.abs(valueOf(node) - valueOf(bilinear));
  // Far above the wasm-vs-native noise of the tensor path, or the ratio would measure that noise.
  assert.ok(change > 10 * Math.abs(valueOf(node)) * TENSOR_RTOL, `${what}: the filter change should move the score (it moved ${change})`);
  const f = Math.abs(valueOf(browser) - valueOf(node)) / change;
  assert.ok(
    f <= IMAGE_FRACTION,
    `${what}: browser ${valueOf(browser)}, node ${valueOf(node)}: ${f.toFixed(2)} × the lanczos3 → bilinear change ${change.toExponential(2)} > ${IMAGE_FRACTION}`,
  );
  return f;
}

const measured: string[] = [];

// ---------------------------------------------------------------------------------------------

test('chromium, the bundle and both runtimes are ready', async () => {
  const e = await env();
  const loaded = await e.page.evaluate(async (o) => {
    const s = await window.m2fn.loadWeb({ modelUrl: '/models/m2fn/' }, o);
    const r = { ep: s.ep, model: s.card.model, size: s.card.preprocessing.size };
    await s.close();
    return r;
  }, WASM);
  assert.equal(loaded, { ep: 'wasm', model: e.m2fn.card.model, size: 64 });
  assert.equal(e.pageErrors, []);
});

test('tensor path: the same preprocessed tensors give the Node scores (regression and distribution)', async () => {
  const e = await env();
  const pre = e.m2fn.card.preprocessing;
  const encoder = new HashingTextEncoder({ dim: 768 });
  const images = [await imageToTensor(join(e.dir, 'img/ad.png'), pre), await imageToTensor(join(e.dir, 'img/ad.jpg'), pre)];
  const image = new Float32Array(images.length * images[0].length);
  images.forEach((t, i) => image.set(t, i * t.length));
  const auxRows = [await encodeAttributes(e.m2fn.card.auxSchema!, ATTRS, encoder), await encodeAttributes(e.m2fn.card.auxSchema!, ATTRS_2, encoder)];
  const aux = new Float32Array(auxRows.length * auxRows[0].length);
  auxRows.forEach((t, i) => aux.set(t, i * t.length));
  const node = await e.m2fn.scoreTensors(image, aux, 2);
  const nodeNima = await e.nima.scoreTensors(image, null, 2);

  const browser = await e.page.evaluate(async ({ image, aux, attrs, o }) => {
    const s = await window.m2fn.loadWeb({ modelUrl: '/models/m2fn/inference.onnx' }, o);
    const nima = await window.m2fn.loadWeb({ modelUrl: '/models/nima/inference.onnx', cardUrl: '/models/nima/inference.card.json' }, o);
    // The browser's own attribute encoding, to compare with Node's vectors.
    const enc = new window.m2fn.HashingTextEncoder({ dim: 768 });
    const browserAux = await window.m2fn.encodeAttributesBatch(s.card.auxSchema!, attrs, enc);
    const r = {
      scores: await s.scoreTensors(Float32Array.from(image), Float32Array.from(aux), 2),
      nima: await nima.scoreTensors(Float32Array.from(image), null, 2),
      aux: Array.from(browserAux),
    };
    await s.close();
    await nima.close();
    return r;
  }, { image: Array.from(image), aux: Array.from(aux), attrs: [ATTRS, ATTRS_2], o: WASM });

  let worst = 0;
  node.forEach((n, i) => (worst = Math.max(worst, closeScores(browser.scores[i], n, TENSOR_RTOL, `m2fn item ${i}`))));
  nodeNima.forEach((n, i) => (worst = Math.max(worst, closeScores(browser.nima[i], n, TENSOR_RTOL, `nima item ${i}`))));
  assert.equal(browser.aux, Array.from(aux), 'the browser encodes the attributes to the same aux vectors');
  // The two items score apart by far more than the tolerance, so the agreement is not vacuous.
  const spread = Math.abs(valueOf(node[0]) - valueOf(node[1])) / Math.abs(valueOf(node[0]));
  assert.ok(spread > 100 * TENSOR_RTOL, `items should score apart (relative spread ${spread})`);
  measured.push(`tensor path: worst relative difference ${worst.toExponential(2)} (tolerance ${TENSOR_RTOL}; items differ by ${spread.toExponential(2)})`);
});

test('already-sized pixels: the browser pipeline without resampling matches Node', async () => {
  // sharp's 64×64 output handed to the browser as ImageData: drawn 1:1 on the canvas, so only
  // the canvas round trip, toNCHW and the browser's attribute encoding are in play.
  const e = await env();
  const px = await decodeImage(join(e.dir, 'img/ad.png'), e.m2fn.card.preprocessing);
  const node = await e.m2fn.score(join(e.dir, 'img/ad.png'), ATTRS);
  const browser = await e.page.evaluate(async ({ rgb, size, attrs, o }) => {
    const rgba = new Uint8ClampedArray(size * size * 4);
    for (let i = 0; i < size * size; i++) {
      rgba.set(rgb.slice(i * 3, i * 3 + 3), i * 4);
      rgba[i * 4 + 3] = 255;
    }
    const s = await window.m2fn.loadWeb({ modelUrl: '/models/m2fn/' }, o);
    const score = await s.score(new ImageData(rgba, size, size), attrs);
    await s.close();
    return score;
  }, { rgb: Array.from(px.data), size: px.width, attrs: ATTRS, o: WASM });
  const rel = closeScores(browser, node, TENSOR_RTOL, 'ImageData 64×64');
  measured.push(`pre-sized ImageData: relative difference ${rel.toExponential(2)}`);
});

test('explain graph: the browser gives Node\'s attention weights and Grad-CAM maps for the same pixels', async () => {
  const e = await env();
  const px = await decodeImage(join(e.dir, 'img/ad.png'), e.m2fn.card.preprocessing);
  const explainer = await load(join(e.dir, 'm2fn', 'explain.onnx'));
  const node = await explainer.explain(join(e.dir, 'img/ad.png'), ATTRS);
  await explainer.close();
  const browser = await e.page.evaluate(async ({ rgb, size, attrs, o }) => {
    const rgba = new Uint8ClampedArray(size * size * 4);
    for (let i = 0; i < size * size; i++) {
      rgba.set(rgb.slice(i * 3, i * 3 + 3), i * 4);
      rgba[i * 4 + 3] = 255;
    }
    const s = await window.m2fn.loadWeb({ modelUrl: '/models/m2fn/explain.onnx' }, o);
    const ex = await s.explain(new ImageData(rgba, size, size), attrs);
    await s.close();
    return { score: ex.score, attention: ex.attention && Array.from(ex.attention.weights), gradcam: ex.gradcam.map((g) => ({ stage: g.stage, map: Array.from(g.map) })) };
  }, { rgb: Array.from(px.data), size: px.width, attrs: ATTRS, o: WASM });
  closeScores(browser.score, node.score, TENSOR_RTOL, 'explain score');
  assert.ok(browser.attention && node.attention);
  let worst = 0;
  const compare = (b: number[], n: Float32Array, what: string) => {
    assert.is(b.length, n.length, what);
    const scale = Math.max(1e-12, ...Array.from(n, Math.abs));
    assert.ok(Math.max(...Array.from(n)) > 0, `${what}: Node's map is all zero, nothing to compare`);
    const d = Math.max(...b.map((v, i) => Math.abs(v - n[i]))) / scale;
    worst = Math.max(worst, d);
    assert.ok(d <= 1e-4, `${what}: browser and Node differ by ${d.toExponential(2)} of the map's largest value`);
  };
  compare(browser.attention!, node.attention!.weights, 'attention');
  browser.gradcam.forEach((g, i) => compare(g.map, node.gradcam[i].map, `Grad-CAM stage ${g.stage}`));
  measured.push(`explain maps, browser vs Node: largest difference ${worst.toExponential(2)} of each map's maximum`);
});

test('image path: browser decoding and resizing stay close to sharp (pixels and scores)', async () => {
  const e = await env();
  const pngPath = join(e.dir, 'img/ad.png');
  const jpgPath = join(e.dir, 'img/ad.jpg');
  // Pixels, for each resize policy, with a coloured background so the alpha band and the
  // letterbox show it.
  const policies = ['fill', 'cover', 'contain'] as const;
  const pres = policies.map((resize) => ({ ...e.m2fn.card.preprocessing, resize, background: [20, 120, 220] as [number, number, number] }));
  const sharpPx = [...(await Promise.all(pres.map((pre) => decodeImage(pngPath, pre)))), await decodeImage(jpgPath, pres[0])];
  const nodeScores = [await e.m2fn.score(pngPath, ATTRS), await e.m2fn.score(jpgPath, ATTRS_2), await e.m2fn.score(pngPath, ATTRS_2)];

  const browser = await e.page.evaluate(async ({ pres, attrs, o }) => {
    const pixels = [];
    for (const pre of pres) pixels.push(Array.from((await window.m2fn.decodeImageWeb('/img/ad.png', pre)).data));
    pixels.push(Array.from((await window.m2fn.decodeImageWeb('/img/ad.jpg', pres[0])).data));
    const s = await window.m2fn.loadWeb({ modelUrl: '/models/m2fn/' }, o);
    const jpegBlob = await (await fetch('/img/ad.jpg')).blob();
    const img = document.getElementById('ad') as HTMLImageElement;
    const single = await s.score('/img/ad.png', attrs[0]);
    const single2 = await s.score('/img/ad.png', attrs[1]);
    // Three kinds of input, batched two at a time.
    const many = await s.scoreMany(
      [{ image: '/img/ad.png', attributes: attrs[0] }, { image: jpegBlob, attributes: attrs[1] }, { image: img, attributes: attrs[1] }],
      { batchSize: 2 },
    );
    await s.close();
    return { pixels, single, single2, many };
  }, { pres, attrs: [ATTRS, ATTRS_2], o: WASM });

  const stats: string[] = [];
  [...policies, 'jpeg fill'].forEach((policy, k) => {
    const a = browser.pixels[k];
    const b = sharpPx[k].data;
    let sum = 0, max = 0;
    for (let i = 0, j = 0; j < b.length; i += 4, j += 3) {
      assert.is(a[i + 3], 255, `${policy}: the browser's pixels are opaque after flattening`);
      for (let c = 0; c < 3; c++) {
        const d = Math.abs(a[i + c] - b[j + c]);
        sum += d;
        max = Math.max(max, d);
      }
    }
    const mean = sum / b.length;
    assert.ok(mean <= PIXEL_MEAN_TOL, `${policy}: mean |browser - sharp| = ${mean.toFixed(2)} levels > ${PIXEL_MEAN_TOL}`);
    assert.ok(max <= PIXEL_MAX_TOL, `${policy}: max |browser - sharp| = ${max} levels > ${PIXEL_MAX_TOL}`);
    stats.push(`${policy} mean ${mean.toFixed(2)} max ${max}`);
  });
  // The letterbox of contain is exactly the background (240×180 → 64×48, rows 0-7 and 56-63).
  assert.equal(browser.pixels[2].slice(0, 4), [20, 120, 220, 255], 'contain letterbox is the background colour');

  const yard = [await bilinearScore(e.m2fn, pngPath, ATTRS), await bilinearScore(e.m2fn, jpgPath, ATTRS_2), await bilinearScore(e.m2fn, pngPath, ATTRS_2)];
  const fractions = [
    imageCloseness(browser.single, nodeScores[0], yard[0], 'png URL'),
    imageCloseness(browser.many[0], nodeScores[0], yard[0], 'scoreMany png URL'),
    imageCloseness(browser.many[1], nodeScores[1], yard[1], 'scoreMany jpeg Blob'),
    imageCloseness(browser.many[2], nodeScores[2], yard[2], 'scoreMany <img>'),
  ];
  // One decode path: the same image through a URL or an <img> scores the same in the browser.
  assert.is(valueOf(browser.many[0]), valueOf(browser.single));
  assert.is(valueOf(browser.many[2]), valueOf(browser.single2), 'an <img> and a URL of the same file score the same');
  measured.push(
    `image path: pixels ${stats.join(', ')} (8-bit levels); ` +
      `score differences ${fractions.map((f) => f.toFixed(2)).join(', ')} × the lanczos3 → bilinear change (tolerance ${IMAGE_FRACTION}); ` +
      `relative to the score ${[browser.single, ...browser.many].map((b, i) => (Math.abs(valueOf(b) - valueOf(nodeScores[[0, 0, 1, 2][i]])) / Math.abs(valueOf(nodeScores[0]))).toExponential(1)).join(', ')}`,
  );
});

test('errors: the same attribute errors as Node, and inputs named with their problem', async () => {
  const e = await env();
  const png = join(e.dir, 'img/ad.png');
  const message = (err: Error) => `${err.name}: ${err.message}`;
  const wrongLevel = { ...ATTRS, domcol: 'purple' };
  const typo = { ...ATTRS, gendr: 1 };
  const expected = {
    level: await e.m2fn.score(png, wrongLevel).then(() => 'no error', message),
    typo: await e.m2fn.score(png, typo).then(() => 'no error', message),
    item: await e.m2fn.scoreMany([{ image: png, attributes: ATTRS }, { image: png, attributes: wrongLevel }]).then(() => 'no error', message),
  };
  assert.match(expected.level, /^M2fnInputError: attribute "domcol" has unknown value "purple"; allowed levels: black, blue/);
  assert.match(expected.typo, /^M2fnInputError: unknown attribute "gendr" \(did you mean "gender"\?\)/);
  assert.match(expected.item, /^M2fnInputError: item #1: attribute "domcol"/);

  const got = await e.page.evaluate(async ({ ok, wrongLevel, typo, o }) => {
    const msg = (p: Promise<unknown>) => p.then(() => 'no error', (err: Error) => `${err.name}: ${err.message}`);
    const s = await window.m2fn.loadWeb({ modelUrl: '/models/m2fn/' }, o);
    const r = {
      level: await msg(s.score('/img/ad.png', wrongLevel)),
      typo: await msg(s.score('/img/ad.png', typo)),
      item: await msg(s.scoreMany([{ image: '/img/ad.png', attributes: ok }, { image: '/img/ad.png', attributes: wrongLevel }])),
      missingImage: await msg(s.score('/img/missing.png', ok)),
      notImage: await msg(s.score('/img/not-an-image.png', ok)),
      emptyBlob: await msg(s.scoreMany([{ image: '/img/ad.png', attributes: ok }, { image: new Blob([]), attributes: ok }])),
      model404: await msg(window.m2fn.loadWeb({ modelUrl: '/models/m2fn/missing.onnx', cardUrl: '/models/m2fn/inference.card.json' }, o)),
      card404: await msg(window.m2fn.loadWeb({ modelUrl: '/models/nowhere/' }, o)),
      mismatch: await msg(window.m2fn.loadWeb({ modelUrl: '/models/mismatch/' }, o)),
      noCard: await msg(window.m2fn.loadWeb({ modelUrl: '/models/m2fn/model.bin' }, o)),
    };
    await s.close();
    return { ...r, closed: await msg(s.score('/img/ad.png', ok)) };
  }, { ok: ATTRS, wrongLevel, typo, o: WASM });

  assert.is(got.level, expected.level);
  assert.is(got.typo, expected.typo);
  assert.is(got.item, expected.item);
  assert.is(got.missingImage, 'M2fnInputError: /img/missing.png: cannot fetch image: HTTP 404 Not Found');
  assert.match(got.notImage, /^M2fnInputError: \/img\/not-an-image\.png: not a decodable image \(/);
  assert.is(got.emptyBlob, 'M2fnInputError: image #1 (Blob, 0 bytes): empty data, not an image');
  assert.is(got.model404, `Error: model fetch failed: GET ${e.base}/models/m2fn/missing.onnx answered HTTP 404 Not Found`);
  assert.is(got.card404, `Error: model card fetch failed: GET ${e.base}/models/nowhere/inference.card.json answered HTTP 404 Not Found`);
  assert.ok(
    got.mismatch.startsWith(`Error: model ${e.base}/models/mismatch/inference.onnx does not match its card ${e.base}/models/mismatch/inference.card.json: expected sha256 ${e.m2fn.card.sha256}, the file (`),
    got.mismatch,
  );
  assert.match(got.noCard, `cannot tell where the card of ${e.base}/models/m2fn/model.bin is: pass cardUrl`);
  assert.is(got.closed, `Error: scorer for model "${e.m2fn.card.model}" is closed`);
});

test('webgpu: either it runs and agrees, or it says why and falls back to wasm', async () => {
  const e = await env();
  const r = await e.page.evaluate(async (o) => {
    const strict = await window.m2fn.loadWeb({ modelUrl: '/models/nima/' }, { ...o, ep: 'webgpu', fallback: false }).then(
      async (s) => { await s.close(); return 'ok'; },
      (err: Error) => err.message,
    );
    const s = await window.m2fn.loadWeb({ modelUrl: '/models/nima/' }, { ...o, ep: 'webgpu' });
    const score = await s.score('/img/ad.png');
    const r = { strict, ep: s.ep, fallbackFrom: s.fallbackFrom ?? null, score };
    await s.close();
    return r;
  }, WASM);
  const node = await e.nima.score(join(e.dir, 'img/ad.png'));
  const bilinear = await bilinearScore(e.nima, join(e.dir, 'img/ad.png'), null);
  if (r.strict === 'ok') {
    assert.is(r.ep, 'webgpu');
    assert.is(r.fallbackFrom, null);
  } else {
    assert.match(r.strict, new RegExp(`^execution provider webgpu is not usable for ${e.base}/models/nima/inference\\.onnx: .+\\. Use ep 'wasm' or allow fallback\\.$`));
    assert.is(r.ep, 'wasm');
    assert.is(r.fallbackFrom?.ep, 'webgpu');
  }
  const f = imageCloseness(r.score, node, bilinear, `nima on ${r.ep}`);
  measured.push(`nima image path on ${r.ep}: ${f.toFixed(2)} × the lanczos3 → bilinear change`);
  measured.push(`webgpu: ${r.strict === 'ok' ? 'available' : `not available here (${r.fallbackFrom?.reason})`}`);
});

test('int8: the QDQ model of `m2fn quantize` loads in the browser unchanged and gives Node\'s int8 scores', async () => {
  const e = await env();
  // VGG-BN, so that the image reaches the score (an untrained plain VGG saturates the tanh fusion).
  const float = join(e.dir, 'm2fn-bn'), dir = join(e.dir, 'm2fn-int8'); // under /models/, served like the others
  await writeInference(float, buildModel({ ...defaultConfig('m2fn'), size: 64, width: 0.125, backboneNorm: 'batch', headHidden: [16], cbnHidden: 8, attHidden: 8, fuseDim: 8 }));
  await quantizeModelDir(float, testDataset(), dir, { rows: 8 });
  const [int8, fp32] = [await load(dir), await load(float)];
  const pre = int8.card.preprocessing;
  const images = [await imageToTensor(join(e.dir, 'img/ad.png'), pre), await imageToTensor(join(e.dir, 'img/ad.jpg'), pre)];
  const image = new Float32Array(2 * images[0].length);
  images.forEach((t, i) => image.set(t, i * t.length));
  const a = await encodeAttributes(int8.card.auxSchema!, ATTRS, new HashingTextEncoder({ dim: 768 }));
  const aux = new Float32Array(2 * a.length);
  aux.set(a);
  aux.set(a, a.length); // the same attributes: the two items differ only by their image
  const node = await int8.scoreTensors(image, aux, 2);
  const nodeFloat = await fp32.scoreTensors(image, aux, 2);
  await int8.close();
  await fp32.close();
  const browser = await e.page.evaluate(async ({ image, aux, o }) => {
    const s = await window.m2fn.loadWeb({ modelUrl: '/models/m2fn-int8/' }, o);
    const r = { scores: await s.scoreTensors(Float32Array.from(image), Float32Array.from(aux), 2), precision: s.card.precision?.weights };
    await s.close();
    return r;
  }, { image: Array.from(image), aux: Array.from(aux), o: WASM });
  assert.is(browser.precision, 'int8');
  const rel = Math.max(...node.map((n, i) => closeScores(browser.scores[i], n, INT8_RTOL, `int8 item ${i}`)));
  // Not vacuous: the images move the score, and int8 differs from float by more than the tolerance.
  const byImage = Math.abs(valueOf(node[0]) - valueOf(node[1])) / Math.abs(valueOf(node[0]));
  const vsFloat = Math.abs(valueOf(node[0]) - valueOf(nodeFloat[0])) / Math.abs(valueOf(nodeFloat[0]));
  assert.ok(byImage > 10 * INT8_RTOL, `the two images should score apart (relative ${byImage.toExponential(2)})`);
  measured.push(`int8 tensor path: relative difference ${rel.toExponential(2)} (tolerance ${INT8_RTOL}); the images differ by ${byImage.toExponential(2)}, int8 vs float ${vsFloat.toExponential(2)}`);
});

test.run();
