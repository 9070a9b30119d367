// The Node scorer: a model directory in, scores out. It glues the single-concern modules together
// (card and file checks, provider choice, image decoding) and hands the session to the scorer it
// shares with the browser (scorer-common.ts: attribute encoding, batching, the run, output reading).
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { ModelCard } from './card.ts';
import type { Attributes } from './attributes.ts';
import { openSession, type ExecutionProvider, type SessionOptions } from './execution.ts';
import { describeImage, imageToTensor, type ImageInput } from './image-node.ts';
import { readModelFiles } from './model-files.ts';
import type { Score } from './results.ts';
import { checkSessionNames, pickTextEncoder, ScorerCore, type Explanation, type ScorerPlatform } from './scorer-common.ts';
import type { TextEncoder } from './text.ts';

export interface LoadOptions extends SessionOptions {
  /** Encoder for text attributes; its id must equal the card's `textEncoder`. Default: HashingTextEncoder. */
  textEncoder?: TextEncoder;
}

export interface ScoreItem {
  image: ImageInput;
  attributes?: Attributes;
}

export interface Scorer {
  readonly card: ModelCard;
  /** The execution provider in use (cpu after a fallback). */
  readonly ep: ExecutionProvider;
  /** Set after a fallback: the provider that was asked for and why it failed. */
  readonly fallbackFrom?: { ep: ExecutionProvider; reason: string };
  score(image: ImageInput, attributes?: Attributes): Promise<Score>;
  /** The predicted CTR as a number, for regression models (score() gives a union); distribution models throw. */
  ctr(image: ImageInput, attributes?: Attributes): Promise<number>;
  /** Scores many items in batches (default 16), decoding images concurrently; results keep the items' order. */
  scoreMany(items: ScoreItem[], opts?: { batchSize?: number; concurrency?: number }): Promise<Score[]>;
  /** Scores already-prepared inputs: `image` [n, 3, size, size] normalised, `aux` [n, auxDim] or null. */
  scoreTensors(image: Float32Array, aux: Float32Array | null, n: number): Promise<Score[]>;
  /** A scorer loaded from explain.onnx: attention weights and a Grad-CAM map per VGG stage for one item. */
  explain(image: ImageInput, attributes?: Attributes): Promise<Explanation>;
  /** Releases the session. Required before exit with webgpu (a live session aborts the process). */
  close(): Promise<void>;
}

/**
 * Loads a model directory (inference.onnx + inference.card.json), or a .onnx path with its card
 * beside it — `DIR/explain.onnx` for a scorer that can also `explain`.
 */
export async function load(modelDir: string, opts: LoadOptions = {}): Promise<Scorer> {
  const files = await readModelFiles(modelDir);
  const { card, onnxPath } = files;
  const encoder = pickTextEncoder(card, opts.textEncoder);
  const opened = await openSession(files.onnx, onnxPath, opts);
  try {
    checkSessionNames(opened.session, card, onnxPath);
  } catch (e) {
    await opened.session.release();
    throw e;
  }
  return new ScorerCore(card, opened.session, opened.ep, opened.fallbackFrom, encoder, NODE);
}

/** The Node platform: images through sharp, tensors of onnxruntime-node, concurrency from the cores. */
const NODE: ScorerPlatform<ImageInput> = {
  imageToTensor,
  describeImage,
  tensor: (data, dims) => new ort.Tensor('float32', data, dims),
  cores: availableParallelism,
};
