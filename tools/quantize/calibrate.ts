// Calibration: the range of every activation the QDQ graph quantizes, observed by running the float
// model on real rows of a prepared dataset (decoded and encoded exactly as the runtime scores them).
// The float model is run with those tensors added as graph outputs; each range is the min and max
// over all calibration rows (a Relu output's range starts at 0, so only its max matters).
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import type { ModelCard } from '../../runtime/card.ts';
import { readManifest, type SplitName } from '../data/manifest.ts';
import { splitBatches } from '../eval/score-model.ts';
import type { QuantizePlan, Range } from './qdq.ts';

const { onnx } = onnxProto;
type ModelProto = InstanceType<typeof onnx.ModelProto>;

export interface CalibrationOptions {
  split?: SplitName;
  /** How many rows, spread evenly over the split (default 128). */
  rows?: number;
  batchSize?: number;
  threads?: number;
}

export interface Calibration {
  ranges: Map<string, Range>;
  rows: number;
  split: SplitName;
}

/** The tensors whose range must be measured: those not borrowing another tensor's parameters. */
export function calibratedTensors(plan: QuantizePlan): string[] {
  return plan.tensors.filter((t) => !plan.sharesParamsWith.has(t));
}

export async function calibrate(model: ModelProto, card: ModelCard, plan: QuantizePlan, dataDir: string, o: CalibrationOptions = {}): Promise<Calibration> {
  const splitName = o.split ?? 'train';
  const split = readManifest(dataDir, splitName);
  const rows = Math.min(o.rows ?? 128, split.rows.length);
  if (!(rows >= 1)) throw new Error(`calibration dataset ${dataDir}: split "${splitName}" has no rows (or rows is not a positive number)`);
  // Evenly spaced, so that a split ordered by image or by attribute is still sampled across.
  const sample = { ...split, rows: Array.from({ length: rows }, (_, i) => split.rows[Math.floor((i * split.rows.length) / rows)]) };
  const wanted = calibratedTensors(plan);
  const probe = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const known = new Set((probe.graph!.output ?? []).map((v) => v.name));
  for (const t of wanted) if (!known.has(t)) probe.graph!.output!.push(onnx.ValueInfoProto.create({ name: t, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } }));
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(probe).finish(), o.threads ? { intraOpNumThreads: o.threads } : {});
  const ranges = new Map(wanted.map((t) => [t, { min: Infinity, max: -Infinity }]));
  try {
    const size = card.preprocessing.size;
    for await (const b of splitBatches(card, sample, { batchSize: o.batchSize ?? 8 })) {
      const feeds: Record<string, ort.Tensor> = { [card.inputs.image.name]: new ort.Tensor('float32', b.image, [b.n, 3, size, size]) };
      if (card.inputs.aux && b.aux) feeds[card.inputs.aux.name] = new ort.Tensor('float32', b.aux, [b.n, b.aux.length / b.n]);
      const outputs = await session.run(feeds, wanted);
      for (const t of wanted) {
        const r = ranges.get(t)!;
        const data = outputs[t].data as Float32Array;
        for (let i = 0; i < data.length; i++) {
          const v = data[i];
          if (v < r.min) r.min = v;
          if (v > r.max) r.max = v;
        }
      }
    }
  } finally {
    await session.release();
  }
  for (const [t, r] of ranges) if (!Number.isFinite(r.min) || !Number.isFinite(r.max)) throw new Error(`calibration: tensor "${t}" took non-finite values [${r.min}, ${r.max}] on ${dataDir}`);
  return { ranges, rows, split: splitName };
}
