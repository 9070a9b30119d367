// Finds, reads and cross-checks a model directory's two files. The sha256 check catches a
// truncated download or a card paired with another model's .onnx before ORT gives a less
// telling parse error, or worse, runs the wrong weights.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelCard } from './card.ts';
import { validateCard } from './card-validate.ts';
import { readRegularFile } from './files.ts';

/** Size bounds: a card is a few KB; protobuf (so an ONNX file read whole) stops at 2 GiB. */
const MAX_CARD_BYTES = 16 << 20;
const MAX_ONNX_BYTES = 2 ** 31;

export const MODEL_FILE = 'inference.onnx';
export const CARD_FILE = 'inference.card.json';

export interface ModelFiles {
  card: ModelCard;
  cardPath: string;
  onnxPath: string;
  onnx: Uint8Array;
}

/** `location` is a model directory, or the .onnx file itself with its `<name>.card.json` beside it. */
export function modelPaths(location: string): { onnxPath: string; cardPath: string } {
  if (location.endsWith('.onnx')) return { onnxPath: location, cardPath: location.replace(/\.onnx$/, '.card.json') };
  return { onnxPath: join(location, MODEL_FILE), cardPath: join(location, CARD_FILE) };
}

export async function readModelFiles(location: string): Promise<ModelFiles> {
  const st = await stat(location).catch(() => null);
  if (!st) throw new Error(`model not found: ${location} does not exist`);
  const { onnxPath, cardPath } = modelPaths(location);
  const cardText = (
    await readRegularFile(cardPath, MAX_CARD_BYTES, (what, cause) => {
      throw new Error(what === 'not found' ? `model card not found: ${cardPath}` : `cannot read model card ${cardPath}: ${what}`, { cause });
    }, 'a model card')
  ).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(cardText);
  } catch (e) {
    throw new Error(`model card ${cardPath} is not valid JSON: ${(e as Error).message}`);
  }
  const card = validateCard(json, cardPath);
  const onnx = await readRegularFile(onnxPath, MAX_ONNX_BYTES, (what, cause) => {
    throw new Error(what === 'not found' ? `model file not found: ${onnxPath}` : `cannot read model file ${onnxPath}: ${what}`, { cause });
  }, 'an ONNX model');
  const actual = createHash('sha256').update(onnx).digest('hex');
  if (actual !== card.sha256.toLowerCase()) {
    throw new Error(
      `model file ${onnxPath} does not match its card ${cardPath}: expected sha256 ${card.sha256}, ` +
        `the file (${onnx.byteLength} bytes) has sha256 ${actual}. The file is truncated, corrupted or from another model.`,
    );
  }
  return { card, cardPath, onnxPath, onnx: new Uint8Array(onnx.buffer, onnx.byteOffset, onnx.byteLength) };
}
