// The typed CTR: scorer.ctr() is score()'s ctr for regression models, and both it and ctrOf refuse
// a distribution model's score instead of inventing a number.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ctrOf, load } from '../../runtime/index.ts';
import { writeTinyModel } from './tiny-model.ts';

test('ctr() equals score().ctr on a regression model; a distribution model refuses both ways', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'm2fn-ctr-'));
  try {
    const image = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 120, g: 30, b: 200 } } }).png().toBuffer();
    const attrs = { colour: 'red', title: 'Gem Quest', price: 12 };
    const regression = await load((await writeTinyModel(join(dir, 'r'))).dir);
    const s = await regression.score(image, attrs);
    assert.ok('ctr' in s);
    assert.is(await regression.ctr(image, attrs), (s as { ctr: number }).ctr);
    assert.is(ctrOf(s), (s as { ctr: number }).ctr);
    await regression.close();

    const distribution = await load((await writeTinyModel(join(dir, 'd'), { kind: 'distribution' })).dir);
    await distribution.ctr(image, attrs).then(
      () => assert.unreachable('ctr() of a distribution model resolved'),
      (e: Error) => assert.match(e.message, /predicts a 10-bucket distribution, not a CTR: use score\(\) and read mean and std/),
    );
    const d = await distribution.score(image, attrs);
    assert.throws(() => ctrOf(d), /this score is a distribution over 10 buckets \(mean [\d.]+\), not a CTR/);
    await distribution.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
