// The Node scorer: a model directory in, scores out. It glues the single-concern modules together
// (card and file checks, provider choice, image decoding, attribute encoding, output reading)
// and owns the one stateful thing, the ORT session.
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { ModelCard } from './card.ts';
import { encodeAttributes, encodeAttributesBatch, type Attributes } from './attributes.ts';
import { M2fnInputError } from './errors.ts';
import { openSession, type ExecutionProvider, type SessionOptions } from './execution.ts';
import { describeImage, imageToTensor, type ImageInput } from './image-node.ts';
import { readModelFiles } from './model-files.ts';
import { readScores, type Score } from './results.ts';
import { auxDim } from './schema.ts';
import { checkBatchOptions, checkSessionNames, checkTensors, mapBounded, NO_TEXT, pickTextEncoder } from './scorer-common.ts';
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
    checkBatchOptions(batchSize, concurrency);
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
    const withAux = checkTensors(this.card, image, aux, n);
    const feeds: Record<string, ort.Tensor> = {
      [inputs.image.name]: new ort.Tensor('float32', image, [n, 3, preprocessing.size, preprocessing.size]),
    };
    if (withAux && inputs.aux && aux) feeds[inputs.aux.name] = new ort.Tensor('float32', aux, [n, this.auxDim]);
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
