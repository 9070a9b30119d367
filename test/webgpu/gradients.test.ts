// training_model.onnx built with --ep webgpu gives, on the WebGPU provider (SwiftShader), the loss,
// gradients and updated running statistics that the --ep cpu build gives on the CPU provider, for
// every model kind of the CLI. Before the Conv lowerings (graph/ops/nn.ts) every 3×3 conv weight
// gradient but the first was 37–53% off.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Diff } from './compare.ts';
import { GRADIENT_MODELS } from './gradients.child.ts';
import { childJson } from './harness.ts';

/** Relative L2 per tensor (float32, different summation orders; measured ≤ 5e-6). */
const TOL = 2e-5;

/** A tensor that is zero by construction (e.g. the bias before a batch norm) has only rounding
 * noise: it is held to an absolute bound relative to the model's largest gradient instead. */
export function checkDiffs(what: string, diffs: Record<string, Diff>): void {
  const scale = Math.max(...Object.values(diffs).map((d) => d.norm));
  assert.ok(scale > 0, `${what}: every output is zero`);
  for (const [name, d] of Object.entries(diffs)) {
    if (d.norm > 1e-6 * scale) assert.ok(d.rel <= TOL, `${what} ${name}: relative difference ${d.rel.toExponential(2)} > ${TOL}`);
    else assert.ok(d.abs <= 1e-6 * scale, `${what} ${name}: zero on cpu, ${d.abs.toExponential(2)} on webgpu`);
  }
}

test('training_model: WebGPU loss and gradients equal the CPU provider\'s for every model kind', async () => {
  const results = await childJson<Record<string, Record<string, Diff>>>('test/webgpu/gradients.child.ts');
  assert.equal(Object.keys(results), GRADIENT_MODELS);
  for (const model of GRADIENT_MODELS) {
    const diffs = results[model];
    assert.ok(Object.keys(diffs).some((n) => n.startsWith('vgg.conv5_1.weight')), `${model}: conv gradients missing`);
    checkDiffs(model, diffs);
  }
});

test.run();
