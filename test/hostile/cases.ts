// The hostile-input harness's cases: one table per entry point, each row an input a careless or
// hostile caller could give and the clear error (or outcome) expected. The harness
// (harness.test.ts) runs every row under a time bound and checks that nothing outside the sandbox
// was read or changed. To cover another entry point, add an Entry name and rows whose `run` throws
// on a refusal; the HTTP service's rows (`m2fn serve`) throw HttpRefusal for every 4xx and 5xx.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { load, dominantColour, type Scorer } from '../../runtime/index.ts';
import type { ScoringServer } from '../../tools/serve/server.ts';
import type { OcrEngine } from '../../runtime/ocr.ts';
import { prepare, DEFAULT_PREPARE } from '../../tools/data/prepare.ts';
import { loadManifest } from '../../tools/data/manifest.ts';
import { buildAvaDataset } from '../../tools/data/ava.ts';
import { SMALL_MODEL } from '../train/world.ts';
import { attributeQuery, httpJson, rawHttp, type RawRequest } from './http.ts';

export type Entry = 'runtime load' | 'runtime score' | 'runtime scoreMany' | 'extractors' | 'prepare' | 'ort-train' | 'm2fn-build-graph' | 'm2fn CLI' | 'm2fn serve';

export interface Case {
  entry: Entry;
  name: string;
  /** Throws on refusal; CLI rows throw CliFailure. */
  run: () => Promise<unknown>;
  /** The refusal expected (message pattern); null when the input must be accepted. */
  error: RegExp | null;
  /** Time bound in ms (default 10 s; a CLI pays for tsx and ONNX Runtime start-up). */
  ms?: number;
}

/** A command that exited non-zero: its stderr is the error message. */
export class CliFailure extends Error {
  constructor(readonly status: number | null, readonly stderr: string, readonly signal: NodeJS.Signals | null) {
    super(stderr.trim() || `exit ${status} (signal ${signal})`);
  }
}

export function cli(bin: string, args: string[], ms = 60_000): Promise<string> {
  const r = spawnSync(process.execPath, [`bin/${bin}.js`, ...args], { encoding: 'utf8', timeout: ms });
  if (r.status !== 0) return Promise.reject(new CliFailure(r.status, r.stderr ?? '', r.signal));
  return Promise.resolve(r.stdout);
}

/** The fixtures the rows use, made once inside the sandbox `dir`. */
export interface Fixtures {
  dir: string;
  outside: string;
  model: string;
  scorer: Scorer;
  ocr: OcrEngine;
  png: Buffer;
  fifo: string;
  svgPath: string;
  dataset: string;
  world: { log: string; images: string };
  /** `m2fn serve`'s server on `scorer` (127.0.0.1, port 0), with `web` served at / and `model` at /model-files/. */
  service: ScoringServer;
  /** The service's limits, which the rows' messages name. */
  serviceLimits: { maxBodyBytes: number; requestTimeoutMs: number; maxRankItems: number };
  web: string;
}

/** A PNG whose header claims 60000×60000 pixels (3.6 gigapixels) and holds one row of image data. */
export function pixelBombPng(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(60_000, 0);
  ihdr.writeUInt32BE(60_000, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(1 + 3 * 60_000))), chunk('IEND', Buffer.alloc(0))]);
}

const attrs = { colour: 'red', title: 'Buy now', price: 12 };

export function cases(f: Fixtures): Case[] {
  const score = (image: unknown, a: unknown = attrs) => f.scorer.score(image as never, a as never);
  const datasetWith = (name: string, edit: (ds: Record<string, unknown>) => void, files: Record<string, string> = {}) => {
    const dir = join(f.dir, `ds-${name}`);
    cpSync(f.dataset, dir, { recursive: true, filter: (src) => !src.includes('/images') });
    const ds = JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8'));
    edit(ds);
    writeFileSync(join(dir, 'dataset.json'), JSON.stringify(ds));
    for (const [k, v] of Object.entries(files)) writeFileSync(join(dir, k), v);
    return dir;
  };
  const prep = (o: Partial<Parameters<typeof prepare>[0]>) =>
    prepare({ ...DEFAULT_PREPARE, logs: [f.world.log], images: f.world.images, out: join(f.dir, 'prep-out'), minImpressions: 1, mergeBelow: 0, imageSize: 8, ...o });
  const train = (args: string[]) => cli('ort-train', [...SMALL_MODEL, '--epochs', '1', '--schedule', 'constant', '--quiet', ...args]);
  return [
    // runtime load
    { entry: 'runtime load', name: 'missing directory', run: () => load(join(f.dir, 'nope')), error: /model not found: .*nope does not exist/ },
    { entry: 'runtime load', name: 'a FIFO as inference.onnx', run: async () => {
      const dir = join(f.dir, 'fifo-model');
      mkdirSync(dir);
      cpSync(join(f.model, 'inference.card.json'), join(dir, 'inference.card.json'));
      spawnSync('mkfifo', [join(dir, 'inference.onnx')]);
      return load(dir);
    }, error: /cannot read model file .*inference\.onnx: not a regular file \(a FIFO\)/, ms: 3_000 },
    { entry: 'runtime load', name: 'card is not JSON', run: async () => {
      const dir = join(f.dir, 'bad-card');
      cpSync(f.model, dir, { recursive: true });
      writeFileSync(join(dir, 'inference.card.json'), '{"format": ');
      return load(dir);
    }, error: /model card .* is not valid JSON/ },
    { entry: 'runtime load', name: 'truncated inference.onnx', run: async () => {
      const dir = join(f.dir, 'cut-model');
      cpSync(f.model, dir, { recursive: true });
      const bytes = readFileSync(join(dir, 'inference.onnx'));
      writeFileSync(join(dir, 'inference.onnx'), bytes.subarray(0, bytes.length >> 1));
      return load(dir);
    }, error: /does not match its card .* truncated, corrupted or from another model/ },
    { entry: 'runtime load', name: 'garbage ONNX with a matching card', run: async () => {
      const dir = join(f.dir, 'garbage-model');
      cpSync(f.model, dir, { recursive: true });
      const junk = Buffer.from('not a protobuf at all, just text '.repeat(10));
      const card = JSON.parse(readFileSync(join(dir, 'inference.card.json'), 'utf8'));
      card.sha256 = (await import('node:crypto')).createHash('sha256').update(junk).digest('hex');
      writeFileSync(join(dir, 'inference.onnx'), junk);
      writeFileSync(join(dir, 'inference.card.json'), JSON.stringify(card));
      return load(dir);
    }, error: /cannot load ONNX model/ },
    { entry: 'runtime load', name: 'threads 10^6', run: () => load(f.model, { threads: 1e6 }), error: /threads must be an integer in \[1, 1024\]/ },
    { entry: 'runtime load', name: 'threads 0', run: () => load(f.model, { threads: 0 }), error: /threads must be an integer in \[1, 1024\]/ },

    // runtime score
    { entry: 'runtime score', name: 'null image', run: () => score(null), error: /image \(null\): expected a file path, Buffer or Uint8Array, got null/ },
    { entry: 'runtime score', name: 'an object as image', run: () => score({ path: 'a.png' }), error: /expected a file path, Buffer or Uint8Array, got object/ },
    { entry: 'runtime score', name: '/dev/zero', run: () => score('/dev/zero'), error: /\/dev\/zero: not a regular file \(a character device\)/, ms: 2_000 },
    { entry: 'runtime score', name: 'a FIFO', run: () => score(f.fifo), error: /not a regular file \(a FIFO\)/, ms: 2_000 },
    { entry: 'runtime score', name: 'a directory', run: () => score(f.dir), error: /not a regular file \(a directory\)/ },
    { entry: 'runtime score', name: 'a path with a NUL byte', run: () => score('a\0b.png'), error: /cannot read/ },
    { entry: 'runtime score', name: 'a missing file', run: () => score(join(f.dir, 'missing.png')), error: /missing\.png: image file not found/ },
    { entry: 'runtime score', name: 'SVG with an href to a sibling, by path', run: () => score(f.svgPath), error: /SVG images are not accepted/ },
    { entry: 'runtime score', name: 'SVG bytes', run: () => score(readFileSync(f.svgPath)), error: /SVG images are not accepted/ },
    { entry: 'runtime score', name: 'truncated PNG', run: () => score(f.png.subarray(0, 40)), error: /not a decodable image/ },
    { entry: 'runtime score', name: 'pixel bomb (60000² header)', run: () => score(pixelBombPng()), error: /too many pixels: 60000×60000/, ms: 2_000 },
    { entry: 'runtime score', name: 'empty buffer', run: () => score(Buffer.alloc(0)), error: /empty buffer/ },
    { entry: 'runtime score', name: '__proto__ attribute key', run: () => score(f.png, JSON.parse('{"__proto__": {"polluted": 1}, "colour": "red", "price": 1}')), error: /unknown attribute "__proto__"/ },
    { entry: 'runtime score', name: 'NaN numeric attribute', run: () => score(f.png, { ...attrs, price: Number.NaN }), error: /"price" must be a finite number, got NaN/ },
    { entry: 'runtime score', name: 'numeric attribute overflowing float32', run: () => score(f.png, { ...attrs, price: 1e300 }), error: /overflows float32/ },
    { entry: 'runtime score', name: 'a string as numeric attribute', run: () => score(f.png, { ...attrs, price: '12' }), error: /"price" must be a finite number, got "12"/ },
    { entry: 'runtime score', name: '1 MB title', run: () => score(f.png, { ...attrs, title: 'x'.repeat(1 << 20) }), error: /more than 100000 \(the limit on text length\)/ },
    { entry: 'runtime score', name: 'attributes as a string', run: () => score(f.png, 'colour=red'), error: /attributes must be an object/ },
    { entry: 'runtime score', name: 'a good image and attributes (accepted, finite)', run: async () => {
      const s = (await score(f.png)) as { ctr: number };
      if (!Number.isFinite(s.ctr)) throw new Error(`non-finite ctr ${s.ctr}`);
    }, error: null },

    // runtime scoreMany
    { entry: 'runtime scoreMany', name: 'not an array', run: () => f.scorer.scoreMany({ length: 1 } as never), error: /scoreMany expects an array/ },
    { entry: 'runtime scoreMany', name: 'a null item', run: () => f.scorer.scoreMany([{ image: f.png, attributes: attrs }, null as never]), error: /item #1 must be an object/ },
    { entry: 'runtime scoreMany', name: 'a bad item among good ones is named by index', run: () => f.scorer.scoreMany([0, 1, 2, 3].map((i) => ({ image: i === 3 ? Buffer.from('junk') : f.png, attributes: attrs }))), error: /image #3 \(Buffer, 4 bytes\): not a decodable image/ },
    { entry: 'runtime scoreMany', name: 'batchSize 10^9', run: () => f.scorer.scoreMany([], { batchSize: 1e9 }), error: /batchSize must be an integer in \[1, 4096\]/ },
    { entry: 'runtime scoreMany', name: 'concurrency 0', run: () => f.scorer.scoreMany([], { concurrency: 0 }), error: /concurrency must be an integer in \[1, 64\]/ },
    { entry: 'runtime scoreMany', name: 'NaN tensors via scoreTensors', run: () => f.scorer.scoreTensors(new Float32Array(3 * 64).fill(Number.NaN), new Float32Array(8), 1), error: /image tensor is not finite/ },

    // extractors
    { entry: 'extractors', name: 'dominantColour of a FIFO', run: () => dominantColour(f.fifo), error: /not a regular file \(a FIFO\)/, ms: 2_000 },
    { entry: 'extractors', name: 'dominantColour of an SVG path', run: () => dominantColour(f.svgPath), error: /SVG images are not accepted/ },
    { entry: 'extractors', name: 'dominantColour of null', run: () => dominantColour(null as never), error: /expected a file path, Buffer or Uint8Array/ },
    { entry: 'extractors', name: 'dominantColour of a pixel bomb', run: () => dominantColour(pixelBombPng()), error: /too many pixels/, ms: 2_000 },
    { entry: 'extractors', name: 'OCR of an SVG path', run: () => f.ocr.read(f.svgPath), error: /SVG images are not accepted/ },
    { entry: 'extractors', name: 'OCR of /dev/zero', run: () => f.ocr.read('/dev/zero'), error: /not a regular file/, ms: 2_000 },
    { entry: 'm2fn CLI', name: 'm2fn colour on an SVG named .png', run: async () => {
      const dir = join(f.dir, 'disguised');
      mkdirSync(dir);
      cpSync(f.svgPath, join(dir, 'ad.png'));
      return cli('m2fn', ['colour', dir]);
    }, error: /ad\.png: SVG images are not accepted/, ms: 30_000 },

    // prepare
    { entry: 'prepare', name: '--out is the images directory', run: () => prep({ out: f.world.images }), error: /overlaps its input `images`/ },
    { entry: 'prepare', name: '--out is a file', run: () => prep({ out: f.world.log }), error: /overlaps its input `logs`|exists and is not a directory/ },
    { entry: 'prepare', name: 'missing log', run: () => prep({ logs: [join(f.dir, 'none.csv')] }), error: /none\.csv: log file not found/ },
    { entry: 'prepare', name: 'a two-character CSV escape', run: () => prep({ csv: { escape: '\\\\' } }), error: /CSV escape must be one character/ },
    { entry: 'prepare', name: 'image size 100000', run: () => prep({ imageSize: 100_000 }), error: /image size must be an integer in \[8, 4096\]/ },
    { entry: 'prepare', name: 'an SVG among the images', run: async () => {
      const images = join(f.dir, 'svg-images');
      mkdirSync(images);
      writeFileSync(join(images, 'a.png'), f.png);
      cpSync(f.svgPath, join(images, 'b.png'));
      return prep({ images, out: join(f.dir, 'prep-svg') });
    }, error: /b\.png: SVG images are not accepted/ },
    { entry: 'prepare', name: 'a FIFO among the images', run: async () => {
      const images = join(f.dir, 'fifo-images');
      mkdirSync(images);
      writeFileSync(join(images, 'a.png'), f.png);
      spawnSync('mkfifo', [join(images, 'b.png')]);
      return prep({ images, out: join(f.dir, 'prep-fifo') });
    }, error: /b\.png: not a regular file \(a FIFO\)/, ms: 5_000 },
    { entry: 'prepare', name: 'm2fn ava with --out the images directory', run: async () => {
      const ava = join(f.dir, 'AVA.txt');
      const tags = join(f.dir, 'tags.txt');
      writeFileSync(ava, '1 953619 0 1 5 17 38 36 15 6 5 1 1 0 0 1396\n');
      writeFileSync(tags, '1 Abstract\n');
      return buildAvaDataset({ ava, tags, images: f.world.images, out: f.world.images, testFraction: 0.2, seed: 1, imageExtension: 'png' });
    }, error: /^out: the output .* overlaps its input `images`/ },
    { entry: 'prepare', name: 'm2fn prepare with an empty --csv-quote', run: () => cli('m2fn', ['prepare', '--log', f.world.log, '--images', f.world.images, '--out', join(f.dir, 'cli-out'), '--csv-quote', '', '--quiet']), error: /CSV quote must be one character/, ms: 30_000 },

    // ort-train
    { entry: 'ort-train', name: 'missing dataset', run: () => train(['--data', join(f.dir, 'no-data'), '--out', join(f.dir, 'run-x')]), error: /dataset\.json: not found/, ms: 30_000 },
    { entry: 'ort-train', name: 'dataset.json not JSON', run: () => {
      const dir = datasetWith('notjson', () => {});
      writeFileSync(join(dir, 'dataset.json'), '{ nope');
      return train(['--data', dir, '--out', join(f.dir, 'run-x')]);
    }, error: /dataset\.json(#auxSchema)?: not valid JSON/, ms: 30_000 },
    { entry: 'ort-train', name: 'split path into the outside directory', run: () => train(['--data', datasetWith('escape', (d) => ((d.splits as Record<string, string>).train = '../../outside/secret.jsonl')), '--out', join(f.dir, 'run-x')]), error: /must stay inside the dataset directory/, ms: 30_000 },
    { entry: 'ort-train', name: 'a FIFO as the train split', run: () => {
      const dir = datasetWith('fifo', () => {});
      spawnSync('rm', [join(dir, 'train.jsonl')]);
      spawnSync('mkfifo', [join(dir, 'train.jsonl')]);
      return train(['--data', dir, '--out', join(f.dir, 'run-x')]);
    }, error: /train\.jsonl: split "train" file not found/, ms: 30_000 },
    { entry: 'ort-train', name: '--threads 0', run: () => train(['--data', f.dataset, '--out', join(f.dir, 'run-x'), '--threads', '0']), error: /--threads must be an integer in \[1, 1024\]/, ms: 30_000 },
    { entry: 'ort-train', name: 'a run directory locked by a live process', run: () => {
      const out = join(f.dir, 'run-locked');
      mkdirSync(out);
      writeFileSync(join(out, '.run.lock'), JSON.stringify({ pid: process.pid, host: hostname(), startedAt: 'now' }));
      return train(['--data', f.dataset, '--out', out]);
    }, error: new RegExp(`is in use by process ${process.pid}`), ms: 30_000 },
    { entry: 'ort-train', name: '--out inside --data', run: () => train(['--data', f.dataset, '--out', join(f.dataset, 'run')]), error: /overlaps its input --data/, ms: 30_000 },
    { entry: 'ort-train', name: '--resume with nothing to resume', run: () => train(['--data', f.dataset, '--out', join(f.dir, 'run-empty'), '--resume']), error: /--resume: no checkpoint at/, ms: 30_000 },

    // m2fn-build-graph
    { entry: 'm2fn-build-graph', name: '--size 0', run: () => cli('m2fn-build-graph', ['--size', '0', '--out', join(f.dir, 'g')]), error: /--size: 0 must be an integer of at least 32/, ms: 30_000 },
    { entry: 'm2fn-build-graph', name: '--aux-schema a FIFO', run: () => cli('m2fn-build-graph', ['--aux-schema', f.fifo, '--out', join(f.dir, 'g')]), error: /not a regular file \(a FIFO\)/, ms: 30_000 },
    { entry: 'm2fn-build-graph', name: '--aux-schema a missing file', run: () => cli('m2fn-build-graph', ['--aux-schema', join(f.dir, 'none.json'), '--out', join(f.dir, 'g')]), error: /neither a preset .* nor a readable file \(.*none\.json: not found\)/, ms: 30_000 },
    { entry: 'ort-train', name: 'the manifest reader on a dataset whose schema is broken', run: () => loadManifest(datasetWith('schema', (d) => ((d.auxSchema as { attributes: unknown[] }).attributes = [{ name: 'x', kind: 'categorical', levels: [] }])), 'train'), error: /categorical attribute "x" needs a non-empty string array of levels/ },
    ...serveCases(f),
  ];
}

/**
 * `m2fn serve`: what a hostile or careless client sends. Every refusal must be a 4xx whose
 * message says what was wrong (node:http's own bare 400/408/431 for requests it cannot parse or
 * that come too slowly); the last rows check the server still answers exactly as the scorer does.
 */
function serveCases(f: Fixtures): Case[] {
  const { maxBodyBytes, requestTimeoutMs, maxRankItems } = f.serviceLimits;
  const ask = (r: RawRequest) => httpJson(f.service.url, { ms: 3_000, ...r });
  const png = (body: Uint8Array | string, a: Record<string, unknown> = attrs, type = 'image/png') =>
    ask({ method: 'POST', path: `/score?${attributeQuery(a)}`, headers: { 'content-type': type }, body });
  const post = (path: string, body: unknown) => ask({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const json = (a: unknown, image: unknown = f.png.toString('base64')) => post('/score', { image, attributes: a });
  const jsonText = (attributesText: string) => post('/score', `{"image":"${f.png.toString('base64')}","attributes":${attributesText}}`);
  const creative = (a: Record<string, unknown> = { title: 'Buy now', price: 12 }) => ({ image: f.png.toString('base64'), attributes: a });
  const svg = readFileSync(f.svgPath);
  const same = async (got: Promise<unknown>, want: Promise<unknown>) => {
    const [g, w] = await Promise.all([got, want]);
    if (JSON.stringify(g) !== JSON.stringify(w)) throw new Error(`the service answered ${JSON.stringify(g)}, the scorer ${JSON.stringify(w)}`);
  };
  const staticFile = async (path: string, want: Buffer) => {
    const r = await rawHttp(f.service.url, { path });
    if (r.status !== 200 || r.body !== want.toString('utf8')) throw new Error(`GET ${path}: ${r.status}, ${r.body.length} bytes, not the file`);
  };
  const notPolluted = async (p: Promise<unknown>) => {
    try {
      return await p;
    } finally {
      if ('polluted' in {}) throw new Error('Object.prototype was polluted');
    }
  };
  const e = 'm2fn serve' as const;
  return [
    // bodies: size, framing, pace
    { entry: e, name: 'body over --max-body (declared)', run: () => png(Buffer.alloc(maxBodyBytes + 10, 7)), error: new RegExp(`^HTTP 413: request body of ${maxBodyBytes + 10} bytes is over the limit of ${maxBodyBytes} bytes`) },
    { entry: e, name: 'chunked body over --max-body (no Content-Length)', run: () => {
      const chunk = `${(maxBodyBytes >> 1).toString(16)}\r\n${'a'.repeat(maxBodyBytes >> 1)}\r\n`;
      return ask({ method: 'POST', path: `/score?${attributeQuery(attrs)}`, headers: { 'content-type': 'image/png', 'transfer-encoding': 'chunked' }, contentLength: null, body: `${chunk}${chunk}${chunk}0\r\n\r\n` });
    }, error: new RegExp(`^HTTP 413: request body is over the limit of ${maxBodyBytes} bytes`) },
    { entry: e, name: 'Content-Length 10^15 with a 10-byte body', run: () => ask({ method: 'POST', path: '/score', headers: { 'content-type': 'image/png' }, contentLength: 1e15, body: 'short body' }), error: /^HTTP 413: request body of 1000000000000000 bytes is over the limit/, ms: 2_000 },
    { entry: e, name: 'Content-Length 5000 with a 100-byte body, then silence', run: () => ask({ method: 'POST', path: '/score', headers: { 'content-type': 'image/png' }, contentLength: 5000, body: Buffer.alloc(100, 1), ms: requestTimeoutMs + 3_000 }), error: /^HTTP 408: \(no body\)/, ms: requestTimeoutMs + 3_500 },
    { entry: e, name: 'a slow client: a good PNG trickled over longer than --request-timeout', run: () => ask({ method: 'POST', path: `/score?${attributeQuery(attrs)}`, headers: { 'content-type': 'image/png' }, body: f.png, trickle: { bytes: Math.ceil(f.png.length / 8), everyMs: requestTimeoutMs / 4 }, ms: requestTimeoutMs + 3_000 }), error: /^HTTP 408: \(no body\)/, ms: requestTimeoutMs + 3_500 },
    { entry: e, name: 'a Content-Length that is not a number', run: () => ask({ method: 'POST', path: '/score', contentLength: 'ten' as never, body: 'x' }), error: /^HTTP 400: \(no body\)/ },
    { entry: e, name: '70 KB of headers', run: () => ask({ path: '/healthz', headers: { 'x-junk': 'j'.repeat(70_000) } }), error: /^HTTP 431: \(no body\)/ },

    // image bytes
    { entry: e, name: 'truncated PNG body', run: () => png(f.png.subarray(0, 40)), error: /^HTTP 400: image: not a decodable image/ },
    { entry: e, name: 'text as an image/png body', run: () => png('this is not a png'), error: /^HTTP 400: image: not a decodable image/ },
    { entry: e, name: 'an empty body', run: () => png(''), error: /^HTTP 400: image: .*empty/ },
    { entry: e, name: 'an SVG body (image/svg+xml) that references a sibling file', run: () => png(svg, attrs, 'image/svg+xml'), error: /^HTTP 400: image: SVG images are not accepted/ },
    { entry: e, name: 'an SVG as base64 in JSON', run: () => json(attrs, svg.toString('base64')), error: /^HTTP 400: image: SVG images are not accepted/ },
    { entry: e, name: 'pixel bomb (60000² header)', run: () => png(pixelBombPng()), error: /^HTTP 400: image: .*too many pixels: 60000×60000/, ms: 2_000 },
    { entry: e, name: 'image not base64', run: () => json(attrs, '<not base64>'), error: /^HTTP 400: "image" is not base64/ },
    { entry: e, name: 'image a number', run: () => json(attrs, 42), error: /^HTTP 400: "image" must be the image file as a base64 string/ },

    // attributes
    { entry: e, name: 'NaN price in the query', run: () => png(f.png, { ...attrs, price: 'NaN' }), error: /^HTTP 400: the query string: attribute "price" must be a number, got "NaN"/ },
    { entry: e, name: '1e308 price in the query', run: () => png(f.png, { ...attrs, price: '1e308' }), error: /^HTTP 400: attribute "price" is 1e\+308, which overflows float32/ },
    { entry: e, name: '1e308 price in JSON', run: () => json({ ...attrs, price: 1e308 }), error: /^HTTP 400: attribute "price" is 1e\+308, which overflows float32/ },
    { entry: e, name: 'NaN written into the JSON', run: () => jsonText('{"colour":"red","price":NaN}'), error: /^HTTP 400: request body is not valid JSON/ },
    { entry: e, name: 'price as a string in JSON', run: () => json({ ...attrs, price: '12' }), error: /^HTTP 400: attribute "price" must be a finite number, got "12"/ },
    { entry: e, name: 'an unknown attribute', run: () => json({ ...attrs, size: 'L' }), error: /^HTTP 400: unknown attribute "size"/ },
    { entry: e, name: 'a missing numeric attribute', run: () => json({ colour: 'red' }), error: /^HTTP 400: missing value for numeric attribute "price"/ },
    { entry: e, name: 'an unknown level falls back to the schema\'s unknown level (documented)', run: () => same(json({ ...attrs, colour: 'mauve' }), f.scorer.score(f.png, { ...attrs, colour: 'other' })), error: null },
    { entry: e, name: '__proto__ key in JSON attributes', run: () => notPolluted(jsonText('{"__proto__":{"polluted":1},"colour":"red","price":1}')), error: /^HTTP 400: unknown attribute "__proto__"/ },
    { entry: e, name: '__proto__ key in the query string', run: () => notPolluted(ask({ method: 'POST', path: '/score?__proto__=x&colour=red&price=1', headers: { 'content-type': 'image/png' }, body: f.png })), error: /^HTTP 400: unknown attribute "__proto__"/ },
    { entry: e, name: 'constructor key in JSON attributes', run: () => json({ ...attrs, constructor: 'x' }), error: /^HTTP 400: unknown attribute "constructor"/ },
    { entry: e, name: '__proto__ as a top-level field', run: () => notPolluted(post('/score', `{"__proto__":{"polluted":1},"image":"${f.png.toString('base64')}"}`)), error: /^HTTP 400: unknown field "__proto__"/ },
    { entry: e, name: 'attributes as an array', run: () => json(['red', 12]), error: /^HTTP 400: "attributes" must be an object/ },

    // JSON and content types
    { entry: e, name: 'text/plain body', run: () => ask({ method: 'POST', path: '/score', headers: { 'content-type': 'text/plain' }, body: 'hello' }), error: /^HTTP 415: POST \/score takes an image body .* not "text\/plain"/ },
    { entry: e, name: 'no Content-Type', run: () => ask({ method: 'POST', path: '/score', body: f.png }), error: /^HTTP 415: .* not "\(none\)"/ },
    { entry: e, name: 'truncated JSON', run: () => post('/score', '{"image":'), error: /^HTTP 400: request body is not valid JSON/ },
    { entry: e, name: 'a JSON array body', run: () => post('/score', '[1,2]'), error: /^HTTP 400: request body must be a JSON object/ },
    { entry: e, name: 'JSON nested 30000 deep (the body)', run: () => post('/score', `${'['.repeat(30_000)}${']'.repeat(30_000)}`), error: /^HTTP 400: request body must be a JSON object/ },
    { entry: e, name: 'JSON nested 30000 deep (an attribute value)', run: () => jsonText(`{"colour":${'['.repeat(30_000)}${']'.repeat(30_000)},"price":1}`), error: /^HTTP 400: attribute "colour" must be a string or number/ },
    { entry: e, name: 'rank with image/png', run: () => ask({ method: 'POST', path: '/rank', headers: { 'content-type': 'image/png' }, body: f.png }), error: /^HTTP 415: POST \/rank takes application\/json/ },
    { entry: e, name: 'rank without creatives', run: () => post('/rank', { context: {} }), error: /^HTTP 400: "creatives" must be a non-empty array/ },
    { entry: e, name: `rank with ${maxRankItems + 1} creatives`, run: () => post('/rank', { context: { colour: 'red' }, creatives: Array.from({ length: maxRankItems + 1 }, () => ({ image: 'AAAA' })) }), error: new RegExp(`^HTTP 413: ${maxRankItems + 1} creatives, the limit is ${maxRankItems} per request`) },
    { entry: e, name: 'rank: an undecodable creative before a null one (no unhandled rejection)', run: () => post('/rank', { context: { colour: 'red', price: 1 }, creatives: [{ image: 'AAAA' }, null] }), error: /^HTTP 400: creatives\[1\] must be an object/ },
    { entry: e, name: 'rank: a creative attribute named like an Object method', run: () => post('/rank', { context: { colour: 'red' }, creatives: [creative({ price: 1, toString: 'x' })] }), error: /^HTTP 400: creatives\[0\]: unknown attribute "toString"/ },
    { entry: e, name: 'rank: a creative and the context both set colour', run: () => post('/rank', { context: { colour: 'red' }, creatives: [creative({ colour: 'green', price: 1 })] }), error: /^HTTP 400: creatives\[0\] and "context" both set colour/ },

    // URLs: routes, methods, paths out of the served directories
    { entry: e, name: 'an unknown route', run: () => ask({ method: 'POST', path: '/predict', headers: { 'content-type': 'image/png' }, body: f.png }), error: /^HTTP 404: no such endpoint: POST \/predict/ },
    { entry: e, name: 'DELETE /score', run: () => ask({ method: 'DELETE', path: '/score' }), error: /^HTTP 405: \/score takes POST, not DELETE/ },
    { entry: e, name: 'a method node:http does not know (BREW)', run: () => ask({ method: 'BREW', path: '/score' }), error: /^HTTP 400: \(no body\)/ },
    { entry: e, name: 'GET /../../etc/passwd (the URL resolves to /etc/passwd)', run: () => ask({ path: '/../../etc/passwd' }), error: /^HTTP 404: no such endpoint: GET \/etc\/passwd/ },
    { entry: e, name: 'GET /..%2f..%2foutside%2fsecret.jsonl', run: () => ask({ path: '/..%2f..%2foutside%2fsecret.jsonl' }), error: /^HTTP 403: outside the served directory/ },
    { entry: e, name: 'GET /model-files/..%2f..%2f..%2foutside%2fsecret.jsonl', run: () => ask({ path: '/model-files/..%2f..%2f..%2foutside%2fsecret.jsonl' }), error: /^HTTP 403: outside the served directory/ },
    { entry: e, name: 'GET /%2e%2e/%2e%2e/outside/secret.jsonl (dot segments resolved at the root)', run: () => ask({ path: '/%2e%2e/%2e%2e/outside/secret.jsonl' }), error: /^HTTP 404: no such endpoint: GET \/outside\/secret\.jsonl/ },
    { entry: e, name: 'GET a malformed percent-escape', run: () => ask({ path: '/%E0%A4%A' }), error: /^HTTP 400: the URL path "\/%E0%A4%A" is not valid percent-encoded UTF-8/ },
    { entry: e, name: 'GET a path with a NUL byte', run: () => ask({ path: '/index.html%00.png' }), error: /^HTTP 404: no such endpoint/ },
    { entry: e, name: 'GET / and a model file are served as they are', run: async () => {
      await staticFile('/', readFileSync(join(f.web, 'index.html')));
      await staticFile('/model-files/inference.card.json', readFileSync(join(f.model, 'inference.card.json')));
    }, error: null },

    // after all of the above: still serving, and right
    { entry: e, name: 'a good image-body request equals scorer.score', run: () => same(png(f.png), f.scorer.score(f.png, attrs)), error: null },
    { entry: e, name: 'a good JSON request equals scorer.score', run: () => same(json(attrs), f.scorer.score(f.png, attrs)), error: null },
    { entry: e, name: 'nothing left in flight', run: async () => {
      const { inFlight } = f.service.stats();
      if (inFlight !== 0) throw new Error(`${inFlight} requests still in flight`);
    }, error: null },
  ];
}

