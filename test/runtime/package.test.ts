// The runtime as an app installs it: `npm pack` of the runtime workspace, the tarball installed
// into an empty app directory (registry only: onnxruntime-node's download denied in the app's
// allowScripts, as the README tells app developers), then a plain JavaScript file and the
// README's TypeScript snippet — type-checked with the config `tsc --init` writes — score an image.
// Both must give exactly the scores of the runtime's sources loaded in this process.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeInference } from '../../graph/export/inference.ts';
import { buildModel } from '../../graph/models/m2fn.ts';
import { load } from '../../runtime/node.ts';
import { ctrOf } from '../../runtime/results.ts';
import { smallConfig, tmp } from '../graph/helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const TSC = join(ROOT, 'node_modules/.bin/tsc');

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.is(r.status, 0, `${what} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
const run = (cmd: string, args: string[], cwd: string) => spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 26 });

/** The README's runtime example, between its marker comment and the end of the code block. */
function readmeSnippet(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = readme.match(/<!-- readme-runtime-snippet[^>]*-->\n```ts\n([\s\S]*?)```/);
  if (!m) throw new Error('README.md has no <!-- readme-runtime-snippet --> TypeScript block');
  return m[1];
}

const ATTRIBUTES = {
  gender: 1, age: 7, month: 8, weekday: 6, hour: 21, position: 1, cate2: 1, cate3: 9,
  title: 'Puzzle Quest', desc: 'Match three gems to win', ocr: 'Play now!', domcol: 'blue',
};

test('the packed runtime installs into an empty app; a JS file and the README TypeScript score as the sources do', async () => {
  const dir = tmp('package');
  const packed = ok(run('npm', ['pack', '--workspace=runtime', '--pack-destination', dir, '--json'], ROOT), 'npm pack');
  const [{ filename, files }] = JSON.parse(packed.slice(packed.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  const paths = files.map((f) => f.path);
  for (const entry of ['dist/index.js', 'dist/index.d.ts', 'dist/web.js', 'dist/web.d.ts', 'dist/ocr.js', 'package.json', 'README.md']) {
    assert.ok(paths.includes(entry), `tarball lacks ${entry}`);
  }
  const stray = paths.filter((p) => !/^(dist\/.*\.(js|d\.ts)|package\.json|README\.md)$/.test(p));
  assert.equal(stray, [], 'the tarball carries only the build, package.json and README');

  const app = join(dir, 'app');
  ok(run('mkdir', ['-p', app], dir), 'mkdir');
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module', allowScripts: { 'onnxruntime-node': false } }));
  ok(run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, filename)], app), 'npm install of the tarball');
  const installed = readdirSync(join(app, 'node_modules'));
  for (const heavy of ['onnxruntime-web', 'tesseract.js', '@duckdb', 'tsx', 'esbuild', 'typescript']) {
    assert.not.ok(installed.includes(heavy), `${heavy} came along with the runtime`);
  }
  const du = run('du', ['-sm', join(app, 'node_modules')], app).stdout.split('\t')[0];
  console.log(`\n  installed size of @m2fn/runtime with its dependencies: ${du} MB`);

  await writeInference(join(app, 'model'), buildModel(smallConfig('m2fn', { size: 64, seed: 3 })));
  await sharp({ create: { width: 90, height: 70, channels: 3, background: { r: 30, g: 160, b: 200 } } }).png().toFile(join(app, 'ad.png'));

  // Plain JavaScript, no TypeScript anywhere: the built entry and its `browser`-free exports.
  writeFileSync(
    join(app, 'plain.js'),
    `import { load } from '@m2fn/runtime';
const s = await load('model');
const r = await s.score('ad.png', ${JSON.stringify(ATTRIBUTES)});
await s.close();
console.log(JSON.stringify(r));`,
  );
  const plain = JSON.parse(ok(run(process.execPath, ['plain.js'], app), 'node plain.js').trim());

  // The README snippet under tsc --init's defaults (strict, exactOptionalPropertyTypes,
  // noUncheckedIndexedAccess, types: []), compiled by tsc and run as the JS it emits.
  ok(run(TSC, ['--init'], app), 'tsc --init');
  writeFileSync(join(app, 'readme.ts'), readmeSnippet());
  ok(run(TSC, ['-p', '.'], app), 'tsc on the README snippet');
  const fromReadme = JSON.parse(ok(run(process.execPath, ['readme.js'], app), 'node readme.js').trim()) as { ctr: number; ctrs: number[] };

  const scorer = await load(join(app, 'model'));
  const want = await scorer.score(join(app, 'ad.png'), ATTRIBUTES);
  const wantMany = (await scorer.scoreMany([
    { image: join(app, 'ad.png'), attributes: ATTRIBUTES },
    { image: join(app, 'ad.png'), attributes: { ...ATTRIBUTES, hour: 9 } },
  ])).map(ctrOf);
  await scorer.close();
  assert.equal(plain, want);
  assert.is(fromReadme.ctr, ctrOf(want));
  assert.equal(fromReadme.ctrs, wantMany);
  assert.is.not(wantMany[0], wantMany[1], 'the hour changes the score, so the two items are really scored apart');
});

test.run();
