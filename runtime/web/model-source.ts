// Fetching and cross-checking a model and its card in the browser: the counterpart of
// model-files.ts, with fetch for readFile and crypto.subtle for node:crypto.
import type { ModelCard } from '../card.ts';
import { validateCard } from '../card-validate.ts';

export const MODEL_FILE = 'inference.onnx';
export const CARD_FILE = 'inference.card.json';

export type WebModelSource =
  | { modelUrl: string; cardUrl?: string }
  | { model: ArrayBuffer | Uint8Array; card: ModelCard };

export interface WebModelFiles {
  card: ModelCard;
  /** How errors name the model: its absolute URL, or "(the bytes passed to loadWeb)". */
  modelLabel: string;
  onnx: Uint8Array;
}

/** `url` made absolute against the page (or worker) location, so errors say exactly what was asked for. */
export function absoluteUrl(url: string): string {
  try {
    return new URL(url, globalThis.location?.href).href;
  } catch {
    return url;
  }
}

/**
 * The model and card URLs: `<dir>/` → `<dir>/inference.onnx` + `<dir>/inference.card.json`,
 * `<name>.onnx` → `<name>.card.json` beside it (the same conventions as the Node `load`), unless
 * `cardUrl` is given.
 */
export function modelUrls(modelUrl: string, cardUrl?: string): { modelUrl: string; cardUrl: string } {
  if (typeof modelUrl !== 'string' || modelUrl === '') throw new Error(`loadWeb: modelUrl must be a non-empty string, got ${JSON.stringify(modelUrl)}`);
  const model = new URL(absoluteUrl(modelUrl), 'http://invalid/');
  if (model.pathname.endsWith('/')) {
    const dir = model.href;
    return { modelUrl: new URL(MODEL_FILE, dir).href, cardUrl: cardUrl === undefined ? new URL(CARD_FILE, dir).href : absoluteUrl(cardUrl) };
  }
  if (cardUrl !== undefined) return { modelUrl: model.href, cardUrl: absoluteUrl(cardUrl) };
  if (!model.pathname.endsWith('.onnx')) {
    throw new Error(
      `loadWeb: cannot tell where the card of ${model.href} is: pass cardUrl, or a model URL ending in .onnx ` +
        `(its <name>.card.json beside it) or in / (a directory with ${MODEL_FILE} and ${CARD_FILE})`,
    );
  }
  const card = new URL(model.href);
  card.pathname = card.pathname.replace(/\.onnx$/, '.card.json');
  // A query string (a signed URL) belongs to the model's URL only; such cards need cardUrl.
  card.search = '';
  return { modelUrl: model.href, cardUrl: card.href };
}

async function fetchOk(url: string, what: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`cannot fetch ${what} ${url}: ${(e as Error).message} (network error, or a cross-origin URL without CORS headers)`, { cause: e });
  }
  if (!res.ok) throw new Error(`${what} fetch failed: GET ${url} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  return res;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    throw new Error('cannot verify the model against its card: crypto.subtle is unavailable because this page is not a secure context (serve it over https or from localhost)');
  }
  // A copy when the view does not span its own plain ArrayBuffer (digest takes BufferSource).
  const plain = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer ? bytes.buffer : bytes.slice().buffer;
  const digest = new Uint8Array(await subtle.digest('SHA-256', plain));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Checks the bytes against the card's sha256; the message says which files and what was found. */
export async function checkModelBytes(onnx: Uint8Array, card: ModelCard, modelLabel: string, cardLabel: string): Promise<void> {
  const actual = await sha256Hex(onnx);
  if (actual === card.sha256.toLowerCase()) return;
  // Servers with a catch-all route answer a wrong URL with 200 and the app's index.html.
  const html = onnx.byteLength > 0 && onnx[0] === 0x3c ? ' It starts with "<": the server sent an HTML page, not a model.' : '';
  throw new Error(
    `model ${modelLabel} does not match its card ${cardLabel}: expected sha256 ${card.sha256}, ` +
      `the file (${onnx.byteLength} bytes) has sha256 ${actual}. The file is truncated, corrupted or from another model.${html}`,
  );
}

/** Fetches (or takes) the card and the model, validates the card and checks the model's sha256. */
export async function readWebModel(source: WebModelSource): Promise<WebModelFiles> {
  if (typeof source !== 'object' || source === null) throw new Error('loadWeb: expected { modelUrl, cardUrl? } or { model, card }');
  if ('modelUrl' in source) {
    const urls = modelUrls(source.modelUrl, source.cardUrl);
    const cardText = await (await fetchOk(urls.cardUrl, 'model card')).text();
    let json: unknown;
    try {
      json = JSON.parse(cardText);
    } catch (e) {
      throw new Error(`model card ${urls.cardUrl} is not valid JSON: ${(e as Error).message}`);
    }
    const card = validateCard(json, urls.cardUrl);
    const onnx = new Uint8Array(await (await fetchOk(urls.modelUrl, 'model')).arrayBuffer());
    await checkModelBytes(onnx, card, urls.modelUrl, urls.cardUrl);
    return { card, modelLabel: urls.modelUrl, onnx };
  }
  if ('model' in source && 'card' in source) {
    const { model } = source;
    if (!(model instanceof ArrayBuffer || model instanceof Uint8Array)) {
      throw new Error(`loadWeb: "model" must be an ArrayBuffer or Uint8Array of the .onnx file, got ${Object.prototype.toString.call(model)}`);
    }
    const card = validateCard(source.card, 'passed to loadWeb');
    const onnx = model instanceof Uint8Array ? model : new Uint8Array(model);
    const modelLabel = '(the bytes passed to loadWeb)';
    await checkModelBytes(onnx, card, modelLabel, '(the card passed with them)');
    return { card, modelLabel, onnx };
  }
  throw new Error('loadWeb: expected { modelUrl, cardUrl? } or { model, card }');
}
