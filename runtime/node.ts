// The Node scorer: a model directory in, scores out. It glues the single-concern modules together
// (card and file checks, provider choice, image decoding) and hands the session to the scorer it
// shares with the browser (scorer-common.ts: attribute encoding, batching, the run, output reading).
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { openSession, type ExecutionProvider, type SessionOptions } from './execution.ts';
import { describeImage, imageToTensor, type ImageInput } from './image-node.ts';
import { readModelFiles } from './model-files.ts';
import { openScorer, pickTextEncoder, type ScoreItemOf, type ScorerOf, type ScorerPlatform } from './scorer-common.ts';
import type { TextEncoder } from './text.ts';

export interface LoadOptions extends SessionOptions {
  /** Encoder for text attributes; its id must equal the card's `textEncoder`. Default: HashingTextEncoder. */
  textEncoder?: TextEncoder;
}

export type ScoreItem = ScoreItemOf<ImageInput>;

export type Scorer = ScorerOf<ImageInput, ExecutionProvider>;

/**
 * Loads a model directory (inference.onnx + inference.card.json), or a .onnx path with its card
 * beside it — `DIR/explain.onnx` for a scorer that can also `explain`.
 */
export async function load(modelDir: string, opts: LoadOptions = {}): Promise<Scorer> {
  const files = await readModelFiles(modelDir);
  const { card, onnxPath } = files;
  const encoder = pickTextEncoder(card, opts.textEncoder);
  return openScorer(await openSession(files.onnx, onnxPath, opts), card, onnxPath, encoder, NODE);
}

/** The Node platform: images through sharp, tensors of onnxruntime-node, concurrency from the cores. */
const NODE: ScorerPlatform<ImageInput> = {
  imageToTensor,
  describeImage,
  tensor: (data, dims) => new ort.Tensor('float32', data, dims),
  cores: availableParallelism,
};
