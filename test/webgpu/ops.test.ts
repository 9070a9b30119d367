// Op level: each op form the WebGPU-lowered training graphs use gives the CPU provider's result on
// the WebGPU provider (SwiftShader, in a child process), and the table covers every op those
// graphs contain. The known ORT fault must still be caught — the check that this test can fail.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { topoSort } from '../../graph/core/ir.ts';
import type { ModelKind } from '../../graph/models/config.ts';
import { trainStep, trainingModel } from '../../graph/training/graphs.ts';
import { DEFAULT_OPTIMIZER } from '../../graph/training/optimizers.ts';
import { smallConfig } from '../graph/helpers.ts';
import type { Diff } from './compare.ts';
import { childJson } from './harness.ts';
import { OP_CASES } from './op-cases.ts';

/** float32 with different summation orders; the fault's error is above 0.1. */
const TOL = 1e-5;

test('every op of the webgpu training graphs is covered by an op case', () => {
  const covered = new Set(OP_CASES.flatMap((c) => topoSort(c.build().outputs).map((n) => n.op)));
  const used = new Set<string>();
  for (const model of ['m2fn', 'image-only', 'concat', 'nima'] as ModelKind[]) {
    const s = { config: smallConfig(model), loss: model === 'nima' ? ('emd' as const) : ('wmse' as const), optimizer: DEFAULT_OPTIMIZER, ep: 'webgpu' as const };
    for (const spec of [trainStep(s), trainingModel(s)]) for (const n of topoSort(spec.outputs)) used.add(n.op);
  }
  const missing = [...used].filter((op) => !covered.has(op));
  assert.equal(missing, [], `ops with no WebGPU case: ${missing.join(', ')}`);
});

test('WebGPU provider matches the CPU provider op by op, and the known grouped-Conv fault is caught', async () => {
  const results = await childJson<Record<string, Record<string, Diff>>>('test/webgpu/ops.child.ts');
  for (const c of OP_CASES) {
    const outs = Object.entries(results[c.name] ?? {});
    assert.ok(outs.length > 0, `${c.name}: no outputs`);
    for (const [name, d] of outs) {
      assert.ok(d.norm > 0, `${c.name} ${name}: the CPU result is all zeros, the case tests nothing`);
      if (c.expect === 'match') assert.ok(d.rel <= TOL, `${c.name} ${name}: relative difference ${d.rel.toExponential(2)} > ${TOL}`);
      else assert.ok(d.rel > 0.05, `${c.name} ${name}: now ${d.rel.toExponential(2)} — the provider fault is fixed; drop the lowering (webGpuGroupedConvSafe)`);
    }
  }
});

test.run();
