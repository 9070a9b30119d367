// SwiftShader child of step.test.ts: TrainEngine steps on the CPU provider and, device-resident,
// on the WebGPU provider, from the same initial values and batches. Prints one JSON line: per run,
// the losses of both, a Diff per updated tensor after the last step, and the measured host↔device
// bytes of each WebGPU step next to the batch's own bytes.
import * as ort from 'onnxruntime-node';
import type { ModelKind } from '../../graph/models/config.ts';
import { trainStep, type TrainingSetup } from '../../graph/training/graphs.ts';
import { DEFAULT_OPTIMIZER } from '../../graph/training/optimizers.ts';
import { TrainEngine, type Batch, type StepMode, type StepTraffic } from '../../tools/train/engine.ts';
import { batchFeeds, randomizeParams, smallConfig } from '../graph/helpers.ts';
import { diff, type Diff } from './compare.ts';
import { isMain } from './harness.ts';

export const STEP_RUNS: { model: ModelKind; mode: StepMode }[] = [
  { model: 'm2fn', mode: 'fused' },
  { model: 'm2fn', mode: 'split' },
  { model: 'image-only', mode: 'fused' },
  { model: 'concat', mode: 'fused' },
  { model: 'nima', mode: 'fused' },
];
export const STEPS = 3;
export const STEP_BATCH = 6;

export interface StepRun {
  losses: { cpu: number[]; webgpu: number[] };
  tensors: Record<string, Diff>;
  traffic: StepTraffic[];
  /** Bytes of the batch feeds plus the lr and step scalars of one step. */
  batchBytes: number;
  lossBytes: number;
}

async function main() {
  const results: Record<string, StepRun> = {};
  for (const { model, mode } of STEP_RUNS) {
    const config = smallConfig(model, { size: 32, backbone: 'vgg11', headHidden: [16, 8], seed: 3 });
    const setup = (ep: TrainingSetup['ep']): TrainingSetup => ({ config, loss: model === 'nima' ? 'emd' : 'wmse', optimizer: DEFAULT_OPTIMIZER, ep });
    const spec = trainStep(setup('cpu'));
    randomizeParams(spec.model, 11);
    const initial = new Map([...spec.model.params.values].map(([k, v]) => [k, v.data as Float32Array]));
    const batchInputs = spec.inputs.filter((v) => !spec.states.includes(v) && v.name !== 'lr' && v.name !== 'step');
    const batches: Batch[] = Array.from({ length: STEPS }, (_, s) => ({ n: STEP_BATCH, feeds: batchFeeds(batchInputs, STEP_BATCH, 10 * s + 1) }));
    const run: Partial<Record<'cpu' | 'webgpu', { losses: number[]; values: Map<string, Float32Array>; traffic: StepTraffic[] }>> = {};
    for (const ep of ['cpu', 'webgpu'] as const) {
      const engine = await TrainEngine.create({ setup: setup(ep), mode, ep, initial });
      try {
        const losses: number[] = [];
        const traffic: StepTraffic[] = [];
        for (let s = 0; s < STEPS; s++) {
          losses.push(await engine.step(batches[s], 1e-3, s + 1));
          traffic.push(engine.lastStep);
        }
        run[ep] = { losses, traffic, values: new Map([...(await engine.values())].map(([k, v]) => [k, Float32Array.from(v.data)])) };
      } finally {
        await engine.release();
      }
    }
    const tensors: Record<string, Diff> = {};
    for (const [k, v] of run.cpu!.values) tensors[k] = diff(v, run.webgpu!.values.get(k)!);
    const batchBytes = Object.values(batches[0].feeds).reduce((a, t: ort.Tensor) => a + t.size * 4, 0) + 8;
    results[`${model} ${mode}`] = { losses: { cpu: run.cpu!.losses, webgpu: run.webgpu!.losses }, tensors, traffic: run.webgpu!.traffic, batchBytes, lossBytes: 4 };
  }
  console.log(JSON.stringify(results));
}

if (isMain(import.meta.url)) await main();
