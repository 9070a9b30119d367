// int8 QDQ graphs (tools/quantize): the weight and activation formulas against their definitions;
// batch-norm folding against the unfolded graph in ONNX Runtime; and a small VGG-BN M2FN
// quantized end to end on real dataset rows — QDQ structure, card, checker, integer kernels in
// ONNX Runtime, and scores within a stated distance of the float model's. A quantization with
// deliberately clipped calibration ranges must fail that distance (the check can fail).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeInference } from '../../graph/export/inference.ts';
import { buildModel } from '../../graph/models/m2fn.ts';
import { rng } from '../../runtime/random.ts';
import { validateCard } from '../../runtime/card-validate.ts';
import { load } from '../../runtime/node.ts';
import { readManifest } from '../../tools/data/manifest.ts';
import { splitBatches } from '../../tools/eval/score-model.ts';
import { calibrate } from '../../tools/quantize/calibrate.ts';
import { foldConvAffine } from '../../tools/quantize/fold.ts';
import { optimizedOpCounts } from '../../tools/quantize/kernels.ts';
import { quantizeModelDir } from '../../tools/quantize/model-dir.ts';
import { activationParams, planQuantization, quantize, quantizeWeights, type Range } from '../../tools/quantize/qdq.ts';
import { onnxCheck, randomArray, smallConfig, tmp } from '../graph/helpers.ts';
import { testDataset } from '../train/world.ts';

const { onnx } = onnxProto;
type ModelProto = InstanceType<typeof onnx.ModelProto>;

/**
 * Largest score difference, int8 vs float32, as a fraction of the float scores' spread (max − min)
 * over 48 test rows. Measured on this (untrained, so barely spread) model: 0.07; with the
 * calibration ranges clipped to a tenth: 0.65.
 */
const SCORE_SPREAD_TOL = 0.2;

test('weights: symmetric int8 per output channel, scale max|W[c]| / 127, error at most half a step', () => {
  const C = 3, per = 50;
  const w = randomArray(C * per, 1);
  for (let i = per; i < 2 * per; i++) w[i] *= 10; // channels of different magnitude get different scales
  w.fill(0, 2 * per); // an all-zero channel must not divide by zero
  const { q, scales } = quantizeWeights(w, C);
  for (let c = 0; c < C; c++) {
    const m = Math.max(...w.subarray(c * per, (c + 1) * per).map(Math.abs));
    assert.ok(Math.abs(scales[c] - (m > 0 ? m / 127 : 1)) <= 1e-7 * Math.max(1, m), `channel ${c} scale`);
    for (let i = c * per; i < (c + 1) * per; i++) assert.ok(Math.abs(q[i] * scales[c] - w[i]) <= scales[c] / 2 + 1e-6, `w[${i}]`);
  }
  assert.ok(Math.max(...q.subarray(0, 2 * per).map(Math.abs)) === 127, 'the largest weight of a channel maps to ±127');
  const seven = quantizeWeights(w, C, 7);
  assert.ok(Math.max(...seven.q.map(Math.abs)) <= 64 && Math.abs(seven.scales[0] * 63 - scales[0] * 127) < 1e-6, '7-bit weights stay in [-64, 63]');
});

test('activations: uint8 over the range widened to include 0; a Relu range gets zero point 0', () => {
  assert.equal(activationParams({ min: 0, max: 2.55 }), { scale: 2.55 / 255, zeroPoint: 0 });
  const p = activationParams({ min: -1, max: 3 });
  assert.ok(Math.abs(p.scale - 4 / 255) < 1e-12 && p.zeroPoint === 64);
  assert.equal(activationParams({ min: 0.5, max: 1 }).zeroPoint, 0, 'a positive range still represents 0 exactly');
  assert.throws(() => activationParams({ min: 0, max: Infinity }), /not finite/);
});

/** A small VGG-BN M2FN whose batch norms have non-trivial statistics and affine parameters. */
function vggBnModel() {
  const m = buildModel(smallConfig('m2fn', { backboneNorm: 'batch' }));
  const r = rng(7);
  for (const [name, v] of m.params.values) {
    const d = v.data as Float32Array;
    if (/running_mean|\.beta$/.test(name)) d.forEach((_, i) => (d[i] = 0.2 * (r() - 0.5)));
    if (/running_var|\.gamma$/.test(name) && name.startsWith('vgg.')) d.forEach((_, i) => (d[i] = 0.5 + r()));
  }
  return m;
}

async function run(model: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(model);
  const out = await s.run(feeds);
  await s.release();
  return out[s.outputNames[0]].data as Float32Array;
}

test('folding batch norm and the per-channel γ, β into the convs leaves the outputs unchanged', async () => {
  const dir = tmp('fold');
  await writeInference(dir, vggBnModel());
  const bytes = readFileSync(join(dir, 'inference.onnx'));
  const model = onnx.ModelProto.decode(bytes);
  const folded = foldConvAffine(model);
  const ops = (model.graph!.node ?? []).map((n) => n.opType);
  assert.is(ops.filter((o) => o === 'BatchNormalization').length, 0, 'every batch norm folded');
  assert.ok(folded >= 3 * 15, `${folded} ops folded (BN, γ, β after each of the 15 backbone convs)`);
  const N = 2;
  const feeds = { image: new ort.Tensor('float32', randomArray(N * 3 * 32 * 32, 3), [N, 3, 32, 32]), aux: new ort.Tensor('float32', randomArray(N * 2385, 4, 0.1), [N, 2385]) };
  const [a, b] = [await run(bytes, feeds), await run(onnx.ModelProto.encode(model).finish(), feeds)];
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-4 * Math.max(1, Math.abs(a[i])), `output ${i}: ${a[i]} vs ${b[i]}`);
});

const initializerOf = (m: ModelProto, name: string) => (m.graph!.initializer ?? []).find((t) => t.name === name);
const int8 = (t: { rawData?: Uint8Array | null }) => new Int8Array(Uint8Array.from(t.rawData!).buffer);
const f32 = (t: { rawData?: Uint8Array | null }) => new Float32Array(Uint8Array.from(t.rawData!).buffer);

test('m2fn quantize: QDQ graph on real rows — structure, card, checker, integer kernels, scores near float', async () => {
  const data = testDataset();
  const dir = tmp('q-float');
  await writeInference(dir, vggBnModel());
  const out = tmp('q-int8');
  const r = await quantizeModelDir(dir, data, out, { rows: 16 });
  assert.is(r.convs, 15, 'the 15 backbone convs after the first');
  onnxCheck([r.onnxPath]);

  // Structure: each quantized conv reads int8 weights through a per-channel (axis 0) DequantizeLinear,
  // with the scales max|W'[c]| / 127 of the folded float weights.
  const q = onnx.ModelProto.decode(readFileSync(r.onnxPath));
  const floatModel = onnx.ModelProto.decode(readFileSync(join(dir, 'inference.onnx')));
  foldConvAffine(floatModel);
  const byOutput = new Map((q.graph!.node ?? []).map((n) => [n.output![0], n]));
  let checked = 0;
  for (const conv of (q.graph!.node ?? []).filter((n) => n.opType === 'Conv' && byOutput.get(n.input![1])?.opType === 'DequantizeLinear')) {
    const dq = byOutput.get(conv.input![1])!;
    assert.is(Number(dq.attribute!.find((a) => a.name === 'axis')?.i), 0, 'per-channel axis 0');
    const wq = initializerOf(q, dq.input![0])!;
    assert.is(wq.dataType, onnx.TensorProto.DataType.INT8);
    const scales = f32(initializerOf(q, dq.input![1])!);
    const wf = f32(initializerOf(floatModel, dq.input![0].replace(/_quantized$/, ''))!);
    const C = Number(wq.dims![0]);
    assert.is(scales.length, C);
    const per = wf.length / C;
    for (let c = 0; c < C; c++) {
      const m = Math.max(...wf.subarray(c * per, (c + 1) * per).map(Math.abs));
      assert.ok(Math.abs(scales[c] - m / 127) <= 1e-6 * m, `${dq.input![0]} channel ${c} scale`);
    }
    assert.ok(int8(wq).some((v) => v === 127 || v === -127), 'full int8 range used');
    assert.is(byOutput.get(conv.input![0])?.opType, 'DequantizeLinear', 'the activation input is dequantized uint8');
    checked++;
  }
  assert.is(checked, 15);

  // Card: precision and calibration recorded; it describes the new file, and names its float source.
  const card = JSON.parse(readFileSync(r.cardPath, 'utf8'));
  const floatCard = JSON.parse(readFileSync(join(dir, 'inference.card.json'), 'utf8'));
  assert.is(card.precision.format, 'QDQ');
  assert.is(card.precision.weights, 'int8');
  assert.is(card.precision.weightScales, 'per-channel');
  assert.equal(card.precision.calibration, { dataset: data, split: 'train', rows: 16, method: 'minmax' });
  assert.is(card.precision.sourceSha256, floatCard.sha256);
  assert.is.not(card.sha256, floatCard.sha256);
  assert.equal(card.inputs, floatCard.inputs, 'inputs unchanged: a runtime feeds it as before');

  // ONNX Runtime runs integer convs, not float convs around DequantizeLinear.
  const kernels = await optimizedOpCounts(readFileSync(r.onnxPath));
  assert.is(kernels.get('com.microsoft.QLinearConv'), 15, JSON.stringify([...kernels]));

  // The Node runtime loads it unchanged; scores on the test rows stay near the float model's.
  const split = readManifest(data, 'test');
  const rows = { ...split, rows: split.rows.slice(0, 48) };
  const scores = async (location: string) => {
    const s = await load(location);
    const all: number[] = [];
    for await (const b of splitBatches(s.card, rows, { batchSize: 16 })) all.push(...(await s.scoreTensors(b.image, b.aux, b.n)).map((x) => ('ctr' in x ? x.ctr : x.mean)));
    await s.close();
    return all;
  };
  const f = await scores(dir);
  const spread = Math.max(...f) - Math.min(...f);
  assert.ok(spread > 0, 'the float scores vary over the rows');
  const deviation = (g: number[]) => Math.max(...g.map((v, i) => Math.abs(v - f[i]))) / spread;
  const dInt8 = deviation(await scores(out));
  assert.ok(dInt8 <= SCORE_SPREAD_TOL, `int8 deviates by ${dInt8.toFixed(3)} of the float spread`);

  // The same check catches a broken quantization: ranges clipped to a tenth of what was observed.
  const plan = planQuantization(floatModel);
  const cal = await calibrate(floatModel, floatCard, plan, data, { rows: 16 });
  const clipped = new Map<string, Range>([...cal.ranges].map(([t, v]) => [t, { min: v.min / 10, max: v.max / 10 }]));
  const bad = onnx.ModelProto.encode(quantize(floatModel, plan, clipped)).finish();
  const badDir = tmp('q-bad');
  writeFileSync(join(badDir, 'inference.onnx'), bad);
  writeFileSync(join(badDir, 'inference.card.json'), JSON.stringify({ ...card, sha256: createHash('sha256').update(bad).digest('hex') }));
  const dBad = deviation(await scores(badDir));
  assert.ok(dBad > SCORE_SPREAD_TOL, `clipped calibration deviates by only ${dBad.toFixed(3)}`);
  console.log(`int8 deviation ${dInt8.toFixed(4)}, clipped ${dBad.toFixed(4)} of the float spread ${spread.toExponential(2)}`);

  // Bad requests: the float model is never overwritten; an int8 model is not quantized again.
  // A card whose precision is not one this runtime understands is refused, naming the field.
  assert.throws(() => validateCard({ ...card, precision: { ...card.precision, weights: 'int4' } }, 'x.card.json'), /invalid model card x\.card\.json: "precision"/);
  assert.throws(() => validateCard({ ...card, precision: { ...card.precision, calibration: 'some rows' } }, 'x.card.json'), /"precision\.calibration"/);
  const message = (p: Promise<unknown>) => p.then(() => 'resolved', (e: Error) => e.message);
  assert.match(await message(quantizeModelDir(dir, data, dir)), /is the model directory/);
  assert.match(await message(quantizeModelDir(out, data, tmp('q-again'))), /already quantized/);
});

test.run();
