// Bad input to prepare: malformed CSV lines, wrong types, unknown images, Parquet without the
// required columns. Each gives a clear error or a per-reason count, and the counts add up.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { prepare, DEFAULT_PREPARE } from '../../tools/data/prepare.ts';
import { openDuck, sqlString } from '../../tools/data/duck.ts';
import { tempDir } from './helpers.ts';

const tmp = tempDir('bad-input');
const images = join(tmp.dir, 'images');
test.before(async () => {
  mkdirSync(images, { recursive: true });
  for (const f of ['a.png', 'b.png']) await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } }).png().toFile(join(images, f));
});
test.after(() => tmp.cleanup());

const HEADER = 'image,gender,age,month,weekday,hour,position,cate2,cate3,title,desc,ocr,domcol,clicked';
const good = (image = 'a.png', clicked = 0) => `${image},1,3,5,2,10,1,1,8,Candy Match,A casual game.,Tap to play,red,${clicked}`;

test('CSV: malformed lines, wrong types, out of range, unknown image — each counted by reason', async () => {
  const lines = [
    HEADER,
    good('a.png', 1), good('a.png', 0), good('b.png', 1),
    'a.png,1,abc,5,2,10,1,1,8,T,D,O,red,0', // age not an integer
    'a.png,1,3,5,2,1.5,1,1,8,T,D,O,red,0', // hour not an integer
    'a.png,1,3,5,2,10,9,1,8,T,D,O,red,1', // position out of range
    'a.png,,3,5,2,10,1,1,8,T,D,O,red,0', // gender missing
    'nope.png,1,3,5,2,10,1,1,8,T,D,O,red,1', // image unknown
    'a.png,1,3,5,2,10,1,1,8,T,D,O,purple,0', // domcol unknown level
    'a.png,1,3,5,2,10,1,1,8,T,D,O,red,0,extra,fields', // malformed: too many fields
    'a.png,1,3', // malformed: too few fields
  ];
  const log = join(tmp.dir, 'log.csv');
  writeFileSync(log, lines.join('\n') + '\n');
  const r = (await prepare({ ...DEFAULT_PREPARE, logs: [log], images, out: join(tmp.dir, 'ds-csv'), minImpressions: 1, mergeBelow: 0 })).report;
  const by = Object.fromEntries(Object.entries(r.rejected.byReason).map(([k, v]) => [k, v.impressions]));
  assert.equal(by.age_not_an_integer, 1);
  assert.equal(by.hour_not_an_integer, 1);
  assert.equal(by.position_out_of_range, 1);
  assert.equal(by.gender_missing, 1);
  assert.equal(by.image_unknown, 1);
  assert.equal(by.domcol_unknown_level, 1);
  assert.is(by.malformed_csv_line, 2, `malformed lines counted: ${JSON.stringify(by)}`);
  assert.ok(r.rejected.malformedExamples.length >= 1);
  // No row silently lost: data lines = kept + below + rejected.
  assert.is(r.raw.rows, lines.length - 1);
  assert.is(r.kept.impressions + r.belowThreshold.impressions + r.rejected.total.impressions, lines.length - 1);
  assert.is(r.kept.impressions, 3);
  assert.is(r.kept.clicks, 2);
});

test('Parquet lacking columns: a clear error naming them', async () => {
  const p = join(tmp.dir, 'partial.parquet');
  const duck = await openDuck();
  await duck.conn.run(`COPY (SELECT 'a.png' AS image, 1 AS gender, 3 AS age, 0 AS clicked) TO ${sqlString(p)} (FORMAT parquet)`);
  duck.close();
  try {
    await prepare({ ...DEFAULT_PREPARE, logs: [p], images, out: join(tmp.dir, 'ds-pq') });
    assert.unreachable('should have thrown');
  } catch (e) {
    const m = (e as Error).message;
    assert.match(m, /partial\.parquet/);
    assert.match(m, /lacks columns month, weekday, hour, position, cate2, cate3, title, desc, ocr, domcol/);
  }
});

test('missing log file, missing images directory, unknown format: clear errors', async () => {
  const base = { ...DEFAULT_PREPARE, out: join(tmp.dir, 'x') };
  for (const [opts, pattern] of [
    [{ logs: [join(tmp.dir, 'none.parquet')], images }, /none\.parquet: log file not found/],
    [{ logs: [join(tmp.dir, 'log.csv')], images: join(tmp.dir, 'no-images') }, /no-images: images directory not found/],
    [{ logs: [join(images, 'a.png')], images }, /unknown log format/],
  ] as const) {
    try {
      await prepare({ ...base, ...opts, logs: [...opts.logs] });
      assert.unreachable('should have thrown');
    } catch (e) {
      assert.match((e as Error).message, pattern);
    }
  }
});

test.run();
