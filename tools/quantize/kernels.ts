// Which kernels ONNX Runtime's CPU provider actually runs for a model: the op types of the graph
// after its optimiser (level "all"), which is where QDQ groups become QLinearConv and friends.
// Used to check that a quantized model really runs integer kernels, not float ones around
// DequantizeLinear.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';

/** Op type (prefixed with its domain when not the default one) → count, after optimisation. */
export async function optimizedOpCounts(model: Uint8Array): Promise<Map<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'm2fn-optimized-'));
  try {
    const path = join(dir, 'optimized.onnx');
    const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all', optimizedModelFilePath: path, logSeverityLevel: 3 });
    await session.release();
    const counts = new Map<string, number>();
    for (const n of onnxProto.onnx.ModelProto.decode(readFileSync(path)).graph!.node!) {
      const k = n.domain ? `${n.domain}.${n.opType}` : n.opType!;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return counts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
