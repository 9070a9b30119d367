// The hostile-input harness: every row of cases.ts, each under its time bound, must end in the
// project's own clear error matching the row (or be accepted where the row says so), quote no
// byte of the sentinel files outside the sandbox, and leave those files and the inputs unchanged.
// A crash is any other error: TypeError, RangeError, a stack trace on a CLI's stderr, a signal.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { load, M2fnInputError } from '../../runtime/index.ts';
import { createOcr } from '../../runtime/ocr.ts';
import { startServer } from '../../tools/serve/server.ts';
import { writeTinyModel } from '../runtime/tiny-model.ts';
import { testDataset } from '../train/world.ts';
import { cases, CliFailure, type Case, type Fixtures } from './cases.ts';
import { crash } from './harness-crash.ts';
import { HttpRefusal } from './http.ts';
import { changes, csvRow, HEADER, sandbox, SENTINEL, snapshot, within } from './sandbox.ts';

const box = sandbox('harness');
let f: Fixtures;
const protectedDirs: string[] = [];

test.before(async () => {
  const model = (await writeTinyModel(join(box.dir, 'model'))).dir;
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#3366cc' } }).png().toBuffer();
  const fifo = join(box.dir, 'pipe.png');
  spawnSync('mkfifo', [fifo]);
  await sharp({ create: { width: 32, height: 32, channels: 3, background: '#ff0000' } }).png().toFile(join(box.dir, 'sibling.png'));
  const svgPath = join(box.dir, 'evil.svg');
  writeFileSync(svgPath, '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="32" height="32"><image href="sibling.png" xlink:href="sibling.png" width="32" height="32"/></svg>');
  const world = join(box.dir, 'world');
  mkdirSync(join(world, 'images'), { recursive: true });
  writeFileSync(join(world, 'images', 'a.png'), png);
  writeFileSync(join(world, 'images', 'b.png'), png);
  writeFileSync(join(world, 'log.csv'), [HEADER, csvRow('a.png'), csvRow('b.png', 'x', 1)].join('\n') + '\n');
  const web = join(box.dir, 'web');
  mkdirSync(web);
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>m2fn</title>\n');
  const scorer = await load(model);
  const serviceLimits = { maxBodyBytes: 64 * 1024, requestTimeoutMs: 1500, maxRankItems: 256 };
  const service = await startServer(scorer, { ...serviceLimits, host: '127.0.0.1', port: 0, static: { '/': web, '/model-files/': model } });
  f = {
    dir: box.dir, outside: box.outside, model, png, fifo, svgPath, dataset: testDataset(), scorer, service, serviceLimits, web,
    ocr: await createOcr(), world: { log: join(world, 'log.csv'), images: join(world, 'images') },
  };
  protectedDirs.push(box.outside, model, world, f.dataset, web);
});
test.after(async () => {
  await f.service.close(1000);
  await f.scorer.close();
  await f.ocr.close();
  box.cleanup();
});

test('the crash rule catches what it must: JavaScript errors, stack traces, signals, odd exit codes, 5xx and bare 4xx answers', () => {
  assert.ok(crash(new TypeError("Cannot read properties of null (reading 'byteLength')")));
  assert.ok(crash(new RangeError('Invalid array length')));
  assert.ok(crash(new CliFailure(1, 'ort-train: boom\n    at train (/x/tools/train/train.ts:10:5)\n', null)));
  assert.ok(crash(new CliFailure(null, '', 'SIGTERM')));
  assert.ok(crash(new CliFailure(134, 'Aborted', null)));
  assert.is(crash(new CliFailure(1, 'ort-train: --threads must be an integer in [1, 1024] (got 0)\n', null)), null);
  assert.is(crash(new M2fnInputError('image (null): expected a file path')), null);
  assert.ok(crash(new HttpRefusal(500, '{"error":"URI malformed"}')));
  assert.ok(crash(new HttpRefusal(404, '<html>Not Found</html>')));
  assert.is(crash(new HttpRefusal(413, '{"error":"request body is over the limit of 10 bytes"}')), null);
  assert.is(crash(new HttpRefusal(408, '')), null);
});

const counts = new Map<string, number>();
let list: Case[] = [];
test('the case table is built', () => {
  list = cases(f);
  assert.ok(list.length >= 50, `${list.length} cases`);
});

test('every case: a clear error (or acceptance), in time, nothing outside read or changed', async () => {
  const failures: string[] = [];
  for (const c of list) {
    const label = `${c.entry} / ${c.name}`;
    const before = protectedDirs.map(snapshot);
    let error: unknown = null;
    try {
      await within(c.ms ?? 10_000, label, c.run());
    } catch (e) {
      error = e;
    }
    counts.set(c.entry, (counts.get(c.entry) ?? 0) + 1);
    const message = error instanceof Error ? error.message : String(error);
    if (c.error === null && error) failures.push(`${label}: expected acceptance, got ${message}`);
    if (c.error && !error) failures.push(`${label}: expected an error matching ${c.error}, but it was accepted`);
    if (c.error && error) {
      const why = /no answer within/.test(message) ? 'a hang' : crash(error);
      if (why) failures.push(`${label}: a crash (${why}): ${message.slice(0, 300)}`);
      else if (!c.error.test(message)) failures.push(`${label}: error does not match ${c.error}: ${message.slice(0, 300)}`);
    }
    if (message.includes(SENTINEL)) failures.push(`${label}: the error quotes a sentinel file outside the sandbox`);
    // A refused run leaves no staging or temp files behind (checked after its stragglers had time to write).
    await new Promise((r) => setTimeout(r, 50));
    const leftovers = readdirSync(f.dir).filter((n) => n.includes('.tmp-'));
    if (leftovers.length) failures.push(`${label}: left ${leftovers.join(', ')} behind`);
    leftovers.forEach((n) => rmSync(join(f.dir, n), { recursive: true, force: true }));
    protectedDirs.forEach((d, i) => {
      const changed = changes(before[i], snapshot(d));
      if (changed.length) failures.push(`${label}: ${d} changed: ${changed.slice(0, 3).join('; ')}`);
    });
  }
  console.log(`  hostile-input cases by entry point: ${[...counts].map(([k, v]) => `${k} ${v}`).join(', ')} (total ${list.length})`);
  assert.equal(failures, []);
});

test.run();
