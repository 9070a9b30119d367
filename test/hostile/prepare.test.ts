// Regression tests for `m2fn prepare` under careless input (issue 19 items 1, 2 and 9): an output
// over its own inputs, RFC-4180 quoting far into a CSV, an undecodable image, a bad option. Each
// must end in a clear error or the right rows, with the inputs untouched and no half dataset.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { prepare, DEFAULT_PREPARE, type PrepareOptions } from '../../tools/data/prepare.ts';
import { changes, csvRow, HEADER, sandbox, snapshot, thrown } from './sandbox.ts';

const box = sandbox('prepare');
const world = join(box.dir, 'world');
const images = join(world, 'images');
const log = join(world, 'log.csv');

test.before(async () => {
  mkdirSync(images, { recursive: true });
  for (const [f, c] of [['a.png', '#123456'], ['b.png', '#654321']]) await sharp({ create: { width: 8, height: 8, channels: 3, background: c } }).png().toFile(join(images, f));
  writeFileSync(log, [HEADER, csvRow('a.png'), csvRow('a.png', 'Candy Match', 1), csvRow('b.png')].join('\n') + '\n');
});
test.after(() => box.cleanup());

const opts = (o: Partial<PrepareOptions>): PrepareOptions => ({ ...DEFAULT_PREPARE, logs: [log], images, out: join(box.dir, 'ds'), minImpressions: 1, mergeBelow: 0, imageSize: 8, ...o });

test('item 1: --out over its own inputs (the world, its images, a folder holding them) is refused and changes nothing', async () => {
  for (const out of [world, images, dirname(world), join(images, 'sub')]) {
    const before = snapshot(box.dir);
    const e = await thrown(() => prepare(opts({ out })));
    assert.match(e.message, /overlaps its input/, `out ${out}: ${e.message}`);
    assert.equal(changes(before, snapshot(box.dir)), [], `out ${out}`);
  }
});

test('item 2: RFC-4180 quoting after 25 000 plain rows: quoted commas, newlines and doubled quotes read as such, no row lost', async () => {
  const tricky = ['"Hello, world"', '"two\nlines"', '"say ""hi"""'];
  const lines = [HEADER, ...Array.from({ length: 25_000 }, () => csvRow('a.png')), ...tricky.map((t) => csvRow('b.png', t))];
  const big = join(box.dir, 'late-quotes.csv');
  writeFileSync(big, lines.join('\n') + '\n');
  const out = join(box.dir, 'ds-quotes');
  const r = (await prepare(opts({ logs: [big], out }))).report;
  assert.is(r.raw.malformedLines, 0, JSON.stringify(r.rejected));
  assert.is(r.kept.impressions, 25_003);
  const titles = readFileSync(join(out, 'train.jsonl'), 'utf8').concat(readFileSync(join(out, 'test.jsonl'), 'utf8'))
    .trim().split('\n').map((l) => JSON.parse(l).attributes.title as string);
  for (const t of ['Hello, world', 'two\nlines', 'say "hi"']) assert.ok(titles.includes(t), `title ${JSON.stringify(t)} in ${JSON.stringify(titles)}`);
});

test('item 2: the CSV dialect is explicit; a semicolon file read with --csv-delimiter ";"', async () => {
  const semi = join(box.dir, 'semi.csv');
  writeFileSync(semi, [HEADER, csvRow('a.png'), csvRow('b.png', '"x; y"')].map((l) => l.replaceAll(',', ';')).join('\n') + '\n');
  const r = (await prepare(opts({ logs: [semi], out: join(box.dir, 'ds-semi'), csv: { delimiter: ';', quote: '"', escape: '"' } }))).report;
  assert.is(r.kept.impressions, 2);
  const e = await thrown(() => prepare(opts({ logs: [semi], out: join(box.dir, 'ds-semi2'), csv: { delimiter: ';;', quote: '"', escape: '"' } })));
  assert.match(e.message, /CSV delimiter must be one character/);
});

test('item 9: an undecodable image is named, and no half-written dataset is left', async () => {
  const bad = join(box.dir, 'bad-images');
  mkdirSync(bad);
  writeFileSync(join(bad, 'a.png'), readFileSync(join(images, 'a.png')));
  writeFileSync(join(bad, 'b.png'), 'this is not a PNG');
  const out = join(box.dir, 'ds-bad');
  const e = await thrown(() => prepare(opts({ images: bad, out })));
  assert.match(e.message, /b\.png: not a decodable image/);
  assert.not.ok(existsSync(out), 'no dataset directory');
  assert.equal(readdirSync(box.dir).filter((f) => f.includes('ds-bad')), [], 'no staging left beside it');
});

test('item 9: --size 0 and other bad numbers are refused before anything is written', async () => {
  for (const [o, pattern] of [
    [{ imageSize: 0 }, /image size must be an integer in \[8, 4096\] \(got 0\)/],
    [{ imageSize: 1.5 }, /image size must be an integer/],
    [{ threads: 0 }, /threads must be an integer in \[1, 1024\]/],
    [{ seed: Number.NaN }, /seed must be an integer/],
  ] as const) {
    const out = join(box.dir, 'ds-num');
    const e = await thrown(() => prepare(opts({ ...o, out })));
    assert.match(e.message, pattern);
    assert.not.ok(existsSync(out));
  }
});

test('a second prepare into an existing dataset replaces it whole; a folder with anything else in it is refused', async () => {
  const out = join(box.dir, 'ds-again');
  await prepare(opts({ out }));
  writeFileSync(join(out, 'images', 'stale.png'), 'from before');
  await prepare(opts({ out }));
  assert.not.ok(existsSync(join(out, 'images', 'stale.png')), 'replaced whole');
  assert.ok(existsSync(join(out, 'dataset.json')));
  writeFileSync(join(out, 'notes.txt'), 'mine');
  const foreign = join(box.dir, 'my-photos');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'holiday.jpg'), 'precious');
  for (const dir of [out, foreign]) {
    const before = snapshot(dir);
    const e = await thrown(() => prepare(opts({ out: dir })));
    assert.match(e.message, /holds files prepare did not write \((notes\.txt|holiday\.jpg)\)/);
    assert.equal(changes(before, snapshot(dir)), []);
  }
});

test.run();
