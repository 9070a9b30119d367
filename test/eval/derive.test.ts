// deriveDataset replaces its output whole: a derivation that fails part way leaves the previous
// derived dataset as it was and nothing half-written beside it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readManifest } from '../../tools/data/manifest.ts';
import { derivationOf, deriveDataset } from '../../tools/eval/derive.ts';
import { tempDir, writeFixtureDataset } from './fixture.ts';

test('a derivation that fails part way leaves the previous one in place', async () => {
  const t = tempDir('derive-atomic');
  try {
    const src = join(t.dir, 'src');
    const out = join(t.dir, 'out');
    await writeFixtureDataset(src, { images: 4, rows: 12 });
    await deriveDataset(src, out, { drop: ['age'] });
    const before = readManifest(out, 'train').rows;
    // The test split vanishes: the second derivation fails after writing its train split.
    rmSync(join(src, 'test.jsonl'));
    let msg = '';
    await deriveDataset(src, out, { textDim: 4 }).catch((e: Error) => (msg = e.message));
    assert.match(msg, /test\.jsonl/);
    assert.equal((derivationOf(out) as { drop: string[] }).drop, ['age'], 'the first derivation is still there');
    assert.equal(readManifest(out, 'train').rows, before);
    assert.equal(readdirSync(t.dir).sort(), ['out', 'src'], 'no staging directory left behind');
  } finally {
    t.cleanup();
  }
});

test.run();
