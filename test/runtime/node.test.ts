// The Node scorer against a real tiny ONNX model on onnxruntime-node: every score is checked
// against the model's formula recomputed here (see tiny-model.ts).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ctrOf, load, M2fnInputError, HashingTextEncoder, REAL_AD_SCHEMA, type TextEncoder } from '../../runtime/index.ts';
import { BUCKETS, TINY_SCHEMA, writeTinyModel, type TinyModel } from './tiny-model.ts';

type RGB = [number, number, number];
let dir = '';
let tiny: TinyModel;
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'm2fn-node-'));
  tiny = await writeTinyModel(join(dir, 'tiny'));
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const solid = (rgb: RGB, w = 8, h = 8) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer();

/** Mean of the normalised image of a solid colour: the three planes are the same size. */
function imageMean(rgb: RGB, m: TinyModel): number {
  const { mean, std } = m.card.preprocessing;
  return rgb.reduce((s, p, c) => s + (p / 255 - mean[c]) / std[c], 0) / 3;
}

/** TINY_SCHEMA by hand: one-hot colour (3), title (4, hashing encoder), (price - 10) / 5. */
async function tinyAux(a: { colour: string; title?: string; price: number }): Promise<number[]> {
  const levels = ['red', 'green', 'other'];
  const lvl = levels.includes(a.colour) ? levels.indexOf(a.colour) : 2;
  const title = a.title ? Array.from((await new HashingTextEncoder({ dim: 4 }).encode([a.title]))[0]) : [0, 0, 0, 0];
  return [...levels.map((_, i) => (i === lvl ? 1 : 0)), ...title, (a.price - 10) / 5];
}

const dot = (a: number[], b: ArrayLike<number>, col = 0, stride = 1) => a.reduce((s, x, i) => s + x * b[i * stride + col], 0);

function softmax(z: number[]): number[] {
  const mx = Math.max(...z);
  const e = z.map((x) => Math.exp(x - mx));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

async function rejects(fn: () => Promise<unknown>, ...parts: string[]): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    const msg = (e as Error).message;
    for (const p of parts) assert.ok(msg.includes(p), `message ${JSON.stringify(msg)} lacks ${JSON.stringify(p)}`);
    return e as Error;
  }
  assert.unreachable('expected an error');
  throw new Error('unreachable');
}

test('score: ctr = mean(normalised image) + aux · w', async () => {
  const scorer = await load(tiny.dir);
  assert.is(scorer.ep, 'cpu');
  assert.is(scorer.card.model, 'tiny-regression');
  const attrs = { colour: 'green', title: 'Dragon battle', price: 17 };
  const got = ctrOf(await scorer.score(await solid([200, 100, 50]), attrs));
  const want = imageMean([200, 100, 50], tiny) + dot(await tinyAux(attrs), tiny.weights);
  assert.ok(Math.abs(got - want) < 1e-5, `${got} vs ${want}`);
  await scorer.close();
});

test('scoreMany: batches, mixed inputs, order kept, same as one by one', async () => {
  const scorer = await load(tiny.dir, { threads: 1 });
  const file = join(dir, 'blue.png');
  await writeFile(file, await solid([0, 0, 255], 30, 20));
  const colours: RGB[] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [12, 34, 56], [255, 255, 255]];
  const items = await Promise.all(colours.map(async (rgb, i) => ({
    image: i === 2 ? file : i === 3 ? new Uint8Array(await solid(rgb)) : await solid(rgb),
    attributes: { colour: ['red', 'green', 'mauve'][i % 3], title: i % 2 ? `ad number ${i}` : '', price: i * 3 },
  })));
  const many = await scorer.scoreMany(items, { batchSize: 2, concurrency: 2 });
  assert.is(many.length, 5);
  for (let i = 0; i < 5; i++) {
    const a = items[i].attributes;
    const want = imageMean(colours[i], tiny) + dot(await tinyAux(a), tiny.weights);
    assert.ok(Math.abs(ctrOf(many[i]) - want) < 1e-5, `item ${i}: ${ctrOf(many[i])} vs ${want}`);
    assert.ok(Math.abs(ctrOf(await scorer.score(items[i].image, a)) - ctrOf(many[i])) < 1e-6);
  }
  assert.equal(await scorer.scoreMany([]), []);
  await scorer.close();
});

test('scoreMany errors name the item: image #k and item #k', async () => {
  const scorer = await load(tiny.dir);
  const ok = { image: await solid([1, 2, 3]), attributes: { colour: 'red', price: 1 } };
  const bad = Buffer.from('not an image');
  const e = await rejects(() => scorer.scoreMany([ok, ok, ok, { ...ok, image: bad }], { batchSize: 2 }), 'image #3 (Buffer, 12 bytes)', 'not a decodable image');
  assert.instance(e, M2fnInputError);
  await rejects(() => scorer.scoreMany([ok, ok, ok, { ...ok, attributes: { colour: 'red', price: 1, prise: 2 } }], { batchSize: 2 }),
    'item #3', 'unknown attribute "prise"', 'colour, title, price');
  const lone = await rejects(() => scorer.score(ok.image, { colour: 'red', price: 1, size: 'xl' }), 'unknown attribute "size"');
  assert.not.match(lone.message, /item #/);
  await rejects(() => scorer.score(bad, ok.attributes), 'image (Buffer, 12 bytes)', 'not a decodable image');
  await scorer.close();
});

test('unknown attribute value: error names attribute, value and levels', async () => {
  const m = await writeTinyModel(join(dir, 'strict'), {
    schema: { name: 'strict', attributes: [{ name: 'colour', kind: 'categorical', levels: ['red', 'green'] }] },
  });
  const scorer = await load(m.dir);
  const e = await rejects(async () => scorer.score(await solid([0, 0, 0]), { colour: 'purple' }), 'attribute "colour"', '"purple"', 'red, green');
  assert.instance(e, M2fnInputError);
  await scorer.close();
});

test('Real-Ad sized model (2385 aux dims): one-hot positions drive the score', async () => {
  const m = await writeTinyModel(join(dir, 'real-ad'), { schema: REAL_AD_SCHEMA });
  const scorer = await load(m.dir);
  const attrs = { gender: 2, age: '3', month: 12, weekday: 1, hour: 0, position: 4, cate2: 1, cate3: 9, title: '', desc: '', ocr: '', domcol: 'red' };
  // Positions from the schema layout (see attributes.test.ts): texts empty, so only the one-hots count.
  const hot = [1, 4, 22, 23, 30, 57, 58, 70, 2382];
  const want = imageMean([90, 90, 90], m) + hot.reduce((s, i) => s + m.weights[i], 0);
  const got = ctrOf(await scorer.score(await solid([90, 90, 90]), attrs));
  assert.ok(Math.abs(got - want) < 1e-5, `${got} vs ${want}`);
  await scorer.close();
});

test('distribution: softmax buckets, mean and std over bucket values', async () => {
  for (const bucketValues of [undefined, Array.from({ length: BUCKETS }, (_, j) => j / 10)]) {
    const m = await writeTinyModel(join(dir, `dist-${bucketValues ? 'custom' : 'default'}`), { kind: 'distribution', bucketValues });
    const scorer = await load(m.dir);
    const attrs = { colour: 'red', title: 'win big', price: 4 };
    const s = await scorer.score(await solid([10, 200, 30]), attrs);
    assert.ok('distribution' in s);
    if (!('distribution' in s)) return;
    const aux = await tinyAux(attrs);
    const mImg = imageMean([10, 200, 30], m);
    const p = softmax(Array.from({ length: BUCKETS }, (_, j) => mImg * m.v[j] + dot(aux, m.weights, j, BUCKETS)));
    const values = bucketValues ?? [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const mean = p.reduce((a, pj, j) => a + pj * values[j], 0);
    const std = Math.sqrt(p.reduce((a, pj, j) => a + pj * (values[j] - mean) ** 2, 0));
    s.distribution.forEach((x, j) => assert.ok(Math.abs(x - p[j]) < 1e-5, `bucket ${j}: ${x} vs ${p[j]}`));
    assert.ok(Math.abs(s.mean - mean) < 1e-4, `mean ${s.mean} vs ${mean}`);
    assert.ok(Math.abs(s.std - std) < 1e-4, `std ${s.std} vs ${std}`);
    await scorer.close();
  }
});

test('model without aux: image term only, attributes ignored', async () => {
  const m = await writeTinyModel(join(dir, 'image-only'), { schema: null });
  const scorer = await load(m.dir);
  assert.is(scorer.card.inputs.aux, null);
  const want = imageMean([40, 80, 120], m);
  assert.ok(Math.abs(ctrOf(await scorer.score(await solid([40, 80, 120]), { colour: 'red' })) - want) < 1e-5);
  await rejects(() => scorer.scoreTensors(new Float32Array(192), new Float32Array(3), 1), 'takes no aux input');
  await scorer.close();
});

test('scoreTensors: checks sizes, names expected and actual', async () => {
  const scorer = await load(tiny.dir);
  const image = new Float32Array(2 * 3 * 8 * 8).fill(0.5);
  const aux = new Float32Array(2 * 8);
  aux[8 + 7] = 2; // item 1: price slot
  const [a, b] = await scorer.scoreTensors(image, aux, 2);
  assert.ok(Math.abs(ctrOf(a) - 0.5) < 1e-6);
  assert.ok(Math.abs(ctrOf(b) - (0.5 + 2 * tiny.weights[7])) < 1e-6);
  const e = await rejects(() => scorer.scoreTensors(image, new Float32Array(15), 2), 'aux vector has 15 floats', 'expected 16', 'aux dim 8');
  assert.instance(e, M2fnInputError);
  await rejects(() => scorer.scoreTensors(image, null, 2), 'needs an aux vector of 8', 'got null');
  await rejects(() => scorer.scoreTensors(new Float32Array(100), aux, 2), 'image tensor has 100 floats', 'expected 384');
  await scorer.close();
});

test('truncated .onnx: error names the file, hashes and size', async () => {
  const m = await writeTinyModel(join(dir, 'truncated'));
  const bytes = await readFile(m.onnxPath);
  await writeFile(m.onnxPath, bytes.subarray(0, 100));
  await rejects(() => load(m.dir), m.onnxPath, 'does not match its card', `expected sha256 ${m.card.sha256}`, '(100 bytes)', 'truncated');
});

test("swapped .onnx (another model's file) is refused", async () => {
  const m = await writeTinyModel(join(dir, 'swapped'));
  const other = await writeTinyModel(join(dir, 'swapped-other'), { schema: null });
  await writeFile(m.onnxPath, await readFile(other.onnxPath));
  await rejects(() => load(m.dir), m.onnxPath, `has sha256 ${other.card.sha256}`);
});

test('unparseable .onnx with a matching hash: ORT error wrapped with the file name', async () => {
  const m = await writeTinyModel(join(dir, 'garbage'));
  const garbage = Buffer.from('definitely not protobuf'.repeat(10));
  await writeFile(m.onnxPath, garbage);
  const { createHash } = await import('node:crypto');
  await writeFile(m.cardPath, JSON.stringify({ ...m.card, sha256: createHash('sha256').update(garbage).digest('hex') }));
  await rejects(() => load(m.dir), `cannot load ONNX model ${m.onnxPath}`);
});

test('bad cards and missing files are named', async () => {
  await rejects(() => load(join(dir, 'no-such-model')), 'model not found', 'no-such-model');
  const m = await writeTinyModel(join(dir, 'bad-card'));
  await writeFile(m.cardPath, JSON.stringify({ ...m.card, format: 'm2fn-model-card/2' }));
  await rejects(() => load(m.dir), `invalid model card ${m.cardPath}`, '"m2fn-model-card/2"', 'm2fn-model-card/1');
  await writeFile(m.cardPath, JSON.stringify({ ...m.card, inputs: { ...m.card.inputs, aux: { name: 'aux', dtype: 'float32', shape: ['N', 9] } } }));
  await rejects(() => load(m.dir), '"inputs.aux.shape" is ["N",9]', 'encodes 8 dims');
  await writeFile(m.cardPath, '{ not json');
  await rejects(() => load(m.dir), m.cardPath, 'not valid JSON');
  await writeFile(m.cardPath, JSON.stringify({ ...m.card, output: { ...m.card.output, name: 'score' } }));
  await rejects(() => load(m.dir), 'no output "score"', 'outputs: ctr');
  // A .onnx path works too, with its card beside it.
  await writeTinyModel(join(dir, 'by-file'));
  const scorer = await load(join(dir, 'by-file', 'inference.onnx'));
  await scorer.close();
});

test('text encoder: id must match the card; dim must match the schema', async () => {
  const other: TextEncoder = { id: 'onnx:minilm', dim: 4, encode: async (t) => t.map(() => new Float32Array(4)) };
  await rejects(() => load(tiny.dir, { textEncoder: other }), 'trained with "hashing-v1"', 'encoder given is "onnx:minilm"');
  await rejects(() => load(tiny.dir, { textEncoder: new HashingTextEncoder({ dim: 16 }) }), 'makes 16-d vectors', '"title" needs 4');
  const m = await writeTinyModel(join(dir, 'minilm'), { textEncoder: 'onnx:minilm' });
  await rejects(() => load(m.dir), 'text encoder is "onnx:minilm"', 'pass an encoder');
  const scorer = await load(m.dir, { textEncoder: other });
  // `other` returns zeros for every text: the title slice contributes nothing.
  const attrs = { colour: 'red', title: 'anything', price: 10 };
  const want = imageMean([0, 0, 0], m) + m.weights[0];
  assert.ok(Math.abs(ctrOf(await scorer.score(await solid([0, 0, 0]), attrs)) - want) < 1e-5);
  await scorer.close();
});

test('close releases the session; later calls fail clearly; closing twice is fine', async () => {
  const scorer = await load(tiny.dir);
  await scorer.close();
  await scorer.close();
  await rejects(async () => scorer.score(await solid([0, 0, 0]), { colour: 'red', price: 1 }), 'is closed');
});

/** Whether a WebGPU session can open here (needs Vulkan and a GPU); decides what to expect. */
async function webgpuWorks(bytes: Uint8Array): Promise<boolean> {
  try {
    const s = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'] });
    await s.release();
    return true;
  } catch {
    return false;
  }
}

test("ep 'webgpu': used where it works, else falls back to cpu with one warning, or throws without fallback", async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    const attrs = { colour: 'green', price: 3 };
    const img = await solid([5, 6, 7]);
    const want = imageMean([5, 6, 7], tiny) + dot(await tinyAux(attrs), tiny.weights);
    if (await webgpuWorks(new Uint8Array(await readFile(tiny.onnxPath)))) {
      const scorer = await load(tiny.dir, { ep: 'webgpu' });
      assert.is(scorer.ep, 'webgpu');
      assert.ok(Math.abs(ctrOf(await scorer.score(img, attrs)) - want) < 1e-4);
      await scorer.close();
      return;
    }
    const a = await load(tiny.dir, { ep: 'webgpu' });
    const b = await load(tiny.dir, { ep: 'webgpu' });
    await new Promise((r) => setImmediate(r));
    assert.is(a.ep, 'cpu');
    assert.is(a.fallbackFrom?.ep, 'webgpu');
    assert.match(a.fallbackFrom?.reason ?? '', /adapter/i);
    // The warning is once per provider per process, and uvu runs all files in one process: this
    // must stay the only test that asks for webgpu, or the count below sees zero.
    const ours = warnings.filter((w) => (w as { code?: string }).code === 'M2FN_EP_FALLBACK');
    assert.is(ours.length, 1, 'warned once for two loads');
    assert.match(ours[0].message, /webgpu failed .*using cpu/);
    assert.ok(Math.abs(ctrOf(await a.score(img, attrs)) - want) < 1e-5);
    await a.close();
    await b.close();
    await rejects(() => load(tiny.dir, { ep: 'webgpu', fallback: false }), 'execution provider webgpu is not usable', tiny.onnxPath, 'Vulkan');
  } finally {
    process.off('warning', onWarning);
  }
});

test('unknown ep name is an error', async () => {
  await rejects(() => load(tiny.dir, { ep: 'tpu' as never }), 'unknown execution provider "tpu"', 'cpu, webgpu, cuda');
});

test.run();
