// The manifest reader names file, line and problem for every bad row and skips none.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadManifestFile, readManifest, writeDatasetJson, ManifestError, toJsonl, type DatasetRow } from '../../tools/data/manifest.ts';
import { REAL_AD_SCHEMA } from '../../runtime/schema.ts';
import { tempDir } from './helpers.ts';

const tmp = tempDir('manifest');
test.after(() => tmp.cleanup());

const attrs = { gender: '1', age: '3', month: '5', weekday: '2', hour: '10', position: '1', cate2: '1', cate3: '8', title: 't', desc: 'd', ocr: 'o', domcol: 'red' };
const row = (id: string, over: Partial<DatasetRow> & Record<string, unknown> = {}): DatasetRow => ({ id, image: 'images/a.png', attributes: { ...attrs }, ctr: 0.05, impressions: 100, clicks: 5, ...over });

function dataset(name: string, train: string, test = ''): string {
  const dir = join(tmp.dir, name);
  mkdirSync(join(dir, 'images'), { recursive: true });
  writeFileSync(join(dir, 'images', 'a.png'), 'x');
  writeDatasetJson(dir, { auxSchema: REAL_AD_SCHEMA, target: 'ctr', splits: { train: 'train.jsonl', test: 'test.jsonl' }, source: {} });
  writeFileSync(join(dir, 'train.jsonl'), train);
  writeFileSync(join(dir, 'test.jsonl'), test);
  return dir;
}

test('a valid split reads back unchanged', () => {
  const rows = [row('a#1'), row('a#2', { truth: 0.04 })];
  const d = readManifest(dataset('ok', toJsonl(rows)), 'train');
  assert.equal(d.rows, rows);
  assert.is(d.dataset.format, 'm2fn-dataset/1');
});

test('every bad row is reported with file:line and the problem', () => {
  const lines = [
    JSON.stringify(row('r1')),
    JSON.stringify(row('r2', { image: 'images/missing.png' })),
    JSON.stringify(row('r3', { ctr: -0.1 })),
    JSON.stringify(row('r4', { ctr: null as unknown as number })),
    JSON.stringify(row('r5', { attributes: { ...attrs, colour: 'red' } })),
    JSON.stringify(row('r6', { attributes: { ...attrs, age: '12' } })),
    '{not json',
    JSON.stringify(row('r1')),
    JSON.stringify(row('r9', { image: '../outside.png' })),
  ];
  const dir = dataset('bad', lines.join('\n'));
  try {
    readManifest(dir, 'train');
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.instance(e, ManifestError);
    const p = (e as ManifestError).problems;
    const f = join(dir, 'train.jsonl');
    assert.ok(p.some((s) => s.startsWith(`${f}:2:`) && s.includes('image file "images/missing.png" does not exist')), p.join('\n'));
    assert.ok(p.some((s) => s.startsWith(`${f}:3:`) && s.includes('ctr target must be a number in [0, 1]')));
    assert.ok(p.some((s) => s.startsWith(`${f}:4:`) && s.includes('ctr target')));
    assert.ok(p.some((s) => s.startsWith(`${f}:5:`) && s.includes('unknown attribute "colour"')));
    assert.ok(p.some((s) => s.startsWith(`${f}:6:`) && s.includes('unknown level "12"')));
    assert.ok(p.some((s) => s.startsWith(`${f}:7:`) && s.includes('not valid JSON')));
    assert.ok(p.some((s) => s.startsWith(`${f}:8:`) && s.includes('duplicate id "r1"')));
    assert.ok(p.some((s) => s.startsWith(`${f}:9:`) && s.includes('must stay inside the dataset directory')));
    assert.is(p.filter((s) => s.startsWith(`${f}:1:`)).length, 0);
  }
});

test('a manifest file outside the dataset (a validation file) is checked against the dataset schema', async () => {
  const dir = dataset('withval', toJsonl([row('t#1')]));
  const ds = readManifest(dir, 'train').dataset;
  const other = join(tmp.dir, 'val-folder');
  mkdirSync(join(other, 'images'), { recursive: true });
  writeFileSync(join(other, 'images', 'a.png'), 'x');
  const good = [row('v#1'), row('v#2', { truth: 0.03 })];
  writeFileSync(join(other, 'val.jsonl'), toJsonl(good));
  const v = await loadManifestFile(join(other, 'val.jsonl'), ds);
  assert.equal(v.rows, good);
  assert.is(v.dir, other, 'images resolve against the file\'s folder');
  const f = join(other, 'bad.jsonl');
  writeFileSync(f, toJsonl([row('v#1'), row('v#2', { attributes: { ...attrs, domcol: 'teal' } }), row('v#3', { image: 'images/b.png' })]));
  const err = await loadManifestFile(f, ds).catch((e: ManifestError) => e);
  assert.instance(err, ManifestError);
  const p = (err as ManifestError).problems;
  assert.ok(p.some((s) => s.startsWith(`${f}:2:`) && s.includes('unknown level "teal"')), p.join('\n'));
  assert.ok(p.some((s) => s.startsWith(`${f}:3:`) && s.includes('"images/b.png" does not exist')), p.join('\n'));
  const missing = await loadManifestFile(join(other, 'nope.jsonl'), ds).catch((e: Error) => e);
  assert.match((missing as Error).message, /nope\.jsonl: manifest file not found/);
});

test('dataset.json problems are named', () => {
  const dir = join(tmp.dir, 'badjson');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'dataset.json'), JSON.stringify({ format: 'other', target: 'score', splits: {}, source: {}, auxSchema: { name: 'x', attributes: [{ name: 'a', kind: 'categorical', levels: [] }] } }));
  try {
    readManifest(dir, 'train');
    assert.unreachable('should have thrown');
  } catch (e) {
    const m = (e as Error).message;
    assert.match(m, /format must be "m2fn-dataset\/1"/);
    assert.match(m, /target must be "ctr" or "histogram"/);
    assert.match(m, /splits must name/);
    assert.match(m, /categorical attribute "a" needs a non-empty string array of levels/);
  }
});

test.run();
