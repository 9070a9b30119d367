// SwiftShader child of gradients.test.ts: training_model.onnx lowered for cpu on the CPU provider
// against the same model lowered for webgpu on the WebGPU provider, for each model kind of the CLI
// at a small size. Prints one JSON line: model → output → Diff.
import * as ort from 'onnxruntime-node';
import type { ModelKind } from '../../graph/models/config.ts';
import { serialize } from '../../graph/core/serialize.ts';
import { trainingModel, type TrainingSetup } from '../../graph/training/graphs.ts';
import { DEFAULT_OPTIMIZER } from '../../graph/training/optimizers.ts';
import { batchFeeds, randomizeParams, smallConfig } from '../graph/helpers.ts';
import { compareProviders, type Diff } from './compare.ts';
import { isMain } from './harness.ts';

export const GRADIENT_MODELS: ModelKind[] = ['m2fn', 'image-only', 'concat', 'nima'];
/** 6 rows: a batch size the batch-swapped dW conv would get wrong on WebGPU (webGpuConvFault). */
export const GRADIENT_BATCH = 6;

async function main() {
  const results: Record<string, Record<string, Diff>> = {};
  for (const model of GRADIENT_MODELS) {
    // Full VGG19 for M2FN (the model of the original fault), VGG11 for the baselines to keep CI short.
    const config = smallConfig(model, { size: 32, headHidden: [16, 8], seed: 3, backbone: model === 'm2fn' ? 'vgg19' : 'vgg11' });
    const setup = (ep: TrainingSetup['ep']): TrainingSetup => ({ config, loss: model === 'nima' ? 'emd' : 'wmse', optimizer: DEFAULT_OPTIMIZER, ep });
    const [cpu, gpu] = [trainingModel(setup('cpu')), trainingModel(setup('webgpu'))];
    randomizeParams(cpu.model, 11);
    randomizeParams(gpu.model, 11);
    const feeds = batchFeeds(cpu.inputs, GRADIENT_BATCH, 5);
    for (const p of cpu.paramOrder!) feeds[p.name!] = new ort.Tensor('float32', p.data as Float32Array, p.shape as number[]);
    results[model] = await compareProviders(serialize(cpu), serialize(gpu), `${model} training_model`, feeds);
  }
  console.log(JSON.stringify(results));
}

if (isMain(import.meta.url)) await main();
