// The Node scorer: a model directory in, scores out. It glues the single-concern modules together
// (card and file checks, provider choice, image decoding, attribute encoding, output reading)
// and owns the one stateful thing, the ORT session.
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { ModelCard } from './card.ts';
import { encodeAttributes, encodeAttributesBatch, type Attributes } from './attributes.ts';
import { M2fnInputError } from './errors.ts';
import { openSession, type ExecutionProvider, type SessionOptions } from './execution.ts';
import { HashingTextEncoder, HASHING_TEXT_ENCODER_ID } from './hashing-text-encoder.ts';
import { describeImage, imageToTensor, type ImageInput } from './image-node.ts';
import { readModelFiles } from './model-files.ts';
import { readScores, type Score } from './results.ts';
import { attributeDim, auxDim } from './schema.ts';
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
  /** Scores many items in batches (default 16), decoding images concurrently; results keep the items' order. */
  scoreMany(items: ScoreItem[], opts?: { batchSize?: number; concurrency?: number }): Promise<Score[]>;
  /** Scores already-prepared inputs: `image` [n, 3, size, size] normalised, `aux` [n, auxDim] or null. */
  scoreTensors(image: Float32Array, aux: Float32Array | null, n: number): Promise<Score[]>;
  /** Releases the session. Required before exit with webgpu (a live session aborts the process). */
  close(): Promise<void>;
}

/** Loads a model directory (inference.onnx + inference.card.json), or a .onnx path with its card beside it. */
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
  return new NodeScorer(card, opened.session, opened.ep, opened.fallbackFrom, encoder);
}

function pickTextEncoder(card: ModelCard, given: TextEncoder | undefined): TextEncoder | null {
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

function checkSessionNames(session: ort.InferenceSession, card: ModelCard, file: string): void {
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
const NO_TEXT: TextEncoder = {
  id: 'none',
  dim: 0,
  encode: async () => {
    throw new Error('this model has no text attributes');
  },
};

/** Runs `fn` over `items` with at most `limit` in flight, results in input order. */
async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

class NodeScorer implements Scorer {
  private closed = false;
  private readonly auxDim: number;
  private readonly imageSize: number;

  constructor(
    readonly card: ModelCard,
    private readonly session: ort.InferenceSession,
    readonly ep: ExecutionProvider,
    readonly fallbackFrom: { ep: ExecutionProvider; reason: string } | undefined,
    private readonly encoder: TextEncoder | null,
  ) {
    this.auxDim = card.auxSchema ? auxDim(card.auxSchema) : 0;
    this.imageSize = 3 * card.preprocessing.size ** 2;
  }

  async score(image: ImageInput, attributes?: Attributes): Promise<Score> {
    this.assertOpen();
    // A lone item is not "item #0" in errors: the caller knows which one it passed.
    return (await this.scoreBatch([{ image, attributes }], null, 1))[0];
  }

  async scoreMany(items: ScoreItem[], opts: { batchSize?: number; concurrency?: number } = {}): Promise<Score[]> {
    this.assertOpen();
    if (!Array.isArray(items)) throw new M2fnInputError(`scoreMany expects an array of { image, attributes }`);
    const batchSize = opts.batchSize ?? 16;
    const concurrency = opts.concurrency ?? Math.min(4, availableParallelism());
    if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
    if (!(Number.isInteger(concurrency) && concurrency > 0)) throw new Error(`concurrency must be a positive integer, got ${concurrency}`);
    const results: Score[] = [];
    for (let start = 0; start < items.length; start += batchSize) {
      results.push(...(await this.scoreBatch(items.slice(start, start + batchSize), start, concurrency)));
    }
    return results;
  }

  /** `first`: index of batch[0] among the caller's items, for error messages; null for a lone item. */
  private async scoreBatch(batch: ScoreItem[], first: number | null, concurrency: number): Promise<Score[]> {
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
      imageToTensor(item.image, this.card.preprocessing, {
        label: describeImage(item.image, first === null ? undefined : first + i),
        out: image,
        offset: i * this.imageSize,
      }),
    );
    return this.scoreTensors(image, aux, n);
  }

  async scoreTensors(image: Float32Array, aux: Float32Array | null, n: number): Promise<Score[]> {
    this.assertOpen();
    const { inputs, preprocessing } = this.card;
    if (!(Number.isInteger(n) && n > 0)) throw new M2fnInputError(`n must be a positive integer, got ${n}`);
    if (image.length !== n * this.imageSize) {
      throw new M2fnInputError(
        `image tensor has ${image.length} floats, expected ${n * this.imageSize} (${n} × 3 × ${preprocessing.size} × ${preprocessing.size})`,
      );
    }
    const feeds: Record<string, ort.Tensor> = {
      [inputs.image.name]: new ort.Tensor('float32', image, [n, 3, preprocessing.size, preprocessing.size]),
    };
    if (inputs.aux) {
      if (!aux) throw new M2fnInputError(`this model needs an aux vector of ${this.auxDim} per item (schema "${this.card.auxSchema?.name}"), got null`);
      if (aux.length !== n * this.auxDim) {
        throw new M2fnInputError(`aux vector has ${aux.length} floats, expected ${n * this.auxDim} (${n} × aux dim ${this.auxDim})`);
      }
      feeds[inputs.aux.name] = new ort.Tensor('float32', aux, [n, this.auxDim]);
    } else if (aux && aux.length > 0) {
      throw new M2fnInputError(`this model takes no aux input, got an aux vector of ${aux.length} floats`);
    }
    const out = await this.session.run(feeds, [this.card.output.name]);
    const tensor = out[this.card.output.name];
    const data = tensor.data as Float32Array;
    const scores = readScores(this.card, data, n);
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
