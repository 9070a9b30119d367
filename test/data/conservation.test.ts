// Conservation and exactness of prepare on a synthetic log: every raw impression and click ends up
// in exactly one of kept / below-threshold / rejected, and DuckDB's aggregation equals an
// independent in-memory aggregation of the rows read with hyparquet.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { synthesize, DEFAULT_SYNTH, PLANTED_CORRUPTIONS } from '../../tools/data/synth.ts';
import { prepare, DEFAULT_PREPARE, type PrepareResult } from '../../tools/data/prepare.ts';
import { readManifest } from '../../tools/data/manifest.ts';
import { truthCtr, type ImageFactors } from '../../tools/data/truth.ts';
import { REQUIRED_COLUMNS } from '../../tools/data/log-columns.ts';
import { tempDir, readParquetRows } from './helpers.ts';

const tmp = tempDir('conservation');
const world = join(tmp.dir, 'world');
let synth: Awaited<ReturnType<typeof synthesize>>;
let rows: Record<string, unknown>[];

test.before(async () => {
  synth = await synthesize({ ...DEFAULT_SYNTH, out: world, seed: 5, images: 40, impressions: 120_000, imageSize: 32, botFraction: 0.03, corruptFraction: 0.003 });
  rows = await readParquetRows(join(world, 'impressions.parquet'));
});
test.after(() => tmp.cleanup());

const run = (out: string, over: Partial<typeof DEFAULT_PREPARE> = {}): Promise<PrepareResult> =>
  prepare({ ...DEFAULT_PREPARE, logs: [join(world, 'impressions.parquet')], images: join(world, 'images'), truth: join(world, 'truth.parquet'), out: join(tmp.dir, out), mergeBelow: 0, ...over });

test('synth writes the requested number of rows with the planted faults', () => {
  assert.is(rows.length, 120_000);
  assert.is(synth.rows, 120_000);
  assert.is(rows.filter((r) => Number(r.user_id) >= 9_000_000).length, synth.botRows);
  assert.is(rows.filter((r) => r.age === 0).length, Math.ceil(synth.corruptRows / 6));
});

test('kept + below threshold + rejected = raw, for impressions and clicks', async () => {
  const r = (await run('ds100', { minImpressions: 100 })).report;
  const rawClicks = rows.reduce((s, x) => s + Number(x.clicked ?? 0), 0);
  assert.is(r.raw.rows, rows.length);
  assert.is(r.raw.clicks, rawClicks);
  assert.is(r.kept.impressions + r.belowThreshold.impressions + r.rejected.total.impressions, rows.length);
  assert.is(r.kept.clicks + r.belowThreshold.clicks + r.rejected.total.clicks, rawClicks);
  assert.ok(r.kept.instances > 0 && r.belowThreshold.instances > 0);
  // Each planted corruption is rejected with its own reason; bots as malicious users.
  for (const reason of PLANTED_CORRUPTIONS) {
    const k = PLANTED_CORRUPTIONS.indexOf(reason);
    const expected = Math.floor((synth.corruptRows - 1 - k) / 6) + 1;
    assert.is(r.rejected.byReason[reason]?.impressions, expected, reason);
  }
  assert.is(r.rejected.byReason.malicious_user.impressions, synth.botRows);
  assert.is(r.maliciousUsers, 20);
});

test('DuckDB aggregation equals an in-memory aggregation; split is image-disjoint; truth matches', async () => {
  const res = await run('ds1', { minImpressions: 1 });
  // Independent rules: ranges from the column table, known images, malicious users by the same thresholds.
  const known = new Set(readdirSync(join(world, 'images')));
  const users = new Map<number, [number, number]>();
  for (const x of rows) {
    if (x.clicked !== 0 && x.clicked !== 1) continue;
    const u = users.get(Number(x.user_id)) ?? [0, 0];
    u[0]++;
    u[1] += Number(x.clicked);
    users.set(Number(x.user_id), u);
  }
  const bad = new Set([...users].filter(([, [n, c]]) => n >= DEFAULT_PREPARE.botMinImpressions && c / n >= DEFAULT_PREPARE.botMinCtr).map(([u]) => u));
  const agg = new Map<string, [number, number]>();
  for (const x of rows) {
    const ok = REQUIRED_COLUMNS.every((c) => (c.kind === 'int' ? typeof x[c.name] === 'number' && (x[c.name] as number) >= c.min && (x[c.name] as number) <= c.max : typeof x[c.name] === 'string'));
    if (!ok || !known.has(String(x.image)) || bad.has(Number(x.user_id))) continue;
    const key = ['image', 'gender', 'age', 'month', 'weekday', 'hour', 'position', 'cate2', 'cate3', 'title', 'desc', 'ocr', 'domcol'].map((k) => String(x[k])).join('|');
    const a = agg.get(key) ?? [0, 0];
    a[0]++;
    a[1] += Number(x.clicked);
    agg.set(key, a);
  }
  const train = readManifest(join(tmp.dir, 'ds1'), 'train').rows;
  const testRows = readManifest(join(tmp.dir, 'ds1'), 'test').rows;
  const all = [...train, ...testRows];
  assert.is(all.length, agg.size);
  for (const r of all) {
    const a = r.attributes;
    const key = [r.image.replace(/^images\//, ''), a.gender, a.age, a.month, a.weekday, a.hour, a.position, a.cate2, a.cate3, a.title, a.desc, a.ocr, a.domcol].join('|');
    const want = agg.get(key);
    assert.ok(want, `instance ${key} not in the in-memory aggregation`);
    assert.is(r.impressions, want![0]);
    assert.is(r.clicks, want![1]);
    assert.ok(Math.abs(r.ctr! - want![1] / want![0]) < 1e-12);
  }
  assert.is(res.report.valid.instances, agg.size);
  const trainImages = new Set(train.map((r) => r.image));
  assert.ok(testRows.length > 0);
  assert.ok(testRows.every((r) => !trainImages.has(r.image)), 'a test image also appears in train');
  // Ground truth recomputed from world.json for every row.
  const w = JSON.parse(readFileSync(join(world, 'world.json'), 'utf8')) as { images: (ImageFactors & { file: string; index: number })[]; truth: { strengths: never } };
  const byFile = new Map(w.images.map((im) => [im.file, im]));
  for (const r of all) {
    const im = byFile.get(r.image.replace(/^images\//, ''))!;
    const a = r.attributes;
    const t = truthCtr(im, { image: im.index, gender: +a.gender, age: +a.age, month: +a.month, weekday: +a.weekday, hour: +a.hour, position: +a.position }, 5, w.truth.strengths);
    assert.ok(Math.abs(r.truth! - t) < 1e-9, `truth of ${r.id}: ${r.truth} vs ${t}`);
  }
});

test('level merging pools impressions and shrinks the schema without losing any', async () => {
  const r = await run('dsm', { minImpressions: 1, mergeBelow: 6000 });
  assert.ok(Object.keys(r.report.merges).length > 0, 'expected some merges at 6000');
  const d = readManifest(join(tmp.dir, 'dsm'), 'train');
  for (const [attr, mapping] of Object.entries(r.report.merges)) {
    const schemaAttr = d.dataset.auxSchema.attributes.find((a) => a.name === attr)!;
    assert.ok(schemaAttr.kind === 'categorical');
    for (const from of Object.keys(mapping)) assert.not.ok(schemaAttr.kind === 'categorical' && schemaAttr.levels.includes(from));
  }
  assert.is(r.report.kept.impressions, r.report.valid.impressions);
  assert.is(r.report.kept.clicks, r.report.valid.clicks);
});

test.run();
