// The planted truth is recoverable: on a 5M-row synthetic log the insights report shows the
// paper's main effects, and every level's CTR matches the truth-implied marginal
// (Σ impressions·truth / Σ impressions over the clean instances) within sampling error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { synthesize, DEFAULT_SYNTH } from '../../tools/data/synth.ts';
import { prepare, DEFAULT_PREPARE } from '../../tools/data/prepare.ts';
import { openDuck, queryObjects, sqlString } from '../../tools/data/duck.ts';
import { INSIGHT_ATTRIBUTES, type Insights } from '../../tools/data/insights.ts';
import { tempDir } from './helpers.ts';

const tmp = tempDir('insights');
test.after(() => tmp.cleanup());
let insights: Insights;
const expected: Record<string, Map<string, number>> = {};

test.before(async () => {
  const world = join(tmp.dir, 'world');
  await synthesize({ ...DEFAULT_SYNTH, out: world, seed: 3, images: 300, impressions: 5_000_000, imageSize: 32 });
  const res = await prepare({ ...DEFAULT_PREPARE, logs: [join(world, 'impressions.parquet')], images: join(world, 'images'), out: join(tmp.dir, 'report'), reportsOnly: true });
  insights = res.insights;
  assert.ok(existsSync(join(tmp.dir, 'report', 'report', 'insights-age.png')));
  // Truth-implied marginals, computed from truth.parquet (the generator's instances).
  const duck = await openDuck();
  const colourOf = new Map<string, string>();
  const worldJson = (await import('node:fs')).readFileSync(join(world, 'world.json'), 'utf8');
  for (const im of JSON.parse(worldJson).images as { file: string; colour: string }[]) colourOf.set(im.file, im.colour);
  await duck.conn.run(`CREATE TABLE colours (image VARCHAR, domcol VARCHAR)`);
  await duck.conn.run(`INSERT INTO colours VALUES ${[...colourOf].map(([f, c]) => `(${sqlString(f)}, ${sqlString(c)})`).join(',')}`);
  for (const a of INSIGHT_ATTRIBUTES) {
    const rows = await queryObjects(duck.conn, `SELECT ${a}::VARCHAR AS level, sum(impressions * truth) / sum(impressions) AS ctr FROM read_parquet(${sqlString(join(world, 'truth.parquet'))}) JOIN colours USING (image) GROUP BY 1`);
    expected[a] = new Map(rows.map((r) => [String(r.level), Number(r.ctr)]));
  }
  duck.close();
});

const ctr = (a: keyof Insights, level: string) => insights[a].find((l) => l.level === level)!.ctr;
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

test('every level matches the truth-implied marginal within 4 standard errors', () => {
  for (const a of INSIGHT_ATTRIBUTES) {
    for (const l of insights[a]) {
      if (l.impressions === 0) continue;
      const want = expected[a].get(l.level)!;
      const se = Math.sqrt((want * (1 - want)) / l.impressions);
      assert.ok(Math.abs(l.ctr - want) < 4 * se, `${a}=${l.level}: observed ${l.ctr.toFixed(5)}, truth ${want.toFixed(5)}, se ${se.toExponential(2)}`);
    }
  }
});

test('planted main effects are visible', () => {
  // Older users click more: the odd age levels rise and age 9 is ≥ 1.4× age 1 (planted ≈ 1.8×).
  const ages = ['1', '3', '5', '7', '9'].map((a) => ctr('age', a));
  for (let i = 1; i < ages.length; i++) assert.ok(ages[i] > ages[i - 1], `age CTRs ${ages}`);
  assert.ok(ctr('age', '9') / ctr('age', '1') > 1.4);
  // 2–4 AM, 9–11 AM, noon, 3–5 PM higher (planted ≈ +28%).
  const peak = [2, 3, 4, 9, 10, 11, 12, 15, 16, 17];
  const hours = insights.hour.map((l) => ({ h: +l.level, c: l.ctr }));
  const ratio = mean(hours.filter((x) => peak.includes(x.h)).map((x) => x.c)) / mean(hours.filter((x) => !peak.includes(x.h)).map((x) => x.c));
  assert.ok(ratio > 1.15 && ratio < 1.45, `peak-hour ratio ${ratio}`);
  // Start and end of the week above midweek.
  for (const end of ['1', '7']) for (const mid of ['3', '4']) assert.ok(ctr('weekday', end) > ctr('weekday', mid), `weekday ${end} vs ${mid}`);
  // July–September are the three lowest months.
  const lowest = [...insights.month].sort((a, b) => a.ctr - b.ctr).slice(0, 3).map((l) => l.level).sort();
  assert.equal(lowest, ['7', '8', '9']);
  // Position 1 best, 4 worst.
  const pos = ['1', '2', '3', '4'].map((p) => ctr('position', p));
  assert.ok(pos[0] > pos[1] && pos[1] > pos[2] && pos[2] > pos[3], `positions ${pos}`);
  // Black and blue above white and grey.
  for (const hi of ['black', 'blue']) for (const lo of ['white', 'grey']) assert.ok(ctr('domcol', hi) > ctr('domcol', lo), `${hi} vs ${lo}`);
});

test.run();
