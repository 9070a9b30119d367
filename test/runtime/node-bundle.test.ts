// The Node runtime as apps embed it: `import { load } from 'm2fn/runtime'` from plain Node (no
// TypeScript loader) resolves to the esbuild bundle and scores exactly as the sources do.
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import sharp from 'sharp';
import { writeInference } from '../../graph/export.ts';
import { buildModel } from '../../graph/models/m2fn.ts';
import { load } from '../../runtime/node.ts';
import { smallConfig, tmp } from '../graph/helpers.ts';

test('a plain-Node app imports m2fn/runtime from the bundle and gets the same score', async () => {
  const build = spawnSync('npm', ['run', '--silent', 'build:runtime'], { encoding: 'utf8' });
  assert.is(build.status, 0, build.stderr);
  const dir = tmp('bundle');
  const model = join(dir, 'model');
  await writeInference(model, buildModel(smallConfig('m2fn', { size: 64, seed: 2 })));
  const image = join(dir, 'ad.png');
  await sharp({ create: { width: 80, height: 60, channels: 3, background: { r: 200, g: 40, b: 90 } } }).png().toFile(image);
  const attributes = { gender: 2, age: 7, month: 8, weekday: 6, hour: 21, position: 1, cate2: 1, cate3: 9, title: 'Gem Quest', desc: 'Match gems', ocr: 'Play now', domcol: 'red' };

  // An app directory whose node_modules/m2fn is this package, as after `npm install m2fn`.
  const app = join(dir, 'app');
  mkdirSync(join(app, 'node_modules'), { recursive: true });
  symlinkSync(resolve('.'), join(app, 'node_modules', 'm2fn'));
  writeFileSync(join(app, 'package.json'), '{"type":"module"}');
  writeFileSync(
    join(app, 'score.js'),
    `import { load } from 'm2fn/runtime';
const s = await load(${JSON.stringify(model)});
const r = await s.score(${JSON.stringify(image)}, ${JSON.stringify(attributes)});
await s.close();
console.log(JSON.stringify(r));`,
  );
  const run = spawnSync(process.execPath, ['score.js'], { cwd: app, encoding: 'utf8' });
  assert.is(run.status, 0, run.stderr);
  const fromBundle = JSON.parse(run.stdout.trim());

  const scorer = await load(model);
  const fromSource = await scorer.score(image, attributes);
  await scorer.close();
  assert.equal(fromBundle, fromSource);
});

test.run();
