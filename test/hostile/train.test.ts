// Regression tests for the trainer under careless input (issue 19 items 3, 4, 7 and 9): resuming on
// another dataset, two runs in one directory, split paths that leave the dataset, a nested config
// change, impressions that are all zero.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { loadManifest, ManifestError, readManifest } from '../../tools/data/manifest.ts';
import { assertCompatible, configHash, type Checkpoint } from '../../tools/train/checkpoint.ts';
import { lockRunDir } from '../../tools/train/run-lock.ts';
import { SMALL_MODEL, testDataset } from '../train/world.ts';
import { SENTINEL, sandbox, thrown } from './sandbox.ts';

const box = sandbox('train');
test.after(() => box.cleanup());
const data = testDataset();
const train = (args: string[]) =>
  spawnSync(process.execPath, ['bin/ort-train.js', ...SMALL_MODEL, '--batch-size', '16', '--epochs', '1', '--lr', '1e-3', '--schedule', 'constant', '--quiet', ...args], { encoding: 'utf8' });

/** A copy of the test dataset whose train split differs in one row's CTR. */
function otherDataset(): string {
  const dir = join(box.dir, 'other-data');
  cpSync(data, dir, { recursive: true });
  const rows = readFileSync(join(dir, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  rows[0].ctr = rows[0].ctr / 2;
  writeFileSync(join(dir, 'train.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return dir;
}

test('item 3: --resume with another dataset is refused, naming the data', () => {
  const out = join(box.dir, 'run-a');
  const first = train(['--data', data, '--out', out, '--max-steps', '2', '--checkpoint-every', '1']);
  assert.is(first.status, 0, first.stderr);
  const other = train(['--data', otherDataset(), '--out', out, '--resume']);
  assert.is(other.status, 1, other.stderr);
  assert.match(other.stderr, /written for another model config.*"data\.train" differs/s);
});

test('item 4: two ort-train runs into one --out: exactly one trains, the other is refused', async () => {
  const out = join(box.dir, 'run-shared');
  const start = () =>
    new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = spawn(process.execPath, ['bin/ort-train.js', ...SMALL_MODEL, '--batch-size', '16', '--epochs', '1', '--lr', '1e-3', '--schedule', 'constant', '--quiet', '--data', data, '--out', out, '--max-steps', '3'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => done({ code, stderr }));
    });
  const results = await Promise.all([start(), start()]);
  const ok = results.filter((r) => r.code === 0);
  assert.is(ok.length, 1, results.map((r) => r.stderr).join('\n'));
  assert.match(results.find((r) => r.code !== 0)!.stderr, /is in use by process \d+|already holds a training run/);
});

test('item 4: the run lock is exclusive, released on release(), and taken over from a dead process', () => {
  const dir = join(box.dir, 'locked');
  mkdirSync(dir);
  const lock = lockRunDir(dir);
  const e = (() => {
    try {
      lockRunDir(dir);
    } catch (err) {
      return err as Error;
    }
  })();
  assert.match(e?.message ?? '', new RegExp(`${dir}.* is in use by process ${process.pid}`));
  lock.release();
  lockRunDir(dir).release();
  // A crashed run leaves its lock behind: a pid that no longer exists.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  writeFileSync(join(dir, '.run.lock'), JSON.stringify({ pid: Number(dead), host: hostname(), startedAt: new Date().toISOString() }));
  const taken = lockRunDir(dir);
  assert.is(JSON.parse(readFileSync(join(dir, '.run.lock'), 'utf8')).pid, process.pid);
  taken.release();
});

test('item 7: split paths outside the dataset directory are refused before they are read', async () => {
  for (const splitPath of ['../outside/secret.jsonl', `${box.outside}/secret.jsonl`, 'sub/../../outside/secret.jsonl']) {
    const dir = join(box.dir, `escape-${Math.random().toString(36).slice(2, 7)}`);
    cpSync(data, dir, { recursive: true, filter: (src) => !src.includes('/images') });
    const ds = JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8'));
    ds.splits.train = splitPath;
    writeFileSync(join(dir, 'dataset.json'), JSON.stringify(ds));
    for (const read of [() => loadManifest(dir, 'train'), () => readManifest(dir, 'train')]) {
      const e = await thrown(read);
      assert.instance(e, ManifestError);
      assert.match(e.message, /split "train" path .* must stay inside the dataset directory/);
      assert.not.match(e.message, SENTINEL);
    }
    const r = train(['--data', dir, '--out', `${dir}-run`]);
    assert.is(r.status, 1);
    assert.match(r.stderr, /must stay inside the dataset directory/);
    assert.not.match(r.stderr, SENTINEL);
  }
});

test('item 9: a checkpoint whose nested config differs names the nested key', () => {
  const config = { model: { size: 64, head: { hidden: [32] } }, lr: 1e-3 };
  const ckpt = { meta: { configHash: configHash(config), config }, tensors: new Map() } as unknown as Checkpoint;
  const now = { model: { size: 64, head: { hidden: [64] } }, lr: 1e-3 };
  const e = (() => {
    try {
      assertCompatible(ckpt, configHash(now), new Map(), 'x.ckpt', now);
    } catch (err) {
      return err as Error;
    }
  })();
  assert.match(e?.message ?? '', /"model\.head\.hidden" differs \(checkpoint \[32\], now \[64\]\)/);
});

test('item 9: rows with zero impressions are a named manifest problem, not "training diverged"', async () => {
  const dir = join(box.dir, 'zero-impressions');
  cpSync(data, dir, { recursive: true });
  const rows = readFileSync(join(dir, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  writeFileSync(join(dir, 'train.jsonl'), rows.map((r) => JSON.stringify({ ...r, impressions: 0, clicks: 0 })).join('\n') + '\n');
  const e = await thrown(() => loadManifest(dir, 'train'));
  assert.match(e.message, /train\.jsonl:1: impressions must be a positive integer \(got 0\)/);
  const r = train(['--data', dir, '--out', `${dir}-run`]);
  assert.is(r.status, 1);
  assert.not.match(r.stderr, /diverged/);
  assert.match(r.stderr, /impressions must be a positive integer/);
});

test('resource bounds: --threads and --batch-size past their limits are clear errors', () => {
  for (const [flag, v, pattern] of [['--threads', '0', /--threads must be an integer in \[1, 1024\]/], ['--threads', '5000', /--threads must be an integer in \[1, 1024\]/], ['--batch-size', '100000', /--batch-size must be an integer in \[2, 4096\]/]] as const) {
    const r = train(['--data', data, '--out', join(box.dir, 'never'), flag, v]);
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, pattern);
  }
});

test.run();
