// Every model/option combination builds, passes the ONNX checker and runs; counts match VGG.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { parameterCounts, writeInference } from '../../graph/export/inference.ts';
import { defaultConfig } from '../../graph/models/config.ts';
import { buildModel } from '../../graph/models/m2fn.ts';
import { headOutput, isBackboneParam } from '../../graph/models/modules.ts';
import { importPretrained } from '../../graph/export/pretrained.ts';
import { readOnnx } from '../../graph/core/serialize.ts';
import { configFromArgs } from '../../tools/model-options.ts';
import { base, matrix } from './build-matrix.ts';
import { modelFeeds, onnxCheck, run, tmp } from './helpers.ts';

/** VGG conv parameters from the textbook formula, Σ (9·Cin + 1)·Cout. */
function vggConvParams(blocks: readonly number[], channels = [64, 128, 256, 512, 512]): number {
  let cin = 3;
  let total = 0;
  blocks.forEach((n, b) => {
    for (let j = 0; j < n; j++) {
      total += (9 * cin + 1) * channels[b];
      cin = channels[b];
    }
  });
  return total;
}

test('default M2FN: VGG19 has 20,024,384 conv parameters; modules match the paper’s shapes', () => {
  const m = buildModel(defaultConfig('m2fn'));
  const { total, byModule } = parameterCounts(m);
  assert.is(vggConvParams([2, 2, 4, 4, 4]), 20_024_384);
  assert.is(byModule.vgg, 20_024_384);
  const D = 2385;
  assert.is(byModule.cbn, 2 * (D * 256 + 256 + 256 * 64 + 64) + 2 * 64); // dγ, dβ MLPs + γ, β
  assert.is(byModule.att, 512 * (512 + D) + 512 + 512 + 1);
  assert.is(byModule.fuse, 25088 * 512 + 512 + D * 512 + 512);
  assert.is(byModule.head, 512 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 + 1);
  assert.is(total, 55_717_186);
});

test('a build with paramsFrom takes the arrays of the first build, which equal a fresh build; another model is refused', () => {
  const cfg = { ...defaultConfig('m2fn'), size: 32, width: 0.125, headHidden: [8], seed: 3 };
  const first = buildModel(cfg, { training: true });
  const second = buildModel(cfg, { paramsFrom: first.params });
  const fresh = buildModel(cfg);
  assert.is(second.params.values.size, first.params.values.size);
  for (const [name, v] of second.params.values) {
    assert.ok(v.data === first.params.values.get(name)!.data, `${name} is shared`);
    assert.equal(Array.from(v.data as Float32Array), Array.from(fresh.params.values.get(name)!.data as Float32Array), `${name} equals a fresh build`);
  }
  assert.throws(() => buildModel({ ...cfg, headHidden: [16] }, { paramsFrom: first.params }), /head\.fc1\.weight \[16,.*is not in the store it shares arrays with/);
});

test('VGG16 and VGG11 backbones have their textbook conv counts', () => {
  for (const [backbone, blocks] of [['vgg16', [2, 2, 3, 3, 3]], ['vgg11', [1, 1, 2, 2, 2]]] as const) {
    const m = buildModel({ ...defaultConfig('image-only'), backbone, headHidden: [8] });
    assert.is(parameterCounts(m).byModule.vgg, vggConvParams(blocks));
  }
});

test(`all ${matrix.length} CLI option combinations build, pass the full ONNX check and run`, async () => {
  const dir = tmp('matrix');
  const paths: string[] = [];
  for (const [label, over] of matrix) {
    const m = buildModel(configFromArgs({ ...base, ...over }));
    const w = await writeInference(join(dir, String(paths.length)), m, { attention: true });
    paths.push(w.onnxPath);
    const s = await ort.InferenceSession.create(w.onnxPath);
    const out = await s.run(modelFeeds(m, 2, 1).feeds);
    await s.release();
    const y = out[w.card.output.name];
    assert.equal(y.dims, [2, w.card.output.size], label);
    assert.ok((y.data as Float32Array).every(Number.isFinite), `${label}: finite outputs`);
    if (over.link === 'logit') assert.ok((y.data as Float32Array).every((c) => c > 0 && c < 1), `${label}: CTRs`);
    if (w.card.output.kind === 'distribution') {
      for (let n = 0; n < 2; n++) assert.ok(Math.abs((y.data as Float32Array).slice(n * 10, n * 10 + 10).reduce((a, b) => a + b) - 1) < 1e-5);
    }
  }
  onnxCheck(paths);
});

test('the CLI writes inference.onnx and its card, and refuses bad options clearly', () => {
  const dir = tmp('cli');
  const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/m2fn-build-graph.js', ...args], { encoding: 'utf8' });
  const ok = cli('--size', '32', '--width', '0.125', '--head-hidden', '8', '--out', dir);
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /parameters: [\d,]+ \(vgg [\d,]+/);
  assert.match(ok.stdout, /ops: Conv \d+/);
  const card = JSON.parse(readFileSync(join(dir, 'inference.card.json'), 'utf8'));
  assert.is(card.format, 'm2fn-model-card/1');
  assert.equal(card.inputs.aux.shape, ['N', 2385]);
  assert.is(card.preprocessing.size, 32);
  const bad = cli('--size', '16', '--out', dir);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /^m2fn-build-graph: --size: 16 must be an integer of at least 32$/m);
  const badCross = cli('--aux-cross', '1', '--aux-cross-attributes', 'age,colour', '--out', dir);
  assert.match(badCross.stderr, /--aux-cross-attributes: "colour" not in schema "real-ad" \(gender, age, .*domcol\)/);
  assert.match(cli('--aux-cross', '1.5', '--out', dir).stderr, /--aux-cross: 1\.5 must be a non-negative integer/);
  assert.match(cli('--model', 'image-only', '--aux-cross', '1', '--out', dir).stderr, /--aux-cross: needs the aux input step/);
  const badSchema = cli('--aux-schema', '/nonexistent.json', '--out', dir);
  assert.match(badSchema.stderr, /--aux-schema: "\/nonexistent.json" is neither a preset/);
  const help = cli('--help');
  assert.match(help.stdout, /Examples:/);
});

test('reading a model back gives the same initializers; a truncated file is a clear error', async () => {
  const m = buildModel(configFromArgs(base));
  const dir = tmp('read');
  const w = await writeInference(dir, m);
  const back = readOnnx(w.onnxPath);
  assert.is(back.irVersion, 8);
  assert.is(back.opset, 17);
  assert.equal(back.inputs.map((i) => i.name), ['image', 'aux']);
  for (const [name, v] of m.params.values) {
    assert.equal(Array.from(back.initializers.get(name)!.data as Float32Array), Array.from(v.data as Float32Array), name);
  }
  const bytes = readFileSync(w.onnxPath);
  const cut = join(dir, 'cut.onnx');
  writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
  assert.throws(() => readOnnx(cut), /cut\.onnx: not a valid ONNX model — truncated or corrupt/);
});

test('pretrained import copies conv weights in order and rejects mismatches', async () => {
  const dir = tmp('pre');
  const donor = buildModel(configFromArgs({ ...base, model: 'image-only', seed: 7 }));
  const donorPath = (await writeInference(dir, donor)).onnxPath;
  const m = buildModel(configFromArgs({ ...base, seed: 1 }));
  const report = importPretrained(m, donorPath);
  assert.is(report.mapped.length, 8); // VGG11
  for (const [name, v] of m.params.values) {
    const d = donor.params.values.get(name);
    if (isBackboneParam(name)) assert.equal(Array.from(v.data as Float32Array), Array.from(d!.data as Float32Array), name);
  }
  assert.not.equal(Array.from(headOutput(m.params).weight.data as Float32Array), Array.from(headOutput(donor.params).weight.data as Float32Array));
  const wider = buildModel(configFromArgs({ ...base, width: 0.25 }));
  assert.throws(() => importPretrained(wider, donorPath), /conv #1 \(.*\) has weight \[8,3,3,3\] but vgg\.conv1_1\.weight needs \[16,3,3,3\]/);
  const deeper = buildModel(configFromArgs({ ...base, backbone: 'vgg19' }));
  assert.throws(() => importPretrained(deeper, donorPath), /has 8 3×3 convolutions .* the vgg19 backbone needs 16/);
});

test('bnMomentum: a training step moves the running statistics by the momentum in the config', async () => {
  // Running means start at 0, so after one step they are momentum × the batch mean: 0.3 moves them 3× as far as 0.1.
  const means = async (bnMomentum: number) => {
    const m = buildModel({ ...configFromArgs(base), bnMomentum }, { training: true });
    const [stat, updated] = [...m.ctx.statUpdates].find(([s]) => s.name === 'cbn1.running_mean')!;
    assert.ok(stat);
    const out = await run({ name: 't', inputs: m.aux ? [m.image, m.aux] : [m.image], outputs: [updated.named('m')] }, modelFeeds(m, 4, 3).feeds);
    return out.m.data as Float32Array;
  };
  const [a, b] = [await means(0.1), await means(0.3)];
  assert.ok(a.some((v) => Math.abs(v) > 1e-4));
  a.forEach((v, c) => assert.ok(Math.abs(b[c] - 3 * v) < 1e-5 * (1 + Math.abs(v)), `channel ${c}: ${b[c]} vs 3 × ${v}`));
  assert.throws(() => buildModel({ ...configFromArgs(base), bnMomentum: 1.5 }), /^bnMomentum: 1\.5 must be in \[0, 1\]$/);
});

test.run();
