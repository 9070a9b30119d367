// `m2fn quantize`: a trained (float32) model directory in, an int8 QDQ model directory out —
// inference.onnx and its card, which records the precision and the calibration. The source
// directory is only read; the output files are written atomically.
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import onnxProto from 'onnx-proto';
import type { ModelCard } from '../../runtime/card.ts';
import { CARD_FILE, MODEL_FILE, readModelFiles } from '../../runtime/model-files.ts';
import { writeFileAtomic } from '../../runtime/atomic-write.ts';
import { calibrate, type CalibrationOptions } from './calibrate.ts';
import { foldConvAffine } from './fold.ts';
import { planQuantization, quantize, type QuantizeOptions } from './qdq.ts';

const { onnx } = onnxProto;

export interface QuantizeModelOptions extends CalibrationOptions, QuantizeOptions {}

export interface QuantizedModel {
  onnxPath: string;
  cardPath: string;
  card: ModelCard;
  bytes: number;
  convs: number;
  tensors: number;
  /** Batch norm and per-channel scale/shift ops folded into conv weights first. */
  folded: number;
}

/** The int8 QDQ model for float32 ONNX bytes and their card, calibrated on `dataDir`'s rows. */
export async function quantizeModel(onnxBytes: Uint8Array, floatCard: ModelCard, dataDir: string, o: QuantizeModelOptions = {}): Promise<{ bytes: Uint8Array; card: ModelCard; convs: number; tensors: number; folded: number }> {
  if (floatCard.precision) throw new Error(`quantize: the model is already quantized (${floatCard.precision.weights}); quantize its float32 source instead`);
  const model = onnx.ModelProto.decode(onnxBytes);
  const folded = foldConvAffine(model); // VGG-BN: Conv → BN → γ → β → Relu becomes Conv → Relu
  const plan = planQuantization(model);
  const cal = await calibrate(model, floatCard, plan, dataDir, o);
  const bytes = onnx.ModelProto.encode(quantize(model, plan, cal.ranges, o)).finish();
  const card: ModelCard = {
    ...floatCard,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    precision: {
      format: 'QDQ',
      weights: 'int8',
      weightBits: o.weightBits ?? 8,
      weightScales: 'per-channel',
      activations: 'uint8',
      quantized: `${plan.convs.length} Conv+Relu (${plan.convs.join(', ')}) and the MaxPools between them${folded ? `; ${folded} batch-norm and per-channel affine ops folded into the conv weights first` : ''}`,
      float: 'everything else: the first conv and conditional batch norm, the attention (its convs and softmax), the tanh fusion and the head',
      calibration: { dataset: dataDir, split: cal.split, rows: cal.rows, method: 'minmax' },
      sourceSha256: floatCard.sha256,
    },
  };
  return { bytes, card, convs: plan.convs.length, tensors: plan.tensors.length, folded };
}

export async function quantizeModelDir(modelDir: string, dataDir: string, outDir: string, o: QuantizeModelOptions = {}): Promise<QuantizedModel> {
  if (resolve(outDir) === resolve(modelDir)) throw new Error(`quantize: the output directory ${outDir} is the model directory; choose another (the float model is kept)`);
  const files = await readModelFiles(modelDir);
  const { bytes, card, convs, tensors, folded } = await quantizeModel(files.onnx, files.card, dataDir, o);
  const onnxPath = join(outDir, MODEL_FILE);
  const cardPath = join(outDir, CARD_FILE);
  writeFileAtomic(onnxPath, bytes);
  writeFileAtomic(cardPath, JSON.stringify(card, null, 2) + '\n');
  return { onnxPath, cardPath, card, bytes: bytes.length, convs, tensors, folded };
}
