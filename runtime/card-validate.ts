// Checks a parsed model card before anything is fed to the model: a card that disagrees with the
// runtime (another format version, an aux size that does not match its schema) would otherwise
// surface as a shape error deep inside ONNX Runtime, or as silently wrong scores.
import { CARD_FORMAT, type ModelCard } from './card.ts';
import { validateSchema } from './attributes.ts';
import { auxDim } from './schema.ts';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isTriple = (v: unknown): v is [number, number, number] =>
  Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** Default values bucket i of a distribution output stands for: 1..size (AVA's 1–10 scores). */
export function bucketValues(card: Pick<ModelCard, 'output'>): number[] {
  return card.output.bucketValues ?? Array.from({ length: card.output.size }, (_, i) => i + 1);
}

/** Validates `json` as a model card; `source` (the card's path) is named in every error. */
export function validateCard(json: unknown, source: string): ModelCard {
  const fail = (what: string): never => {
    throw new Error(`invalid model card ${source}: ${what}`);
  };
  if (!isRecord(json)) return fail('expected a JSON object');
  const c = json;
  if (c.format !== CARD_FORMAT) fail(`"format" is ${JSON.stringify(c.format)}, this runtime reads "${CARD_FORMAT}"`);
  if (!isRecord(c.inputs)) return fail('"inputs" must be an object');

  const image = c.inputs.image;
  if (!isRecord(image) || typeof image.name !== 'string' || !Array.isArray(image.shape)) {
    return fail('"inputs.image" must have a "name" and a "shape"');
  }
  const pre = c.preprocessing;
  if (!isRecord(pre)) return fail('"preprocessing" must be an object');
  if (typeof pre.size !== 'number' || !Number.isInteger(pre.size) || pre.size <= 0) fail(`"preprocessing.size" must be a positive integer`);
  if (!isTriple(pre.mean)) fail('"preprocessing.mean" must be 3 numbers');
  if (!isTriple(pre.std) || pre.std.some((s) => s <= 0)) fail('"preprocessing.std" must be 3 positive numbers');
  if (!isTriple(pre.background) || pre.background.some((v) => v < 0 || v > 255)) fail('"preprocessing.background" must be 3 numbers in 0..255');
  if (!['fill', 'cover', 'contain'].includes(pre.resize as string)) fail(`"preprocessing.resize" must be fill, cover or contain, got ${JSON.stringify(pre.resize)}`);
  if (pre.layout !== 'NCHW') fail(`"preprocessing.layout" must be "NCHW", got ${JSON.stringify(pre.layout)}`);
  if (typeof pre.maxPixels !== 'number' || !(pre.maxPixels > 0)) fail('"preprocessing.maxPixels" must be a positive number');
  const size = pre.size as number;
  const expectImage = JSON.stringify(['N', 3, size, size]);
  if (JSON.stringify(image.shape) !== expectImage) {
    fail(`"inputs.image.shape" is ${JSON.stringify(image.shape)}, expected ${expectImage} for preprocessing.size ${size}`);
  }

  const schema = c.auxSchema === null || c.auxSchema === undefined ? null : validateSchema(c.auxSchema, source);
  const aux = c.inputs.aux ?? null;
  if ((schema === null) !== (aux === null)) {
    fail(schema ? '"auxSchema" is set but "inputs.aux" is null' : '"inputs.aux" is set but "auxSchema" is null');
  }
  if (schema && aux !== null) {
    if (!isRecord(aux) || typeof aux.name !== 'string' || !Array.isArray(aux.shape)) fail('"inputs.aux" must have a "name" and a "shape"');
    const shape = (aux as { shape: unknown[] }).shape;
    const d = auxDim(schema);
    if (shape.length !== 2 || shape[1] !== d) {
      fail(`"inputs.aux.shape" is ${JSON.stringify(shape)}, but its schema "${schema.name}" encodes ${d} dims`);
    }
  }
  const hasText = schema?.attributes.some((a) => a.kind === 'text') ?? false;
  if (hasText && typeof c.textEncoder !== 'string') fail('the aux schema has text attributes, so "textEncoder" must name the encoder');

  const out = c.output;
  if (!isRecord(out) || typeof out.name !== 'string') return fail('"output" must have a "name"');
  if (out.kind !== 'regression' && out.kind !== 'distribution') fail(`"output.kind" must be regression or distribution, got ${JSON.stringify(out.kind)}`);
  if (typeof out.size !== 'number' || !Number.isInteger(out.size) || out.size <= 0) fail('"output.size" must be a positive integer');
  if (out.kind === 'regression' && out.size !== 1) fail(`a regression output has size 1, got ${out.size}`);
  if (out.bucketValues !== undefined) {
    const bv = out.bucketValues;
    if (!Array.isArray(bv) || bv.length !== out.size || !bv.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      fail(`"output.bucketValues" must be ${out.size} numbers, one per bucket`);
    }
  }
  if (typeof c.sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(c.sha256)) fail('"sha256" must be 64 hex digits');
  if (c.precision !== undefined) {
    const p = c.precision;
    if (!isRecord(p) || p.format !== 'QDQ' || p.weights !== 'int8' || p.activations !== 'uint8') fail('"precision" must describe a QDQ graph with int8 weights and uint8 activations');
    if (!isRecord((p as Record<string, unknown>).calibration)) fail('"precision.calibration" must be an object');
  }
  return { ...(c as unknown as ModelCard), auxSchema: schema, inputs: { image: image as never, aux: aux as never } };
}
