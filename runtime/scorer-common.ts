// The parts of a scorer that do not depend on where it runs: choosing the text encoder, checking
// an ORT session against its card, validating tensors before a run. Shared by node.ts and web.ts
// (so both refuse the same inputs with the same messages); no Node APIs and no ORT import, since
// onnxruntime-node and onnxruntime-web are different packages with the same session shape.
import type { ModelCard } from './card.ts';
import { M2fnInputError } from './errors.ts';
import { HashingTextEncoder, HASHING_TEXT_ENCODER_ID } from './hashing-text-encoder.ts';
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

/** Runs `fn` over `items` with at most `limit` in flight, results in input order. */
export async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
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

/**
 * Checks scoreTensors' arguments against the card before they reach ORT (whose shape errors do not
 * say which argument is wrong). Returns whether the model takes an aux input.
 */
export function checkTensors(card: ModelCard, image: Float32Array, aux: Float32Array | null, n: number): boolean {
  const size = card.preprocessing.size;
  const perImage = 3 * size * size;
  const d = card.auxSchema ? auxDim(card.auxSchema) : 0;
  if (!(Number.isInteger(n) && n > 0)) throw new M2fnInputError(`n must be a positive integer, got ${n}`);
  if (image.length !== n * perImage) {
    throw new M2fnInputError(`image tensor has ${image.length} floats, expected ${n * perImage} (${n} × 3 × ${size} × ${size})`);
  }
  if (card.inputs.aux) {
    if (!aux) throw new M2fnInputError(`this model needs an aux vector of ${d} per item (schema "${card.auxSchema?.name}"), got null`);
    if (aux.length !== n * d) throw new M2fnInputError(`aux vector has ${aux.length} floats, expected ${n * d} (${n} × aux dim ${d})`);
    return true;
  }
  if (aux && aux.length > 0) throw new M2fnInputError(`this model takes no aux input, got an aux vector of ${aux.length} floats`);
  return false;
}

/** scoreMany's options, checked the same way on both platforms. */
export function checkBatchOptions(batchSize: number, concurrency: number): void {
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  if (!(Number.isInteger(concurrency) && concurrency > 0)) throw new Error(`concurrency must be a positive integer, got ${concurrency}`);
}
