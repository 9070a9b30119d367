// `m2fn-build-graph --artifacts`: every graph passes the ONNX checker, training_model.onnx keeps
// the name contract with inference.onnx and runs in onnxruntime-node; per-provider lowering.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { readOnnx } from '../../graph/core/serialize.ts';
import { readCheckpoint } from '../../tools/train/checkpoint.ts';
import { onnxCheck, randomArray, tmp } from '../graph/helpers.ts';

const small = ['--size', '64', '--width', '0.125', '--head-hidden', '8', '--cbn-hidden', '4', '--att-hidden', '4', '--fuse-dim', '4', '--backbone', 'vgg11'];
const build = (out: string, extra: string[]) => spawnSync(process.execPath, ['bin/m2fn-build-graph.js', '--artifacts', ...small, '--out', out, ...extra], { encoding: 'utf8' });
const GRAPHS = ['training_model', 'eval_model', 'optimizer_model', 'train_step'];

for (const model of ['m2fn', 'image-only', 'concat', 'nima']) {
  test(`artifacts for ${model}: checker, name contract, and a run of training_model.onnx`, async () => {
    const out = tmp(`art-${model}`);
    const r = build(out, ['--model', model]);
    assert.is(r.status, 0, r.stderr);
    onnxCheck(GRAPHS.map((g) => join(out, `${g}.onnx`)));

    const inference = readOnnx(join(out, 'inference.onnx'));
    const training = readOnnx(join(out, 'training_model.onnx'));
    const manifest = JSON.parse(readFileSync(join(out, 'artifacts.json'), 'utf8'));
    // Constants are named after what they are, so parameters are told from them by the manifest:
    // each is an inference initializer that training_model takes as an input, and nothing else is.
    const inputs = training.inputs.map((i) => i.name);
    const params = [...inference.initializers.keys()].filter((k) => inputs.includes(k));
    for (const p of [...manifest.trainable, ...manifest.statistics]) {
      assert.ok(inference.initializers.has(p) && inputs.includes(p), `inference.onnx holds ${p} and training_model takes it`);
      assert.not.ok(training.initializers.has(p), `${p} is not baked into training_model`);
    }
    const outputs = training.outputs.map((o) => o.name);
    assert.is(outputs[0], 'loss');
    assert.equal(new Set(outputs.filter((o) => o.endsWith('_grad'))), new Set(manifest.trainable.map((p: string) => `${p}_grad`)));
    assert.equal(new Set(outputs.filter((o) => o.endsWith('_new'))), new Set(manifest.statistics.map((p: string) => `${p}_new`)));
    assert.equal(new Set([...manifest.trainable, ...manifest.statistics]), new Set(params));

    const ckpt = readCheckpoint(join(out, 'checkpoint.ckpt'));
    const session = await ort.InferenceSession.create(join(out, 'training_model.onnx'));
    const N = 3;
    const feeds: Record<string, ort.Tensor> = {};
    for (const i of training.inputs) {
      const t = ckpt.tensors.get(i.name);
      const shape = i.shape.map((d) => (typeof d === 'number' ? d : N));
      const n = shape.reduce((a, b) => a * b, 1);
      feeds[i.name] = new ort.Tensor('float32', t ? t.data : randomArray(n, 1).map(Math.abs), shape);
    }
    const res = await session.run(feeds);
    await session.release();
    assert.ok(Number.isFinite((res.loss.data as Float32Array)[0]));
    for (const p of manifest.trainable) assert.equal(res[`${p}_grad`].dims, ckpt.tensors.get(p)!.shape);
  });
}

test('webgpu lowering avoids MaxPool indices and training-mode BatchNormalization; a frozen backbone gets no gradients', () => {
  const out = tmp('art-webgpu');
  assert.is(build(out, ['--ep', 'webgpu', '--freeze-backbone']).status, 0);
  const g = readOnnx(join(out, 'train_step.onnx'));
  assert.not.ok(g.nodes.some((n) => n.op === 'MaxUnpool' || (n.op === 'MaxPool' && n.outputs.length > 1)));
  assert.not.ok(g.nodes.some((n) => n.op === 'BatchNormalization'));
  assert.ok(g.nodes.some((n) => n.op === 'Resize'), 'max-pool gradient by mask');
  const training = readOnnx(join(out, 'training_model.onnx'));
  assert.not.ok(training.outputs.some((o) => o.name.startsWith('vgg.')));
  assert.ok(training.outputs.some((o) => o.name === 'cbn1.gamma_grad'));
  const bnOut = tmp('art-bn-frozen');
  assert.is(build(bnOut, ['--backbone-norm', 'batch', '--freeze-backbone']).status, 0);
  const bnOutputs = readOnnx(join(bnOut, 'training_model.onnx')).outputs.map((o) => o.name);
  assert.not.ok(bnOutputs.some((n) => n.startsWith('vgg.') && n.endsWith('_grad')), 'frozen VGG-BN: no backbone gradients');
  assert.ok(bnOutputs.includes('vgg.bn2_1.running_mean_new') && bnOutputs.includes('vgg.bn5_2.running_var_new'), 'its batch statistics still update');
  const cpuOut = tmp('art-cpu');
  assert.is(build(cpuOut, []).status, 0);
  assert.ok(readOnnx(join(cpuOut, 'train_step.onnx')).nodes.some((n) => n.op === 'MaxUnpool'), 'CPU lowering routes max-pool gradients by indices');
});

test.run();
