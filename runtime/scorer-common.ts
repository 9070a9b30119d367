// The parts of a scorer that do not depend on where it runs: choosing the text encoder, checking
// an ORT session against its card, validating tensors before a run, and the scorer itself
// (batching, attribute encoding, concurrent decoding, the run). Shared by node.ts and web.ts (so
// both refuse the same inputs with the same messages); no Node APIs and no ORT import, since
// onnxruntime-node and onnxruntime-web are different packages with the same session shape: each
// platform passes in its image decoder, its Tensor constructor and its default concurrency.
import { encodeAttributes, encodeAttributesBatch, type Attributes } from './attributes.ts';
import type { ModelCard, Preprocessing } from './card.ts';
import { M2fnInputError } from './errors.ts';
import type { OpenedWith } from './provider-fallback.ts';
import { HashingTextEncoder, HASHING_TEXT_ENCODER_ID } from './hashing-text-encoder.ts';
import { checkIntegerOption, LIMITS } from './limits.ts';
import { ctrOf, readScores, type Score } from './results.ts';
import { attributeDim, auxDim } from './schema.ts';
import type { TextEncoder } from './text.ts';

/** The encoder for the card's text attributes (null when it has none); `given` must match the card. */
export function pickTextEncoder(card: ModelCard, given: TextEncoder | undefined): TextEncoder | null {
  const texts = card.auxSchema?.attributes.filter((a) => a.kind === 'text') ?? [];
  if (texts.length === 0) return null;
  if (given) {
    if (given.id !== card.textEncoder) {
      throw new Error(`text encoder mismatch: the model was trained with "${card.textEncoder}", the encoder given is "${given.id}"`);
    }
    const wrong = texts.find((a) => a.kind === 'text' && a.dim !== given.dim);
    if (wrong) throw new Error(`text encoder "${given.id}" makes ${given.dim}-d vectors, but text attribute "${wrong.name}" needs ${attributeDim(wrong)}`);
    return given;
  }
  if (card.textEncoder !== HASHING_TEXT_ENCODER_ID) {
    throw new Error(`the model's text encoder is "${card.textEncoder}"; pass an encoder with that id as textEncoder (only "${HASHING_TEXT_ENCODER_ID}" is built in)`);
  }
  const dims = new Set(texts.map((a) => (a.kind === 'text' ? a.dim : 0)));
  if (dims.size > 1) throw new Error(`text attributes have different dims (${[...dims].join(', ')}); pass a textEncoder`);
  return new HashingTextEncoder({ dim: [...dims][0] });
}

/** One item's explanation (ScorerCore.explain). Maps are row-major [height, width]. */
export interface Explanation {
  score: Score;
  attention: { height: number; width: number; weights: Float32Array } | null;
  gradcam: { stage: number; height: number; width: number; map: Float32Array }[];
}

/** What both ORT packages' sessions expose about their graph. */
export interface SessionNames {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
}

/** The session must take exactly the card's inputs and produce its output; `file` names the model. */
export function checkSessionNames(session: SessionNames, card: ModelCard, file: string): void {
  const wanted = [card.inputs.image.name, ...(card.inputs.aux ? [card.inputs.aux.name] : [])];
  for (const name of wanted) {
    if (!session.inputNames.includes(name)) {
      throw new Error(`model ${file} has no input "${name}" named by its card (inputs: ${session.inputNames.join(', ')})`);
    }
  }
  const extra = session.inputNames.filter((n) => !wanted.includes(n));
  if (extra.length) throw new Error(`model ${file} has inputs its card does not describe: ${extra.join(', ')}`);
  if (!session.outputNames.includes(card.output.name)) {
    throw new Error(`model ${file} has no output "${card.output.name}" named by its card (outputs: ${session.outputNames.join(', ')})`);
  }
}

/** Schemas without text attributes never call the encoder; this stands in for the missing one. */
export const NO_TEXT: TextEncoder = {
  id: 'none',
  dim: 0,
  encode: async () => {
    throw new Error('this model has no text attributes');
  },
};

/**
 * Runs `fn` over `items` with at most `limit` in flight, results in input order. On a failure no
 * new item starts, and every call in flight settles before the first error is thrown: nothing is
 * still writing (into a batch buffer, a staging directory) once the caller handles it.
 */
export async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !failed) {
      const i = next++;
      try {
        out[i] = await fn(items[i], i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const refused = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (refused) throw refused.reason;
  return out;
}

/**
 * Checks scoreTensors' arguments against the card before they reach ORT (whose shape errors do not
 * say which argument is wrong). Returns whether the model takes an aux input.
 */
export function checkTensors(card: ModelCard, image: Float32Array, aux: Float32Array | null, n: number): boolean {
  const size = card.preprocessing.size;
  const perImage = 3 * size * size;
  const d = card.auxSchema ? auxDim(card.auxSchema) : 0;
  if (!(Number.isInteger(n) && n > 0)) throw new M2fnInputError(`n must be a positive integer, got ${n}`);
  if (!(image instanceof Float32Array)) throw new M2fnInputError(`image tensor must be a Float32Array, got ${image === null ? 'null' : typeof image}`);
  if (aux !== null && !(aux instanceof Float32Array)) throw new M2fnInputError(`aux vector must be a Float32Array or null, got ${typeof aux}`);
  if (image.length !== n * perImage) {
    throw new M2fnInputError(`image tensor has ${image.length} floats, expected ${n * perImage} (${n} × 3 × ${size} × ${size})`);
  }
  if (card.inputs.aux) {
    if (!aux) throw new M2fnInputError(`this model needs an aux vector of ${d} per item (schema "${card.auxSchema?.name}"), got null`);
    if (aux.length !== n * d) throw new M2fnInputError(`aux vector has ${aux.length} floats, expected ${n * d} (${n} × aux dim ${d})`);
    checkFinite('image tensor', image, perImage);
    checkFinite('aux vector', aux, d);
    return true;
  }
  if (aux && aux.length > 0) throw new M2fnInputError(`this model takes no aux input, got an aux vector of ${aux.length} floats`);
  checkFinite('image tensor', image, perImage);
  return false;
}

/** NaN or ±Infinity in an input makes a NaN score that looks like a result: refused, naming the item. */
function checkFinite(what: string, values: Float32Array, perItem: number): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new M2fnInputError(`${what} is not finite: value ${values[i]} at index ${i}, item #${Math.floor(i / perItem)}`);
    }
  }
}

/** A non-finite output from finite inputs is never returned as a score: the model (or its input range) is at fault. */
function checkOutputFinite(card: ModelCard, values: ArrayLike<number>, n: number): void {
  const k = values.length / n;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new Error(`model "${card.model}": output "${card.output.name}" of item #${Math.floor(i / k)} is ${values[i]}, from finite inputs; the model's weights or the inputs' range are broken`);
    }
  }
}

/** scoreMany's options, checked the same way on both platforms (bounds: limits.ts). */
export function checkBatchOptions(batchSize: number, concurrency: number): void {
  checkIntegerOption('batchSize', batchSize, 1, LIMITS.batchSize);
  checkIntegerOption('concurrency', concurrency, 1, LIMITS.concurrency);
}

/** The slice of an ORT tensor the scorer uses; both packages' Tensor classes fit. */
export interface TensorLike {
  readonly data: unknown;
  dispose(): void;
}

/** The slice of an ORT session the scorer uses; both packages' InferenceSession classes fit. */
export interface ScorerSession extends SessionNames {
  run(feeds: Record<string, TensorLike>, fetches: string[]): Promise<Record<string, TensorLike>>;
  release(): Promise<void>;
}

/** What a platform (Node, browser) gives the shared scorer; `I` is the image input it accepts. */
export interface ScorerPlatform<I> {
  /** Decodes one image into `out` at `offset` as the model's normalised [3, size, size] input. */
  imageToTensor(image: I, pre: Preprocessing, opts: { label: string; out: Float32Array; offset: number }): Promise<unknown>;
  /** The image's name in errors; `index` is its place among the caller's items. */
  describeImage(image: I, index?: number): string;
  /** A float32 tensor of the platform's ORT package. */
  tensor(data: Float32Array, dims: number[]): TensorLike;
  /** Cores to decode on; scoreMany's default concurrency is min(4, this). Asked only when needed. */
  cores(): number;
}

/** An item to score: an image in the platform's form (`I`) and its attributes. */
export interface ScoreItemOf<I> {
  image: I;
  attributes?: Attributes;
}

/**
 * What `load` (node.ts: Scorer) and `loadWeb` (web.ts: WebScorer) return, written once: `I` is the
 * platform's image input, `EP` its execution provider names.
 */
export interface ScorerOf<I, EP extends string> {
  readonly card: ModelCard;
  /** The execution provider in use (the platform's fallback after a fallback: cpu, wasm). */
  readonly ep: EP;
  /** Set after a fallback: the provider that was asked for and why it failed. */
  readonly fallbackFrom?: { ep: EP; reason: string };
  score(image: I, attributes?: Attributes): Promise<Score>;
  /** The predicted CTR as a number, for regression models (score() gives a union); distribution models throw. */
  ctr(image: I, attributes?: Attributes): Promise<number>;
  /** Scores many items in batches (default 16), decoding images concurrently; results keep the items' order. */
  scoreMany(items: ScoreItemOf<I>[], opts?: { batchSize?: number; concurrency?: number }): Promise<Score[]>;
  /** Scores already-prepared inputs: `image` [n, 3, size, size] normalised, `aux` [n, auxDim] or null. */
  scoreTensors(image: Float32Array, aux: Float32Array | null, n: number): Promise<Score[]>;
  /** A scorer loaded from explain.onnx: attention weights and a Grad-CAM map per VGG stage for one item. */
  explain(image: I, attributes?: Attributes): Promise<Explanation>;
  /**
   * Releases the session (and its GPU buffers with webgpu); idempotent; later calls throw. In Node
   * it is required before exit with webgpu: a live session there aborts the process.
   */
  close(): Promise<void>;
}

/**
 * The scorer over a session just opened for `card` (by `load` and `loadWeb`): the session's input
 * and output names are checked against the card first, and the session is released if they differ.
 */
export async function openScorer<I, EP extends string>(opened: OpenedWith<EP, ScorerSession>, card: ModelCard, label: string, encoder: TextEncoder | null, platform: ScorerPlatform<I>): Promise<ScorerCore<I, EP>> {
  try {
    checkSessionNames(opened.session, card, label);
  } catch (e) {
    await opened.session.release();
    throw e;
  }
  return new ScorerCore(card, opened.session, opened.ep, opened.fallbackFrom, encoder, platform);
}

/**
 * The scorer for both platforms: one ORT session and its card. node.ts and web.ts wrap it in their
 * own public types (Scorer, WebScorer); `I` is the image input, `EP` the execution provider names.
 */
export class ScorerCore<I, EP extends string> {
  private closed = false;
  private readonly auxDim: number;
  private readonly imageSize: number;

  constructor(
    readonly card: ModelCard,
    private readonly session: ScorerSession,
    readonly ep: EP,
    readonly fallbackFrom: { ep: EP; reason: string } | undefined,
    private readonly encoder: TextEncoder | null,
    private readonly platform: ScorerPlatform<I>,
  ) {
    this.auxDim = card.auxSchema ? auxDim(card.auxSchema) : 0;
    this.imageSize = 3 * card.preprocessing.size ** 2;
  }

  async score(image: I, attributes?: Attributes): Promise<Score> {
    this.assertOpen();
    // A lone item is not "item #0" in errors: the caller knows which one it passed.
    return (await this.scoreBatch([{ image, attributes }], null, 1))[0];
  }

  async ctr(image: I, attributes?: Attributes): Promise<number> {
    if (this.card.output.kind !== 'regression') {
      throw new Error(`model "${this.card.model}" predicts a ${this.card.output.size}-bucket distribution, not a CTR: use score() and read mean and std`);
    }
    return ctrOf(await this.score(image, attributes));
  }

  async scoreMany(items: { image: I; attributes?: Attributes }[], opts: { batchSize?: number; concurrency?: number } = {}): Promise<Score[]> {
    this.assertOpen();
    if (!Array.isArray(items)) throw new M2fnInputError(`scoreMany expects an array of { image, attributes }`);
    const notItem = items.findIndex((it) => typeof it !== 'object' || it === null || Array.isArray(it));
    if (notItem >= 0) throw new M2fnInputError(`item #${notItem} must be an object { image, attributes }, got ${items[notItem] === null ? 'null' : typeof items[notItem]}`);
    const batchSize = opts.batchSize ?? 16;
    const concurrency = opts.concurrency ?? Math.min(4, this.platform.cores());
    checkBatchOptions(batchSize, concurrency);
    const results: Score[] = [];
    for (let start = 0; start < items.length; start += batchSize) {
      results.push(...(await this.scoreBatch(items.slice(start, start + batchSize), start, concurrency)));
    }
    return results;
  }

  /** `first`: index of batch[0] among the caller's items, for error messages; null for a lone item. */
  private async scoreBatch(batch: { image: I; attributes?: Attributes }[], first: number | null, concurrency: number): Promise<Score[]> {
    const { image, aux } = await this.prepare(batch, first, concurrency);
    return this.scoreTensors(image, aux, batch.length);
  }

  /** The items' image and aux tensors, encoded as the card says. */
  private async prepare(batch: { image: I; attributes?: Attributes }[], first: number | null, concurrency: number) {
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
      this.platform.imageToTensor(item.image, this.card.preprocessing, {
        label: this.platform.describeImage(item.image, first === null ? undefined : first + i),
        out: image,
        offset: i * this.imageSize,
      }),
    );
    return { image, aux };
  }

  /** Runs the items and returns the named outputs. */
  private async runItems(batch: { image: I; attributes?: Attributes }[], first: number | null, concurrency: number, fetches: string[]) {
    const { image, aux } = await this.prepare(batch, first, concurrency);
    return this.session.run(this.feeds(image, aux, batch.length), fetches);
  }

  private feeds(image: Float32Array, aux: Float32Array | null, n: number): Record<string, TensorLike> {
    const { inputs, preprocessing } = this.card;
    const withAux = checkTensors(this.card, image, aux, n);
    const feeds: Record<string, TensorLike> = {
      [inputs.image.name]: this.platform.tensor(image, [n, 3, preprocessing.size, preprocessing.size]),
    };
    if (withAux && inputs.aux && aux) feeds[inputs.aux.name] = this.platform.tensor(aux, [n, this.auxDim]);
    return feeds;
  }

  /**
   * The explanation of one item (a scorer loaded from explain.onnx, graph/export/explain.ts): its score,
   * the attention weights over the last feature map and a Grad-CAM map per VGG stage, raw
   * (non-negative, in the model's units; normalise for display).
   */
  async explain(image: I, attributes?: Attributes): Promise<Explanation> {
    this.assertOpen();
    const spec = this.card.explain;
    if (!spec) throw new Error(`model "${this.card.model}" has no explain graph here: load explain.onnx from the model directory (ort-train and m2fn-build-graph --explain write it)`);
    const out = await this.runItems([{ image, attributes }], null, 1, [this.card.output.name, ...(spec.attention ? [spec.attention.name] : []), ...spec.gradcam.map((g) => g.name)]);
    const read = (name: string) => {
      const t = out[name];
      const data = Float32Array.from(t.data as Float32Array);
      t.dispose();
      return data;
    };
    const score = readScores(this.card, read(this.card.output.name), 1)[0];
    const attention = spec.attention ? { height: spec.attention.height, width: spec.attention.width, weights: read(spec.attention.name) } : null;
    return { score, attention, gradcam: spec.gradcam.map((g) => ({ stage: g.stage, height: g.height, width: g.width, map: read(g.name) })) };
  }

  async scoreTensors(image: Float32Array, aux: Float32Array | null, n: number): Promise<Score[]> {
    this.assertOpen();
    const out = await this.session.run(this.feeds(image, aux, n), [this.card.output.name]);
    const tensor = out[this.card.output.name];
    try {
      checkOutputFinite(this.card, tensor.data as Float32Array, n);
      return readScores(this.card, tensor.data as Float32Array, n);
    } finally {
      tensor.dispose();
    }
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
