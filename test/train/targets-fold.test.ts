// --standardize-targets: the head trained on z-scored targets is exported in CTR units.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inferenceSpec } from '../../graph/export/inference.ts';
import { buildModel } from '../../graph/models/m2fn.ts';
import { foldTargetScaling } from '../../tools/train/data.ts';
import { modelFeeds, run, smallConfig } from '../graph/helpers.ts';

test('folding (shift, scale) into the last layer turns y into scale · y + shift', async () => {
  const m = buildModel(smallConfig('m2fn', { size: 64, seed: 3 }));
  const { feeds } = modelFeeds(m, 4, 2);
  const before = Float32Array.from((await run(inferenceSpec(m), feeds)).ctr.data as Float32Array);
  foldTargetScaling(m, { shift: 0.05, scale: 0.02 });
  const after = (await run(inferenceSpec(m), feeds)).ctr.data as Float32Array;
  before.forEach((y, i) => assert.ok(Math.abs(after[i] - (0.02 * y + 0.05)) < 1e-6, `${after[i]} vs ${0.02 * y + 0.05}`));
});

test.run();
