// `ort-train --ep webgpu` end to end on SwiftShader: the same log and exported model as the CPU
// run (within tolerance), a SIGKILL then --resume that ends where the uninterrupted run ends,
// SIGINT stopping cleanly with a checkpoint, and one clear error when there is no adapter.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluateModel } from '../../tools/eval/score-model.ts';
import { readCheckpoint } from '../../tools/train/checkpoint.ts';
import { tmp } from '../graph/helpers.ts';
import { ortTrain, testDataset } from '../train/world.ts';
import { finished, spawnOnSwiftShader } from './harness.ts';

const data = testDataset();
// VGG11 at 32² keeps a SwiftShader epoch to seconds; batch 12 leaves a last batch of a different size.
const ARGS = ['--data', data, '--size', '32', '--backbone', 'vgg11', '--width', '0.125', '--head-hidden', '16', '--cbn-hidden', '8', '--att-hidden', '8', '--fuse-dim', '8',
  '--batch-size', '12', '--lr', '1e-3', '--schedule', 'constant', '--validation', 'test', '--checkpoint-every', '3', '--quiet'];
const onGpu = (out: string, extra: string[] = []) => finished(spawnOnSwiftShader(['bin/ort-train.js', ...ARGS, '--out', out, '--ep', 'webgpu', ...extra]));
const log = (dir: string) => readFileSync(join(dir, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

async function waitFor(path: string, ms: number) {
  const start = Date.now();
  while (!existsSync(path) && Date.now() - start < ms) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(path), `${path} did not appear within ${ms / 1000} s`);
}

const whole = tmp('gpu-whole');

test('--ep webgpu trains, validates and exports what --ep cpu does', async () => {
  const cpu = tmp('gpu-cpu-twin');
  const c = ortTrain([...ARGS, '--out', cpu, '--epochs', '2']);
  assert.is(c.status, 0, c.stderr);
  const g = await onGpu(whole, ['--epochs', '2']);
  assert.is(g.code, 0, g.stderr);
  const [lc, lg] = [log(cpu), log(whole)];
  assert.is(lg.length, 2);
  for (const [i, e] of lg.entries()) {
    for (const k of ['trainLoss', 'valLoss'] as const) assert.ok(rel(e[k], lc[i][k]) <= 1e-3, `epoch ${i + 1} ${k}: webgpu ${e[k]} vs cpu ${lc[i][k]}`);
    assert.ok(Math.abs(e.valSprc - lc[i].valSprc) <= 0.01, `epoch ${i + 1} SPRC: ${e.valSprc} vs ${lc[i].valSprc}`);
  }
  // The exported models (scored on the CPU provider) predict the same CTRs.
  const [pc, pg] = [(await evaluateModel(cpu, data, { split: 'test', resamples: 1 })).predictions.predicted, (await evaluateModel(whole, data, { split: 'test', resamples: 1 })).predictions.predicted];
  let worst = 0;
  for (let i = 0; i < pc.length; i++) worst = Math.max(worst, rel(pg[i], pc[i]));
  assert.ok(worst <= 1e-3, `exported models' predictions differ by up to ${worst.toExponential(2)} relative`);
});

test('SIGKILL mid-epoch on webgpu, then --resume: ends where the uninterrupted webgpu run ends', async () => {
  const killed = tmp('gpu-killed');
  const child = spawnOnSwiftShader(['bin/ort-train.js', ...ARGS, '--out', killed, '--ep', 'webgpu', '--epochs', '2']);
  const done = finished(child);
  await waitFor(join(killed, 'checkpoints', 'last.ckpt'), 300_000);
  child.kill('SIGKILL');
  await done;
  const atKill = readCheckpoint(join(killed, 'checkpoints', 'last.ckpt'));
  assert.ok(atKill.meta.step > 0 && atKill.meta.epoch < 2, `killed mid-run (checkpoint at step ${atKill.meta.step})`);
  const r = await onGpu(killed, ['--epochs', '2', '--resume']);
  assert.is(r.code, 0, r.stderr);
  const [a, b] = [log(killed), log(whole)];
  assert.is(a.length, b.length);
  for (const [i, e] of a.entries()) assert.ok(rel(e.valLoss, b[i].valLoss) <= 1e-4, `epoch ${i + 1} val loss ${e.valLoss} vs ${b[i].valLoss}`);
});

test('SIGINT on webgpu: exits 130 after a checkpoint, releasing its sessions, and the checkpoint resumes', async () => {
  const out = tmp('gpu-sigint');
  const child = spawnOnSwiftShader(['bin/ort-train.js', ...ARGS, '--out', out, '--ep', 'webgpu', '--epochs', '2']);
  const done = finished(child);
  await waitFor(join(out, 'checkpoints', 'last.ckpt'), 300_000);
  child.kill('SIGINT');
  const r = await done;
  assert.is(r.code, 130, `exit ${r.code} ${r.signal ?? ''}: ${r.stderr}`);
  assert.match(r.stderr, /interrupted by SIGINT; checkpoint written to .*last\.ckpt, continue with --resume/);
  const resumed = await onGpu(out, ['--epochs', '2', '--resume']);
  assert.is(resumed.code, 0, resumed.stderr);
  assert.is(log(out).length, 2);
});

test('no WebGPU adapter: one clear error naming what to install, none of the provider\'s own noise', () => {
  const env = { ...process.env, VK_DRIVER_FILES: '/nonexistent/icd.json', VK_ICD_FILENAMES: '/nonexistent/icd.json', LD_LIBRARY_PATH: '' };
  const r = spawnSync(process.execPath, ['bin/ort-train.js', ...ARGS, '--out', tmp('gpu-none'), '--ep', 'webgpu', '--epochs', '1'], { encoding: 'utf8', env });
  assert.is(r.status, 1);
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0], /^ort-train: execution provider webgpu is not usable: .*adapter.*libvulkan1.*chromium/);
});

test.run();
