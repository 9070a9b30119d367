// The browser runtime: the same model directory as the Node runtime (inference.onnx +
// inference.card.json), run with onnxruntime-web. It shares the pure modules with Node (card
// validation, attribute encoding, the hashing text encoder, pixel normalisation, score reading),
// so a card, an attribute record or a tensor is accepted or refused the same way on both; only
// fetching, hashing and image decoding are the browser's own (runtime/web/). No Node APIs, no
// graph/ or tools/ (test/web/boundaries.test.ts follows every import from here).
import * as ort from 'onnxruntime-web';
import { checkIntegerOption, LIMITS } from './limits.ts';
import { openWithFallback, type ProviderPlatform } from './provider-fallback.ts';
import { openScorer, pickTextEncoder, type ScoreItemOf, type ScorerOf, type ScorerPlatform } from './scorer-common.ts';
import type { TextEncoder } from './text.ts';
import { describeWebImage, imageToTensorWeb, type WebImageInput } from './web/image.ts';
import { readWebModel, type WebModelSource } from './web/model-source.ts';

export type WebExecutionProvider = 'wasm' | 'webgpu';
export const WEB_EXECUTION_PROVIDERS: readonly WebExecutionProvider[] = ['wasm', 'webgpu'];

export interface WebLoadOptions {
  /** 'wasm' (default, every browser) or 'webgpu' (where navigator.gpu gives an adapter). */
  ep?: WebExecutionProvider;
  /** When webgpu fails: warn once (console.warn) and use wasm (default true), or throw. */
  fallback?: boolean;
  /** Encoder for text attributes; its id must equal the card's `textEncoder`. Default: HashingTextEncoder. */
  textEncoder?: TextEncoder;
  /**
   * Where onnxruntime-web fetches its .wasm (and .mjs) files from, as a URL prefix ending in "/"
   * (ort.env.wasm.wasmPaths). Default: next to the onnxruntime-web module. ORT reads this once, at
   * the first session of the page; later values are ignored.
   */
  wasmPaths?: string;
  /**
   * wasm threads (ort.env.wasm.numThreads); more than 1 needs a cross-origin-isolated page (COOP +
   * COEP headers), otherwise ORT uses 1. Like wasmPaths, read once per page.
   */
  threads?: number;
}

export type WebScoreItem = ScoreItemOf<WebImageInput>;

export type WebScorer = ScorerOf<WebImageInput, WebExecutionProvider>;

/**
 * Loads a model from URLs (`{ modelUrl }` with the card beside it, or a directory URL ending in
 * "/", or an explicit `cardUrl`) or from bytes already in hand (`{ model, card }`). Checks, in
 * order: the card; the model's sha256 against the card; the text encoder; the session; the
 * model's input and output names against the card.
 */
export async function loadWeb(source: WebModelSource, opts: WebLoadOptions = {}): Promise<WebScorer> {
  const ep = opts.ep ?? 'wasm';
  if (!WEB_EXECUTION_PROVIDERS.includes(ep)) {
    throw new Error(`unknown execution provider ${JSON.stringify(ep)}; use one of ${WEB_EXECUTION_PROVIDERS.join(', ')}`);
  }
  if (opts.threads !== undefined) checkIntegerOption('threads', opts.threads, 1, LIMITS.threads);
  const { card, modelLabel, onnx } = await readWebModel(source);
  const encoder = pickTextEncoder(card, opts.textEncoder);
  if (opts.wasmPaths !== undefined) ort.env.wasm.wasmPaths = opts.wasmPaths;
  if (opts.threads !== undefined) ort.env.wasm.numThreads = opts.threads;
  const create = (provider: WebExecutionProvider) => ort.InferenceSession.create(onnx, { executionProviders: [provider] });
  return openScorer(await openWithFallback(WEB, create, modelLabel, ep, opts.fallback ?? true), card, modelLabel, encoder, BROWSER);
}

/** ORT-web wraps provider failures as "no available backend found. ERR: [webgpu] Error: …". */
const reasonOf = (e: unknown) =>
  (e instanceof Error ? e.message : String(e)).replace(/^no available backend found\.\s*ERR:\s*/i, '').trim();

/** onnxruntime-web as the fallback routine sees it (runtime/provider-fallback.ts). */
const WEB: ProviderPlatform<WebExecutionProvider> = {
  fallbackEp: 'wasm',
  unavailable: () =>
    typeof navigator === 'undefined' || !('gpu' in navigator)
      ? 'this browser has no WebGPU (navigator.gpu is missing; it needs a secure context and a browser that ships it)'
      : null,
  reasonOf,
  hint: () => '',
  warn: (message) => console.warn(`m2fn: ${message}`),
};

/** The browser platform: images through createImageBitmap and a canvas, tensors of onnxruntime-web. */
const BROWSER: ScorerPlatform<WebImageInput> = {
  imageToTensor: imageToTensorWeb,
  describeImage: describeWebImage,
  tensor: (data, dims) => new ort.Tensor('float32', data, dims),
  cores: () => (typeof navigator !== 'undefined' && navigator.hardwareConcurrency ? navigator.hardwareConcurrency : 4),
};

// The shared pieces, for apps that prepare inputs themselves or validate cards offline.
export type { Score, RegressionScore, DistributionScore } from './results.ts';
export { readScores, ctrOf, scoreValue } from './results.ts';
export { M2fnInputError } from './errors.ts';
export type { Explanation } from './scorer-common.ts';
export { whatIf, type WhatIfSweep } from './whatif.ts';
export { rankCreatives, type Ranking, type RankedCreative } from './rank.ts';
export { validateSchema, encodeAttributes, encodeAttributesBatch, attributeOffsets, type Attributes } from './attributes.ts';
export { HashingTextEncoder, HASHING_TEXT_ENCODER_ID } from './hashing-text-encoder.ts';
export { toNCHW, type RawPixels } from './pixels.ts';
export { validateCard, bucketValues } from './card-validate.ts';
export { CARD_FORMAT, type ModelCard, type Preprocessing, type OutputSpec, type TensorSpec } from './card.ts';
export { auxDim, attributeDim, REAL_AD_SCHEMA, AVA_SCHEMA, SCHEMA_PRESETS, type AuxSchema, type AuxAttribute } from './schema.ts';
export type { TextEncoder } from './text.ts';
export { decodeImageWeb, imageToTensorWeb, describeWebImage, type WebImageInput, type WebPixels } from './web/image.ts';
export { readWebModel, modelUrls, sha256Hex, MODEL_FILE, CARD_FILE, type WebModelSource } from './web/model-source.ts';
