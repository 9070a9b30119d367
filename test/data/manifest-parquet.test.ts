// Parquet manifests: the same rows as JSONL (written by DuckDB from the JSONL), the same checks.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadManifest, readManifest } from '../../tools/data/manifest.ts';
import { tmp } from '../graph/helpers.ts';
import { testDataset } from '../train/world.ts';

async function toParquet(dir: string): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  for (const split of ['train', 'test']) {
    await c.run(`COPY (SELECT * FROM read_json('${join(dir, `${split}.jsonl`)}', format = 'newline_delimited')) TO '${join(dir, `${split}.parquet`)}' (FORMAT parquet)`);
  }
  c.closeSync();
  const meta = JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8'));
  meta.splits = { train: 'train.parquet', test: 'test.parquet' };
  writeFileSync(join(dir, 'dataset.json'), JSON.stringify(meta));
}

test('a Parquet manifest reads to the same rows as its JSONL source', async () => {
  const jsonl = testDataset();
  const dir = tmp('parquet-ds');
  cpSync(jsonl, dir, { recursive: true });
  await toParquet(dir);
  for (const split of ['train', 'test'] as const) {
    const want = readManifest(jsonl, split).rows;
    const got = (await loadManifest(dir, split)).rows;
    assert.is(got.length, want.length);
    got.forEach((r, i) => assert.equal(r, want[i], `${split} row ${i + 1}`));
  }
});

test('a Parquet row with a missing image or a bad target is reported with file and row', async () => {
  const dir = tmp('parquet-bad');
  cpSync(testDataset(), dir, { recursive: true });
  const rows = readFileSync(join(dir, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  rows[1].image = 'images/missing.png';
  rows[2].ctr = 1.5;
  writeFileSync(join(dir, 'train.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n'));
  await toParquet(dir);
  try {
    await loadManifest(dir, 'train');
    assert.unreachable('should throw');
  } catch (e) {
    const m = (e as Error).message;
    assert.match(m, /train\.parquet: row 2: image file "images\/missing\.png" does not exist/);
    assert.match(m, /train\.parquet: row 3: ctr target must be a number in \[0, 1\] \(got 1\.5\)/);
  }
});

test.run();
