// AVA reader on the fixture (exact AVA.txt / tags.txt format) and on malformed input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync, mkdirSync, copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildAvaDataset, parseAvaTxt, parseTags, AvaFormatError } from '../../tools/data/ava.ts';
import { readManifest } from '../../tools/data/manifest.ts';
import { tempDir } from './helpers.ts';

const FIX = 'fixtures/ava';
const tmp = tempDir('ava');
test.after(() => tmp.cleanup());

test('fixture → dataset: normalised histograms, tag text, 8:2-ish split, manifest reads back', () => {
  const out = join(tmp.dir, 'ds');
  const r = buildAvaDataset({ ava: join(FIX, 'AVA.txt'), tags: join(FIX, 'tags.txt'), images: join(FIX, 'images'), out, testFraction: 0.2, seed: 1, imageExtension: 'jpg' });
  assert.is(r.rows, 12);
  assert.is(r.train + r.test, 12);
  assert.ok(r.test >= 1 && r.test <= 5);
  const rows = [...readManifest(out, 'train').rows, ...readManifest(out, 'test').rows];
  const src = parseAvaTxt(readFileSync(join(FIX, 'AVA.txt'), 'utf8'));
  const tags = parseTags(readFileSync(join(FIX, 'tags.txt'), 'utf8'));
  for (const s of src) {
    const row = rows.find((x) => x.id === s.imageId)!;
    const total = s.votes.reduce((a, b) => a + b, 0);
    assert.equal(row.histogram, s.votes.map((v) => v / total));
    assert.is(row.impressions, total);
    assert.is(row.attributes.tags, s.tags.filter((t) => t).map((t) => tags.get(t)).join(', '));
  }
});

test('malformed AVA lines and unknown tags are errors with file:line; missing images are counted', () => {
  try {
    parseAvaTxt('1 953619 0 1 5 17 38 36 15 6 5 1 1 22 1396\n2 953958 0 x 1 2 3 4 5 6 7 8 9 1 2\n3 954184 1 2 3\n', 'A.txt');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, AvaFormatError);
    assert.match((e as Error).message, /A\.txt:2: field 4 \("x"\) is not a non-negative integer/);
    assert.match((e as Error).message, /A\.txt:3: expected 15 fields/);
  }
  const dir = join(tmp.dir, 'partial');
  mkdirSync(join(dir, 'images'), { recursive: true });
  const files = readdirSync(join(FIX, 'images')).sort();
  for (const f of files.slice(1)) copyFileSync(join(FIX, 'images', f), join(dir, 'images', f));
  writeFileSync(join(dir, 'tags.txt'), '1 Abstract\n');
  writeFileSync(join(dir, 'AVA.txt'), readFileSync(join(FIX, 'AVA.txt'), 'utf8').split('\n').slice(0, 1).join('\n').replace(/ \d+ \d+ (\d+)$/, ' 0 0 $1') + '\n' + readFileSync(join(FIX, 'AVA.txt'), 'utf8').split('\n').slice(1, 3).map((l) => l.replace(/ \d+ \d+ (\d+)$/, ' 1 0 $1')).join('\n') + '\n');
  const r = buildAvaDataset({ ava: join(dir, 'AVA.txt'), tags: join(dir, 'tags.txt'), images: join(dir, 'images'), out: join(dir, 'out'), testFraction: 0.2, seed: 1, imageExtension: 'jpg' });
  assert.is(r.rejected.image_missing.count, 1);
  assert.is(r.train + r.test + r.rejected.image_missing.count, 3);
  writeFileSync(join(dir, 'AVA2.txt'), '1 953000 1 2 3 4 5 6 7 8 9 10 5 0 1\n');
  assert.throws(() => buildAvaDataset({ ava: join(dir, 'AVA2.txt'), tags: join(dir, 'tags.txt'), images: join(FIX, 'images'), out: join(dir, 'out2'), testFraction: 0.2, seed: 1, imageExtension: 'jpg' }), /AVA2\.txt:1: tag id 5 is not in tags\.txt/);
});

test.run();
