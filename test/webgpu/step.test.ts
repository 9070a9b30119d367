// Training steps on the WebGPU provider (SwiftShader), device-resident, against the CPU provider:
// the losses and every updated tensor (parameters, AdamW state, running statistics) after
// STEPS steps, for each model kind and both step modes; and the host↔device traffic per step,
// measured from the tensors' locations: after the first step (which uploads the initial values)
// exactly the batch (+ the lr and step scalars) goes up and the loss comes down.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { childJson } from './harness.ts';
import { STEP_RUNS, STEPS, type StepRun } from './step.child.ts';

const LOSS_TOL = 1e-4; // measured ≤ 2e-5
const TENSOR_TOL = 1e-3; // the bound per tensor; measured ≤ 3e-4 away from the case below
const LR = 1e-3;

/**
 * A conv bias in front of a batch norm has a zero gradient by construction (the norm subtracts any
 * shift), so both providers see only rounding noise — and AdamW turns noise of any size into steps
 * of about lr. Such a bias may differ by up to 2·lr per element per step; its AdamW state is noise.
 */
const zeroGradient = (run: string, name: string) => run.startsWith('m2fn') && name.startsWith('vgg.conv1_1.bias');

test('WebGPU training steps match the CPU steps and move only the batch and the loss', async () => {
  const results = await childJson<Record<string, StepRun>>('test/webgpu/step.child.ts');
  for (const { model, mode } of STEP_RUNS) {
    const what = `${model} ${mode}`;
    const r = results[what];
    assert.ok(r, `${what}: no result`);
    r.losses.cpu.forEach((l, s) => {
      const d = Math.abs(l - r.losses.webgpu[s]) / Math.abs(l);
      assert.ok(d <= LOSS_TOL, `${what} step ${s + 1}: loss ${r.losses.webgpu[s]} vs cpu ${l} (${d.toExponential(2)})`);
    });
    assert.ok(r.losses.cpu[0] !== r.losses.cpu[STEPS - 1], `${what}: the loss never changed`);
    const scale = Math.max(...Object.values(r.tensors).map((d) => d.norm));
    for (const [name, d] of Object.entries(r.tensors)) {
      if (zeroGradient(what, name)) {
        const bound = name.endsWith('.bias') ? 2 * LR * STEPS * Math.sqrt(d.size) : 1e-6 * scale;
        assert.ok(d.abs <= bound, `${what} ${name} (zero gradient): differs by ${d.abs.toExponential(2)} > ${bound}`);
      } else if (d.norm > 1e-6 * scale) {
        assert.ok(d.rel <= TENSOR_TOL, `${what} ${name}: relative difference ${d.rel.toExponential(2)} > ${TENSOR_TOL}`);
      } else assert.ok(d.abs <= 1e-6 * scale, `${what} ${name}: ${d.abs.toExponential(2)} where cpu has ${d.norm}`);
    }
    assert.ok(r.traffic[0].up > r.batchBytes, `${what}: the first step uploads the initial values (${r.traffic[0].up} bytes)`);
    for (let s = 1; s < STEPS; s++) {
      assert.equal(r.traffic[s], { up: r.batchBytes, down: r.lossBytes }, `${what} step ${s + 1}: host↔device bytes`);
    }
  }
});

test.run();
