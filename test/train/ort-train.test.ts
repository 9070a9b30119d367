// ort-train end to end on a synthetic ad world: learning, determinism, kill and resume, bad input.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, readFileSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readOnnx } from '../../graph/core/serialize.ts';
import { readManifest } from '../../tools/data/manifest.ts';
import { pearson, spearman } from '../../tools/metrics/metrics.ts';
import { evaluateModel } from '../../tools/eval/score-model.ts';
import { readCheckpoint } from '../../tools/train/checkpoint.ts';
import { tmp } from '../graph/helpers.ts';
import { ortTrain, SMALL_MODEL, testDataset } from './world.ts';

const data = testDataset();
const run = (out: string, extra: string[] = []) =>
  ortTrain(['--data', data, '--out', out, ...SMALL_MODEL, '--batch-size', '16', '--lr', '1e-3', '--schedule', 'constant', '--quiet', ...extra]);
const log = (dir: string) => readFileSync(join(dir, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const card = (dir: string) => JSON.parse(readFileSync(join(dir, 'inference.card.json'), 'utf8'));

test('the loss falls, and M2FN ranks validation ads better than the image-only model trained the same way', () => {
  const results: Record<string, { first: number; last: number; sprc: number }> = {};
  for (const model of ['m2fn', 'image-only']) {
    const out = tmp(`learn-${model}`);
    const r = run(out, ['--model', model, '--epochs', '4', '--validation', 'test', '--patience', '0']);
    assert.is(r.status, 0, r.stderr);
    const l = log(out);
    results[model] = { first: l[0].trainLoss, last: l[l.length - 1].trainLoss, sprc: Math.max(...l.map((e: { valSprc: number }) => e.valSprc)) };
  }
  console.log(`  validation SPRC (best epoch): M2FN ${results.m2fn.sprc.toFixed(3)}, image-only ${results['image-only'].sprc.toFixed(3)}`);
  assert.ok(results.m2fn.last < 0.8 * results.m2fn.first, `M2FN training loss ${results.m2fn.first} → ${results.m2fn.last}`);
  assert.ok(results.m2fn.sprc > results['image-only'].sprc + 0.05, JSON.stringify(results));
});

test('--link logit: the exported model outputs CTRs that score as the trainer scored them', async () => {
  const out = tmp('link-logit');
  const r = run(out, ['--epochs', '1', '--validation', 'test', '--link', 'logit', '--standardize-targets']);
  assert.is(r.status, 0, r.stderr);
  const { predictions } = await evaluateModel(out, data, { split: 'test', resamples: 1 });
  const ctr = Array.from(predictions.predicted);
  assert.ok(ctr.every((c) => c > 0 && c < 1), 'sigmoid outputs');
  const observed = readManifest(data, 'test').rows.map((row) => row.ctr!);
  const [epoch] = log(out);
  // The trainer maps the eval graph's log-odds back in float64; the exported graph folds the
  // target scaling into its last layer and applies the sigmoid in float32.
  assert.ok(Math.abs(spearman(ctr, observed) - epoch.valSprc) < 1e-3, `${spearman(ctr, observed)} vs ${epoch.valSprc}`);
  assert.ok(Math.abs(pearson(ctr, observed) - epoch.valLcc) < 1e-4, `${pearson(ctr, observed)} vs ${epoch.valLcc}`);
});

test('the same seed, data and config give bit-identical losses and weights on the CPU provider', () => {
  const [a, b] = [tmp('det-a'), tmp('det-b')];
  for (const out of [a, b]) assert.is(run(out, ['--epochs', '2', '--model', 'nima', '--dropout', '0.5']).status, 0);
  assert.equal(log(a).map((e: { trainLoss: number }) => e.trainLoss), log(b).map((e: { trainLoss: number }) => e.trainLoss));
  assert.is(card(a).sha256, card(b).sha256);
});

test('early stopping: a stop before the last epoch is early; running out of epochs is not', () => {
  // lr 1e-12 leaves the weights as they are, so validation never improves after epoch 1.
  const summary = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  const [stopped, ran] = [tmp('stop-early'), tmp('stop-at-end')];
  const still = ['--model', 'nima', '--lr', '1e-12', '--patience', '1', '--validation', 'test'];
  assert.is(run(stopped, [...still, '--epochs', '3']).status, 0);
  assert.is(run(ran, [...still, '--epochs', '2']).status, 0);
  assert.is(log(stopped).length, 2);
  assert.is(summary(stopped).stoppedEarly, true);
  assert.is(log(ran).length, 2);
  assert.is(summary(ran).stoppedEarly, false);
});

test('--validation file:PATH validates on a manifest elsewhere: the same metrics as the dataset\'s own test split', () => {
  const folder = tmp('valfile');
  symlinkSync(join(data, 'images'), join(folder, 'images'));
  copyFileSync(join(data, 'test.jsonl'), join(folder, 'val.jsonl'));
  const [viaTest, viaFile] = [tmp('val-test'), tmp('val-file')];
  assert.is(run(viaTest, ['--epochs', '1', '--validation', 'test']).status, 0);
  const r = run(viaFile, ['--epochs', '1', '--validation', `file:${join(folder, 'val.jsonl')}`]);
  assert.is(r.status, 0, r.stderr);
  const [a, b] = [log(viaTest)[0], log(viaFile)[0]];
  assert.ok(Number.isFinite(b.valSprc));
  assert.equal([b.valLoss, b.valSprc, b.valLcc], [a.valLoss, a.valSprc, a.valLcc]);
  const bad = run(tmp('val-missing'), ['--epochs', '1', '--validation', `file:${join(folder, 'nope.jsonl')}`]);
  assert.is.not(bad.status, 0);
  assert.match(bad.stderr, /nope\.jsonl: manifest file not found/);
});

test('SIGKILL mid-epoch, then --resume: continues from the last checkpoint and ends equal to an uninterrupted run', async () => {
  const whole = tmp('whole');
  const args = ['--epochs', '2', '--checkpoint-every', '5', '--validation', 'test'];
  assert.is(run(whole, args).status, 0);

  const killed = tmp('killed');
  const child = spawn(process.execPath, ['bin/ort-train.js', '--data', data, '--out', killed, ...SMALL_MODEL, '--batch-size', '16', '--lr', '1e-3', '--schedule', 'constant', '--quiet', ...args], { stdio: 'ignore' });
  const ckpt = join(killed, 'checkpoints', 'last.ckpt');
  const started = Date.now();
  while (!existsSync(ckpt) && Date.now() - started < 120_000) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 300)); // let it run past the checkpoint
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  const atKill = readCheckpoint(ckpt); // a complete, valid checkpoint: never half-written
  assert.ok(atKill.meta.epoch === 0 && atKill.meta.batchInEpoch > 0, `killed mid-epoch 1 (checkpoint at epoch ${atKill.meta.epoch}, batch ${atKill.meta.batchInEpoch})`);
  assert.not.ok(existsSync(join(killed, 'inference.onnx')), 'the run had not finished');

  const resumed = run(killed, [...args, '--resume']);
  assert.is(resumed.status, 0, resumed.stderr);
  assert.equal(log(killed), log(whole).map((e: Record<string, number>) => ({ ...e, imgPerS: log(killed).find((k: { epoch: number }) => k.epoch === e.epoch).imgPerS, seconds: log(killed).find((k: { epoch: number }) => k.epoch === e.epoch).seconds })));
  assert.is(card(killed).sha256, card(whole).sha256);
});

test('--ema and --augment: the export carries the average, and a run stopped at an epoch end resumes to the same model', () => {
  const opts = ['--epochs', '2', '--ema', '0.9', '--augment', 'flip,shift2', '--validation', 'none'];
  const whole = tmp('ema-whole');
  assert.is(run(whole, opts).status, 0);
  const last = readCheckpoint(join(whole, 'checkpoints', 'last.ckpt')).tensors;
  const exported = readOnnx(join(whole, 'inference.onnx')).initializers;
  const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  for (const name of ['head.out.weight', 'vgg.conv1_1.weight']) {
    const got = bytes(exported.get(name)!.data as Float32Array);
    assert.ok(got.equals(bytes(last.get(`average/${name}`)!.data)), `${name} is the average`);
    assert.not.ok(got.equals(bytes(last.get(name)!.data)), `${name} is not the last weights`);
  }

  // Stopped after epoch 1 (its checkpoint), then resumed: the average and the augmentation
  // stream continue where they were.
  const split = tmp('ema-split');
  const perEpoch = log(whole)[0].step;
  assert.is(run(split, [...opts, '--max-steps', String(perEpoch)]).status, 0);
  const resumed = run(split, [...opts, '--resume']);
  assert.is(resumed.status, 0, resumed.stderr);
  assert.is(card(split).sha256, card(whole).sha256);

  // The same run without augmentation ends elsewhere.
  const plain = tmp('ema-plain');
  assert.is(run(plain, opts.filter((a) => a !== '--augment' && a !== 'flip,shift2')).status, 0);
  assert.is.not(card(plain).sha256, card(whole).sha256);

  const bad = run(tmp('ema-bad'), ['--epochs', '1', '--ema', '1.5']);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /--ema must be a decay between 0 and 1/);
  const badAug = run(tmp('aug-bad'), ['--epochs', '1', '--augment', 'flip,rotate']);
  assert.is(badAug.status, 1);
  assert.match(badAug.stderr, /--augment: "rotate" is not "flip" or "shiftN"/);
});

test('--freeze-backbone-epochs keeps the VGG convs at their initial values while the rest trains', async () => {
  const out = tmp('frozen');
  assert.is(run(out, ['--epochs', '1', '--freeze-backbone-epochs', '1', '--seed', '5']).status, 0);
  const init = tmp('frozen-init');
  const built = spawnSync(process.execPath, ['bin/m2fn-build-graph.js', ...SMALL_MODEL, '--seed', '5', '--out', init, '--aux-schema', `${data}/dataset.json#auxSchema`], { encoding: 'utf8' });
  assert.is(built.status, 0, built.stderr);
  const trained = readOnnx(join(out, 'inference.onnx')).initializers;
  const initial = readOnnx(join(init, 'inference.onnx')).initializers;
  const same = (name: string) => Buffer.from((trained.get(name)!.data as Float32Array).buffer).equals(Buffer.from((initial.get(name)!.data as Float32Array).buffer));
  assert.ok([...initial.keys()].filter((k) => k.startsWith('vgg.')).every(same), 'backbone unchanged');
  assert.not.ok(same('head.out.weight'), 'head trained');
});

test('--pretrained convs start the run (held by a frozen backbone to the donor\'s values) and the head trains from the run\'s own seed', async () => {
  const donor = tmp('pre-donor');
  const built = spawnSync(process.execPath, ['bin/m2fn-build-graph.js', ...SMALL_MODEL, '--seed', '9', '--out', donor, '--aux-schema', `${data}/dataset.json#auxSchema`], { encoding: 'utf8' });
  assert.is(built.status, 0, built.stderr);
  const out = tmp('pre-run');
  const r = run(out, ['--epochs', '1', '--freeze-backbone-epochs', '1', '--seed', '5', '--pretrained', join(donor, 'inference.onnx')]);
  assert.is(r.status, 0, r.stderr);
  const trained = readOnnx(join(out, 'inference.onnx')).initializers;
  const given = readOnnx(join(donor, 'inference.onnx')).initializers;
  const same = (name: string) => Buffer.from((trained.get(name)!.data as Float32Array).buffer).equals(Buffer.from((given.get(name)!.data as Float32Array).buffer));
  const convs = [...given.keys()].filter((k) => /^vgg\.conv\d_\d\.weight$/.test(k));
  assert.ok(convs.length > 0 && convs.every(same), 'backbone convs are the donor\'s');
  assert.not.ok(same('head.out.weight'), 'head trained, not the donor\'s');
});

test('bad input gives a clear error and overwrites nothing', () => {
  const out = tmp('bad');
  assert.is(run(out, ['--epochs', '1']).status, 0);
  const last = join(out, 'checkpoints', 'last.ckpt');
  const before = readFileSync(last);
  const onnxBefore = statSync(join(out, 'inference.onnx')).mtimeMs;

  const other = run(out, ['--epochs', '1', '--resume', '--width', '0.25']);
  assert.is(other.status, 1);
  assert.match(other.stderr, /written for another model config.*"model\.width" differs \(checkpoint 0\.125, now 0\.25\)/s);
  // Without the attribute cross the checkpoint's identity is what it was before the cross
  // existed, so those runs still resume; asking for the cross is another model.
  // The same holds for the CTR head (link identity) and checkpoints from before link existed.
  const { model } = readCheckpoint(last).meta.config as { model: object };
  assert.not.ok('auxCross' in model || 'link' in model);
  for (const later of [['--aux-cross', '1'], ['--link', 'logit']]) {
    const other = run(out, ['--epochs', '1', '--resume', ...later]);
    assert.is(other.status, 1);
    assert.match(other.stderr, /written for another model config.*"model\.(auxCross|link)" differs \(checkpoint absent, now/s);
  }

  const refuse = run(out, ['--epochs', '1']);
  assert.match(refuse.stderr, /already holds a training run .* use --resume .* or --force/);

  const cut = tmp('cut');
  cpSync(out, cut, { recursive: true });
  truncateSync(join(cut, 'checkpoints', 'last.ckpt'), before.length - 1000);
  const truncated = run(cut, ['--epochs', '1', '--resume']);
  assert.is(truncated.status, 1);
  assert.match(truncated.stderr, /last\.ckpt.*truncated/);
  assert.equal(readFileSync(last), before);
  assert.is(statSync(join(out, 'inference.onnx')).mtimeMs, onnxBefore);

  // A dataset with a missing image and a NaN-like target: every problem named with file and line.
  const broken = tmp('broken-data');
  cpSync(data, broken, { recursive: true });
  const rows = readFileSync(join(broken, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  rows[3].image = 'images/no-such-image.png';
  rows[5].ctr = 'NaN';
  writeFileSync(join(broken, 'train.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n'));
  const bad = ortTrain(['--data', broken, '--out', tmp('never'), ...SMALL_MODEL, '--quiet']);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /train\.jsonl:4: image file "images\/no-such-image\.png" does not exist/);
  assert.match(bad.stderr, /train\.jsonl:6: ctr target must be a number in \[0, 1\] \(got "NaN"\)/);
  assert.match(bad.stderr, /invalid dataset \(2 problems\)/);
});

test.run();
