// `ort-train --ep webgpu` end to end on SwiftShader: the same log and exported model as the CPU
// run (within tolerance), a SIGKILL then --resume that ends where the uninterrupted run ends,
// SIGINT stopping cleanly with a checkpoint, and one clear error when there is no adapter.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluateModel } from '../../tools/eval/score-model.ts';
import { readCheckpoint } from '../../tools/train/checkpoint.ts';
import { tmp } from '../graph/helpers.ts';
import { ortTrain, testDataset } from '../train/world.ts';
import { finished, spawnOnSwiftShader } from './harness.ts';

/** The test world cut to 60 training and 24 test rows: 5 steps an epoch keeps SwiftShader runs short. */
function smallDataset(): string {
  const full = testDataset();
  const dir = tmp('gpu-data');
  copyFileSync(join(full, 'dataset.json'), join(dir, 'dataset.json'));
  symlinkSync(join(full, 'images'), join(dir, 'images'));
  for (const [split, rows] of [['train', 60], ['test', 24]] as const) {
    const lines = readFileSync(join(full, `${split}.jsonl`), 'utf8').trim().split('\n');
    writeFileSync(join(dir, `${split}.jsonl`), lines.slice(0, rows).join('\n') + '\n');
  }
  return dir;
}

const data = smallDataset();
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

/**
 * Tolerances for 10 AdamW steps at lr 1e-3. Float rounding alone is ~1e-6 per step (step.test.ts),
 * but AdamW turns the rounding noise of the zero-by-construction conv bias in front of the CBN
 * into steps of ±lr that the running statistics then carry into evaluation. Measured (SwiftShader
 * vs CPU): train loss 5e-4, val loss 1.3e-3 relative, SPRC over the 24 test rows 0.014, exported
 * predictions 2.5e-3 at most and 1.0e-3 in L2.
 */
const TOL = { trainLoss: 2e-3, valLoss: 5e-3, sprc: 0.05, predMax: 1e-2, predL2: 3e-3 };

test('--ep webgpu trains, validates and exports what --ep cpu does', async () => {
  const cpu = tmp('gpu-cpu-twin');
  const c = ortTrain([...ARGS, '--out', cpu, '--epochs', '2']);
  assert.is(c.status, 0, c.stderr);
  const g = await onGpu(whole, ['--epochs', '2']);
  assert.is(g.code, 0, g.stderr);
  const [lc, lg] = [log(cpu), log(whole)];
  assert.is(lg.length, 2);
  for (const [i, e] of lg.entries()) {
    for (const k of ['trainLoss', 'valLoss'] as const) assert.ok(rel(e[k], lc[i][k]) <= TOL[k], `epoch ${i + 1} ${k}: webgpu ${e[k]} vs cpu ${lc[i][k]}`);
    assert.ok(Math.abs(e.valSprc - lc[i].valSprc) <= TOL.sprc, `epoch ${i + 1} SPRC: ${e.valSprc} vs ${lc[i].valSprc}`);
  }
  // The exported models (scored on the CPU provider) predict the same CTRs.
  const [pc, pg] = [(await evaluateModel(cpu, data, { split: 'test', resamples: 1 })).predictions.predicted, (await evaluateModel(whole, data, { split: 'test', resamples: 1 })).predictions.predicted];
  let [worst, d2, n2] = [0, 0, 0];
  for (let i = 0; i < pc.length; i++) {
    worst = Math.max(worst, rel(pg[i], pc[i]));
    d2 += (pg[i] - pc[i]) ** 2;
    n2 += pc[i] ** 2;
  }
  assert.ok(worst <= TOL.predMax, `exported models' predictions differ by up to ${worst.toExponential(2)} relative`);
  assert.ok(Math.sqrt(d2 / n2) <= TOL.predL2, `exported models' predictions differ by ${Math.sqrt(d2 / n2).toExponential(2)} in L2`);
  assert.ok(worst > 0, 'the two runs are not separate (identical predictions)');
});

/** A 2-epoch webgpu run into a fresh directory, sent `signal` once its first checkpoint exists. */
async function signalAfterFirstCheckpoint(name: string, signal: NodeJS.Signals) {
  const out = tmp(name);
  const child = spawnOnSwiftShader(['bin/ort-train.js', ...ARGS, '--out', out, '--ep', 'webgpu', '--epochs', '2']);
  const done = finished(child);
  await waitFor(join(out, 'checkpoints', 'last.ckpt'), 300_000);
  child.kill(signal);
  return { out, done };
}

test('SIGKILL mid-epoch on webgpu, then --resume: ends where the uninterrupted webgpu run ends', async () => {
  const { out: killed, done } = await signalAfterFirstCheckpoint('gpu-killed', 'SIGKILL');
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
  const { out, done } = await signalAfterFirstCheckpoint('gpu-sigint', 'SIGINT');
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
