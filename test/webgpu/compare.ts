// Runs a model on the CPU provider and (the same or its WebGPU-lowered twin) on the WebGPU
// provider with the same feeds, and measures every output's difference. Runs in the SwiftShader
// child processes (harness.ts); every session is released before the child exits.
import * as ort from 'onnxruntime-node';
import { runOnce } from '../../runtime/execution.ts';
import { difference, type Difference } from '../../tools/metrics/difference.ts';

/** A WebGPU output's difference from the CPU provider's (tools/metrics/difference.ts). */
export type Diff = Difference;
export const diff = (cpu: Float32Array, gpu: Float32Array): Diff => difference(cpu, gpu);

const runOn = async (ep: 'cpu' | 'webgpu', model: Uint8Array, what: string, feeds: Record<string, ort.Tensor>) =>
  (await runOnce(model, what, ep, feeds)).outputs as Map<string, Float32Array>;

/** Every output of `cpuModel` on cpu against the same-named output of `gpuModel` on webgpu. */
export async function compareProviders(cpuModel: Uint8Array, gpuModel: Uint8Array, what: string, feeds: Record<string, ort.Tensor>): Promise<Record<string, Diff>> {
  const cpu = await runOn('cpu', cpuModel, what, feeds);
  const gpu = await runOn('webgpu', gpuModel, what, feeds);
  const out: Record<string, Diff> = {};
  for (const [name, c] of cpu) {
    const g = gpu.get(name);
    if (!g) throw new Error(`${what}: output ${name} missing on webgpu`);
    out[name] = diff(c, g);
  }
  return out;
}
