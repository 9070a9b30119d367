// Learning-curve chart: a real PNG of the documented size, geometry checked by hand in the SVG,
// and no crash on one epoch, NaN or an empty log.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CURVE_HEIGHT, CURVE_WIDTH, learningCurveSvg, renderLearningCurve } from '../../tools/train/curve.ts';

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'm2fn-curve-'));
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

async function checkPng(path: string): Promise<Buffer> {
  const bytes = readFileSync(path);
  assert.ok(bytes.subarray(0, 8).equals(PNG_SIGNATURE), 'not a PNG signature');
  const meta = await sharp(bytes).metadata();
  assert.is(meta.format, 'png');
  assert.is(meta.width, 800);
  assert.is(meta.height, 480);
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.is(info.channels, 3);
  return data;
}

/** Pixels close to an RGB colour: the series really got drawn. */
function countColour(raw: Buffer, [r, g, b]: [number, number, number]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 3) if (Math.abs(raw[i] - r) + Math.abs(raw[i + 1] - g) + Math.abs(raw[i + 2] - b) < 30) n++;
  return n;
}
const TRAIN_BLUE: [number, number, number] = [0x1f, 0x77, 0xb4];
const VAL_ORANGE: [number, number, number] = [0xff, 0x7f, 0x0e];

test('renders a valid 800×480 PNG with the series drawn, atomically', async () => {
  assert.is(CURVE_WIDTH, 800);
  assert.is(CURVE_HEIGHT, 480);
  const path = join(dir, 'sub', 'curve.png');
  const log = Array.from({ length: 12 }, (_, i) => ({ epoch: i + 1, trainLoss: 1 / (i + 1), valLoss: 1.2 / (i + 1) + 0.1, valSprc: i / 20, valLcc: i / 25 }));
  await renderLearningCurve(log, path, 'M2FN <test> & "quotes"');
  const raw = await checkPng(path);
  assert.ok(countColour(raw, TRAIN_BLUE) > 200, 'train loss line missing');
  assert.ok(countColour(raw, VAL_ORANGE) > 200, 'val loss line missing');
  assert.equal(readdirSync(join(dir, 'sub')), ['curve.png']); // no temp file left beside it
  // Rewriting replaces the file.
  await renderLearningCurve(log.slice(0, 3), path, 'again');
  await checkPng(path);
});

test('geometry: points land where the axes say (hand-computed)', () => {
  // Losses 0, 0.5, 1 over epochs 1..3: range padded by 5% → [0 (clamped), 1.05], step 0.25,
  // axis 0..1.25. Plot area x 72..728, y 72..428 (height 356): loss 1 → 428 − 356·(1/1.25) = 143.2.
  const svg = learningCurveSvg([{ epoch: 1, trainLoss: 0 }, { epoch: 2, trainLoss: 0.5 }, { epoch: 3, trainLoss: 1 }], 't');
  assert.match(svg, '<polyline points="72.0,428.0 400.0,285.6 728.0,143.2"');
  for (const label of ['>0<', '>0.25<', '>0.50<', '>0.75<', '>1.00<', '>1.25<']) assert.match(svg, label);
  // No metrics: no right axis and no metric legend entries.
  assert.not.match(svg, 'SPRC');
  // Metrics all ≥ 0 use 0..1 on the right; one negative value switches to −1..1.
  const pos = learningCurveSvg([{ epoch: 1, trainLoss: 1, valSprc: 0.3 }, { epoch: 2, trainLoss: 0.8, valSprc: 0.5 }], 't');
  assert.match(pos, '>0.0<');
  assert.not.match(pos, '>-1.0<');
  // SPRC 0.5 on 0..1 → 428 − 356·0.5 = 250.0, at the right edge (epoch 2).
  assert.match(pos, '<circle cx="728.0" cy="250.0"');
  const neg = learningCurveSvg([{ epoch: 1, trainLoss: 1, valLcc: -0.2 }, { epoch: 2, trainLoss: 0.8, valLcc: 0.5 }], 't');
  assert.match(neg, '>-1.0<');
  // LCC 0.5 on −1..1 → 428 − 356·0.75 = 161.0.
  assert.match(neg, '<circle cx="728.0" cy="161.0"');
  // Titles are escaped.
  assert.match(learningCurveSvg([], 'a<b & "c"'), 'a&#60;b &#38; &#34;c&#34;');
});

test('NaN and missing values break the line instead of crashing', async () => {
  const log = [
    { epoch: 1, trainLoss: 0.9, valLoss: 1.0, valSprc: 0.1 },
    { epoch: 2, trainLoss: 0.7, valLoss: NaN, valSprc: NaN },
    { epoch: 3, trainLoss: NaN, valLoss: 0.8, valSprc: 0.3 },
    { epoch: 4, trainLoss: 0.5, valLoss: 0.7 },
    { epoch: 5, trainLoss: Infinity, valLoss: 0.6, valSprc: 0.4, valLcc: NaN },
  ];
  const svg = learningCurveSvg(log, 'gaps');
  // train: runs {1,2} and {4} → 1 polyline (a lone point is a marker only); val loss: {1}, {3,4,5}
  // → 1 polyline; SPRC: {1}, {3}, {5} → none. LCC has no finite value → not in the legend.
  assert.is((svg.match(/<polyline/g) ?? []).length, 2);
  assert.not.match(svg, 'val LCC');
  assert.not.match(svg, 'NaN');
  assert.not.match(svg, 'Infinity');
  const path = join(dir, 'gaps.png');
  await renderLearningCurve(log, path, 'gaps');
  await checkPng(path);
});

test('a single epoch, an all-NaN log and an empty log still render', async () => {
  const one = join(dir, 'one.png');
  await renderLearningCurve([{ epoch: 1, trainLoss: 0.5, valLoss: 0.6, valSprc: -0.1, valLcc: 0.2 }], one, 'single epoch');
  const raw = await checkPng(one);
  assert.ok(countColour(raw, TRAIN_BLUE) > 10, 'the single train-loss marker is missing');
  const nan = join(dir, 'nan.png');
  await renderLearningCurve([{ epoch: 1, trainLoss: NaN }, { epoch: 2, trainLoss: NaN }], nan, 'diverged');
  await checkPng(nan);
  const empty = join(dir, 'empty.png');
  await renderLearningCurve([], empty, 'nothing yet');
  await checkPng(empty);
  assert.match(learningCurveSvg([], 'x'), 'no epochs logged yet');
});

test.run();
