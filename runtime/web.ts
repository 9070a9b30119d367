// The browser runtime: the same model directory as the Node runtime (inference.onnx +
// inference.card.json), run with onnxruntime-web. It shares the pure modules with Node (card
// validation, attribute encoding, the hashing text encoder, pixel normalisation, score reading),
// so a card, an attribute record or a tensor is accepted or refused the same way on both; only
// fetching, hashing and image decoding are the browser's own (runtime/web/). No Node APIs, no
// graph/ or tools/ (test/web/boundaries.test.ts follows every import from here).
import * as ort from 'onnxruntime-web';
import type { ModelCard } from './card.ts';
import { encodeAttributes, encodeAttributesBatch, type Attributes } from './attributes.ts';
import { M2fnInputError } from './errors.ts';
import { readScores, type Score } from './results.ts';
import { auxDim } from './schema.ts';
import { checkBatchOptions, checkSessionNames, checkTensors, mapBounded, NO_TEXT, pickTextEncoder } from './scorer-common.ts';
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

export interface WebScoreItem {
  image: WebImageInput;
  attributes?: Attributes;
}

export interface WebScorer {
  readonly card: ModelCard;
  /** The execution provider in use (wasm after a fallback). */
  readonly ep: WebExecutionProvider;
  /** Set after a fallback: the provider that was asked for and why it failed. */
  readonly fallbackFrom?: { ep: WebExecutionProvider; reason: string };
  score(image: WebImageInput, attributes?: Attributes): Promise<Score>;
  /** Scores many items in batches (default 16), decoding images concurrently; results keep the items' order. */
  scoreMany(items: WebScoreItem[], opts?: { batchSize?: number; concurrency?: number }): Promise<Score[]>;
  /** Scores already-prepared inputs: `image` [n, 3, size, size] normalised, `aux` [n, auxDim] or null. */
  scoreTensors(image: Float32Array, aux: Float32Array | null, n: number): Promise<Score[]>;
  /** Releases the session (and its GPU buffers with webgpu); idempotent; later calls throw. */
  close(): Promise<void>;
}

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
  if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads > 0)) {
    throw new Error(`threads must be a positive integer, got ${opts.threads}`);
  }
  const { card, modelLabel, onnx } = await readWebModel(source);
  const encoder = pickTextEncoder(card, opts.textEncoder);
  if (opts.wasmPaths !== undefined) ort.env.wasm.wasmPaths = opts.wasmPaths;
  if (opts.threads !== undefined) ort.env.wasm.numThreads = opts.threads;
  const opened = await openWebSession(onnx, modelLabel, ep, opts.fallback ?? true);
  try {
    checkSessionNames(opened.session, card, modelLabel);
  } catch (e) {
    await opened.session.release();
    throw e;
  }
  return new BrowserScorer(card, opened.session, opened.ep, opened.fallbackFrom, encoder);
}

const warned = new Set<string>();

/** ORT-web wraps provider failures as "no available backend found. ERR: [webgpu] Error: …". */
const reasonOf = (e: unknown) =>
  (e instanceof Error ? e.message : String(e)).replace(/^no available backend found\.\s*ERR:\s*/i, '').trim();

async function openWebSession(model: Uint8Array, file: string, ep: WebExecutionProvider, fallback: boolean) {
  const create = (provider: WebExecutionProvider) => ort.InferenceSession.create(model, { executionProviders: [provider] });
  const modelError = (e: unknown): never => {
    throw new Error(`cannot load ONNX model ${file}: ${reasonOf(e)}`, { cause: e });
  };
  if (ep === 'wasm') return { session: await create('wasm').catch(modelError), ep: 'wasm' as const };

  let reason: string;
  if (typeof navigator === 'undefined' || !('gpu' in navigator)) {
    reason = 'this browser has no WebGPU (navigator.gpu is missing; it needs a secure context and a browser that ships it)';
  } else {
    try {
      return { session: await create('webgpu'), ep: 'webgpu' as const };
    } catch (e) {
      reason = reasonOf(e);
    }
  }
  if (!fallback) throw new Error(`execution provider webgpu is not usable for ${file}: ${reason}. Use ep 'wasm' or allow fallback.`);
  const session = await create('wasm').catch(modelError);
  if (!warned.has(ep)) {
    warned.add(ep);
    console.warn(`m2fn: execution provider ${ep} failed (${reason}); using wasm instead`);
  }
  return { session, ep: 'wasm' as const, fallbackFrom: { ep, reason } };
}

class BrowserScorer implements WebScorer {
  private closed = false;
  private readonly auxDim: number;
  private readonly imageSize: number;

  constructor(
    readonly card: ModelCard,
    private readonly session: ort.InferenceSession,
    readonly ep: WebExecutionProvider,
    readonly fallbackFrom: { ep: WebExecutionProvider; reason: string } | undefined,
    private readonly encoder: TextEncoder | null,
  ) {
    this.auxDim = card.auxSchema ? auxDim(card.auxSchema) : 0;
    this.imageSize = 3 * card.preprocessing.size ** 2;
  }

  async score(image: WebImageInput, attributes?: Attributes): Promise<Score> {
    this.assertOpen();
    // A lone item is not "item #0" in errors: the caller knows which one it passed.
    return (await this.scoreBatch([{ image, attributes }], null, 1))[0];
  }

  async scoreMany(items: WebScoreItem[], opts: { batchSize?: number; concurrency?: number } = {}): Promise<Score[]> {
    this.assertOpen();
    if (!Array.isArray(items)) throw new M2fnInputError(`scoreMany expects an array of { image, attributes }`);
    const batchSize = opts.batchSize ?? 16;
    const cores = typeof navigator !== 'undefined' && navigator.hardwareConcurrency ? navigator.hardwareConcurrency : 4;
    const concurrency = opts.concurrency ?? Math.min(4, cores);
    checkBatchOptions(batchSize, concurrency);
    const results: Score[] = [];
    for (let start = 0; start < items.length; start += batchSize) {
      results.push(...(await this.scoreBatch(items.slice(start, start + batchSize), start, concurrency)));
    }
    return results;
  }

  /** `first`: index of batch[0] among the caller's items, for error messages; null for a lone item. */
  private async scoreBatch(batch: WebScoreItem[], first: number | null, concurrency: number): Promise<Score[]> {
    const n = batch.length;
    const schema = this.card.auxSchema;
    // Models without aux ignore attributes, so one call site can compare image-only baselines.
    const aux = !schema
      ? null
      : first === null
        ? await encodeAttributes(schema, batch[0].attributes ?? {}, this.encoder ?? NO_TEXT)
        : await encodeAttributesBatch(schema, batch.map((it) => it.attributes ?? {}), this.encoder ?? NO_TEXT, { firstIndex: first });
    const image = new Float32Array(n * this.imageSize);
    await mapBounded(batch, concurrency, (item, i) =>
      imageToTensorWeb(item.image, this.card.preprocessing, {
        label: describeWebImage(item.image, first === null ? undefined : first + i),
        out: image,
        offset: i * this.imageSize,
      }),
    );
    return this.scoreTensors(image, aux, n);
  }

  async scoreTensors(image: Float32Array, aux: Float32Array | null, n: number): Promise<Score[]> {
    this.assertOpen();
    const { inputs, preprocessing } = this.card;
    checkTensors(this.card, image, aux, n);
    const feeds: Record<string, ort.Tensor> = {
      [inputs.image.name]: new ort.Tensor('float32', image, [n, 3, preprocessing.size, preprocessing.size]),
    };
    if (inputs.aux && aux) feeds[inputs.aux.name] = new ort.Tensor('float32', aux, [n, this.auxDim]);
    const out = await this.session.run(feeds, [this.card.output.name]);
    const tensor = out[this.card.output.name];
    const scores = readScores(this.card, tensor.data as Float32Array, n);
    tensor.dispose();
    return scores;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`scorer for model "${this.card.model}" is closed`);
  }
}

// The shared pieces, for apps that prepare inputs themselves or validate cards offline.
export type { Score, RegressionScore, DistributionScore } from './results.ts';
export { readScores } from './results.ts';
export { M2fnInputError } from './errors.ts';
export { validateSchema, encodeAttributes, encodeAttributesBatch, attributeOffsets, type Attributes } from './attributes.ts';
export { HashingTextEncoder, HASHING_TEXT_ENCODER_ID } from './hashing-text-encoder.ts';
export { toNCHW, type RawPixels } from './pixels.ts';
export { validateCard, bucketValues } from './card-validate.ts';
export { CARD_FORMAT, type ModelCard, type Preprocessing, type OutputSpec, type TensorSpec } from './card.ts';
export { auxDim, attributeDim, REAL_AD_SCHEMA, AVA_SCHEMA, SCHEMA_PRESETS, type AuxSchema, type AuxAttribute } from './schema.ts';
export type { TextEncoder } from './text.ts';
export { decodeImageWeb, imageToTensorWeb, describeWebImage, type WebImageInput, type WebPixels } from './web/image.ts';
export { readWebModel, modelUrls, sha256Hex, MODEL_FILE, CARD_FILE, type WebModelSource } from './web/model-source.ts';
