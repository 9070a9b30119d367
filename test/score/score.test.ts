// m2fn score on a synthetic ad world's images × 3 contexts: the CSV it writes (read back with
// DuckDB, not with our own parser) holds exactly the runtime's scoreMany scores for the same
// creatives, contexts and image-derived attributes (dominant colour, OCR) computed here
// independently; bad input is refused with the place it came from, and nothing is written.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeInference } from '../../graph/export/inference.ts';
import { buildModel } from '../../graph/models/m2fn.ts';
import { dominantColour } from '../../runtime/extract/dominant-colour.ts';
import { createOcr } from '../../runtime/extract/ocr.ts';
import { load } from '../../runtime/node.ts';
import { openDuck, queryObjects, sqlString } from '../../tools/data/duck.ts';
import { readManifest } from '../../tools/data/manifest.ts';
import { smallConfig, tmp } from '../graph/helpers.ts';
import { testDataset } from '../train/world.ts';

const m2fn = (args: string[]) => spawnSync(process.execPath, ['bin/m2fn.js', 'score', ...args], { encoding: 'utf8' });

const CONTEXT_FLAGS = ['gender=1,age=3,month=11,weekday=5,hour=20,position=2', 'gender=2,age=7,month=2,weekday=1,hour=8,position=1'];
const CONTEXT_FILE = { gender: '2', age: '5', month: '7', weekday: '6', hour: '23', position: '4' };

let fixture: { dir: string; model: string; creatives: string; contexts: string; images: string[]; own: Record<string, string>[] } | null = null;
async function setup() {
  if (fixture) return fixture;
  const data = testDataset();
  const dir = tmp('score-cli');
  const model = join(dir, 'model');
  await writeInference(model, buildModel(smallConfig('m2fn', { size: 32, seed: 5 })));
  // Six unseen creatives with their own attributes; domcol and ocr left for the tool to extract.
  const rows = readManifest(data, 'test').rows;
  const seen = new Set<string>();
  const picked = rows.filter((r) => !seen.has(r.image) && seen.add(r.image)).slice(0, 6);
  const images = picked.map((r) => join(data, r.image));
  const own = picked.map((r, i) => ({
    title: i === 0 ? 'Quest, "the" game' : String(r.attributes.title), // a comma and quotes: CSV quoting both ways
    desc: String(r.attributes.desc), cate2: String(r.attributes.cate2), cate3: String(r.attributes.cate3),
  }));
  const q = (s: string) => `"${s.replaceAll('"', '""')}"`;
  const creatives = join(dir, 'creatives.csv');
  writeFileSync(creatives, ['image,title,desc,cate2,cate3', ...images.map((im, i) => [im, own[i].title, own[i].desc, own[i].cate2, own[i].cate3].map(q).join(','))].join('\n') + '\n');
  const contexts = join(dir, 'contexts.jsonl');
  writeFileSync(contexts, JSON.stringify(CONTEXT_FILE) + '\n');
  return (fixture = { dir, model, creatives, contexts, images, own });
}

const contextRecords = () => [
  ...CONTEXT_FLAGS.map((f) => Object.fromEntries(f.split(',').map((p) => p.split('=')))),
  CONTEXT_FILE,
];

test('creatives.csv × 3 contexts: the CSV scores equal scoreMany with independently extracted domcol and ocr', async () => {
  const f = await setup();
  const out = join(f.dir, 'scores.csv');
  const r = m2fn([f.creatives, '--model', f.model, ...CONTEXT_FLAGS.flatMap((c) => ['--context', c]), '--contexts', f.contexts, '--out', out, '--batch-size', '4', '--top', '3']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /extracted domcol from 6 images, ocr from 6 images \(18 rows\)/);
  assert.match(r.stdout, /^rank\s+mean\s+ctx 1\s+ctx 2\s+ctx 3\s+image/);
  assert.is(r.stdout.trim().split('\n').length, 1 + 3 + 3, 'header, top 3, three context legends');

  const duck = await openDuck({ threads: 1 });
  const csv = await queryObjects(duck.conn, `SELECT * FROM read_csv(${sqlString(out)}, header=true, all_varchar=true)`);
  duck.close();
  assert.is(csv.length, 18);

  const ocr = await createOcr();
  const extracted: { domcol: string; ocr: string }[] = [];
  for (const image of f.images) extracted.push({ domcol: (await dominantColour(image)).colour, ocr: await ocr.read(image) });
  await ocr.close();
  const items = f.images.flatMap((image, i) => contextRecords().map((ctx) => ({ image, attributes: { ...f.own[i], ...extracted[i], ...ctx } })));
  const scorer = await load(f.model);
  const want = await scorer.scoreMany(items, { batchSize: 7 });
  await scorer.close();

  csv.forEach((row, k) => {
    const item = items[k];
    assert.is(row.image, item.image, `row ${k} image`);
    for (const [name, v] of Object.entries(item.attributes)) assert.is(row[name] ?? '', String(v), `row ${k} ${name}`);
    assert.is(Number(row.ctr), (want[k] as { ctr: number }).ctr, `row ${k} ctr`);
  });
  assert.ok(new Set(want.map((s) => (s as { ctr: number }).ctr)).size > 6, 'contexts and creatives change the scores');
});

test('JSONL out, an image folder as creatives: one line per image × context, same scores as scoreMany', async () => {
  const f = await setup();
  const folder = join(f.dir, 'folder');
  spawnSync('mkdir', ['-p', folder]);
  for (const im of f.images.slice(0, 2)) spawnSync('cp', [im, folder]);
  const ctx = 'gender=1,age=3,month=11,weekday=5,hour=20,position=2,cate2=1,cate3=9,domcol=blue,ocr=';
  const out = join(f.dir, 'folder.jsonl');
  const r = m2fn([folder, '--model', f.model, '--context', ctx, '--out', out, '--quiet']);
  assert.is(r.status, 0, r.stderr);
  const lines = (await import('node:fs')).readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const files = readdirSync(folder).sort().map((n) => join(folder, n));
  assert.equal(lines.map((l) => l.image), files);
  const scorer = await load(f.model);
  const attributes = Object.fromEntries(ctx.split(',').map((p) => p.split('=')));
  const want = await scorer.scoreMany(files.map((image) => ({ image, attributes })));
  await scorer.close();
  assert.equal(lines.map((l) => l.ctr), want.map((s) => (s as { ctr: number }).ctr));
});

test('bad input: the error names where it came from, and no output is written', async () => {
  const f = await setup();
  const out = join(f.dir, 'bad.csv');
  const cases: [string[], RegExp][] = [
    [['--context', 'gender=1,colour=red'], /creatives\.csv:2 × context gender=1,colour=red: unknown attribute "colour"/],
    [['--context', 'gender=1,hour'], /--context "gender=1,hour": expected name=value pairs/],
    [['--context', 'cate2=1'], /creatives\.csv:2 and context cate2=1 both set cate2/],
    [['--context', 'gender=1,age=3,month=11,weekday=5,hour=25,position=2'], /× context .*hour=25.*: attribute "hour" has unknown value "25"/],
  ];
  for (const [extra, message] of cases) {
    const r = m2fn([f.creatives, '--model', f.model, '--no-extract', '--out', out, '--quiet', ...extra]);
    assert.is(r.status, 1, `${extra.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.not.ok(existsSync(out), 'nothing written');
  }
  const same = m2fn([f.creatives, '--model', f.model, '--out', f.creatives]);
  assert.is(same.status, 1);
  assert.match(same.stderr, /is one of the inputs; it would be overwritten/);
  const missing = m2fn([join(f.dir, 'nope.csv'), '--model', f.model]);
  assert.match(missing.stderr, /nope\.csv: no such file or directory/);
});

test.run();
