// The model card: the JSON beside every .onnx that tells a runtime how to feed and read it.
import type { AuxSchema } from './schema.ts';

export const CARD_FORMAT = 'm2fn-model-card/1';

export interface TensorSpec {
  name: string;
  dtype: 'float32';
  /** "N" is the symbolic batch dimension. */
  shape: (number | 'N')[];
}

export interface Preprocessing {
  size: number;
  /** Per-channel RGB mean and std applied to pixels scaled to [0, 1]. */
  mean: [number, number, number];
  std: [number, number, number];
  /** fill: stretch to size×size; cover: scale and centre-crop; contain: letterbox on background. */
  resize: 'fill' | 'cover' | 'contain';
  layout: 'NCHW';
  /** Alpha is flattened onto this RGB colour. */
  background: [number, number, number];
  /** Images with more pixels than this are refused (decompression bombs). */
  maxPixels: number;
}

export interface OutputSpec {
  name: string;
  kind: 'regression' | 'distribution';
  size: number;
  meaning: string;
  /** Distribution outputs: the value bucket i stands for, used for mean and std (default 1..size). */
  bucketValues?: number[];
}

/**
 * How a reduced-precision graph was made from a float one (`m2fn quantize`). Absent: a plain
 * float32 graph. Inputs and outputs stay float32 either way, so a runtime feeds it unchanged.
 */
export interface Precision {
  /** QDQ: ONNX QuantizeLinear/DequantizeLinear pairs around float ops. */
  format: 'QDQ';
  weights: 'int8';
  /** 8, or 7 for CPUs whose int8 dot product saturates at int16. */
  weightBits: 7 | 8;
  /** One weight scale per output channel. */
  weightScales: 'per-channel';
  activations: 'uint8';
  /** What runs in integers, and what was left float. */
  quantized: string;
  float: string;
  calibration: {
    /** The prepared dataset whose rows gave the activation ranges, as given on the command line. */
    dataset: string;
    split: string;
    rows: number;
    method: 'minmax';
  };
  /** sha256 of the float32 .onnx that was quantized. */
  sourceSha256: string;
}

/** The explain graph's extra outputs (explain.card.json): attention weights and Grad-CAM maps. */
export interface ExplainSpec {
  /** [N, height·width] softmax weights over the last feature map's positions; null without attention. */
  attention: { name: string; height: number; width: number } | null;
  /** One [N, height, width] map per VGG stage, stage 1 the finest. */
  gradcam: { stage: number; name: string; height: number; width: number }[];
}

export interface ModelCard {
  format: typeof CARD_FORMAT;
  model: string;
  createdBy: string;
  irVersion: number;
  opset: number;
  inputs: { image: TensorSpec; aux: TensorSpec | null };
  preprocessing: Preprocessing;
  auxSchema: AuxSchema | null;
  /** Id of the TextEncoder whose vectors the model was trained on (see runtime/text.ts). */
  textEncoder: string | null;
  output: OutputSpec;
  config: Record<string, unknown>;
  parameters: { total: number; byModule: Record<string, number> };
  /** sha256 of the .onnx file the card describes, hex. */
  sha256: string;
  precision?: Precision;
  /** Explain graphs only (graph/export/explain.ts). */
  explain?: ExplainSpec;
  /** Trained models: how much the predictions depend on the image (tools/metrics/sensitivity.ts). */
  diagnostics?: { imageSensitivity?: { ratio: number; sprcLoss?: number; rows: number; images: number; rounds: number; split: string; epoch: number | null } };
}
