// Writes a built model as `inference.onnx` plus its model card, the pair every runtime loads.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CARD_FORMAT, type ModelCard, type Preprocessing } from '../../runtime/card.ts';
import { writeFileAtomic } from '../../runtime/atomic-write.ts';
import type { Value } from '../core/ir.ts';
import { configAuxDim, type ModelConfig } from '../models/config.ts';
import type { BuiltModel } from '../models/m2fn.ts';
import { moduleOf } from '../models/modules.ts';
import { IR_VERSION, OPSET, serialize, type GraphSpec } from '../core/serialize.ts';

export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

/** How images are turned into the model's input; the trainer's image cache uses the same. */
export function preprocessingFor(cfg: ModelConfig): Preprocessing {
  return { size: cfg.size, mean: IMAGENET_MEAN, std: IMAGENET_STD, resize: 'fill', layout: 'NCHW', background: [255, 255, 255], maxPixels: 40_000_000 };
}

export function outputName(m: BuiltModel): 'ctr' | 'dist' {
  return m.config.output === 'regression' ? 'ctr' : 'dist';
}

/** The inference graph's outputs: ctr or dist (+ attention weights when asked and present). */
export function inferenceOutputs(m: BuiltModel, opts: { attention?: boolean } = {}): Value[] {
  const outputs: Value[] = [m.output.named(outputName(m))];
  if (opts.attention && m.attention) outputs.push(m.attention.named('attention'));
  return outputs;
}

/** The inference graph: image (+ aux) → ctr or dist (+ attention weights when asked). */
export function inferenceSpec(m: BuiltModel, opts: { attention?: boolean } = {}): GraphSpec {
  return { name: `${m.config.model}_inference`, inputs: m.aux ? [m.image, m.aux] : [m.image], outputs: inferenceOutputs(m, opts) };
}

export function parameterCounts(m: BuiltModel): { total: number; byModule: Record<string, number> } {
  const byModule: Record<string, number> = {};
  let total = 0;
  for (const v of m.params.trainable) {
    byModule[moduleOf(v.name!)] = (byModule[moduleOf(v.name!)] ?? 0) + v.size;
    total += v.size;
  }
  return { total, byModule };
}

export interface CardExtras {
  textEncoder?: string;
  /** What each distribution bucket stands for (e.g. a CTR), when not ratings 1..10. */
  bucketValues?: number[];
  diagnostics?: ModelCard['diagnostics'];
}

export function modelCard(m: BuiltModel, onnxBytes: Uint8Array, extras: CardExtras = {}): ModelCard {
  const textEncoder = extras.textEncoder ?? 'hashing-v1';
  const cfg = m.config;
  const distribution = cfg.output === 'distribution';
  return {
    format: CARD_FORMAT,
    model: cfg.model,
    createdBy: 'm2fn 0.1.0',
    irVersion: IR_VERSION,
    opset: OPSET,
    inputs: {
      image: { name: 'image', dtype: 'float32', shape: ['N', 3, cfg.size, cfg.size] },
      aux: m.aux ? { name: 'aux', dtype: 'float32', shape: ['N', configAuxDim(cfg)] } : null,
    },
    preprocessing: preprocessingFor(cfg),
    auxSchema: m.aux ? cfg.auxSchema : null,
    textEncoder: m.aux && cfg.auxSchema?.attributes.some((a) => a.kind === 'text') ? textEncoder : null,
    output: {
      name: outputName(m),
      kind: cfg.output,
      size: distribution ? 10 : 1,
      meaning: distribution
        ? 'probability of each of 10 preference buckets (CTR buckets or rating 1..10); mean and std summarise it'
        : 'predicted click-through rate (the training target’s scale)',
      ...(distribution && extras.bucketValues ? { bucketValues: extras.bucketValues } : {}),
    },
    config: { ...cfg, auxSchema: undefined },
    parameters: parameterCounts(m),
    sha256: createHash('sha256').update(onnxBytes).digest('hex'),
    ...(extras.diagnostics ? { diagnostics: extras.diagnostics } : {}),
  };
}

export interface Written {
  onnxPath: string;
  cardPath: string;
  bytes: number;
  card: ModelCard;
}

/** `DIR/<name>.onnx` and `DIR/<name>.card.json`, each written atomically. */
export async function writeModel(dir: string, name: string, spec: GraphSpec, card: (bytes: Uint8Array) => ModelCard): Promise<Written> {
  mkdirSync(dir, { recursive: true });
  const bytes = serialize(spec);
  const c = card(bytes);
  const onnxPath = join(dir, `${name}.onnx`);
  const cardPath = join(dir, `${name}.card.json`);
  writeFileAtomic(onnxPath, bytes);
  writeFileAtomic(cardPath, JSON.stringify(c, null, 2) + '\n');
  return { onnxPath, cardPath, bytes: bytes.length, card: c };
}

export function writeInference(dir: string, m: BuiltModel, opts: { attention?: boolean } & CardExtras = {}): Promise<Written> {
  return writeModel(dir, 'inference', inferenceSpec(m, opts), (bytes) => modelCard(m, bytes, opts));
}
